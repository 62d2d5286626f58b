"""Business operations of the binding app. Views, tasks and admin actions call these, nothing else."""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .exceptions import BindingError, DeviceCheckUnavailable, RecordNotYetAvailable
from .expressplay import (
    BuyToOwn,
    ContentKey,
    Drm,
    ExpressPlayClient,
    ExpressPlayError,
    ExpressPlayRejected,
    ExpressPlayTransportError,
    LicenseToken,
    Policy,
    Rental,
    client_from_settings,
)
from .models import (
    Actor,
    BindingEvent,
    Cookie,
    CookieState,
    Device,
    Entitlement,
    EntitlementKind,
    EntitlementState,
    EventKind,
    IssueProgress,
    MediaAsset,
)
from .user_agents import device_label

logger = logging.getLogger(__name__)


def _event(kind: EventKind, *, user=None, cookie=None, device=None, entitlement=None, actor=Actor.SYSTEM,
           actor_user=None, code: int | None = None, detail: str = "") -> BindingEvent:  # fmt: skip
    return BindingEvent.objects.create(
        kind=kind, user=user, cookie=cookie, device=device, entitlement=entitlement, actor=actor,
        actor_user=actor_user, expressplay_code=code, detail=detail[:500],
    )  # fmt: skip


def _describe(exc: ExpressPlayError) -> tuple[int | None, str]:
    """Return (ExpressPlay code, operator-facing explanation) of a client failure."""
    if isinstance(exc, ExpressPlayRejected):
        return exc.code, f"{exc.meaning} {exc.advice}".strip()
    return None, str(exc)


# --- tokens ------------------------------------------------------------------------------------------------------


def token_request(
    *,
    asset: MediaAsset,
    policy: Policy,
    cookie: str,
    device_id: str | None = None,
    expires: timedelta,
    client: ExpressPlayClient | None = None,
) -> LicenseToken:
    """Return a token for `asset` from the DRM the settings select (EXPRESSPLAY_DRM). Raises ExpressPlayError."""
    client = client or client_from_settings()
    key = ContentKey(kid=asset.kid, key=asset.key)
    drm = Drm(settings.EXPRESSPLAY_DRM)
    if drm is Drm.PLAYREADY:
        return client.playready_token(
            key=key, policy=policy, cookie=cookie, device_id=device_id, expires=expires
        )
    if drm is Drm.WIDEVINE:
        return client.widevine_token(key=key, cookie=cookie, device_id=device_id, expires=expires)
    return client.fairplay_token(
        key=key, iv=settings.EXPRESSPLAY_FAIRPLAY_IV, cookie=cookie, device_id=device_id, expires=expires
    )


# --- registration (binding cookies) -----------------------------------------------------------------------------


@transaction.atomic
def cookie_create(*, user, user_agent: str = "") -> Cookie:
    """Start a registration attempt for `user`'s browser: a new, unique ExpressPlay correlation value."""
    now = timezone.now()
    cookie = Cookie.objects.create(
        value=secrets.token_urlsafe(18),  # 24 characters, under ExpressPlay's 32
        user=user,
        user_agent=user_agent[:300],
        expires_at=now + timedelta(seconds=settings.BINDING_COOKIE_TTL),
    )
    _event(EventKind.COOKIE_CREATED, user=user, cookie=cookie, actor=Actor.USER, actor_user=user)
    return cookie


