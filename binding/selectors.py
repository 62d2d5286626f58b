"""Reads for the binding pages, each a fixed number of queries."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import (
    BindingMode,
    Cookie,
    CookieState,
    Device,
    Entitlement,
    EntitlementFailure,
    EntitlementKind,
    EntitlementState,
    Heartbeat,
    IssueProgress,
    MediaAsset,
    TokenRequest,
    TokenRequestOutcome,
    TokenRequestPurpose,
)


def devices_for_user(user) -> list[Device]:
    """Return the user's active devices, oldest first."""
    return list(Device.objects.active().filter(user=user).order_by("first_seen"))


def cookie_for_browser(user, cookie_value: str | None) -> Cookie | None:
    """Return the bound registration this browser remembers, if it is the user's and its device is active."""
    if not cookie_value:
        return None
    return (
        Cookie.objects.select_related("device")
        .filter(value=cookie_value, user=user, state=CookieState.BOUND, device__removed_at__isnull=True)
        .first()
    )


def device_for_browser(user, cookie_value: str | None) -> Device | None:
    """Return the user's active device this browser registered as (from its remembered cookie), if any."""
    cookie = cookie_for_browser(user, cookie_value)
    return cookie.device if cookie else None


def entitlement_for_user(user, entitlement_id: int) -> Entitlement | None:
    """Return the user's entitlement `entitlement_id` with its asset and device, if it is theirs."""
    return Entitlement.objects.select_related("asset", "device").filter(pk=entitlement_id, user=user).first()


def device_check_asset() -> MediaAsset | None:
    return MediaAsset.objects.filter(slug=settings.BINDING_DEVICE_CHECK_ASSET).first()


def registration_status(cookie: Cookie) -> dict:
    """Return the registration attempt's state for the page: {state, done, ok, message, device}."""
    state = cookie.effective_state
    device = cookie.device.label if cookie.device_id and cookie.device else ""
    if state == CookieState.BOUND:
        message = _("This browser is registered as %(label)s.") % {"label": device}
    elif state == CookieState.EXPIRED:
        message = _("This device check took too long and expired. Please start again.")
    elif state == CookieState.FAILED and cookie.failure_reason == "device_limit":
        names = [d.label for d in devices_for_user(cookie.user)]
        message = ngettext(
            "You already have %(count)d registered device, the most allowed: %(names)s. Remove it under "
            "My devices, then register this browser.",
            "You already have %(count)d registered devices, the most allowed: %(names)s. Remove one of them "
            "under My devices, then register this browser.",
            len(names),
        ) % {"count": len(names), "names": ", ".join(names)}
    elif state == CookieState.FAILED and cookie.failure_reason == "check_replayed":
        message = _(
            "Another device played this device check too, so it cannot tell which device is yours. Nothing was "
            "registered. Start the check again in this browser; if you did not share the page, change your "
            "password."
        )
    elif state == CookieState.FAILED:
        message = _("We could not confirm this device with the licence server. Please try again.")
    elif state == CookieState.LICENCE_SEEN:
        message = _("Looking up this browser's device id at the licence server…")
    else:
        message = _("Playing the device check…")
    return {
        "state": state,
        "done": state in (CookieState.BOUND, CookieState.FAILED, CookieState.EXPIRED),
        "ok": state == CookieState.BOUND,
        "message": message,
        "device": device,
        "limit_reached": cookie.failure_reason == "device_limit",
    }


@dataclass(frozen=True)
class Outage:
    """Paid orders whose licence is delayed because ExpressPlay cannot be reached, and since when."""

    delayed: int
    since: datetime | None
    reason: str


def expressplay_outage() -> Outage:
    """Return how many pending entitlements are delayed by ExpressPlay being unreachable, the oldest delay's
    start and the newest reason. Two queries, whatever the count."""
    delayed = Entitlement.objects.filter(state=EntitlementState.PENDING, delayed_since__isnull=False)
    summary = delayed.aggregate(count=Count("pk"), since=Min("delayed_since"))
    reason = delayed.order_by("-delayed_since").values_list("delay_reason", flat=True).first() or ""
    return Outage(summary["count"], summary["since"], reason)


def entitlement_needs_renewal(entitlement: Entitlement) -> bool:
    """Return True for a ready entitlement whose token has (nearly) expired and may be renewed: not a rental
    past its end, not bound to a removed device. Reads only."""
    if entitlement.state != EntitlementState.READY or entitlement.rental_over:
        return False
    if entitlement.bound_by == BindingMode.BINDERY:
        return False  # no token is kept: each Play gets a short one of its own
    if entitlement.device and not entitlement.device.is_active:
        return False  # bound to a removed device: not renewed until moved
    margin = timedelta(seconds=settings.ENTITLEMENT_RENEW_MARGIN)
    return not (entitlement.token_expires_at and entitlement.token_expires_at > timezone.now() + margin)


