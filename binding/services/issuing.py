"""The worker's issuing protocol: the claim and its lease, the hand-off to the worker, the token request
for the device `device_trust` chooses, failure, automatic retries."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ..exceptions import RecordNotYetAvailable
from ..expressplay import (
    BuyToOwn,
    ExpressPlayClient,
    ExpressPlayError,
    ExpressPlayRejected,
    ExpressPlayTransportError,
    LicenseToken,
    Policy,
    Rental,
    client_from_settings,
)
from ..models import (
    BindingMode,
    Device,
    DrmChoices,
    Entitlement,
    EntitlementFailure,
    EntitlementKind,
    EntitlementState,
    EventKind,
    IssueProgress,
    Registration,
    RegistrationState,
    TokenRequest,
)
from . import notices
from ._common import _describe, _event
from .device_trust import DeviceCheckNeeded, intrusion_record, purchase_device
from .drm import BINDING_UNSUPPORTED, binding_mode, drm_fall_back
from .queueing import ENTITLEMENT_ISSUE, queue_after_commit
from .tokens import token_request

logger = logging.getLogger(__name__)


def _make_pending(entitlement: Entitlement, **fields: Any) -> None:
    """Put a (locked) entitlement back to pending and queue its issue after commit: the one way in which
    an existing entitlement asks the worker for a token, so that no caller can forget to queue it."""
    now = timezone.now()
    changes = {
        "state": EntitlementState.PENDING,
        "progress": IssueProgress.QUEUED,
        "error_code": None,
        "error_detail": "",
        "failure": EntitlementFailure.NONE,
        "delayed_since": None,
        "delay_reason": "",
        "queued_at": now,
        "retry_at": None,
        # Whatever run was under way loses its claim: its final write (for the old device, say) cannot land.
        "issuing_task": "",
        "claimed_until": None,
        "updated_at": now,
        **fields,
    }
    for name, value in changes.items():
        setattr(entitlement, name, value)
    entitlement.save(update_fields=list(changes))
    queue_after_commit(ENTITLEMENT_ISSUE, model=Entitlement, pk=entitlement.pk)


def _claim(entitlement_id: int, task_id: str) -> bool:
    """Take the right to issue a token for a pending entitlement; False while another task run holds it.

    A single conditional UPDATE, so it is atomic on every database: two workers never both issue. The claim
    is a lease of ENTITLEMENT_CLAIM_TIMEOUT seconds; a task run whose worker died loses it when it runs out.
    """
    now = timezone.now()
    return bool(
        Entitlement.objects.filter(pk=entitlement_id, state=EntitlementState.PENDING)
        .filter(Q(issuing_task="") | Q(issuing_task=task_id) | Q(claimed_until__lt=now))
        .update(
            issuing_task=task_id,
            claimed_until=now + timedelta(seconds=settings.ENTITLEMENT_CLAIM_TIMEOUT),
            progress=IssueProgress.DEVICE_LOOKUP,
        )
    )


RETRY_LEASE_GRACE = 5  # seconds a waiting retry's claim outlives its due time


def entitlement_retry_later(
    *, entitlement_id: int, task_id: str, next_task_id: str, countdown: float, reason: str = ""
) -> bool:
    """Hand the claim of run `task_id` to its retry, run `next_task_id`, through the retry's wait of
    `countdown` seconds (and mark the work as due then); record the delay and why. Return False, handing
    nothing on, once the delay has lasted BINDING_OUTAGE_PATIENCE seconds: the caller fails the order then.

    Each run has its own id, so a redelivered copy of an earlier message (same Celery id, earlier run) finds
    the claim taken, and the sweep does not hand a waiting retry to another worker.
    """
    now = timezone.now()
    due = now + timedelta(seconds=countdown)
    mine = Entitlement.objects.filter(pk=entitlement_id, issuing_task=task_id, state=EntitlementState.PENDING)
    since = mine.values_list("delayed_since", flat=True).first()
    if since is not None and now - since > timedelta(seconds=settings.BINDING_OUTAGE_PATIENCE):
        return False
    mine.update(
        issuing_task=next_task_id,
        # The wait's lease ends shortly after the retry is due: the retry's own claim extends it, and a retry
        # whose message a lost broker took is found again by the sweep soon after (the claim still keeps it
        # to one token, however many messages there are).
        claimed_until=due + timedelta(seconds=RETRY_LEASE_GRACE),
        queued_at=due,
        delayed_since=since or now,
        delay_reason=reason[:300],
    )
    return True


class ClaimLost(Exception):
    """The run's claim ran out (or was taken back by a move) before its token request left."""