def dummy_token_issue(*, cookie: Cookie, client: ExpressPlayClient | None = None) -> LicenseToken:
    """Ask ExpressPlay for the device-check token carrying `cookie`; keep its licence URL on the cookie.

    Raises DeviceCheckUnavailable (and marks the cookie failed) when the clip is missing or ExpressPlay
    refuses or cannot be reached.
    """
    asset = MediaAsset.objects.filter(slug=settings.BINDING_DEVICE_CHECK_ASSET).first()
    if asset is None:
        _cookie_fail(
            cookie, EventKind.DUMMY_TOKEN_FAILED, detail="The device-check clip is not packaged (load_demo)."
        )
        raise DeviceCheckUnavailable()
    try:
        token = token_request(
            asset=asset,
            policy=BuyToOwn(),
            cookie=cookie.value,
            expires=timedelta(seconds=settings.BINDING_COOKIE_TTL),
            client=client,
        )
    except ExpressPlayError as exc:
        code, detail = _describe(exc)
        logger.warning("Device-check token refused for cookie %s: %s %s", cookie.pk, code, detail)
        _cookie_fail(cookie, EventKind.DUMMY_TOKEN_FAILED, code=code, detail=detail)
        raise DeviceCheckUnavailable(code=code) from exc
    Cookie.objects.filter(pk=cookie.pk).update(
        state=CookieState.DUMMY_TOKEN_ISSUED, check_license_url=token.license_url, updated_at=timezone.now()
    )
    cookie.refresh_from_db()
    _event(EventKind.DUMMY_TOKEN_ISSUED, user=cookie.user, cookie=cookie, detail=f"token {token.short}")
    return token


def _cookie_fail(cookie: Cookie, kind: EventKind, *, code: int | None = None, detail: str = "") -> None:
    Cookie.objects.filter(pk=cookie.pk).update(
        state=CookieState.FAILED,
        expressplay_code=code,
        failure_reason=detail[:300],
        updated_at=timezone.now(),
    )
    cookie.refresh_from_db()
    _event(kind, user=cookie.user, cookie=cookie, code=code, detail=detail)


@transaction.atomic
def cookie_licence_seen(*, cookie: Cookie) -> bool:
    """Record that the browser says the device check played; return True when a lookup should be queued.

    The browser's word only triggers the lookup: the device id itself comes from ExpressPlay's records.
    """
    cookie = Cookie.objects.select_for_update().get(pk=cookie.pk)
    if cookie_expire_if_stale(cookie=cookie) or not cookie.is_pending:
        return False
    if cookie.state != CookieState.LICENCE_SEEN:
        cookie.state = CookieState.LICENCE_SEEN
        cookie.save(update_fields=["state", "updated_at"])
        _event(
            EventKind.LICENCE_SEEN, user=cookie.user, cookie=cookie, actor=Actor.USER, actor_user=cookie.user
        )
    return True


def cookie_expire_if_stale(*, cookie: Cookie, now=None) -> bool:
    """Expire a registration attempt that never got its licence in time; return True if it did now."""
    now = now or timezone.now()
    if not cookie.is_pending or cookie.expires_at > now:
        return False
    updated = Cookie.objects.filter(pk=cookie.pk, state__in=Cookie.PENDING_STATES).update(
        state=CookieState.EXPIRED, updated_at=now
    )
    cookie.refresh_from_db()
    if updated:
        _event(EventKind.COOKIE_EXPIRED, user=cookie.user, cookie=cookie)
    return bool(updated)


def cookies_expire_stale(*, now=None) -> int:
    """Expire every stale registration attempt; return how many."""
    return sum(cookie_expire_if_stale(cookie=cookie, now=now) for cookie in Cookie.objects.stale(now))


def device_confirm(*, cookie_id: int, client: ExpressPlayClient | None = None) -> Device | None:
    """Look the cookie's device id up in ExpressPlay's records and bind it; return the Device.

    Raises RecordNotYetAvailable while ExpressPlay has no record with a device id for the cookie, and
    ExpressPlayTransportError when ExpressPlay cannot be reached (both retryable by the task). Returns
    None when the attempt is over (expired, failed, or refused by the device limit).
    """
    cookie = Cookie.objects.select_related("user").get(pk=cookie_id)
    if cookie.state == CookieState.BOUND:
        return cookie.device
    if cookie_expire_if_stale(cookie=cookie) or not cookie.is_pending:
        return None
    client = client or client_from_settings()
    try:
        device_id = client.device_id_for_cookie(cookie.value)
    except ExpressPlayTransportError:
        raise
    except ExpressPlayError as exc:
        code, detail = _describe(exc)
        _cookie_fail(cookie, EventKind.RECORD_LOOKUP_FAILED, code=code, detail=detail)
        return None
    if not device_id:
        raise RecordNotYetAvailable(cookie.value)
    return device_bind(cookie=cookie, device_id=device_id)


