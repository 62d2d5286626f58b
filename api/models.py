"""The entitlement API's own records: integrating clients, their keys, their customers and titles, and the
answers kept for Idempotency-Key. The binding itself (cookies, devices, entitlements) stays in binding."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from binding.fields import EncryptedTextField
from binding.models import MediaAsset


class Client(models.Model):
    """A storefront, app or billing system that uses Bindery through the API. Nothing of one client is
    visible to another: every call is scoped to the client its key belongs to."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self) -> str:
        return self.name


class ClientAPIKey(AbstractAPIKey):
    """An API key of a client (hashed; shown once when created in admin)."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("client")
    )

    class Meta(AbstractAPIKey.Meta):
        # The library's Meta names itself in plain strings; Django takes translatable ones too.
        verbose_name = _("API key")  # type: ignore[assignment]
        verbose_name_plural = _("API keys")  # type: ignore[assignment]


class Customer(models.Model):
    """A client's customer, known by the client's own id; a Bindery user (no password) holds their binding."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="customers", verbose_name=_("client")
    )
    external_id = models.CharField(_("client's customer id"), max_length=100)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_customer",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("API customer")
        verbose_name_plural = _("API customers")
        constraints = [models.UniqueConstraint(fields=["client", "external_id"], name="one_customer_per_id")]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.client})"


class ClientTitle(models.Model):
    """A title a client may issue entitlements for: its content id, and the packaged asset with its key."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="titles", verbose_name=_("client")
    )
    content_id = models.CharField(_("content id"), max_length=100)
    asset = models.ForeignKey(
        MediaAsset, on_delete=models.PROTECT, related_name="api_titles", verbose_name=_("media")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("API title")
        verbose_name_plural = _("API titles")
        constraints = [
            models.UniqueConstraint(fields=["client", "content_id"], name="one_title_per_content_id"),
            models.UniqueConstraint(fields=["client", "asset"], name="one_content_id_per_asset"),
        ]

    def __str__(self) -> str:
        return f"{self.content_id} ({self.client})"


class ClientRegistration(models.Model):
    """A device check started through the API: the one-time reference the client's page hands to the
    drop-in script, for one registration attempt (a binding cookie) of one customer."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="registrations", verbose_name=_("customer")
    )
    cookie = models.OneToOneField(
        "binding.Registration",
        on_delete=models.CASCADE,
        related_name="api_registration",
        verbose_name=_("cookie"),
    )
    reference = models.CharField(_("reference"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("API registration")
        verbose_name_plural = _("API registrations")

    def __str__(self) -> str:
        return f"{self.customer} #{self.pk}"


class IdempotentAnswer(models.Model):
    """The answer given to a POST with an Idempotency-Key, returned again when the same key comes back."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of method, path and body
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="one_answer_per_key")]

    def __str__(self) -> str:
        return f"{self.client}: {self.key}"


class WebhookEndpoint(models.Model):
    """Where a client receives events, signed with a secret of the endpoint's own (Standard Webhooks,
    HMAC-SHA256). After a rotation the previous secret signs too, until its grace period ends."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="webhooks", verbose_name=_("client")
    )
    url = models.URLField(_("URL"), max_length=500)
    secret = EncryptedTextField(_("signing secret"))
    previous_secret = EncryptedTextField(_("previous signing secret"), blank=True)
    previous_secret_expires_at = models.DateTimeField(_("previous secret signs until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")  # its endpoint was deactivated: not sent unless resent


class WebhookDelivery(models.Model):
    """One event for one endpoint, written in the transaction of the change it reports (so none is lost),
    sent by Celery with retries and backoff; every attempt's answer is kept."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    event_id = models.UUIDField(_("event id"), unique=True)
    event_type = models.CharField(_("event"), max_length=40)
    payload = models.JSONField(_("payload"))
    state = models.CharField(
        _("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now, db_index=True)
    response_status = models.PositiveSmallIntegerField(_("last answer's status"), null=True, blank=True)
    response_body = models.CharField(_("last answer"), max_length=1000, blank=True)
    error = models.CharField(_("last error"), max_length=300, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        permissions = [("view_token_urls", _("Can see token URLs in webhook payloads"))]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint}"