def _renew_claim_before_sending(entitlement_id: int, task_id: str) -> None:
    """Check the claim is still this run's, and extend it for the token request; raise ClaimLost if not.

    The record lookup may have used up the lease; then the sweep may have handed the issue on, and sending
    anyway would make a second token.
    """
    now = timezone.now()
    kept = Entitlement.objects.filter(
        pk=entitlement_id, issuing_task=task_id, state=EntitlementState.PENDING, claimed_until__gt=now
    ).update(
        progress=IssueProgress.TOKEN_REQUEST,
        claimed_until=now + timedelta(seconds=settings.ENTITLEMENT_CLAIM_TIMEOUT),
    )
    if not kept:
        raise ClaimLost(f"entitlement {entitlement_id}: run {task_id} no longer holds the claim")


def _rental_delay_given_back(entitlement: Entitlement, now: datetime) -> timedelta | None:
    """Return how long a rental's first licence was delayed by an outage, to be added to its window: the
    rental's clock does not run while the customer could not watch. None when it was not delayed."""
    if (
        entitlement.kind != EntitlementKind.RENT
        or entitlement.tokens_issued
        or entitlement.delayed_since is None
    ):
        return None
    return max(timedelta(0), now - entitlement.created_at)


def _token_expiry(entitlement: Entitlement, now: datetime) -> timedelta:
    lifetime = timedelta(seconds=settings.ENTITLEMENT_TOKEN_LIFETIME)
    if entitlement.kind == EntitlementKind.RENT:
        # A rental has its end from its creation (entitlement_create).
        lifetime = min(lifetime, entitlement.rental_ends_at - now)  # type: ignore[operator]
    return min(lifetime, timedelta(days=30))


def entitlement_policy(entitlement: Entitlement) -> Policy:
    """Return the rights an entitlement's licences carry: BuyToOwn, or its rental window and viewing time."""
    if entitlement.kind == EntitlementKind.RENT:
        # A rental has its end from its creation (entitlement_create).
        return Rental(period_end=entitlement.rental_ends_at, play_duration=entitlement.play_duration)  # type: ignore[arg-type]
    return BuyToOwn()


def _entitlement_ready(
    entitlement: Entitlement, task_id: str, device: Device, *, detail: str, **binding: Any
) -> bool:
    """Make the entitlement ready for `device` with `binding` (who binds it, and the token kept, if any) if run
    `task_id` still holds its claim, clearing every trace of a wait or failure; the audit event goes with it
    (call it inside the transaction that keeps the token). Return whether this run won."""
    won = Entitlement.objects.filter(
        pk=entitlement.pk, issuing_task=task_id, state=EntitlementState.PENDING
    ).update(
        state=EntitlementState.READY,
        progress=IssueProgress.DONE,
        device=device,
        rental_ends_at=entitlement.rental_ends_at,
        error_code=None,
        error_detail="",
        issuing_task="",
        claimed_until=None,
        auto_retries=0,
        delayed_since=None,
        delay_reason="",
        updated_at=timezone.now(),
        **binding,
    )
    if won:
        _event(
            EventKind.TOKEN_ISSUED,
            user=entitlement.user,
            cookie=entitlement.cookie,
            device=device,
            entitlement=entitlement,
            detail=detail,
        )
        if entitlement.delayed_since is not None and not entitlement.tokens_issued:
            notices.ready_after_delay(entitlement=entitlement, device=device)
    return bool(won)


