"""Entitlements and their device-bound tokens: create, issue, renew, retry, revoke, re-issue, move."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..exceptions import AlreadyEntitled, BindingError, RecordNotYetAvailable
from ..expressplay import (
    BuyToOwn,
    ExpressPlayClient,
    ExpressPlayError,
    ExpressPlayTransportError,
    Policy,
    Rental,
    client_from_settings,
)
from ..models import (
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
from ..selectors import entitlement_needs_renewal
from ..user_agents import device_label
from ._common import _describe, _event
from .cookies import _unique_label
from .devices import _check_swap_allowed
from .queueing import ENTITLEMENT_ISSUE, queue_after_commit
from .tokens import token_request, token_request_issued

logger = logging.getLogger(__name__)


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
    """Create a pending entitlement for `asset`, to be bound to the device `cookie` registered; the shop's
    checkout and the API both come here.

    Raises AlreadyEntitled when the user can already watch the asset that way (they own it, or rent it
    now; renting after a purchase is refused, buying during a rental is not), BindingError otherwise.
    """
    # One rental of a title at a time per customer: lock the customer's row, so that concurrent checkouts of
    # the same customer wait in line, and those of different customers never wait for each other.
    get_user_model().objects.select_for_update().filter(pk=user.pk).exists()
    cookie = Cookie.objects.select_for_update().get(pk=cookie.pk)
    if cookie.state != CookieState.BOUND or cookie.user_id != user.pk:
        raise BindingError(_("Register this browser before you buy or rent."))
    if kind == EntitlementKind.RENT and not rental_period:
        raise BindingError(_("A rental needs a rental period."))
    owned = Entitlement.objects.filter(
        user=user, asset=asset, state__in=[EntitlementState.PENDING, EntitlementState.READY]
    )
    if owned.filter(kind=EntitlementKind.BUY).exists() or (
        kind == EntitlementKind.RENT and owned.filter(kind=EntitlementKind.RENT).exists()
    ):
        raise AlreadyEntitled()
    entitlement = Entitlement.objects.create(
        user=user,
        asset=asset,
        kind=kind,
        cookie=cookie,
        device=None,
        rental_ends_at=timezone.now() + rental_period if kind == EntitlementKind.RENT else None,
        play_duration=play_duration if kind == EntitlementKind.RENT else None,
        queued_at=timezone.now(),
    )
    _event(
        EventKind.ENTITLEMENT_CREATED,
        user=user,
        cookie=cookie,
        entitlement=entitlement,
        actor=Actor.USER,
        actor_user=user,
        detail=f"{entitlement.get_kind_display()} {asset.slug}",
    )
    queue_after_commit(ENTITLEMENT_ISSUE, model=Entitlement, pk=entitlement.pk)
    return entitlement


def _make_pending(entitlement: Entitlement, **fields) -> None:
    """Put a (locked) entitlement back to pending and queue its issue after commit: the one way in which
    an existing entitlement asks the worker for a token, so that no caller can forget to queue it."""
    now = timezone.now()
    changes = {
        "state": EntitlementState.PENDING,
        "progress": IssueProgress.QUEUED,
        "error_code": None,
        "error_detail": "",
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


def entitlement_retry_later(
    *, entitlement_id: int, task_id: str, next_task_id: str, countdown: float
) -> None:
    """Hand the claim of run `task_id` to its retry, run `next_task_id`, through the retry's wait of
    `countdown` seconds (and mark the work as due then).

    Each run has its own id, so a redelivered copy of an earlier message (same Celery id, earlier run) finds
    the claim taken, and the sweep does not hand a waiting retry to another worker.
    """
    now = timezone.now()
    due = now + timedelta(seconds=countdown)
    Entitlement.objects.filter(
        pk=entitlement_id, issuing_task=task_id, state=EntitlementState.PENDING
    ).update(
        issuing_task=next_task_id,
        claimed_until=due + timedelta(seconds=settings.ENTITLEMENT_CLAIM_TIMEOUT),
        queued_at=due,
    )


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
            user=entitlement.user,
            device_id=device_id,
            first_seen=now,
            last_seen=now,
            label=_unique_label(entitlement.user, device_label(cookie.user_agent if cookie else "")),
        )
    _event(
        EventKind.DEVICE_MISMATCH,
        user=entitlement.user,
        cookie=cookie,
        device=device,
        entitlement=entitlement,
        detail=f"registered {registered.device_id if registered else '-'}, records show {device_id}; "
        "the token is bound to the newest",
    )
    return device


def _trusted_registration_device(entitlement: Entitlement, now) -> Device | None:
    """Return the device the checkout browser's registration confirmed, when BINDING_DEVICE_LOOKUP says to
    trust it (``registration``) and the registration is younger than BINDING_REGISTRATION_TRUST_DAYS.

    The default (``every_purchase``) is the seed's flow: ExpressPlay's records are asked at every purchase.
    ExpressPlay's newest docs call record retrieval a troubleshooting tool, so a production setup may trust the
    id that record retrieval already confirmed at registration (the registration itself never trusts the
    browser: the id came from the records then).
    """
    if settings.BINDING_DEVICE_LOOKUP != "registration" or entitlement.cookie is None:
        return None
    cookie = entitlement.cookie
    device = cookie.device
    limit = timedelta(days=settings.BINDING_REGISTRATION_TRUST_DAYS)
    if (
        cookie.state != CookieState.BOUND
        or device is None
        or not device.is_active
        or now - cookie.updated_at > limit
        or _registration_distrusted_at(cookie) is not None
    ):
        return None
    return device


def _registration_distrusted_at(cookie: Cookie):
    """Return when this browser's own licence request was first refused for a device mismatch (its registered
    device id no longer holds), or None. From then on its purchases ask ExpressPlay's records again."""
    return (
        BindingEvent.objects.filter(kind=EventKind.LICENCE_REFUSED, cookie=cookie)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )


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
    code, to be retried by an operator. Every token request is on record (TokenRequest), lost answers too.
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
        trusted = _trusted_registration_device(entitlement, now)
        if entitlement.device is not None:
            device = entitlement.device
        elif trusted is not None:
            device = trusted
        else:
            device_id = client.device_id_for_cookie(entitlement.cookie.value) if entitlement.cookie else None
            if not device_id:
                raise RecordNotYetAvailable(entitlement.cookie.value if entitlement.cookie else "")
            device = _device_for_record(entitlement, device_id)
        policy: Policy = BuyToOwn()
        if entitlement.kind == EntitlementKind.RENT:
            policy = Rental(period_end=entitlement.rental_ends_at, play_duration=entitlement.play_duration)
        expires = _token_expiry(entitlement, now)
        # One commit: the request on record, and the progress the customer sees.
        token, attempt = token_request(
            asset=entitlement.asset,
            policy=policy,
            cookie=entitlement.cookie,
            device_id=device.device_id,
            expires=expires,
            entitlement=entitlement,
            task_id=task_id,
            client=client,
            before_send=lambda: _renew_claim_before_sending(entitlement.pk, task_id),
        )
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
    # One commit: the token kept, its request marked issued, the audit event.
    with transaction.atomic():
        token_request_issued(attempt, token)
        won = Entitlement.objects.filter(
            pk=entitlement.pk, issuing_task=task_id, state=EntitlementState.PENDING
        ).update(
            state=EntitlementState.READY,
            progress=IssueProgress.DONE,
            device=device,
            license_url=token.license_url,
            token_device_id=device.device_id,
            token_short=token.short,
            token_expires_at=now + expires,
            tokens_issued=F("tokens_issued") + 1,
            error_code=None,
            error_detail="",
            issuing_task="",
            claimed_until=None,
            auto_retries=0,
            updated_at=timezone.now(),
        )
        if won:
            _event(
                EventKind.TOKEN_ISSUED,
                user=entitlement.user,
                cookie=entitlement.cookie,
                device=device,
                entitlement=entitlement,
                detail=f"token {token.short} for {device.device_id}, expires {now + expires:%Y-%m-%d %H:%M} UTC",
            )
    entitlement.refresh_from_db()
    return entitlement


