"""Customers in admin: Django's user admin with a way into each customer's overview, and the overview itself
(every registration, device, entitlement and event of one customer on one page)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .. import services
from ..models import BindingEvent, Entitlement
from .export import events_csv
from .toolkit import HostileInputMixin, PermissionActionsMixin

if TYPE_CHECKING:  # the mixin is always mixed into a ModelAdmin: the checker sees what it builds on
    from django.contrib.auth.models import User

    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object
    User = get_user_model()


class CustomerOverviewMixin(PermissionActionsMixin, _ModelAdmin):
    """The customer overview (`admin:binding_customer`) and its audit trail as CSV
    (`admin:binding_customer_export`), for the audit trail's admin: whoever may read the audit trail may read
    a customer's overview, and its CSV takes the audit trail's export permission."""

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "customer/<int:user_id>/",
                self.admin_site.admin_view(self.customer_view),
                name="binding_customer",
            ),
            path(
                "customer/<int:user_id>/audit.csv",
                self.admin_site.admin_view(self.customer_export),
                name="binding_customer_export",
            ),
            *super().get_urls(),
        ]

    def customer_view(self, request: HttpRequest, user_id: int) -> TemplateResponse:
        """Every cookie, device, entitlement and event of one customer on one page."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        customer = get_object_or_404(User, pk=user_id)
        entitlements = list(
            Entitlement.objects.filter(user=customer)
            .select_related("asset", "device", "order")
            .order_by("-created_at")
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Customer %(name)s") % {"name": customer.email or customer.get_username()},
            "customer": customer,
            "cookies": customer.binding_registrations.select_related("device").order_by("-created_at")[:50],
            "devices": customer.devices.order_by("removed_at", "first_seen"),
            "entitlements": entitlements,
            "events": customer.binding_events.select_related("actor_user", "device", "cookie")[:200],
            "swaps": services.device_swap_allowance(customer),
            "opts": BindingEvent._meta,
            "can_export": self.has_export_permission(request),
        }
        return TemplateResponse(request, "admin/binding/customer.html", context)

    def customer_export(self, request: HttpRequest, user_id: int) -> HttpResponse:
        if not self.has_export_permission(request):
            raise PermissionDenied
        customer = get_object_or_404(User, pk=user_id)
        return events_csv(
            BindingEvent.objects.filter(user=customer), f"bindery-audit-{customer.get_username()}.csv"
        )


class CustomerUserAdmin(HostileInputMixin, UserAdmin[User]):
    """Django's user admin, with a way into each customer's binding overview."""

    # A class attribute of UserAdmin's, which the stubs declare per instance (hence "ambiguous").
    list_display = (*UserAdmin.list_display, "overview")  # type: ignore[misc]

    @admin.display(description=_("Bindery"))
    def overview(self, obj: User) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:binding_customer", args=[obj.pk]), _("overview")
        )


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, CustomerUserAdmin)
