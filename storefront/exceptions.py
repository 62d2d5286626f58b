"""What shop services raise; messages are for the end user."""

from django.utils.translation import gettext_lazy as _


class ShopError(Exception):
    default_message = _("That did not work. Please try again.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class DeviceNotRegistered(ShopError):
    default_message = _("Register this browser as one of your devices before you buy or rent.")


class AlreadyEntitled(ShopError):
    default_message = _("You can already watch this title.")


class EarlierOrderFailed(ShopError):
    """The user has a failed order of the same title and kind that is still to be retried: no second payment."""

    def __init__(self, order):
        self.order = order
        super().__init__(
            _(
                "Your order %(number)s of this title has not gone through yet, so we take no second payment. "
                "Its page says what happens next."
            )
            % {"number": order.number}
        )


class OfferUnavailable(ShopError):
    default_message = _("This offer is no longer on sale.")


class SignInLinkUsed(ShopError):
    default_message = _("This sign-in link was used already. Ask the presenter for a new one.")


class DrmNotSold(ShopError):
    """The browser's DRM cannot be bound (binding mode `refuse`): bound titles are not sold to it."""