def device_confirm_gave_up(*, cookie_id: int, reason: str) -> None:
    """Mark a registration attempt failed after the record lookup ran out of retries."""
    cookie = Cookie.objects.get(pk=cookie_id)
    if cookie.is_pending:
        _cookie_fail(cookie, EventKind.RECORD_LOOKUP_FAILED, detail=reason)


@transaction.atomic
def device_bind(*, cookie: Cookie, device_id: str) -> Device | None:
    """Bind the cookie to the user's device with `device_id`, creating or re-activating it.

    Idempotent: a cookie already bound returns its device. Returns None (and fails the cookie) when the
    device is new and the user already has BINDING_DEVICE_LIMIT active devices.
    """
    cookie = Cookie.objects.select_for_update().select_related("user").get(pk=cookie.pk)
    if cookie.state == CookieState.BOUND:
        return cookie.device
    user, now = cookie.user, timezone.now()
    device = Device.objects.select_for_update().filter(user=user, device_id=device_id).first()
    if device is None or not device.is_active:
        active = list(Device.objects.active().filter(user=user).values_list("label", flat=True))
        if len(active) >= settings.BINDING_DEVICE_LIMIT:
            cookie.state = CookieState.FAILED
            cookie.failure_reason = "device_limit"
            cookie.save(update_fields=["state", "failure_reason", "updated_at"])
            _event(EventKind.DEVICE_LIMIT_REACHED, user=user, cookie=cookie, detail=", ".join(active))
            return None
    if device is None:
        device = Device.objects.create(
            user=user, device_id=device_id, label=_unique_label(user, device_label(cookie.user_agent)),
            first_seen=now, last_seen=now,
        )  # fmt: skip
    else:
        device.removed_at = None
        device.last_seen = now
        device.save(update_fields=["removed_at", "last_seen"])
    cookie.device = device
    cookie.state = CookieState.BOUND
    cookie.save(update_fields=["device", "state", "updated_at"])
    _event(
        EventKind.DEVICE_BOUND, user=user, cookie=cookie, device=device, detail=f"{device.label}: {device_id}"
    )
    return device


def _unique_label(user, label: str) -> str:
    taken = set(Device.objects.filter(user=user).values_list("label", flat=True))
    candidate, number = label, 2
    while candidate in taken:
        candidate, number = f"{label} ({number})", number + 1
    return candidate[:80]


# --- devices ----------------------------------------------------------------------------------------------------


@transaction.atomic
def device_rename(*, device: Device, label: str, actor_user) -> Device:
    """Give a device a new name (1 to 80 characters)."""
    label = " ".join(label.split())
    if not label or len(label) > 80:
        raise BindingError(_("A device name needs 1 to 80 characters."))
    old = device.label
    device.label = label
    device.save(update_fields=["label"])
    actor = Actor.USER if actor_user == device.user else Actor.OPERATOR
    _event(EventKind.DEVICE_RENAMED, user=device.user, device=device, actor=actor, actor_user=actor_user,
           detail=f"{old} → {label}")  # fmt: skip
    return device


@dataclass(frozen=True)
class SwapAllowance:
    """How many more devices a user may remove (or titles move) in the current period."""

    limit: int
    used: int
    period_days: int

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)


