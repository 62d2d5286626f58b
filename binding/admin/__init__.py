"""Operators' admin for binding data.

Content keys, whole tokens and licence URLs are never shown. The audit trail is read-only. Every action goes
through a service, asks for a reason, and writes a BindingEvent with the operator as actor.

- `toolkit`: what every ModelAdmin in Bindery builds on (read its docstring first).
- `entitlements`, `devices` (devices and registrations), `events` (the audit trail), `export` (its CSV),
  `customers` (the user admin and each customer's overview), `media`, `playback` (DRM binding fallbacks and
  playback sessions).

Importing this package (admin autodiscovery does) registers every admin of binding's models, and the user
admin. The toolkit's names are importable from here too (`from binding.admin import RecordAdmin`).
"""

from . import customers, devices, entitlements, events, media, playback  # noqa: F401 - they register admins
from .entitlements import retry_entitlements
from .toolkit import (
    HostileInputMixin,
    ObjectActionsMixin,
    PermissionActionsMixin,
    ReasonForm,
    RecordAdmin,
    admin_link,
    customer_link,
    events_table,
    run_with_reason,
    what_was_done,
)

__all__ = [
    "HostileInputMixin",
    "ObjectActionsMixin",
    "PermissionActionsMixin",
    "ReasonForm",
    "RecordAdmin",
    "admin_link",
    "customer_link",
    "events_table",
    "retry_entitlements",
    "run_with_reason",
    "what_was_done",
]
