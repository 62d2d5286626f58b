"""Reads for the binding pages and the apps above binding, each a fixed number of queries; one module per
concern, every public name importable from here (`from binding import selectors`).

- `registrations`: a customer's devices, the registration this browser remembers, a registration's state;
- `entitlements`: one entitlement of the customer's, its renewal, whether it may move to this browser;
- `status`: what the customer's pages say about an entitlement (decision 0016);
- `operations`: an ExpressPlay outage's delayed orders, the sweep's last run.
"""

from .entitlements import MoveOffer, MoveVerdict, entitlement_for_user, entitlement_needs_renewal, move_offer
from .operations import Outage, SweepState, expressplay_outage, sweep_state
from .registrations import (
    device_check_asset,
    device_for_browser,
    devices_for_user,
    registration_for_browser,
    registration_status,
)
from .status import (
    device_removal,
    entitlement_history,
    entitlement_revocation,
    entitlement_status,
    entitlement_timing,
    entitlement_truth_prefetches,
)

__all__ = [
    "MoveOffer",
    "MoveVerdict",
    "Outage",
    "SweepState",
    "device_check_asset",
    "device_for_browser",
    "device_removal",
    "devices_for_user",
    "entitlement_for_user",
    "entitlement_history",
    "entitlement_needs_renewal",
    "entitlement_revocation",
    "entitlement_status",
    "entitlement_timing",
    "entitlement_truth_prefetches",
    "expressplay_outage",
    "move_offer",
    "registration_for_browser",
    "registration_status",
    "sweep_state",
]
