"""What the shop's own services raise: refusals of the one family (binding/exceptions.py), in the customer's
words. The binding refusals a checkout meets (DeviceNotRegistered, AlreadyEntitled, DrmNotSold) are raised by
binding and reach the shop's views as they are."""

from django.utils.translation import gettext_lazy as _

from binding.exceptions import BindingError


class ShopError(BindingError):
    default_message = _("That did not work. Please try again.")


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