def device_swap_allowance(user, *, now=None) -> SwapAllowance:
    """Return the user's own removals and moves in the last BINDING_SWAP_PERIOD_DAYS, since any operator reset."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.BINDING_SWAP_PERIOD_DAYS)
    events = BindingEvent.objects.filter(user=user, created_at__gte=since)
    reset = (
        events.filter(kind=EventKind.SWAPS_RESET)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if reset:
        events = events.filter(created_at__gt=reset)
    used = events.filter(
        kind__in=[EventKind.DEVICE_REMOVED, EventKind.ENTITLEMENT_MOVED], actor=Actor.USER
    ).count()
    return SwapAllowance(settings.BINDING_SWAPS_PER_PERIOD, used, settings.BINDING_SWAP_PERIOD_DAYS)


def _check_swap_allowed(user, actor_user) -> Actor:
    """Return the actor; a user's own swap must fit the allowance (operators override it)."""
    if actor_user is not None and actor_user.pk != user.pk:
        return Actor.OPERATOR
    allowance = device_swap_allowance(user)
    if allowance.left <= 0:
        raise BindingError(
            _(
                "You have used your %(limit)d device changes for the last %(days)d days. Contact support if you "
                "need another."
            )
            % {"limit": allowance.limit, "days": allowance.period_days}
        )
    return Actor.USER


@transaction.atomic
def device_remove(*, device: Device, actor_user, reason: str = "") -> Device:
    """Remove a device from the user's list: it no longer counts towards the limit, and titles bound to it
    are not renewed until moved. A user's own removals count against their swap allowance."""
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.removed_at is None:
        actor = _check_swap_allowed(device.user, actor_user)
        device.removed_at = timezone.now()
        device.save(update_fields=["removed_at"])
        _event(EventKind.DEVICE_REMOVED, user=device.user, device=device, actor=actor, actor_user=actor_user,
               detail=f"{device.label}{': ' + reason if reason else ''}")  # fmt: skip
    return device


@transaction.atomic
def device_swaps_reset(*, user, actor_user, reason: str) -> None:
    """Give the user their full swap allowance back (an operator's override)."""
    _event(EventKind.SWAPS_RESET, user=user, actor=Actor.OPERATOR, actor_user=actor_user, detail=reason)


def device_refresh(
    *, device: Device, actor_user, reason: str = "", client: ExpressPlayClient | None = None
) -> str:
    """Look the device's registrations up in ExpressPlay's records again; return what was found, in words.

    Updates last seen from the newest granted record; records a mismatch when the records now name another
    device for the same registration.
    """
    client = client or client_from_settings()
    cookies = list(device.cookies.filter(state=CookieState.BOUND).order_by("-created_at")[:3])
    found: list[str] = []
    newest = None
    for cookie in cookies:
        try:
            records = client.get_records(cookie=cookie.value)
        except ExpressPlayError as exc:
            code, detail = _describe(exc)
            _event(EventKind.DEVICE_REFRESHED, user=device.user, device=device, cookie=cookie, actor=Actor.OPERATOR,
                   actor_user=actor_user, code=code, detail=f"lookup failed: {detail}")  # fmt: skip
            return _("ExpressPlay could not be asked: %(detail)s") % {"detail": detail}
        granted = [r for r in records if r.device_id and r.result_code in (None, 0)]
        if granted:
            found.append(granted[0].device_id)
            if granted[0].time and (newest is None or granted[0].time > newest):
                newest = granted[0].time
    if newest:
        Device.objects.filter(pk=device.pk, last_seen__lt=newest).update(last_seen=newest)
    others = sorted({d for d in found if d != device.device_id})
    if not found:
        summary = _("No granted licence is recorded for this device's registrations.")
    elif others:
        summary = _("The records name another device id for this registration: %(ids)s.") % {
            "ids": ", ".join(others)
        }
    else:
        summary = _("The records confirm this device id.")
    _event(EventKind.DEVICE_REFRESHED if not others else EventKind.DEVICE_MISMATCH, user=device.user, device=device,
           actor=Actor.OPERATOR, actor_user=actor_user, detail=f"{summary} {reason}".strip())  # fmt: skip
    return summary


