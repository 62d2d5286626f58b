"""The customer's own forms: sign-up, their e-mail address and language, and a password reset sent from the
outbox."""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm, UserCreationForm
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .mail import link, mail_queue
from .models import MailKind


def _address_taken(email: str, *, other_than=None) -> bool:
    users = get_user_model()._default_manager.filter(email__iexact=email)
    if other_than is not None:
        users = users.exclude(pk=other_than.pk)
    return users.exists()


class SignUpForm(UserCreationForm):
    """A new customer: a username, an e-mail address (for receipts and notices), a password checked by
    AUTH_PASSWORD_VALIDATORS, and the language of the shop and its mails."""

    email = forms.EmailField(label=_("E-mail address"), help_text=_("For your receipts and account notices."))
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = get_language()
        self.fields["username"].widget.attrs.update(autocomplete="username", autofocus=True)
        self.fields["email"].widget.attrs.update(autocomplete="email")

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if _address_taken(email):
            raise forms.ValidationError(
                _("An account with this address exists already: sign in, or reset its password.")
            )
        return email


class EmailForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if _address_taken(email, other_than=self.user):
            raise forms.ValidationError(_("Another account has this address."))
        return email


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language of the shop and its mails"), choices=settings.LANGUAGES)


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's password reset, its mail queued in the outbox instead of sent in the request: a mail server
    that is away delays the mail (the sweep sends it) instead of failing the page, and it goes in the
    customer's language. The link's address is BINDERY_PUBLIC_URL, never the request's Host header."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        user = context["user"]
        path = reverse("password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]})
        mail_queue(
            user=user,
            kind=MailKind.PASSWORD_RESET,
            key=f"password_reset:{uuid.uuid4().hex}",
            to=to_email,
            context={
                "name": user.get_full_name() or user.get_username(),
                "username": user.get_username(),
                "reset_url": link(path),
            },
        )
