"""Device trust: which device a purchase is bound to, and what a device check proves (decision 0003)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ..models import (
    BindingEvent,
    Cookie,
    CookieState,
    Device,
    Entitlement,
    EventKind,
)
from ..user_agents import device_label
from ._common import _event
from .cookies import _unique_label

logger = logging.getLogger(__name__)

DEVICE_MISMATCH_CODE = -4905  # ExpressPlay: the token's device restriction does not match the device


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