# --- entitlements and their device-bound tokens -----------------------------------------------------------


@transaction.atomic
def entitlement_create(
    *,
    user,
    asset: MediaAsset,
    kind: EntitlementKind,
    cookie: Cookie,
    rental_period: timedelta | None = None,
    play_duration: int | None = None,
) -> Entitlement:
    """Create a pending entitlement for `asset`, to be bound to the device `cookie` registered."""
    cookie = Cookie.objects.select_for_update().get(pk=cookie.pk)
    if cookie.state != CookieState.BOUND or cookie.user_id != user.pk:
        raise BindingError(_("Register this browser before you buy or rent."))
    if kind == EntitlementKind.RENT and not rental_period:
        raise BindingError(_("A rental needs a rental period."))
    entitlement = Entitlement.objects.create(
        user=user, asset=asset, kind=kind, cookie=cookie, device=None,
        rental_ends_at=timezone.now() + rental_period if kind == EntitlementKind.RENT else None,
        play_duration=play_duration if kind == EntitlementKind.RENT else None,
    )  # fmt: skip
    _event(EventKind.ENTITLEMENT_CREATED, user=user, cookie=cookie, entitlement=entitlement, actor=Actor.USER,
           actor_user=user, detail=f"{entitlement.get_kind_display()} {asset.slug}")  # fmt: skip
    return entitlement


def _claim(entitlement_id: int, task_id: str) -> bool:
    """Take the right to issue a token for a pending entitlement; False while another task run holds it.

    A single conditional UPDATE, so it is atomic on every database: two workers never both issue.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.ENTITLEMENT_CLAIM_TIMEOUT)
    return bool(
        Entitlement.objects.filter(pk=entitlement_id, state=EntitlementState.PENDING)
        .filter(Q(issuing_task="") | Q(issuing_task=task_id) | Q(issuing_since__lt=stale))
        .update(issuing_task=task_id, issuing_since=now, progress=IssueProgress.DEVICE_LOOKUP)
    )


def _device_for_record(entitlement: Entitlement, device_id: str) -> Device:
    """Return the user's device with `device_id`, recording it when the records disagree with the registration."""
    cookie = entitlement.cookie
    registered = cookie.device if cookie else None
    if registered and registered.device_id == device_id:
        return registered
    device = Device.objects.filter(user=entitlement.user, device_id=device_id).first()
    if device is None:
        now = timezone.now()
        device = Device.objects.create(
            user=entitlement.user, device_id=device_id, first_seen=now, last_seen=now,
            label=_unique_label(entitlement.user, device_label(cookie.user_agent if cookie else "")),
        )  # fmt: skip
    _event(EventKind.DEVICE_MISMATCH, user=entitlement.user, cookie=cookie, device=device, entitlement=entitlement,
           detail=f"registered {registered.device_id if registered else '-'}, records show {device_id}; "
                  "the token is bound to the newest")  # fmt: skip
    return device


def _token_expiry(entitlement: Entitlement, now) -> timedelta:
    lifetime = timedelta(seconds=settings.ENTITLEMENT_TOKEN_LIFETIME)
    if entitlement.kind == EntitlementKind.RENT:
        lifetime = min(lifetime, entitlement.rental_ends_at - now)
    return min(lifetime, timedelta(days=30))


