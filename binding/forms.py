from django import forms
from django.utils.translation import gettext_lazy as _


class DeviceRenameForm(forms.Form):
    label = forms.CharField(label=_("Name"), max_length=80, strip=True)


class DeviceNameForm(forms.Form):
    """The name a customer gives the browser they register (optional: a suggestion is filled in)."""

    name = forms.CharField(
        label=_("Name this device"),
        max_length=80,
        required=False,
        strip=True,
        help_text=_("So that you can tell your devices apart, for example “Living-room laptop”."),
    )
