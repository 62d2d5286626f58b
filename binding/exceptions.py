"""Bindery's one family of refusals: what binding services raise, and the root that the API's and the shop's
own refusals extend (api/exceptions.py, storefront/exceptions.py). Messages are for the end user: translated,
without secrets or codes. A caller catches the subclass it acts on (DeviceNotRegistered: send the customer to
register; AlreadyEntitled: to their library) and shows any other BindingError's message as it is, never
translating one refusal into another."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class BindingError(Exception):
    """A binding operation could not be done; `message` says so in the user's words."""

    default_message = _("Something went wrong while registering this device. Please try again.")

    def __init__(
        self, message: StrOrPromise | None = None, *, code: int | None = None, transient: bool = False
    ):
        self.message = message or self.default_message
        self.code = code
        # ExpressPlay could not be reached or answered a passing server error: the same call may work in a
        # minute (the API answers 503 with Retry-After), unlike a refusal.
        self.transient = transient
        super().__init__(str(self.message))


class DeviceNotRegistered(BindingError):
    """The browser is not one of the customer's active devices (no bound registration of theirs): register it."""

    default_message = _("Register this browser as one of your devices before you buy or rent.")


class RentalPeriodMissing(BindingError):
    """A rental was asked for without a rental period: a caller's mistake, not the customer's."""

    default_message = _("A rental needs a rental period.")


class DeviceCheckUnavailable(BindingError):
    default_message = _("We could not prepare the device check right now. Please try again in a minute.")


class CheckAlreadyStarted(BindingError):
    default_message = _(
        "This device check was already started, in this page before it was reloaded or elsewhere. "
        "A device check works once: start a new one."
    )


class CheckOver(BindingError):
    default_message = _("This device check is over. Start a new one.")


class DrmNotOffered(BindingError):
    default_message = _("This shop does not offer titles for this browser's DRM.")


class DeviceKeyInvalid(BindingError):
    default_message = _("This browser could not prove its device identity. Allow site data and try again.")


class AlreadyEntitled(BindingError):
    default_message = _("You can already watch this title.")


class RecordNotYetAvailable(Exception):
    """ExpressPlay has no record with a device id for the cookie yet (the task retries)."""


class DrmNotSold(BindingError):
    """The browser's DRM is in `refuse` mode: its titles cannot be bound, so they are not sold to it."""

    default_message = _(
        "Titles cannot be bound to this browser's DRM, so this shop does not sell them to it. Buy or rent in "
        "another browser (for example Microsoft Edge for PlayReady)."
    )


class PlayRefused(BindingError):
    """A Play of a Bindery-bound title, or one of its licence requests, is refused: `reason` names why (for the
    player and tests), `status` is the HTTP answer, `message` says it in the customer's words."""

    status = 403
    reason = "refused"

    def __init__(
        self, message: StrOrPromise | None = None, *, reason: str | None = None, status: int | None = None
    ):
        super().__init__(message)
        self.reason = reason or self.reason
        self.status = status or self.status


class PlayUnavailable(PlayRefused):
    """ExpressPlay (or its licence server) could not be reached: nothing is lost, Play can be pressed again."""

    status = 503
    reason = "unavailable"
    retry_after = 30
    default_message = _(
        "The licence service is not answering right now. Nothing is lost: press Play again in a minute."
    )