def entitlement_issue(
    *, entitlement_id: int, task_id: str, client: ExpressPlayClient | None = None
) -> Entitlement:
    """Bind the entitlement to the cookie's device and issue its token; return the entitlement.

    First issue: the device id comes from ExpressPlay's records for the checkout browser's cookie. Renewal
    (the entitlement already has a device): the same device again. Idempotent: a ready entitlement, or one
    another task run is issuing, is returned untouched. Raises RecordNotYetAvailable and
    ExpressPlayTransportError for the task to retry; an ExpressPlay refusal fails the entitlement with its
    code, to be retried by an operator.
    """
    if not _claim(entitlement_id, task_id):
        return Entitlement.objects.get(pk=entitlement_id)
    entitlement = Entitlement.objects.select_related("asset", "cookie__device", "device", "user").get(
        pk=entitlement_id
    )
    now = timezone.now()
    if entitlement.rental_over:
        return entitlement_expire_if_over(entitlement=entitlement)
    client = client or client_from_settings()
    try:
        if entitlement.device is not None:
            device = entitlement.device
        else:
            device_id = client.device_id_for_cookie(entitlement.cookie.value) if entitlement.cookie else None
            if not device_id:
                raise RecordNotYetAvailable(entitlement.cookie.value if entitlement.cookie else "")
            device = _device_for_record(entitlement, device_id)
        Entitlement.objects.filter(pk=entitlement.pk, issuing_task=task_id).update(
            progress=IssueProgress.TOKEN_REQUEST
        )
        policy: Policy = BuyToOwn()
        if entitlement.kind == EntitlementKind.RENT:
            policy = Rental(period_end=entitlement.rental_ends_at, play_duration=entitlement.play_duration)
        expires = _token_expiry(entitlement, now)
        token = token_request(
            asset=entitlement.asset, policy=policy, cookie=entitlement.cookie.value, device_id=device.device_id,
            expires=expires, client=client,
        )  # fmt: skip
    except ExpressPlayTransportError:
        raise
    except ExpressPlayError as exc:
        code, detail = _describe(exc)
        _entitlement_fail(entitlement, task_id, code=code, detail=detail)
        entitlement.refresh_from_db()
        return entitlement
    with transaction.atomic():
        won = Entitlement.objects.filter(pk=entitlement.pk, issuing_task=task_id, state=EntitlementState.PENDING).update(
            state=EntitlementState.READY, progress=IssueProgress.DONE, device=device, license_url=token.license_url,
            token_device_id=device.device_id,
            token_short=token.short, token_expires_at=now + expires, tokens_issued=F("tokens_issued") + 1,
            error_code=None, error_detail="", issuing_task="", issuing_since=None, updated_at=timezone.now(),
        )  # fmt: skip
        if won:
            _event(EventKind.TOKEN_ISSUED, user=entitlement.user, cookie=entitlement.cookie, device=device,
                   entitlement=entitlement, detail=f"token {token.short} for {device.device_id}, expires {now + expires:%Y-%m-%d %H:%M} UTC")  # fmt: skip
    entitlement.refresh_from_db()
    return entitlement


def _entitlement_fail(entitlement: Entitlement, task_id: str, *, code: int | None, detail: str) -> None:
    updated = Entitlement.objects.filter(pk=entitlement.pk, issuing_task=task_id, state=EntitlementState.PENDING).update(
        state=EntitlementState.FAILED, error_code=code, error_detail=detail[:500], issuing_task="",
        issuing_since=None, progress=IssueProgress.QUEUED, updated_at=timezone.now(),
    )  # fmt: skip
    if updated:
        logger.warning("Entitlement %s failed: ExpressPlay code %s: %s", entitlement.pk, code, detail)
        _event(EventKind.TOKEN_FAILED, user=entitlement.user, cookie=entitlement.cookie, entitlement=entitlement,
               device=entitlement.device, code=code, detail=detail)  # fmt: skip


def entitlement_give_up(*, entitlement_id: int, task_id: str, reason: str) -> None:
    """Fail an entitlement whose token could not be issued after every retry (ExpressPlay unreachable)."""
    entitlement = Entitlement.objects.select_related("cookie", "user", "device").get(pk=entitlement_id)
    _entitlement_fail(entitlement, task_id, code=None, detail=reason)


