"""Reads about one entitlement: the customer's own, whether its token is due for renewal, and whether it
may move to the device this browser is."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from ..models import (
    BindingMode,
    Device,
    Entitlement,
    EntitlementKind,
    EntitlementState,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def entitlement_for_user(user: User, entitlement_id: int) -> Entitlement | None:
    """Return the user's entitlement `entitlement_id` with its asset and device, if it is theirs."""
    return Entitlement.objects.select_related("asset", "device").filter(pk=entitlement_id, user=user).first()


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
