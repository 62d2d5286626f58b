"""Registration: a browser's correlation cookie, its device-check token, and the record lookup that binds it."""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..exceptions import (
    CheckAlreadyStarted,
    CheckOver,
    DeviceCheckUnavailable,
    DeviceKeyInvalid,
    DrmNotOffered,
    RecordNotYetAvailable,
)
from ..expressplay import (
    BuyToOwn,
    ExpressPlayClient,
    ExpressPlayError,
    ExpressPlayTransportError,
    LicenseToken,
    client_from_settings,
)
from ..models import (
    Actor,
    Device,
    EventKind,
    MediaAsset,
    Registration,
    RegistrationState,
    TokenRequest,
)
from ..user_agents import device_label
from . import notices
from ._common import _describe, _event
from .device_trust import granted_device_ids
from .drm import offered_drms
from .identity import IdentityInvalid, Proof, proof_verify, registration_message
from .issuing import entitlements_resume_after_check
from .queueing import DEVICE_CONFIRM, due_again, queue_after_commit
from .tokens import token_request

if TYPE_CHECKING:
    from django.contrib.auth.models import User


logger = logging.getLogger(__name__)

CHECK_REPLAYED = "check_replayed"  # Registration.failure_reason: the check can no longer prove one device
# ExpressPlay's getrecord?cookie= answers at most 32 records (research/expressplay-api.md, section 11): a full
# page may hide older ones.
RECORDS_PAGE = 32


@transaction.atomic
def device_name_suggestion(*, user: User, user_agent: str) -> str:
    """Return a name for a new device that none of the user's devices has, in the active language
    ("Chrome on Linux", then "Chrome on Linux (2)")."""
    return _unique_label(user, device_label(user_agent))


def registration_create(
    *, user: User, user_agent: str = "", device_name: str = "", replaces: Registration | None = None
) -> Registration:
    """Start a registration attempt for `user`'s browser: a new, unique ExpressPlay correlation value.

    `device_name` is what the customer calls this browser; the device gets it once bound (made unique).
    `replaces` is the browser's earlier registration (it registers again): orders held for a fresh device
    check of that one go on once this one is bound. The device-check token is asked for when the check
    starts (`cookie_check_start`), not here.
    """
    now = timezone.now()
    if replaces is not None and replaces.user_id != user.pk:
        replaces = None  # only the customer's own registration can be replaced
    cookie = Registration.objects.create(
        replaces=replaces,
        value=secrets.token_urlsafe(18),  # 24 characters, under ExpressPlay's 32
        user=user,
        user_agent=user_agent[:300],
        device_name=" ".join(device_name.split())[:80],
        expires_at=now + timedelta(seconds=settings.BINDING_COOKIE_TTL),
    )
    _event(EventKind.COOKIE_CREATED, user=user, cookie=cookie, actor=Actor.USER, actor_user=user)
    return cookie


def registration_check_start(
    *,
    cookie: Registration,
    drm: str | None = None,
    proof: Proof | None = None,
    client: ExpressPlayClient | None = None,
) -> LicenseToken:
    """Start the device check of a registration attempt: ask ExpressPlay for its device-check token and
    return it, once. The page calls this when it starts playing, so the token exists only from then on, for
    BINDING_CHECK_TOKEN_TTL seconds.

    A check proves one device, once (decision 0009): raises CheckAlreadyStarted when the token was already
    handed out (to this page before a reload, or to anyone else), CheckOver when the attempt is over, and
    DeviceCheckUnavailable (the attempt failed) when ExpressPlay does not give the token.

    `drm` is the DRM the browser chose (one this deployment offers; the first offered when not given): the check
    token comes from its token API, and the device is of that DRM. `proof` is the browser's device key, signed
    over the correlation value: kept with the registration, it is what a Bindery-bound Play must prove
    (decision 0013). Raises DrmNotOffered or IdentityInvalid (nothing spent) when either is wrong.
    """
    now = timezone.now()
    if registration_expire_if_stale(cookie=cookie, now=now) or not cookie.is_pending:
        raise CheckOver()
    offered = offered_drms()
    drm = drm or offered[0]
    if drm not in offered:
        raise DrmNotOffered()
    try:
        identity_key = proof_verify(proof, registration_message(cookie.value)) if proof is not None else ""
    except IdentityInvalid as exc:
        logger.info("Registration %s: device key proof refused: %s", cookie.pk, exc)
        raise DeviceKeyInvalid() from exc
    # One conditional UPDATE: of two concurrent starts, one gets the token and the other is refused.
    won = Registration.objects.filter(
        pk=cookie.pk, state=RegistrationState.CREATED, check_started_at__isnull=True, expires_at__gt=now
    ).update(check_started_at=now, drm=drm, identity_key=identity_key, updated_at=now)
    if not won:
        # Someone asks for a token that was already handed out: a reload, or a copied reference or address
        # that got there first. Either way the check can no longer say whose device played it.
        _check_replayed(cookie, [], why="its device check was started twice")
        raise CheckAlreadyStarted()
    cookie.refresh_from_db()
    return dummy_token_issue(cookie=cookie, client=client)