def entitlement_expire_if_over(*, entitlement: Entitlement) -> Entitlement:
    """Mark a rental whose period has ended as expired (it no longer plays nor renews)."""
    if entitlement.rental_over and entitlement.state != EntitlementState.EXPIRED:
        updated = (
            Entitlement.objects.filter(pk=entitlement.pk)
            .exclude(state=EntitlementState.EXPIRED)
            .update(
                state=EntitlementState.EXPIRED, issuing_task="", issuing_since=None, updated_at=timezone.now()
            )
        )
        if updated:
            _event(EventKind.ENTITLEMENT_EXPIRED, user=entitlement.user, entitlement=entitlement)
        entitlement.refresh_from_db()
    return entitlement


@transaction.atomic
def entitlement_renew(*, entitlement: Entitlement, actor_user=None) -> bool:
    """Ask for a new token for the same device when a ready entitlement's token has expired.

    Return True when the caller must queue the issuing task. Rentals past their end expire instead.
    """
    entitlement = (
        Entitlement.objects.select_for_update(of=("self",)).select_related("device").get(pk=entitlement.pk)
    )
    if entitlement_expire_if_over(entitlement=entitlement).state != EntitlementState.READY:
        return False
    if entitlement.device and not entitlement.device.is_active:
        return False  # bound to a removed device: not renewed until moved
    margin = timedelta(seconds=settings.ENTITLEMENT_RENEW_MARGIN)
    if entitlement.token_expires_at and entitlement.token_expires_at > timezone.now() + margin:
        return False
    entitlement.state = EntitlementState.PENDING
    entitlement.progress = IssueProgress.QUEUED
    entitlement.save(update_fields=["state", "progress", "updated_at"])
    _event(EventKind.TOKEN_RENEWAL, user=entitlement.user, entitlement=entitlement, device=entitlement.device,
           actor=Actor.USER if actor_user == entitlement.user else Actor.SYSTEM, actor_user=actor_user)  # fmt: skip
    return True


@transaction.atomic
def entitlement_retry(*, entitlement: Entitlement, actor_user, reason: str = "") -> bool:
    """Put a failed entitlement back in the queue (an operator's retry); return True when queued."""
    updated = Entitlement.objects.filter(pk=entitlement.pk, state=EntitlementState.FAILED).update(
        state=EntitlementState.PENDING, progress=IssueProgress.QUEUED, error_code=None, error_detail="",
        updated_at=timezone.now(),
    )  # fmt: skip
    if updated:
        _event(EventKind.ENTITLEMENT_RETRIED, user=entitlement.user, entitlement=entitlement,
               actor=Actor.OPERATOR, actor_user=actor_user, detail=reason)  # fmt: skip
    return bool(updated)


@transaction.atomic
def entitlement_revoke(*, entitlement: Entitlement, actor_user, reason: str) -> Entitlement:
    """Revoke an entitlement: Bindery stops handing out and renewing its token.

    ExpressPlay has no revocation call, so a token already issued stays valid until it expires.
    """
    entitlement = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
    if entitlement.state != EntitlementState.REVOKED:
        entitlement.state = EntitlementState.REVOKED
        entitlement.license_url = ""
        entitlement.issuing_task = ""
        entitlement.save(update_fields=["state", "license_url", "issuing_task", "updated_at"])
        _event(EventKind.ENTITLEMENT_REVOKED, user=entitlement.user, entitlement=entitlement, device=entitlement.device,
               actor=Actor.OPERATOR, actor_user=actor_user, detail=reason)  # fmt: skip
    return entitlement


@transaction.atomic
def entitlement_reissue(*, entitlement: Entitlement, actor_user, reason: str) -> bool:
    """Request a fresh token for a ready (or failed) entitlement, for its device; True when the caller must queue it."""
    entitlement = (
        Entitlement.objects.select_for_update(of=("self",)).select_related("device").get(pk=entitlement.pk)
    )
    if entitlement.state not in (EntitlementState.READY, EntitlementState.FAILED) or entitlement.rental_over:
        return False
    if entitlement.device and not entitlement.device.is_active:
        raise BindingError(
            _("The device this title is bound to was removed: move it to another device first.")
        )
    entitlement.state, entitlement.progress = EntitlementState.PENDING, IssueProgress.QUEUED
    entitlement.error_code, entitlement.error_detail = None, ""
    entitlement.save(update_fields=["state", "progress", "error_code", "error_detail", "updated_at"])
    _event(EventKind.TOKEN_REISSUE, user=entitlement.user, entitlement=entitlement, device=entitlement.device,
           actor=Actor.OPERATOR, actor_user=actor_user, detail=reason)  # fmt: skip
    return True


