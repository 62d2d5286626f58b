"""Reads for the registration pages: a customer's devices, the registration this browser remembers, the
device check's clip and a registration attempt's state in words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import (
    Device,
    MediaAsset,
    Registration,
    RegistrationState,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def devices_for_user(user: User) -> list[Device]:
    """Return the user's active devices, oldest first."""
    return list(Device.objects.active().filter(user=user).order_by("first_seen"))


def registration_for_browser(user: User, cookie_value: str | None) -> Registration | None:
    """Return the bound registration this browser remembers, if it is the user's and its device is active."""
    if not cookie_value:
        return None
    return (
        Registration.objects.select_related("device")
        .filter(value=cookie_value, user=user, state=RegistrationState.BOUND, device__removed_at__isnull=True)
        .first()
    )


def device_for_browser(user: User, cookie_value: str | None) -> Device | None:
    """Return the user's active device this browser registered as (from its remembered cookie), if any."""
    cookie = registration_for_browser(user, cookie_value)
    return cookie.device if cookie else None


def device_check_asset() -> MediaAsset | None:
    return MediaAsset.objects.filter(slug=settings.BINDING_DEVICE_CHECK_ASSET).first()


def registration_status(cookie: Registration) -> dict[str, Any]:
    """Return the registration attempt's state for the page: {state, done, ok, message, device}."""
    state = cookie.effective_state
    device = cookie.device.label if cookie.device_id and cookie.device else ""
    if state == RegistrationState.BOUND:
        message = _("This browser is registered as %(label)s.") % {"label": device}
    elif state == RegistrationState.EXPIRED:
        message = _("This device check took too long and expired. Please start again.")
    elif state == RegistrationState.FAILED and cookie.failure_reason == Registration.FAILURE_DEVICE_LIMIT:
        names = [d.label for d in devices_for_user(cookie.user)]
        message = ngettext(
            "You already have %(count)d registered device, the most allowed: %(names)s. Remove it under "
            "My devices, then register this browser.",
            "You already have %(count)d registered devices, the most allowed: %(names)s. Remove one of them "
            "under My devices, then register this browser.",
            len(names),
        ) % {"count": len(names), "names": ", ".join(names)}
    elif state == RegistrationState.FAILED and cookie.failure_reason == "check_replayed":
        message = _(
            "Another device played this device check too, so it cannot tell which device is yours. Nothing was "
            "registered. Start the check again in this browser; if you did not share the page, change your "
            "password."
        )
    elif state == RegistrationState.FAILED:
        message = _("We could not confirm this device with the licence server. Please try again.")
    elif state == RegistrationState.LICENCE_SEEN:
        message = _("Looking up this browser's device id at the licence server…")
    else:
        message = _("Playing the device check…")
    return {
        "state": state,
        "done": state in (RegistrationState.BOUND, RegistrationState.FAILED, RegistrationState.EXPIRED),
        "ok": state == RegistrationState.BOUND,
        "message": message,
        "device": device,
        "limit_reached": cookie.failure_reason == Registration.FAILURE_DEVICE_LIMIT,
    }