def dummy_token_issue(*, cookie: Registration, client: ExpressPlayClient | None = None) -> LicenseToken:
    """Ask ExpressPlay for the device-check token carrying `cookie`; keep its licence URL on the cookie while
    the attempt is pending. Call it through `cookie_check_start`, which hands the token out once.

    Raises DeviceCheckUnavailable (and marks the cookie failed) when the clip is missing or ExpressPlay
    refuses or cannot be reached.
    """
    asset = MediaAsset.objects.filter(slug=settings.BINDING_DEVICE_CHECK_ASSET).first()
    if asset is None:
        _cookie_fail(
            cookie, EventKind.DUMMY_TOKEN_FAILED, detail="The device-check clip is not packaged (load_demo)."
        )
        raise DeviceCheckUnavailable()

    def keep(token: LicenseToken, attempt: TokenRequest) -> LicenseToken:
        # In the commit that marks the request issued: the licence URL on the pending attempt, the event.
        Registration.objects.filter(pk=cookie.pk, state=RegistrationState.CREATED).update(
            state=RegistrationState.DUMMY_TOKEN_ISSUED,
            check_license_url=token.license_url,
            updated_at=timezone.now(),
        )
        _event(EventKind.DUMMY_TOKEN_ISSUED, user=cookie.user, cookie=cookie, detail=f"token {token.short}")
        return token

    try:
        token = _check_token_request(asset, cookie, client, keep)
    except ExpressPlayError as exc:
        code, detail = _describe(exc)
        logger.warning("Device-check token refused for cookie %s: %s %s", cookie.pk, code, detail)
        _cookie_fail(cookie, EventKind.DUMMY_TOKEN_FAILED, code=code, detail=detail)
        raise DeviceCheckUnavailable(code=code, transient=isinstance(exc, ExpressPlayTransportError)) from exc
    cookie.refresh_from_db()
    return token


CHECK_TOKEN_ATTEMPTS = 4  # the customer waits on the page: a few quick tries ride out a bad second


def _check_token_request(
    asset: MediaAsset,
    cookie: Registration,
    client: ExpressPlayClient | None,
    keep: Callable[[LicenseToken, TokenRequest], LicenseToken],
) -> LicenseToken:
    """Ask for the device-check token, trying again quickly (capped backoff with jitter, about 2 s in all)
    while ExpressPlay cannot be reached; a refusal is final at once."""
    expires = timedelta(seconds=min(settings.BINDING_CHECK_TOKEN_TTL, settings.BINDING_COOKIE_TTL))
    for attempt in range(CHECK_TOKEN_ATTEMPTS - 1):
        try:
            return token_request(
                asset=asset, policy=BuyToOwn(), cookie=cookie, expires=expires, keep=keep, client=client
            )
        except ExpressPlayTransportError:
            time.sleep(random.uniform(0, min(1.0, 0.25 * 2**attempt)))  # noqa: S311 - jitter
    return token_request(
        asset=asset, policy=BuyToOwn(), cookie=cookie, expires=expires, keep=keep, client=client
    )


@transaction.atomic  # the change and its event (and the webhook deliveries it makes) commit together
def _cookie_fail(cookie: Registration, kind: EventKind, *, code: int | None = None, detail: str = "") -> None:
    # Only a pending attempt fails: a copy of the lookup that meets a refusal must not undo a binding.
    updated = Registration.objects.filter(pk=cookie.pk, state__in=Registration.PENDING_STATES).update(
        state=RegistrationState.FAILED,
        check_license_url="",
        expressplay_code=code,
        failure_reason=detail[:300],
        updated_at=timezone.now(),
    )
    cookie.refresh_from_db()
    if updated:
        _event(kind, user=cookie.user, cookie=cookie, code=code, detail=detail)