def _entitlement_bind_without_token(
    entitlement: Entitlement, task_id: str, device: Device, mode: str
) -> Entitlement:
    """Finish an issue whose device's DRM ExpressPlay does not bind: bound by Bindery (ready, no token kept: a
    short one is issued at each Play, to the proven device only), or refused in words (decision 0013)."""
    if mode == BindingMode.REFUSE:
        _entitlement_fail(
            entitlement,
            task_id,
            code=None,
            detail=(
                f"not sold to {DrmChoices(device.drm).label} devices: titles cannot be bound to them "
                "(EXPRESSPLAY_BINDING)"
            ),
            failure=EntitlementFailure.DRM_NOT_BOUND,
            device=device,
        )
        entitlement.refresh_from_db()
        return entitlement
    with transaction.atomic():
        _entitlement_ready(
            entitlement,
            task_id,
            device,
            detail=(
                f"bound by Bindery to {device.device_id} ({DrmChoices(device.drm).label}): a short token at "
                "each Play, for this device only"
            ),
            bound_by=BindingMode.BINDERY,
            license_url="",
            token_device_id="",
            token_short="",
            token_expires_at=None,
        )
    entitlement.refresh_from_db()
    return entitlement


def entitlement_issue(
    *, entitlement_id: int, task_id: str, client: ExpressPlayClient | None = None
) -> Entitlement:
    """Bind the entitlement to the cookie's device and issue its token; return the entitlement.

    First issue: the device id comes from ExpressPlay's records for the checkout browser's cookie. Renewal
    (the entitlement already has a device): the same device again. Idempotent: a ready entitlement, or one
    another task run is issuing, is returned untouched. Raises RecordNotYetAvailable and
    ExpressPlayTransportError for the task to retry; an ExpressPlay refusal fails the entitlement with its
    code, to be retried by an operator. Every token request is on record (TokenRequest), lost answers too.
    """
    if not _claim(entitlement_id, task_id):
        return Entitlement.objects.get(pk=entitlement_id)
    entitlement = Entitlement.objects.select_related("asset", "cookie__device", "device", "user").get(
        pk=entitlement_id
    )
    now = timezone.now()
    delay_given_back = _rental_delay_given_back(entitlement, now)
    if delay_given_back:
        # Only a rental's delay is given back, and a rental has its end (entitlement_create).
        entitlement.rental_ends_at += delay_given_back  # type: ignore[operator,assignment]
    if entitlement.rental_over:
        return entitlement_expire_if_over(entitlement=entitlement)
    client = client or client_from_settings()
    try:
        if entitlement.device is not None:  # a renewal, a re-issue or a move: the device is already chosen
            device = entitlement.device
        else:
            chosen = purchase_device(entitlement, client, now)
            if chosen is None:
                raise RecordNotYetAvailable(entitlement.cookie.value if entitlement.cookie else "")
            if chosen.intruders:
                intrusion_record(
                    # purchase_device chose a device through this cookie: it is there.
                    cookie=entitlement.cookie,  # type: ignore[arg-type]
                    registered=chosen.device,
                    intruders=chosen.intruders,
                    entitlement=entitlement,
                )
            device = chosen.device
        mode = binding_mode(device.drm)
        if mode != BindingMode.EXPRESSPLAY:
            return _entitlement_bind_without_token(entitlement, task_id, device, mode)
        policy = entitlement_policy(entitlement)
        expires = _token_expiry(entitlement, now)

        def keep(token: LicenseToken, attempt: TokenRequest) -> None:
            # In the commit that marks the request issued: the token kept, the audit event.
            _entitlement_ready(
                entitlement,
                task_id,
                device,
                detail=f"token {token.short} for {device.device_id}, expires {now + expires:%Y-%m-%d %H:%M} UTC",
                bound_by=BindingMode.EXPRESSPLAY,
                license_url=token.license_url,
                token_device_id=device.device_id,
                token_short=token.short,
                token_expires_at=now + expires,
                tokens_issued=F("tokens_issued") + 1,
            )

        token_request(
            asset=entitlement.asset,
            policy=policy,
            cookie=entitlement.cookie,
            device_id=device.device_id,
            drm=device.drm,
            expires=expires,
            keep=keep,
            entitlement=entitlement,
            task_id=task_id,
            client=client,
            # In the commit that records the request: the claim checked and renewed, the progress shown.
            guard=lambda: _renew_claim_before_sending(entitlement.pk, task_id),
        )
    except ExpressPlayRejected as exc:
        if BINDING_UNSUPPORTED.get(exc.code) != device.drm:
            code, detail = _describe(exc)
            _entitlement_fail(entitlement, task_id, code=code, detail=detail)
            entitlement.refresh_from_db()
            return entitlement
        # ExpressPlay will not bind this DRM's devices: the DRM moves to its fallback, and this order with it.
        mode = drm_fall_back(device.drm, code=exc.code, detail=_describe(exc)[1])
        return _entitlement_bind_without_token(entitlement, task_id, device, mode)
    except DeviceCheckNeeded as exc:
        _entitlement_hold(entitlement, task_id, exc)
        entitlement.refresh_from_db()
        return entitlement
    except ClaimLost:
        logger.info(
            "Entitlement %s: run %s lost its claim before sending; another run issues it",
            entitlement.pk,
            task_id,
        )
        return Entitlement.objects.get(pk=entitlement.pk)
    except ExpressPlayTransportError:
        raise
    except ExpressPlayError as exc:
        code, detail = _describe(exc)
        _entitlement_fail(entitlement, task_id, code=code, detail=detail)
        entitlement.refresh_from_db()
        return entitlement
    entitlement.refresh_from_db()
    return entitlement


