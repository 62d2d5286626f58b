"""A customer's devices: rename, remove, the swap allowance, and a refresh from ExpressPlay's records."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..exceptions import BindingError
from ..expressplay import (
    ExpressPlayClient,
    ExpressPlayError,
    client_from_settings,
)
from ..models import (
    Actor,
    BindingEvent,
    Device,
    EventKind,
    RegistrationState,
)
from ._common import _describe, _event

if TYPE_CHECKING:
    from django.contrib.auth.models import User


logger = logging.getLogger(__name__)


@transaction.atomic
def device_rename(*, device: Device, label: str, actor_user: User | None) -> Device:
    """Give a device a new name (1 to 80 characters)."""
    label = " ".join(label.split())
    if not label or len(label) > 80:
        raise BindingError(_("A device name needs 1 to 80 characters."))
    old = device.label
    device.label = label
    device.save(update_fields=["label"])
    actor = Actor.USER if actor_user == device.user else Actor.OPERATOR
    _event(
        EventKind.DEVICE_RENAMED,
        user=device.user,
        device=device,
        actor=actor,
        actor_user=actor_user,
        detail=f"{old} → {label}",
    )
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


def device_swap_allowance(user: User, *, now: datetime | None = None) -> SwapAllowance:
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


def _check_swap_allowed(user: User, actor_user: User | None) -> Actor:
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
def device_remove(*, device: Device, actor_user: User | None, reason: str = "") -> Device:
    """Remove a device from the user's list: it no longer counts towards the limit, and titles bound to it
    are not renewed until moved. A user's own removals count against their swap allowance."""
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.removed_at is None:
        actor = _check_swap_allowed(device.user, actor_user)
        device.removed_at = timezone.now()
        device.save(update_fields=["removed_at"])
        _event(
            EventKind.DEVICE_REMOVED,
            user=device.user,
            device=device,
            actor=actor,
            actor_user=actor_user,
            detail=f"{device.label}{': ' + reason if reason else ''}",
        )
    return device


@transaction.atomic
def device_swaps_reset(*, user: User, actor_user: User | None, reason: str) -> None:
    """Give the user their full swap allowance back (an operator's override)."""
    _event(EventKind.SWAPS_RESET, user=user, actor=Actor.OPERATOR, actor_user=actor_user, detail=reason)


def device_refresh(
    *, device: Device, actor_user: User | None, reason: str = "", client: ExpressPlayClient | None = None
) -> str:
    """Look the device's registrations up in ExpressPlay's records again; return what was found, in words.

    Updates last seen from the newest granted record; records a mismatch when the records now name another
    device for the same registration.
    """
    client = client or client_from_settings()
    cookies = list(device.cookies.filter(state=RegistrationState.BOUND).order_by("-created_at")[:3])
    found: list[str] = []
    newest = None
    for cookie in cookies:
        try:
            records = client.get_records(cookie=cookie.value)
        except ExpressPlayError as exc:
            code, detail = _describe(exc)
            _event(
                EventKind.DEVICE_REFRESHED,
                user=device.user,
                device=device,
                cookie=cookie,
                actor=Actor.OPERATOR,
                actor_user=actor_user,
                code=code,
                detail=f"lookup failed: {detail}",
            )
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
    _event(
        EventKind.DEVICE_REFRESHED if not others else EventKind.DEVICE_MISMATCH,
        user=device.user,
        device=device,
        actor=Actor.OPERATOR,
        actor_user=actor_user,
        detail=f"{summary} {reason}".strip(),
    )
    return summary