LICENCE_SEEN_REQUEUE_AFTER = 30  # seconds: the lookup's own retries run well inside this


@transaction.atomic
def registration_licence_seen(*, cookie: Registration) -> bool:
    """Record that the browser says the device check played and queue the record lookup; return True when
    queued (False when the attempt is already over).

    The browser's word only triggers the lookup: the device id itself comes from ExpressPlay's records.
    """
    cookie = Registration.objects.select_for_update().get(pk=cookie.pk)
    if registration_expire_if_stale(cookie=cookie) or not cookie.is_pending:
        return False
    if cookie.check_started_at is None:
        return False  # no token was handed out yet: nothing can have played, and the start must stay possible
    first = cookie.state != RegistrationState.LICENCE_SEEN
    now = timezone.now()
    if (
        not first
        and cookie.queued_at
        and now - cookie.queued_at < timedelta(seconds=LICENCE_SEEN_REQUEUE_AFTER)
    ):
        return True  # already being looked up: a repeated report (or a page reloaded) queues nothing more
    cookie.state = RegistrationState.LICENCE_SEEN
    cookie.queued_at = now
    cookie.save(update_fields=["state", "queued_at", "updated_at"])
    if first:
        _event(
            EventKind.LICENCE_SEEN, user=cookie.user, cookie=cookie, actor=Actor.USER, actor_user=cookie.user
        )
    queue_after_commit(DEVICE_CONFIRM, model=Registration, pk=cookie.pk)
    return True


def registration_expire_if_stale(*, cookie: Registration, now: datetime | None = None) -> bool:
    """Expire a registration attempt that never got its licence in time; return True if it did now."""
    now = now or timezone.now()
    if not cookie.is_pending or cookie.expires_at > now:
        return False
    updated = Registration.objects.filter(pk=cookie.pk, state__in=Registration.PENDING_STATES).update(
        state=RegistrationState.EXPIRED, check_license_url="", updated_at=now
    )
    cookie.refresh_from_db()
    if updated:
        _event(EventKind.COOKIE_EXPIRED, user=cookie.user, cookie=cookie)
    return bool(updated)


def registrations_expire_stale(*, now: datetime | None = None) -> int:
    """Expire every stale registration attempt; return how many."""
    return sum(
        registration_expire_if_stale(cookie=cookie, now=now) for cookie in Registration.objects.stale(now)
    )


def device_confirm(*, cookie_id: int, client: ExpressPlayClient | None = None) -> Device | None:
    """Look the cookie's device id up in ExpressPlay's records and bind it; return the Device.

    Raises RecordNotYetAvailable while ExpressPlay has no record with a device id for the cookie, and
    ExpressPlayTransportError when ExpressPlay cannot be reached (both retryable by the task). Returns
    None when the attempt is over (expired, failed, or refused by the device limit).
    """
    cookie = Registration.objects.select_related("user").get(pk=cookie_id)
    if cookie.state == RegistrationState.BOUND:
        return cookie.device
    if registration_expire_if_stale(cookie=cookie) or not cookie.is_pending:
        return None
    client = client or client_from_settings()
    try:
        records = client.get_records(cookie=cookie.value)
        seen = granted_device_ids(records, cookie.value)
    except ExpressPlayTransportError:
        raise
    except ExpressPlayError as exc:
        code, detail = _describe(exc)
        _cookie_fail(cookie, EventKind.RECORD_LOOKUP_FAILED, code=code, detail=detail)
        return None
    if not seen:
        raise RecordNotYetAvailable(cookie.value)
    if len(seen) > 1:
        # Two devices played one check: it cannot say which is the customer's, so it proves nothing.
        _check_replayed(cookie, seen, why="more than one device played its device check")
        return None
    if len(records) >= RECORDS_PAGE:
        # A full page of records may hide older ones (another device's, or the customer's pushed out by
        # replays): one device cannot be proved from it.
        _check_replayed(cookie, seen, why=f"its device check was played {len(records)} times or more")
        return None
    return device_bind(cookie=cookie, device_id=seen[0])