@transaction.atomic
def entitlement_move(*, entitlement: Entitlement, device: Device, actor_user, reason: str = "") -> bool:
    """Bind the entitlement to another of its user's devices and ask for a token for it; True to queue.

    A user may move only titles they bought, within their swap allowance; an operator may move any.
    """
    entitlement = (
        Entitlement.objects.select_for_update(of=("self",)).select_related("device").get(pk=entitlement.pk)
    )
    if device.user_id != entitlement.user_id or not device.is_active:
        raise BindingError(_("That device is not one of this customer's registered devices."))
    if entitlement.device_id == device.pk and entitlement.state != EntitlementState.FAILED:
        return False
    if entitlement.state in (EntitlementState.REVOKED, EntitlementState.EXPIRED) or entitlement.rental_over:
        raise BindingError(_("This title can no longer be watched, so it cannot be moved."))
    is_user = actor_user is None or actor_user.pk == entitlement.user_id
    if is_user and entitlement.kind != EntitlementKind.BUY:
        raise BindingError(_("Only titles you bought can be moved to another device."))
    actor = _check_swap_allowed(entitlement.user, actor_user)
    cookie = device.cookies.filter(state=CookieState.BOUND).order_by("-created_at").first()
    previous = entitlement.device.label if entitlement.device else "-"
    entitlement.device, entitlement.cookie = device, cookie or entitlement.cookie
    entitlement.state, entitlement.progress = EntitlementState.PENDING, IssueProgress.QUEUED
    entitlement.error_code, entitlement.error_detail = None, ""
    entitlement.save(
        update_fields=["device", "cookie", "state", "progress", "error_code", "error_detail", "updated_at"]
    )
    _event(EventKind.ENTITLEMENT_MOVED, user=entitlement.user, entitlement=entitlement, device=device, actor=actor,
           actor_user=actor_user, detail=f"{previous} → {device.label}{': ' + reason if reason else ''}")  # fmt: skip
    return True


def entitlement_mark_played(*, entitlement: Entitlement) -> None:
    """Remember when a title was first played (for the rental's viewing-time display)."""
    Entitlement.objects.filter(pk=entitlement.pk, first_played_at__isnull=True).update(
        first_played_at=timezone.now()
    )


# --- connection check ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionReport:
    """The outcome of one authenticated round trip to ExpressPlay."""

    environment: str
    ok: bool
    records_seen: int = 0
    error_code: int | None = None
    meaning: str = ""
    advice: str = ""
    retryable: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def expressplay_connection_check(*, client: ExpressPlayClient | None = None) -> ConnectionReport:
    """Return whether ExpressPlay (or the sandbox) accepts our authenticator, via one getrecord call.

    Never raises for ExpressPlay failures: they are reported with their code and meaning.
    """
    client = client or client_from_settings()
    environment = settings.EXPRESSPLAY_ENV
    try:
        records = client.get_records()
    except ExpressPlayRejected as exc:
        return ConnectionReport(
            environment, ok=False, error_code=exc.code, meaning=exc.meaning, advice=exc.advice
        )
    except ExpressPlayTransportError as exc:
        return ConnectionReport(environment, ok=False, meaning=str(exc), retryable=True)
    except ExpressPlayError as exc:
        return ConnectionReport(environment, ok=False, meaning=str(exc))
    return ConnectionReport(environment, ok=True, records_seen=len(records))
