"""Admin for the entitlement API: clients and their keys, their customers and titles, webhooks and their
deliveries. Every admin builds on binding's admin toolkit (HostileInputMixin: no 500 on hostile input)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.admin import APIKeyModelAdmin

from binding.admin.toolkit import HostileInputMixin

from . import services, webhook_signing, webhooks
from .models import (
    Client,
    ClientAPIKey,
    ClientRegistration,
    ClientTitle,
    Customer,
    WebhookDelivery,
    WebhookEndpoint,
)
from .webhooks import delivery_resend


class ClientAPIKeyInline(admin.TabularInline[ClientAPIKey, Client]):
    model = ClientAPIKey
    fields = ["name", "prefix", "created", "expiry_date", "revoked"]
    readonly_fields = ["prefix", "created"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Client | None = None) -> bool:
        return False  # keys are made in API keys, which shows the new key once


HIDDEN_KEYS = {"token_url", "start_url", "reference"}


def redacted(value: Any) -> Any:
    """`value` (a webhook payload) with every token URL and check reference replaced by a placeholder."""
    if isinstance(value, dict):
        return {
            key: (str(_("(hidden)")) if key in HIDDEN_KEYS and item else redacted(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redacted(item) for item in value]
    return value


@admin.register(Client)
class ClientAdmin(HostileInputMixin, admin.ModelAdmin[Client]):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [ClientAPIKeyInline]


@admin.register(ClientAPIKey)
class ClientAPIKeyAdmin(HostileInputMixin, APIKeyModelAdmin):
    """Create a key here: the full key is shown once, in the confirmation message; revoke it here too."""

    # The library's attributes are untyped tuples, which mypy takes for tuples of exactly their length; Django
    # takes any list.
    list_display = [*APIKeyModelAdmin.list_display, "client"]  # type: ignore[assignment]
    list_filter = [*APIKeyModelAdmin.list_filter, "client"]  # type: ignore[assignment]
    search_fields = [*APIKeyModelAdmin.search_fields, "client__name"]  # type: ignore[assignment]


@admin.register(Customer)
class CustomerAdmin(HostileInputMixin, admin.ModelAdmin[Customer]):
    list_display = ["external_id", "client", "user", "created_at"]
    list_filter = ["client"]
    search_fields = ["external_id", "user__username"]
    raw_id_fields = ["user"]
    readonly_fields = ["client", "external_id", "user", "created_at"]


@admin.register(ClientTitle)
class ClientTitleAdmin(HostileInputMixin, admin.ModelAdmin[ClientTitle]):
    list_display = ["content_id", "client", "asset", "created_at"]
    list_filter = ["client"]
    search_fields = ["content_id", "asset__name", "asset__kid"]
    readonly_fields = ["client", "content_id", "asset", "created_at"]


@admin.register(ClientRegistration)
class ClientRegistrationAdmin(HostileInputMixin, admin.ModelAdmin[ClientRegistration]):
    list_display = ["id", "customer", "cookie", "created_at"]
    search_fields = ["customer__external_id"]
    readonly_fields = ["customer", "cookie", "reference", "created_at"]
    fields = ["customer", "cookie", "created_at"]
    verbose_name = _("API registration")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(HostileInputMixin, admin.ModelAdmin[WebhookEndpoint]):
    list_display = ["url", "client", "active", "created_at"]
    list_filter = ["client", "active"]
    fields = ["client", "url", "active", "created_at"]
    readonly_fields = ["created_at"]
    actions = ["rotate_secret", "deactivate"]

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: ModelForm[WebhookEndpoint], change: bool
    ) -> None:
        if not obj.secret:
            obj.secret = webhook_signing.secret_new()
            self.message_user(request, _("Signing secret of this endpoint (shown once): %s") % obj.secret)
        super().save_model(request, obj, form, change)
        if change and "active" in form.changed_data and not obj.active:
            self._cancelled(request, webhooks.deliveries_cancel(obj.deliveries.all()))

    @admin.action(description=_("Rotate the signing secret"), permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            endpoint = services.webhook_secret_rotate(endpoint=endpoint)
            self.message_user(
                request,
                _(
                    "New signing secret of %(url)s (shown once): %(secret)s. The previous one signs too until "
                    "%(until)s."
                )
                % {
                    "url": endpoint.url,
                    "secret": endpoint.secret,
                    "until": endpoint.previous_secret_expires_at,
                },
            )

    @admin.action(description=_("Deactivate (pending deliveries are cancelled)"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        cancelled = sum(services.webhook_endpoint_deactivate(endpoint=endpoint) for endpoint in queryset)
        self._cancelled(request, cancelled)

    def _cancelled(self, request: HttpRequest, count: int) -> None:
        self.message_user(
            request,
            _("%(count)d pending deliveries were cancelled: they are sent only if resent.")
            % {"count": count},
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(HostileInputMixin, admin.ModelAdmin[WebhookDelivery]):
    """Every delivery with its last answer; resend any of them."""

    list_display = [
        "event_type",
        "endpoint",
        "state",
        "attempts",
        "response_status",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["state", "event_type", "endpoint__client"]
    search_fields = ["event_id", "endpoint__url"]
    actions = ["resend"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # A list of names: one of the shapes Django's get_fields returns, which list's invariance keeps from
    # matching the stubs' list of names or groups.
    def get_fields(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> list[str]:  # type: ignore[override]
        # The payload as sent only to those allowed to see token URLs (not Support, as the entitlement admin
        # shows no licence URL): a token URL plays the title on its device, and a device check's start URL
        # starts the check.
        payload = "payload" if request.user.has_perm("api.view_token_urls") else "payload_redacted"
        return [payload if field.name == "payload" else field.name for field in WebhookDelivery._meta.fields]

    def get_readonly_fields(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> list[str]:
        return self.get_fields(request, obj)

    @admin.display(description=_("payload"))
    def payload_redacted(self, obj: WebhookDelivery) -> str:
        shown = json.dumps(redacted(obj.payload), indent=2, ensure_ascii=False)
        return format_html("<pre>{}</pre>", shown)

    @admin.action(description=_("Send again"), permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset:
            delivery_resend(delivery)
        self.message_user(
            request, _("%(count)d deliveries will be sent again.") % {"count": queryset.count()}
        )
