"""What the API's own services raise: BindingErrors (the one family), in the client's words."""

from django.utils.translation import gettext_lazy as _

from binding.exceptions import BindingError


class EndpointLimitReached(BindingError):
    default_message = _("You have as many webhook endpoints as a client may have: remove one first.")