@transaction.atomic
def _check_replayed(cookie: Registration, seen: list[str], *, why: str) -> None:
    """Fail a pending registration attempt whose check can no longer prove one device, with a Security
    event naming every device id the records show."""
    updated = Registration.objects.filter(pk=cookie.pk, state__in=Registration.PENDING_STATES).update(
        state=RegistrationState.FAILED,
        check_license_url="",
        failure_reason=CHECK_REPLAYED,
        updated_at=timezone.now(),
    )
    if updated:
        logger.warning("Security: registration %s not bound: %s", cookie.pk, why)
        ids = f"devices seen: {', '.join(seen)}; " if seen else ""
        _event(
            EventKind.CHECK_REPLAYED,
            user=cookie.user,
            cookie=cookie,
            detail=f"registration {cookie.pk} not bound: {why}; {ids}none of them became a device of the customer",
        )


def device_confirm_gave_up(*, cookie_id: int, reason: str) -> None:
    """Mark a registration attempt failed after the record lookup ran out of retries."""
    cookie = Registration.objects.get(pk=cookie_id)
    if cookie.is_pending:
        _cookie_fail(cookie, EventKind.RECORD_LOOKUP_FAILED, detail=reason)


@transaction.atomic
def device_bind(*, cookie: Registration, device_id: str) -> Device | None:
    """Bind the cookie to the user's device with `device_id`, creating or re-activating it.

    Idempotent: a cookie already bound returns its device. Returns None (and fails the cookie) when the
    device is new and the user already has BINDING_DEVICE_LIMIT active devices.
    """
    cookie = Registration.objects.select_for_update().select_related("user").get(pk=cookie.pk)
    if cookie.state == RegistrationState.BOUND:
        return cookie.device
    if not cookie.is_pending:
        return None  # failed or expired meanwhile (the sweep, another copy of the lookup)
    user, now = cookie.user, timezone.now()
    device = Device.objects.select_for_update().filter(user=user, device_id=device_id).first()
    if device is None or not device.is_active:
        active = list(Device.objects.active().filter(user=user).values_list("label", flat=True))
        if len(active) >= settings.BINDING_DEVICE_LIMIT:
            cookie.state = RegistrationState.FAILED
            cookie.failure_reason = Registration.FAILURE_DEVICE_LIMIT
            cookie.check_license_url = ""
            cookie.save(update_fields=["state", "failure_reason", "check_license_url", "updated_at"])
            _event(EventKind.DEVICE_LIMIT_REACHED, user=user, cookie=cookie, detail=", ".join(active))
            return None
    # A device new to the account, or back after being removed: its owner is told (a stolen login shows).
    is_new_to_account = device is None or not device.is_active
    if device is None:
        device = Device.objects.create(
            user=user,
            device_id=device_id,
            drm=cookie.drm,
            identity_key=cookie.identity_key,
            # The customer's name for it, chosen in their language at registration; else the browser's kind.
            label=_unique_label(user, cookie.device_name or device_label(cookie.user_agent)),
            first_seen=now,
            last_seen=now,
        )
    else:
        device.removed_at = None
        device.last_seen = now
        fields = ["removed_at", "last_seen"]
        if cookie.identity_key and cookie.identity_key != device.identity_key:
            # The same DRM device registered again from a browser profile with a new device key (site data
            # cleared): the newest check passed with this key, so Bindery-bound Plays must prove this one.
            device.identity_key = cookie.identity_key
            fields.append("identity_key")
        if device.drm != cookie.drm:
            device.drm = cookie.drm
            fields.append("drm")
        if cookie.device_name and cookie.device_name != device.label:  # registered again under a new name
            device.label = _unique_label(user, cookie.device_name)
            fields.append("label")
        device.save(update_fields=fields)
    cookie.device = device
    cookie.state = RegistrationState.BOUND
    cookie.check_license_url = ""  # the check is spent: no endpoint can hand its token out again
    cookie.save(update_fields=["device", "state", "check_license_url", "updated_at"])
    event = _event(
        EventKind.DEVICE_BOUND, user=user, cookie=cookie, device=device, detail=f"{device.label}: {device_id}"
    )
    if is_new_to_account:
        notices.new_device(device=device, event=event)
    entitlements_resume_after_check(cookie=cookie)
    return device


def _unique_label(user: User, label: str) -> str:
    taken = set(Device.objects.filter(user=user).values_list("label", flat=True))
    candidate, number = label, 2
    while candidate in taken:
        candidate, number = f"{label} ({number})", number + 1
    return candidate[:80]


def device_confirm_retry_later(*, cookie_id: int, countdown: float) -> None:
    """Record that the record lookup runs again in `countdown` seconds, so the sweep leaves the wait alone."""
    due_again(Registration, cookie_id, countdown=countdown)