_DEVICE_CODES = {-5004, -5005, -4001}


def entitlement_status(entitlement: Entitlement) -> dict:
    """Return where issuing stands, in the user's words: {state, progress, done, ok, message, next, renew}.

    `renew` is True when the token has (nearly) expired: the player asks for a new one (a POST) first.
    """
    state, progress = entitlement.effective_state, entitlement.progress
    next_step = ""
    removed = (
        state == EntitlementState.READY
        and entitlement.device is not None
        and not entitlement.device.is_active
    )
    if removed:
        message = _("This title is bound to a device you removed.")
        next_step = _("Open My library in the browser you want to watch in and choose “Move to this device”.")
    elif state == EntitlementState.READY:
        message = _("Ready to play.")
    elif state == EntitlementState.PENDING and entitlement.delayed_since is not None:
        message = _(
            "Your licence is delayed: the licence service is not answering right now. Your order is safe."
        )
        next_step = _(
            "Nothing needs doing: we keep trying, and this page shows “Ready to play” by itself as soon as the "
            "licence service is back. A rental's time starts only then."
        )
    elif state == EntitlementState.PENDING:
        message = {
            IssueProgress.QUEUED: _("Your order is confirmed. Preparing your licence…"),
            IssueProgress.DEVICE_LOOKUP: _("Looking up your device…"),
            IssueProgress.TOKEN_REQUEST: _("Issuing your licence…"),
        }.get(progress, _("Issuing your licence…"))
    elif state == EntitlementState.FAILED and entitlement.failure == EntitlementFailure.DEVICE_CHECK_NEEDED:
        message = _(
            "We could not confirm that this browser is the device you registered: its DRM identity changed, or "
            "another device used its device check. No licence was issued to any other device."
        )
        next_step = _(
            "Register this browser again: your order goes on by itself as soon as it is registered."
        )
    elif state == EntitlementState.FAILED and entitlement.failure == EntitlementFailure.DRM_NOT_BOUND:
        drm = entitlement.device.get_drm_display() if entitlement.device else ""
        message = _(
            "Titles cannot be bound to this device's DRM (%(drm)s), so this order cannot be played on it. No "
            "licence was issued."
        ) % {"drm": drm}
        next_step = _(
            "Our support team sees the order and will refund it, or move it to another of your devices."
        )
    elif state == EntitlementState.FAILED and entitlement.error_code in _DEVICE_CODES:
        message = _("We could not confirm the device this title should play on.")
        next_step = _(
            "Register this browser again under My devices; our support team will then retry your order."
        )
    elif state == EntitlementState.FAILED and entitlement.error_code is None:
        message = _("The licence service did not answer, so your licence is not ready yet.")
        if entitlement.retry_at:
            next_step = _("Nothing is lost: we try again on our own at %(time)s. Come back then.") % {
                "time": date_format(timezone.localtime(entitlement.retry_at), "TIME_FORMAT")
            }
        else:
            next_step = _(
                "Nothing is lost: our support team sees the order and will retry it. You can also contact us."
            )
    elif state == EntitlementState.FAILED:
        message = _("The licence service refused to issue your licence.")
        next_step = _("Nothing is lost: our support team can see why and will retry your order.")
    elif state == EntitlementState.EXPIRED:
        message = _("This rental has ended.")
        next_step = _("You can rent it again from the title's page.")
    else:
        message = _("This title is no longer available to you.")
        next_step = _("Contact support if you think this is a mistake.")
    return {
        "state": state,
        "delayed": state == EntitlementState.PENDING and entitlement.delayed_since is not None,
        "progress": progress
        if state == EntitlementState.PENDING
        else (IssueProgress.DONE if state == EntitlementState.READY else ""),
        "done": state != EntitlementState.PENDING,
        "ok": state == EntitlementState.READY and not removed,
        "message": str(message),
        "next": str(next_step),
        "renew": entitlement_needs_renewal(entitlement),
        # The browser must pass a fresh device check before the order can go on (the page offers it).
        "register": state == EntitlementState.FAILED
        and entitlement.failure == EntitlementFailure.DEVICE_CHECK_NEEDED,
        "timing": entitlement_timing(entitlement) if state == EntitlementState.READY and not removed else "",
        # Bound by Bindery: no licence URL is handed out; the player starts a playback session instead.
        "session": entitlement.bound_by == BindingMode.BINDERY,
        "drm_refused": state == EntitlementState.FAILED
        and entitlement.failure == EntitlementFailure.DRM_NOT_BOUND,
    }


