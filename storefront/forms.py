from django import forms
from django.utils.translation import gettext_lazy as _

DEMO_CARD = "4242 4242 4242 4242"


class DemoPaymentForm(forms.Form):
    """A simulated payment: no real card data is asked for, taken or stored."""

    cardholder = forms.CharField(label=_("Name on the card"), max_length=80)
    card_number = forms.CharField(label=_("Card number"), max_length=23, initial=DEMO_CARD)

    def clean_card_number(self):
        number = "".join(self.cleaned_data["card_number"].split())
        if number != DEMO_CARD.replace(" ", ""):
            raise forms.ValidationError(
                _("This is a demo shop and takes no real cards. Use the demo card number %(card)s."),
                params={"card": DEMO_CARD},
            )
        return number
