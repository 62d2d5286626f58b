"""Device trust: what a device check proves, and which device a purchase is bound to (decision 0009).

A device check proves one thing: the one device that played this registration's check token, once, in the
few minutes the token lives. The registration's device (the Registration's Device, made by `device_bind` under
the device limit) is the only device a purchase from that browser is ever bound to. ExpressPlay's records
are evidence, never a source of devices: a device id they name that is not the registered one is recorded as
a security event on the customer's audit trail and goes nowhere else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from ..expressplay import ExpressPlayClient, Record
from ..expressplay.errors import DEVICE_MISMATCH
from ..models import (
    BindingEvent,
    Device,
    Entitlement,
    EventKind,
    Registration,
    RegistrationState,
)
from ._common import _event

logger = logging.getLogger(__name__)

DEVICE_MISMATCH_CODE = DEVICE_MISMATCH  # the token's device restriction does not match the device


def granted_device_ids(records: list[Record], cookie: str) -> list[str]:
    """Return the distinct device ids that got a licence with a token carrying `cookie`, newest first.

    A refused request is another device trying a token bound elsewhere: it proves nothing and is left out.
    """
    ids: list[str] = []
    for record in records:
        if not record.device_id or (record.cookie and record.cookie != cookie):
            continue
        if record.result_code in (None, 0) and record.device_id not in ids:
            ids.append(record.device_id)
    return ids


class DeviceCheckNeeded(Exception):
    """No device that passed this customer's device check can be named for the purchase: the order waits
    for the checkout browser to be registered again. `seen` are the device ids the records name instead."""

    def __init__(self, reason: str, *, registered: Device | None, seen: list[str]):
        self.reason = reason
        self.registered = registered
        self.seen = seen
        super().__init__(reason)


@dataclass(frozen=True)
class PurchaseDevice:
    """The device a purchase is bound to, and the other device ids the records named (an intrusion)."""

    device: Device
    intruders: list[str]


def purchase_device(
    entitlement: Entitlement, client: ExpressPlayClient, now: datetime
) -> PurchaseDevice | None:
    """Return the device a first issue binds `entitlement` to: the checkout browser's registered device.

    With BINDING_DEVICE_LOOKUP=every_purchase (the seed's flow) ExpressPlay's records for the browser's
    cookie are asked first and must name that device among the devices granted a licence with it; device ids
    they name besides it come back as intruders (the caller records them). Returns None while the records
    name no device yet (the task retries). Raises DeviceCheckNeeded when the registration cannot be trusted:
    no bound registration, its device removed, or records that name only other devices.
    """
    cookie = entitlement.cookie
    registered = cookie.device if cookie is not None and cookie.state == RegistrationState.BOUND else None
    if cookie is None or registered is None or registered.user_id != entitlement.user_id:
        raise DeviceCheckNeeded("no device check", registered=None, seen=[])
    if not registered.is_active:
        raise DeviceCheckNeeded("device removed", registered=registered, seen=[])
    if _trust_registration(cookie, now):
        return PurchaseDevice(registered, [])
    seen = granted_device_ids(client.get_records(cookie=cookie.value), cookie.value)
    if not seen:
        return None
    others = [device_id for device_id in seen if device_id != registered.device_id]
    if registered.device_id not in seen:
        raise DeviceCheckNeeded("records name another device", registered=registered, seen=others)
    return PurchaseDevice(registered, others)


def intrusion_record(
    *,
    cookie: Registration,
    registered: Device | None,
    intruders: list[str],
    entitlement: Entitlement | None = None,
) -> None:
    """Put on the customer's audit trail that other devices played a token carrying `cookie` (the device
    check's, as only it is unbound): both ids, and that none of them became a device of the customer."""
    for device_id in intruders:
        logger.warning(
            "Security: device %s played a token of registration %s (registered device: %s); not trusted",
            device_id,
            cookie.pk,
            registered.device_id if registered else "-",
        )
        _event(
            EventKind.CHECK_REPLAYED,
            user=cookie.user,
            cookie=cookie,
            device=registered,
            entitlement=entitlement,
            detail=f"device {device_id} played the device check of registration {cookie.pk}; "
            f"registered device: {registered.device_id if registered else '-'}. "
            f"{device_id} is not a device of the customer and nothing is bound to it",
        )


def _trust_registration(cookie: Registration, now: datetime) -> bool:
    """Whether BINDING_DEVICE_LOOKUP says to trust the registration without asking the records again
    (``registration``), and the registration is younger than BINDING_REGISTRATION_TRUST_DAYS and was never
    refused in its own browser.

    The default (``every_purchase``) is the seed's flow: ExpressPlay's records are asked at every purchase.
    ExpressPlay's newest docs call record retrieval a troubleshooting tool, so a production setup may trust the
    id that record retrieval already confirmed at registration (the registration itself never trusts the
    browser: the id came from the records then).
    """
    if settings.BINDING_DEVICE_LOOKUP != "registration":
        return False
    limit = timedelta(days=settings.BINDING_REGISTRATION_TRUST_DAYS)
    return now - cookie.updated_at <= limit and _registration_distrusted_at(cookie) is None


def _registration_distrusted_at(cookie: Registration) -> datetime | None:
    """Return when this browser's own licence request was first refused for a device mismatch (its registered
    device id no longer holds), or None. From then on its purchases ask ExpressPlay's records again."""
    return (
        BindingEvent.objects.filter(kind=EventKind.LICENCE_REFUSED, cookie=cookie)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
