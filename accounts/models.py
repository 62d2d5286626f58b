"""A customer's own settings, and the outbox of the mail Bindery sends them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Profile(models.Model):
    """What a customer chose for themselves: for now, the language of the shop and of every mail."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile", verbose_name=_("user")
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self):
        return str(self.user)


class MailKind(models.TextChoices):
    RECEIPT = "receipt", _("Order receipt")
    READY = "ready", _("Ready after a delay")
    FAILED = "failed", _("Order failed")
    NEW_DEVICE = "new_device", _("New device registered")
    PASSWORD_RESET = "password_reset", _("Password reset")


class MailState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Given up")


class OutgoingMail(models.Model):
    """One mail to one customer about one event, written in the transaction of that event (an outbox).

    `key` names the event (`receipt:<order>`, `new_device:<device>`, …) and is unique: an event that is
    recorded twice still makes one mail. The worker renders it in `language` from the templates of its `kind`
    and `context` when it sends it, claiming it first, so that one mail is sent once.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=MailKind.choices)
    key = models.CharField(_("event"), max_length=120, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="mails",
        verbose_name=_("customer"),
    )
    to = models.EmailField(_("to"))
    language = models.CharField(_("language"), max_length=8, blank=True)
    context = models.JSONField(_("context"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=8, choices=MailState.choices, default=MailState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("mail")
        verbose_name_plural = _("outbox")
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="mail_due")]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.to}"
