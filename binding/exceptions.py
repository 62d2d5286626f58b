"""What binding services raise. Messages are for the end user: translated, without secrets or codes."""

from django.utils.translation import gettext_lazy as _


class BindingError(Exception):
    """A binding operation could not be done; `message` says so in the user's words."""

    default_message = _("Something went wrong while registering this device. Please try again.")

    def __init__(self, message=None, *, code: int | None = None):
        self.message = message or self.default_message
        self.code = code
        super().__init__(str(self.message))


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