@transaction.atomic  # the change and its event (and the webhook deliveries it makes) commit together
def _entitlement_fail(
    entitlement: Entitlement, task_id: str, *, code: int | None, detail: str, retry_at=None
) -> None:
    updated = Entitlement.objects.filter(
        pk=entitlement.pk, issuing_task=task_id, state=EntitlementState.PENDING
    ).update(
        state=EntitlementState.FAILED,
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
        _event(
            EventKind.TOKEN_FAILED,
            user=entitlement.user,
            cookie=entitlement.cookie,
            entitlement=entitlement,
            device=entitlement.device,
            code=code,
            detail=f"{detail} (tried again automatically at {retry_at:%H:%M:%S} UTC)" if retry_at else detail,
        )


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


def entitlements_expire_ended(*, now=None) -> int:
    """Expire every pending or ready rental whose period has ended; return how many."""
    now = now or timezone.now()
    ended = Entitlement.objects.filter(
        kind=EntitlementKind.RENT,
        rental_ends_at__lte=now,
        state__in=[EntitlementState.PENDING, EntitlementState.READY, EntitlementState.FAILED],
    ).select_related("user")
    return sum(
        entitlement_expire_if_over(entitlement=e).state == EntitlementState.EXPIRED for e in ended[:1000]
    )


@transaction.atomic
def entitlement_renew(*, entitlement: Entitlement, actor_user=None) -> bool:
    """Ask for a new token for the same device when a ready entitlement's token has expired (or nearly).

    Return True when a new token is now being issued. Rentals past their end expire instead.
    """
    entitlement = (
        Entitlement.objects.select_for_update(of=("self",)).select_related("device").get(pk=entitlement.pk)
    )
    if entitlement_expire_if_over(entitlement=entitlement).state != EntitlementState.READY:
        return False
    if not entitlement_needs_renewal(entitlement):
        return False
    _make_pending(entitlement)
    _event(
        EventKind.TOKEN_RENEWAL,
        user=entitlement.user,
        entitlement=entitlement,
        device=entitlement.device,
        actor=Actor.USER if actor_user == entitlement.user else Actor.SYSTEM,
        actor_user=actor_user,
    )
    return True


@transaction.atomic
def entitlement_retry(*, entitlement: Entitlement, actor_user, reason: str = "") -> bool:
    """Put a failed entitlement back to the worker (an operator's retry); return True when queued."""
    entitlement = Entitlement.objects.select_for_update(of=("self",)).get(pk=entitlement.pk)
    if entitlement.state != EntitlementState.FAILED or entitlement.rental_over:
        return False
    _make_pending(entitlement)
    _event(
        EventKind.ENTITLEMENT_RETRIED,
        user=entitlement.user,
        entitlement=entitlement,
        actor=Actor.OPERATOR,
        actor_user=actor_user,
        detail=reason,
    )
    return True


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
        entitlement.claimed_until = None
        entitlement.save(
            update_fields=["state", "license_url", "issuing_task", "claimed_until", "updated_at"]
        )
        _event(
            EventKind.ENTITLEMENT_REVOKED,
            user=entitlement.user,
            entitlement=entitlement,
            device=entitlement.device,
            actor=Actor.OPERATOR,
            actor_user=actor_user,
            detail=reason,
        )
    return entitlement


@transaction.atomic
def entitlement_reissue(*, entitlement: Entitlement, actor_user, reason: str) -> bool:
    """Request a fresh token for a ready (or failed) entitlement, for its device; True when now issuing."""
    entitlement = (
        Entitlement.objects.select_for_update(of=("self",)).select_related("device").get(pk=entitlement.pk)
    )
    if entitlement.state not in (EntitlementState.READY, EntitlementState.FAILED) or entitlement.rental_over:
        return False
    if entitlement.device and not entitlement.device.is_active:
        raise BindingError(
            _("The device this title is bound to was removed: move it to another device first.")
        )
    _make_pending(entitlement)
    _event(
        EventKind.TOKEN_REISSUE,
        user=entitlement.user,
        entitlement=entitlement,
        device=entitlement.device,
        actor=Actor.OPERATOR,
        actor_user=actor_user,
        detail=reason,
    )
    return True


@transaction.atomic
def entitlement_move(*, entitlement: Entitlement, device: Device, actor_user, reason: str = "") -> bool:
    """Bind the entitlement to another of its user's devices and issue a token for it; True when now issuing.

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
    _make_pending(entitlement, device=device, cookie=cookie or entitlement.cookie)
    _event(
        EventKind.ENTITLEMENT_MOVED,
        user=entitlement.user,
        entitlement=entitlement,
        device=device,
        actor=actor,
        actor_user=actor_user,
        detail=f"{previous} → {device.label}{': ' + reason if reason else ''}",
    )
    return True


DEVICE_MISMATCH_CODE = -4905  # ExpressPlay: the token's device restriction does not match the device


@transaction.atomic
def entitlement_refusal_report(
    *, entitlement: Entitlement, code: int | None, browser_cookie: str | None, actor_user
) -> bool:
    """Record that the licence server refused to play `entitlement` in the reporting browser (ExpressPlay
    `code`); return True when a new token is on its way.

    Only with BINDING_DEVICE_LOOKUP=registration, and only when the refusal is a device mismatch reported by
    the very browser whose registration the token trusted, does it matter: the registered device id no longer
    holds, so that registration is trusted no more and the entitlement is issued again from ExpressPlay's
    records (once: a token that already came from the records is not asked again). A refusal in any other
    browser is the binding working, and is only recorded.
    """
    entitlement = (
        Entitlement.objects.select_for_update(of=("self",)).select_related("cookie").get(pk=entitlement.pk)
    )
    recently = timezone.now() - timedelta(seconds=60)
    if BindingEvent.objects.filter(
        kind=EventKind.LICENCE_REFUSED, entitlement=entitlement, created_at__gte=recently
    ).exists():
        return False  # one report a minute is on record; a page reloaded in a loop adds nothing
    cookie = entitlement.cookie
    own_browser = cookie is not None and browser_cookie is not None and browser_cookie == cookie.value
    distrusted_at = _registration_distrusted_at(cookie) if own_browser else None
    _event(
        EventKind.LICENCE_REFUSED,
        user=entitlement.user,
        cookie=cookie if own_browser and code == DEVICE_MISMATCH_CODE else None,
        device=entitlement.device,
        entitlement=entitlement,
        actor=Actor.USER,
        actor_user=actor_user,
        code=code,
        detail="in the browser that bought it" if own_browser else "in another browser",
    )
    if (
        settings.BINDING_DEVICE_LOOKUP != "registration"
        or not own_browser
        or code != DEVICE_MISMATCH_CODE
        or entitlement.state != EntitlementState.READY
    ):
        return False
    last_token = (
        BindingEvent.objects.filter(kind=EventKind.TOKEN_ISSUED, entitlement=entitlement)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if distrusted_at is not None and last_token is not None and last_token > distrusted_at:
        return False  # this token already came from the records: asking again would change nothing
    _make_pending(entitlement, device=None)
    _event(
        EventKind.TOKEN_REISSUE,
        user=entitlement.user,
        cookie=cookie,
        entitlement=entitlement,
        detail="the registered device was refused: looking the device up in ExpressPlay's records",
    )
    return True


def entitlement_mark_played(*, entitlement: Entitlement) -> None:
    """Remember when a title was first played (for the rental's viewing-time display)."""
    Entitlement.objects.filter(pk=entitlement.pk, first_played_at__isnull=True).update(
        first_played_at=timezone.now()
    )