def entitlement_timing(entitlement: Entitlement) -> str:
    """Return how long the current token took, in words: from payment (or from the renewal, re-issue or move
    that asked for it) to the device lookup's end, and ExpressPlay's answer to the token request; "" when the
    request is not on record. One query. Bound by Bindery: from payment to the device lookup's end (no token is
    kept; each Play gets its own)."""

    def ms(delta: timedelta) -> int:
        return max(0, round(delta.total_seconds() * 1000))

    if entitlement.bound_by == BindingMode.BINDERY:
        start = min(entitlement.queued_at or entitlement.created_at, entitlement.updated_at)
        if entitlement.updated_at - start > timedelta(minutes=1):
            return ""
        return _(
            "Ready %(total)s ms after you asked: device looked up in %(total)s ms. Bound by Bindery: each Play "
            "gets a short licence, for this device only."
        ) % {"total": ms(entitlement.updated_at - start)}
    issued = (
        TokenRequest.objects.filter(
            entitlement=entitlement,
            outcome=TokenRequestOutcome.ISSUED,
            purpose=TokenRequestPurpose.ENTITLEMENT,
        )
        .order_by("-requested_at")
        .values_list("requested_at", "answered_at")
        .first()
    )
    if issued is None or issued[1] is None:
        return ""
    requested, answered = issued
    # The first token was asked for at payment; a later one when it was queued (renewal, re-issue, move).
    start = entitlement.created_at if entitlement.tokens_issued <= 1 else (entitlement.queued_at or requested)
    start = min(start, requested)

    if answered - start > timedelta(minutes=1):  # an outage delayed it: milliseconds would only mislead
        return _(
            "Ready %(minutes)s min after you asked: the licence service could not be reached for most of that "
            "time. ExpressPlay then issued the licence in %(token)s ms."
        ) % {"minutes": round((answered - start).total_seconds() / 60), "token": ms(answered - requested)}
    return _(
        "Ready %(total)s ms after you asked: device looked up in %(lookup)s ms, licence issued by ExpressPlay in "
        "%(token)s ms."
    ) % {"total": ms(answered - start), "lookup": ms(requested - start), "token": ms(answered - requested)}


class MoveVerdict(enum.Enum):
    """Whether the customer may move a title to the device this browser is, and if not, why."""

    ALLOWED = "allowed"
    RENTAL = "rental"  # a rental stays on the device it was rented on
    OVER = "over"  # revoked or ended: nothing to move
    NOT_REGISTERED = "not_registered"  # this browser is none of the customer's devices
    SAME_DEVICE = "same_device"  # the title is bound to this very device already
    NO_CHANGES_LEFT = "no_changes_left"  # the period's device changes are used up


@dataclass(frozen=True)
class MoveOffer:
    verdict: MoveVerdict
    swaps_left: int

    @property
    def allowed(self) -> bool:
        return self.verdict is MoveVerdict.ALLOWED

    @property
    def shown(self) -> bool:
        """Whether a "Move to this device" button belongs beside the title (disabled when none is left)."""
        return self.verdict in (MoveVerdict.ALLOWED, MoveVerdict.NO_CHANGES_LEFT)


def move_offer(entitlement: Entitlement, this_device: Device | None, swaps_left: int) -> MoveOffer:
    """The one rule for "Move to this device", read by My library and by the player's refusal; the move
    itself (services.entitlement_move) enforces the same rule."""
    if entitlement.kind != EntitlementKind.BUY:
        verdict = MoveVerdict.RENTAL
    elif entitlement.state in (EntitlementState.REVOKED, EntitlementState.EXPIRED) or entitlement.rental_over:
        verdict = MoveVerdict.OVER
    elif this_device is None:
        verdict = MoveVerdict.NOT_REGISTERED
    elif this_device.pk == entitlement.device_id:
        verdict = MoveVerdict.SAME_DEVICE
    elif swaps_left <= 0:
        verdict = MoveVerdict.NO_CHANGES_LEFT
    else:
        verdict = MoveVerdict.ALLOWED
    return MoveOffer(verdict=verdict, swaps_left=swaps_left)


@dataclass(frozen=True)
class SweepState:
    """When the sweep last finished (None: never), and whether that is too long ago: beat, or the worker
    that runs the sweep, has stopped, so nothing a lost message stranded is queued again."""

    finished_at: datetime | None
    stale: bool


def sweep_state(now: datetime | None = None) -> SweepState:
    """Return the sweep's heartbeat, stale when older than BINDING_SWEEP_STALE_AFTER seconds (one query)."""
    finished_at = Heartbeat.objects.filter(name=Heartbeat.SWEEP).values_list("finished_at", flat=True).first()
    limit = (now or timezone.now()) - timedelta(seconds=settings.BINDING_SWEEP_STALE_AFTER)
    return SweepState(finished_at=finished_at, stale=finished_at is None or finished_at < limit)