@transaction.atomic  # the change and its event (and the webhook deliveries it makes) commit together
def _entitlement_fail(
    entitlement: Entitlement,
    task_id: str,
    *,
    code: int | None,
    detail: str,
    retry_at: datetime | None = None,
    failure: EntitlementFailure = EntitlementFailure.NONE,
    kind: EventKind = EventKind.TOKEN_FAILED,
    device: Device | None = None,
) -> None:
    """Fail the entitlement if run `task_id` still holds its claim, with the event `kind` on the audit trail
    in the same commit."""
    updated = Entitlement.objects.filter(
        pk=entitlement.pk, issuing_task=task_id, state=EntitlementState.PENDING
    ).update(
        state=EntitlementState.FAILED,
        failure=failure,
        error_code=code,
        error_detail=detail[:500],
        issuing_task="",
        claimed_until=None,
        retry_at=retry_at,
        updated_at=timezone.now(),
    )
    if updated:
        if code is not None:
            logger.warning("Entitlement %s failed: ExpressPlay code %s: %s", entitlement.pk, code, detail)
        else:
            logger.warning("Entitlement %s failed: %s", entitlement.pk, detail)
        event = _event(
            kind,
            user=entitlement.user,
            cookie=entitlement.cookie,
            entitlement=entitlement,
            device=device or entitlement.device,
            code=code,
            detail=f"{detail} (tried again automatically at {retry_at:%H:%M:%S} UTC)" if retry_at else detail,
        )
        if retry_at is None:  # final until someone acts: the customer hears why (a retry soon says nothing)
            notices.failed(entitlement=entitlement, event=event)


@transaction.atomic
def _entitlement_hold(entitlement: Entitlement, task_id: str, exc: DeviceCheckNeeded) -> None:
    """Fail the entitlement, held for a fresh device check of the checkout browser: no device that passed
    this customer's check can be named (decision 0009). Registering that browser again sends it on."""
    registered = exc.registered
    if exc.seen and entitlement.cookie is not None:
        intrusion_record(
            cookie=entitlement.cookie, registered=registered, intruders=exc.seen, entitlement=entitlement
        )
    detail = {
        "no device check": "the checkout browser has no bound registration",
        "device removed": f"the registered device {registered.device_id if registered else '-'} was removed",
        "records name another device": (
            f"ExpressPlay's records name {', '.join(exc.seen)}, not the registered device "
            f"{registered.device_id if registered else '-'}: this browser's DRM identity changed, or another "
            "device played its device check"
        ),
    }[exc.reason]
    _entitlement_fail(
        entitlement,
        task_id,
        code=None,
        detail=f"held for a fresh device check: {detail}",
        failure=EntitlementFailure.DEVICE_CHECK_NEEDED,
        kind=EventKind.ENTITLEMENT_HELD,
        device=registered,
    )


