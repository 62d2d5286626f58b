"""Entitlements: the customer's and the operator's commands (create, renew, retry, revoke, re-issue, move,
report a refusal) and the sweep's expiry of ended rentals. The worker's side is in `issuing`; which device a
purchase is bound to, in `device_trust`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..exceptions import AlreadyEntitled, BindingError, DeviceNotRegistered, DrmNotSold, RentalPeriodMissing
from ..models import (
    Actor,
    BindingEvent,
    BindingMode,
    Device,
    Entitlement,
    EntitlementKind,
    EntitlementState,
    EventKind,
    MediaAsset,
    Registration,
    RegistrationState,
)
from ..selectors import device_for_browser, entitlement_needs_renewal
from ._common import _event
from .device_trust import DEVICE_MISMATCH_CODE, _registration_distrusted_at
from .devices import _check_swap_allowed
from .drm import binding_mode
from .issuing import _make_pending, entitlement_expire_if_over
from .queueing import ENTITLEMENT_ISSUE, queue_after_commit

if TYPE_CHECKING:
    from django.contrib.auth.models import User


logger = logging.getLogger(__name__)


@transaction.atomic
def entitlement_create(
    *,
    user: User,
    asset: MediaAsset,
    kind: EntitlementKind,
    cookie: Registration,
    rental_period: timedelta | None = None,
    play_duration: int | None = None,
) -> Entitlement:
    """Create a pending entitlement for `asset`, to be bound to the device `cookie` registered; the shop's
    checkout and the API both come here.

    Raises DeviceNotRegistered when `cookie` is not a bound registration of the user's, AlreadyEntitled when the
    user can already watch the asset that way (they own it, or rent it now; renting after a purchase is
    refused, buying during a rental is not), DrmNotSold when the device's DRM cannot be bound (its binding mode
    is `refuse`), RentalPeriodMissing when a rental comes without its period.
    """
    # One rental of a title at a time per customer: lock the customer's row, so that concurrent checkouts of
    # the same customer wait in line, and those of different customers never wait for each other.
    get_user_model().objects.select_for_update().filter(pk=user.pk).exists()
    cookie = Registration.objects.select_for_update().get(pk=cookie.pk)
    if cookie.state != RegistrationState.BOUND or cookie.user_id != user.pk:
        raise DeviceNotRegistered()
    if drm_refused(cookie.device.drm if cookie.device else cookie.drm):
        raise DrmNotSold()
    if kind == EntitlementKind.RENT and not rental_period:
        raise RentalPeriodMissing()
    owned = Entitlement.objects.filter(user=user, asset=asset, state__in=Entitlement.WATCHABLE_STATES)
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
        # A rental always comes with its period (the shop's offer, the API's serializer).
        rental_ends_at=timezone.now() + rental_period if kind == EntitlementKind.RENT else None,  # type: ignore[operator]
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


def drm_refused(drm: str) -> bool:
    """Return whether titles are not sold to devices of `drm` (its binding mode is `refuse`, decision 0013)."""
    return binding_mode(drm) == BindingMode.REFUSE


def entitlements_expire_ended(*, now: datetime | None = None) -> int:
    """Expire every pending or ready rental whose period has ended; return how many."""
    now = now or timezone.now()
    ended = (
        Entitlement.objects.filter(
            kind=EntitlementKind.RENT,
            rental_ends_at__lte=now,
            state__in=[EntitlementState.PENDING, EntitlementState.READY, EntitlementState.FAILED],
        )
        .exclude(  # a first licence delayed by an outage: its window starts again when it is ready
            state=EntitlementState.PENDING, tokens_issued=0, delayed_since__isnull=False
        )
        .select_related("user")
    )
    return sum(
        entitlement_expire_if_over(entitlement=e).state == EntitlementState.EXPIRED for e in ended[:1000]
    )


@transaction.atomic
def entitlement_renew(*, entitlement: Entitlement, actor_user: User | None = None) -> bool:
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
def entitlement_retry(*, entitlement: Entitlement, actor_user: User | None, reason: str = "") -> bool:
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
def entitlement_revoke(*, entitlement: Entitlement, actor_user: User | None, reason: str) -> Entitlement:
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
def entitlement_reissue(*, entitlement: Entitlement, actor_user: User | None, reason: str) -> bool:
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
def entitlement_move(
    *, entitlement: Entitlement, device: Device, actor_user: User | None, reason: str = ""
) -> bool:
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
    cookie = device.cookies.filter(state=RegistrationState.BOUND).order_by("-created_at").first()
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


@transaction.atomic
def entitlement_refusal_report(
    *, entitlement: Entitlement, code: int | None, browser_cookie: str | None, actor_user: User | None
) -> bool:
    """Record that the licence server refused to play `entitlement` in the reporting browser (ExpressPlay
    `code`); return True when a new token is on its way.

    Only with BINDING_DEVICE_LOOKUP=registration, and only when the refusal is a device mismatch reported by
    the very browser whose registration the token trusted, does it matter: the registered device id no longer
    holds, so that registration is trusted no more and the entitlement is issued again from ExpressPlay's
    records (once: a token that already came from the records is not asked again). A refusal in any other
    browser is the binding working, and is only recorded.

    The event names the device the reporting browser is registered as (`reporting_device`; None when
    `browser_cookie` is no active registration of the entitlement's customer), for the admin's diagnosis.
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
    # own_browser is False when there is no cookie.
    distrusted_at = _registration_distrusted_at(cookie) if own_browser else None  # type: ignore[arg-type]
    # Only a registration of this entitlement's customer names the browser: a cookie value is not trusted.
    reporting_device = device_for_browser(entitlement.user, browser_cookie)
    registered_as = (
        f"registered as “{reporting_device.label}” ({reporting_device.device_id})"
        if reporting_device
        else "not registered"
    )
    _event(
        EventKind.LICENCE_REFUSED,
        user=entitlement.user,
        # The cookie of an event is the registration it distrusts (device_trust), so only this one is set.
        cookie=cookie if own_browser and code == DEVICE_MISMATCH_CODE else None,
        device=entitlement.device,
        entitlement=entitlement,
        reporting_device=reporting_device,
        actor=Actor.USER,
        actor_user=actor_user,
        code=code,
        detail=f"{'in the browser that bought it' if own_browser else 'in another browser'}, {registered_as}",
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
