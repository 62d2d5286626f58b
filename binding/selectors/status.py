"""What a customer's pages say about an entitlement (decision 0016, pages tell the truth): its state,
what happens next and when, and its history, in the customer's words, each a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from ..models import (
    Actor,
    BindingEvent,
    BindingMode,
    Device,
    Entitlement,
    EntitlementFailure,
    EntitlementKind,
    EntitlementState,
    EventKind,
    IssueProgress,
    TokenRequest,
    TokenRequestOutcome,
    TokenRequestPurpose,
)
from .entitlements import entitlement_needs_renewal

if TYPE_CHECKING:
    pass


_DEVICE_CODES = {-5004, -5005, -4001}

# What asks for a token after the payment: the lookup step of an issue starts at the newest of these before
# its token request (at the payment when there is none), so a wait before a retry is nobody's step.
_ASKS = (
    EventKind.ENTITLEMENT_RETRIED,
    EventKind.TOKEN_RENEWAL,
    EventKind.TOKEN_REISSUE,
    EventKind.ENTITLEMENT_MOVED,
)
_RETRIES = (EventKind.ENTITLEMENT_RETRIED, EventKind.TOKEN_REISSUE)


def _newest(events: Iterable[BindingEvent]) -> BindingEvent | None:
    return max(events, key=lambda event: (event.created_at, event.pk), default=None)


def entitlement_revocation(entitlement: Entitlement) -> BindingEvent | None:
    """Return the event that revoked `entitlement` (its detail is the operator's reason), None when it is not
    revoked. Read from `revocations` when prefetched (entitlement_truth_prefetches), else one query."""
    if entitlement.state != EntitlementState.REVOKED:
        return None
    events = getattr(entitlement, "revocations", None)
    if events is None:
        events = entitlement.events.filter(kind=EventKind.ENTITLEMENT_REVOKED).order_by("-created_at", "-pk")[
            :1
        ]
    return _newest(events)


def device_removal(device: Device | None) -> BindingEvent | None:
    """Return the event that removed `device` (its actor says whether the customer or an operator did), None
    for an active device. Read from `removals` when prefetched (entitlement_truth_prefetches), else one query."""
    if device is None or device.is_active:
        return None
    events = getattr(device, "removals", None)
    if events is None:
        events = device.events.filter(kind=EventKind.DEVICE_REMOVED).order_by("-created_at", "-pk")[:1]
    return _newest(events)


def entitlement_truth_prefetches(prefix: str = "") -> list[Prefetch[Any]]:
    """Return the prefetches with which entitlement_status reads a page of entitlements (reached through
    `prefix`, "entitlement__" from orders) in two more queries, whatever their number: each one's
    revocation and its device's removal."""
    return [
        Prefetch(
            f"{prefix}events",
            queryset=BindingEvent.objects.filter(kind=EventKind.ENTITLEMENT_REVOKED),
            to_attr="revocations",
        ),
        Prefetch(
            f"{prefix}device__events",
            queryset=BindingEvent.objects.filter(kind=EventKind.DEVICE_REMOVED),
            to_attr="removals",
        ),
    ]


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _at(moment: datetime) -> str:
    """A time of day, with the date when it is not today's."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localtime().date():
        return date_format(local, "TIME_FORMAT")
    return date_format(local, "DATETIME_FORMAT")


def _removed_device_words(entitlement: Entitlement) -> tuple[str, str, bool]:
    """(message, next step, whether to name support) for a title bound to a device that was removed."""
    device = entitlement.device
    if device is None or device.removed_at is None:  # entitlement_status asks only for a removed device
        raise ValueError(f"entitlement {entitlement.pk} is not bound to a removed device")
    removal = device_removal(device)
    by_support = removal is not None and removal.actor == Actor.OPERATOR
    args = {"label": device.label, "date": _when(device.removed_at)}
    if by_support:
        message = _(
            "This title is bound to “%(label)s”, which our support team removed from your devices (%(date)s)."
        )
    else:
        message = _("This title is bound to “%(label)s”, which you removed from your devices (%(date)s).")
    if entitlement.kind == EntitlementKind.BUY:
        next_step = _(
            "To watch it, open My library in a browser registered as one of your devices and choose “Move to "
            "this device”."
        )
        if by_support:
            next_step += " " + _("If you did not ask for the removal, contact support.")
    else:
        next_step = _(
            "A rental stays on the device it was rented on, so it cannot be watched any more. If that is a "
            "mistake, contact support: they can move it."
        )
    return message % args, next_step, by_support or entitlement.kind != EntitlementKind.BUY


def entitlement_status(entitlement: Entitlement, *, timing: bool = True) -> dict[str, Any]:
    """Return where the entitlement stands, in the user's words: {state, label, progress, done, ok, message,
    next, contact, steps, renew, ...}, true after any customer, operator or system action (revoked, device
    removed, delayed, failed).

    `renew` is True when the token has (nearly) expired: the player asks for a new one (a POST) first.
    `contact` is the support address when the next step is to write to support; `steps` whether the issuing
    steps (device lookup, licence, ready) say anything about it. `timing` False leaves the step timings out
    (their query), for lists. At most two queries (the revocation or removal, the timing), none for a page of
    entitlements read with entitlement_truth_prefetches and timing=False.
    """
    state, progress = entitlement.effective_state, entitlement.progress
    next_step, contact = "", False
    removed = (
        state == EntitlementState.READY
        and entitlement.device is not None
        and not entitlement.device.is_active
    )
    labels: dict[str, str] = {
        EntitlementState.READY: _("Ready to play"),
        EntitlementState.PENDING: _("Preparing your licence"),
        EntitlementState.FAILED: _("Licence not issued"),
        EntitlementState.REVOKED: _("Revoked"),
        EntitlementState.EXPIRED: _("Rental ended"),
    }
    label = labels.get(state, "")
    if removed:
        label = _("Bound to a removed device")
        message, next_step, contact = _removed_device_words(entitlement)
    elif state == EntitlementState.READY:
        message = _("Ready to play.")
    elif state == EntitlementState.PENDING and entitlement.delayed_since is not None:
        label = _("Delayed")
        message = _(
            "Your licence is delayed: the licence service is not answering right now. Your order is safe."
        )
        if entitlement.queued_at and entitlement.queued_at > timezone.now():
            next_step = _(
                "Nothing needs doing: we try again at %(time)s and keep trying, and this page shows “Ready to "
                "play” by itself as soon as the licence service is back. A rental's time starts only then."
            ) % {"time": _at(entitlement.queued_at)}
        else:
            next_step = _(
                "Nothing needs doing: we keep trying, and this page shows “Ready to play” by itself as soon as "
                "the licence service is back. A rental's time starts only then."
            )
    elif state == EntitlementState.PENDING:
        messages: dict[str, str] = {
            IssueProgress.QUEUED: _("Your order is confirmed. Preparing your licence…"),
            IssueProgress.DEVICE_LOOKUP: _("Looking up your device…"),
            IssueProgress.TOKEN_REQUEST: _("Issuing your licence…"),
        }
        message = messages.get(progress, _("Issuing your licence…"))
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
            "Our support team has been told: the order is on their list, and they will refund it or move it to "
            "another of your devices."
        )
        contact = True
    elif state == EntitlementState.FAILED and entitlement.error_code in _DEVICE_CODES:
        message = _("We could not confirm the device this title should play on.")
        next_step = _(
            "It is not tried again automatically. Our support team has been told (the order is on their list) "
            "and will retry it; registering this browser again under My devices helps them."
        )
        contact = True
    elif state == EntitlementState.FAILED and entitlement.error_code is None:
        message = _("The licence service did not answer, so your licence is not ready yet.")
        if entitlement.retry_at:
            next_step = _("Nothing is lost: we try again on our own at %(time)s. Come back then.") % {
                "time": _at(entitlement.retry_at)
            }
        else:
            next_step = _(
                "Nothing is lost. We have stopped trying on our own; our support team has been told (the order "
                "is on their list) and will retry it."
            )
            contact = True
    elif state == EntitlementState.FAILED:
        message = _("The licence service refused to issue your licence.")
        next_step = _(
            "Nothing is lost. A refusal is not tried again automatically: our support team has been told (the "
            "order is on their list) and will retry it or refund it."
        )
        contact = True
    elif state == EntitlementState.EXPIRED:
        message = _("This rental has ended.")
        next_step = _("You can rent it again from the title's page.")
    else:
        revocation = entitlement_revocation(entitlement)
        when = _when(revocation.created_at if revocation else entitlement.updated_at)
        if revocation and revocation.detail:
            message = _("Revoked on %(date)s by our support team: “%(reason)s”.") % {
                "date": when,
                "reason": revocation.detail,
            }
        else:
            message = _("Revoked by our support team (%(date)s).") % {"date": when}
        next_step = _("It can no longer be watched. If you think this is a mistake, contact support.")
        contact = True
    ok = state == EntitlementState.READY and not removed
    return {
        "state": state,
        "label": str(label),
        "delayed": state == EntitlementState.PENDING and entitlement.delayed_since is not None,
        "progress": progress
        if state == EntitlementState.PENDING
        else (IssueProgress.DONE if state == EntitlementState.READY else ""),
        "done": state != EntitlementState.PENDING,
        "ok": ok,
        # Whether the issuing steps describe it: not for a title revoked, ended or bound to a removed device.
        "steps": state in (EntitlementState.PENDING, EntitlementState.READY, EntitlementState.FAILED)
        and not removed,
        "over": state in (EntitlementState.REVOKED, EntitlementState.EXPIRED),
        "removed_device": removed,
        "message": str(message),
        "next": str(next_step),
        "contact": settings.SUPPORT_EMAIL if contact else "",
        "renew": entitlement_needs_renewal(entitlement),
        # The browser must pass a fresh device check before the order can go on (the page offers it).
        "register": state == EntitlementState.FAILED
        and entitlement.failure == EntitlementFailure.DEVICE_CHECK_NEEDED,
        "timing": entitlement_timing(entitlement) if timing and ok else "",
        # Bound by Bindery: no licence URL is handed out; the player starts a playback session instead.
        "session": entitlement.bound_by == BindingMode.BINDERY,
        "drm_refused": state == EntitlementState.FAILED
        and entitlement.failure == EntitlementFailure.DRM_NOT_BOUND,
    }


def entitlement_timing(entitlement: Entitlement) -> str:
    """Return how long the current token took, in words, each step from its own start to its end: the device
    lookup from the payment (or from the newest retry, renewal, re-issue or move that asked again, so that
    the wait before it is nobody's step) to the token request, and ExpressPlay's answer to that request; ""
    when the request is not on record. Two queries. Bound by Bindery: from payment (or the newest ask) to the
    device lookup's end (no token is kept; each Play gets its own)."""

    def ms(delta: timedelta) -> int:
        return max(0, round(delta.total_seconds() * 1000))

    def asked_before(moment: datetime) -> tuple[datetime, bool]:
        """When the issue that ended at `moment` was asked for, and whether that was a retry."""
        asked = (
            entitlement.events.filter(kind__in=_ASKS, created_at__lte=moment)
            .order_by("-created_at", "-pk")
            .values_list("created_at", "kind")
            .first()
        )
        if asked is None:
            return entitlement.created_at, False
        return asked[0], asked[1] in _RETRIES

    if entitlement.bound_by == BindingMode.BINDERY:
        start, _retried = asked_before(entitlement.updated_at)
        start = min(start, entitlement.updated_at)
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
    if issued is None:
        return ""
    requested, answered = issued
    if answered is None:
        return ""
    start, retried = asked_before(requested)
    start = min(start, requested)
    if answered - start > timedelta(minutes=1):  # an outage delayed it: milliseconds would only mislead
        return _(
            "Ready %(minutes)s min after you asked: the licence service could not be reached for most of that "
            "time. ExpressPlay then issued the licence in %(token)s ms."
        ) % {"minutes": round((answered - start).total_seconds() / 60), "token": ms(answered - requested)}
    steps = {
        "total": ms(answered - start),
        "lookup": ms(requested - start),
        "token": ms(answered - requested),
    }
    if retried:
        return (
            _(
                "Ready %(total)s ms after it was tried again: device looked up in %(lookup)s ms, licence issued by "
                "ExpressPlay in %(token)s ms."
            )
            % steps
        )
    return (
        _(
            "Ready %(total)s ms after you asked: device looked up in %(lookup)s ms, licence issued by ExpressPlay in "
            "%(token)s ms."
        )
        % steps
    )


def entitlement_history(entitlement: Entitlement, limit: int = 40) -> list[dict[str, Any]]:
    """Return what happened to the entitlement since it was created, oldest first, in the customer's words:
    [{time, what, tone}] (tone "ok", "error" or ""). Ready again after a renewal is said once. One query."""
    shown = Q(entitlement=entitlement, kind__in=list(_HISTORY_KINDS))
    if entitlement.device_id:
        shown |= Q(kind=EventKind.DEVICE_REMOVED, device_id=entitlement.device_id)
    events = BindingEvent.objects.filter(shown).select_related("device").order_by("created_at", "pk")
    items: list[dict[str, Any]] = []
    for event in events[:500]:
        words = _history_words(
            event, ready_before=bool(items) and items[-1]["kind"] == EventKind.TOKEN_ISSUED
        )
        if words is not None:
            items.append(
                {"time": event.created_at, "kind": event.kind, "what": str(words[0]), "tone": words[1]}
            )
    return items[-limit:]


_HISTORY_KINDS = {
    EventKind.TOKEN_ISSUED,
    EventKind.TOKEN_FAILED,
    EventKind.ENTITLEMENT_HELD,
    EventKind.ENTITLEMENT_RETRIED,
    EventKind.TOKEN_REISSUE,
    EventKind.ENTITLEMENT_MOVED,
    EventKind.ENTITLEMENT_REVOKED,
    EventKind.ENTITLEMENT_EXPIRED,
}


def _history_words(event: BindingEvent, *, ready_before: bool) -> tuple[str, str] | None:
    by_support = event.actor == Actor.OPERATOR
    label = event.device.label if event.device else ""
    if event.kind == EventKind.TOKEN_ISSUED:
        return None if ready_before else (_("Ready to play"), "ok")
    if event.kind == EventKind.TOKEN_FAILED:
        if event.expressplay_code is not None:  # the code is for operators
            return _("Licence refused by the licence service"), "error"
        return _("Licence not issued: the licence service did not answer"), "error"
    if event.kind == EventKind.ENTITLEMENT_HELD:
        return _("Held for a fresh device check of this browser"), "error"
    if event.kind == EventKind.ENTITLEMENT_RETRIED:
        return (_("Tried again by our support team") if by_support else _("Tried again automatically")), ""
    if event.kind == EventKind.TOKEN_REISSUE:
        return (
            _("New licence asked for by our support team") if by_support else _("New licence asked for")
        ), ""
    if event.kind == EventKind.ENTITLEMENT_MOVED:
        if by_support:
            return _("Moved to “%(label)s” by our support team") % {"label": label}, ""
        return _("Moved to “%(label)s”") % {"label": label}, ""
    if event.kind == EventKind.DEVICE_REMOVED:
        if by_support:
            return _("“%(label)s” removed from your devices by our support team") % {"label": label}, "error"
        return _("“%(label)s” removed from your devices by you") % {"label": label}, "error"
    if event.kind == EventKind.ENTITLEMENT_REVOKED:
        if event.detail:
            return _("Revoked by our support team: “%(reason)s”") % {"reason": event.detail}, "error"
        return _("Revoked by our support team"), "error"
    if event.kind == EventKind.ENTITLEMENT_EXPIRED:
        return _("Rental ended"), ""
    return None