@transaction.atomic
def entitlements_resume_after_check(*, cookie: Registration) -> int:
    """Send on the entitlements held for a fresh device check of the registration `cookie` replaces, now
    that `cookie` is bound: they are issued for its device, which passed this customer's check. Return how
    many."""
    if cookie.replaces_id is None or cookie.state != RegistrationState.BOUND:
        return 0
    held = Entitlement.objects.select_for_update().filter(
        user_id=cookie.user_id,
        cookie_id=cookie.replaces_id,
        state=EntitlementState.FAILED,
        failure=EntitlementFailure.DEVICE_CHECK_NEEDED,
    )
    resumed = 0
    for entitlement in held:
        if entitlement.rental_over:
            continue
        _make_pending(entitlement, cookie=cookie, device=None)
        _event(
            EventKind.ENTITLEMENT_RETRIED,
            user=entitlement.user,
            cookie=cookie,
            entitlement=entitlement,
            device=cookie.device,
            detail=f"the browser passed a new device check as {cookie.device.label if cookie.device else '-'}",
        )
        resumed += 1
    return resumed


def entitlement_give_up(*, entitlement_id: int, task_id: str, reason: str) -> None:
    """Fail an entitlement whose token could not be issued after every retry (ExpressPlay unreachable).

    Unreachable is not refused: the sweep tries again on its own, BINDING_AUTO_RETRIES times at most, after
    BINDING_AUTO_RETRY_AFTER seconds, doubling each time.
    """
    entitlement = Entitlement.objects.select_related("cookie", "user", "device").get(pk=entitlement_id)
    retry_at = None
    if entitlement.auto_retries < settings.BINDING_AUTO_RETRIES:
        wait = settings.BINDING_AUTO_RETRY_AFTER * 2**entitlement.auto_retries
        retry_at = timezone.now() + timedelta(seconds=wait)
    _entitlement_fail(entitlement, task_id, code=None, detail=reason, retry_at=retry_at)


@transaction.atomic
def entitlement_retry_automatically(*, entitlement_id: int) -> bool:
    """Put back to the worker a failed entitlement whose automatic retry is due; return True when queued."""
    entitlement = Entitlement.objects.select_for_update(of=("self",)).get(pk=entitlement_id)
    due = entitlement.retry_at is not None and entitlement.retry_at <= timezone.now()
    if entitlement.state != EntitlementState.FAILED or not due or entitlement.rental_over:
        return False
    attempt = entitlement.auto_retries + 1
    _make_pending(entitlement, auto_retries=attempt)
    _event(
        EventKind.ENTITLEMENT_RETRIED,
        user=entitlement.user,
        entitlement=entitlement,
        detail=f"automatic retry {attempt} of {settings.BINDING_AUTO_RETRIES}: ExpressPlay could not be reached",
    )
    return True


@transaction.atomic
def entitlement_expire_if_over(*, entitlement: Entitlement) -> Entitlement:
    """Mark a rental whose period has ended as expired (it no longer plays nor renews)."""
    if entitlement.rental_over and entitlement.state != EntitlementState.EXPIRED:
        updated = (
            Entitlement.objects.filter(pk=entitlement.pk)
            .exclude(state__in=[EntitlementState.EXPIRED, EntitlementState.REVOKED])
            .update(
                state=EntitlementState.EXPIRED, issuing_task="", claimed_until=None, updated_at=timezone.now()
            )
        )
        if updated:
            _event(EventKind.ENTITLEMENT_EXPIRED, user=entitlement.user, entitlement=entitlement)
        entitlement.refresh_from_db()
    return entitlement
