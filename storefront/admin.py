"""Admin for the shop. Orders are read-only records of what was sold, linked to their binding data."""

from django.contrib import admin
from django.db import models
from django.forms import ClearableFileInput
from django.utils.translation import gettext_lazy as _

from binding.admin.entitlements import retry_entitlements
from binding.admin.toolkit import (
    HostileInputMixin,
    PermissionActionsMixin,
    RecordAdmin,
    admin_link,
    events_table,
)
from binding.models import Entitlement

from .models import Offer, Order, Title


class OfferInline(admin.TabularInline):
    model = Offer
    extra = 0


@admin.register(Title)
class TitleAdmin(HostileInputMixin, admin.ModelAdmin):
    list_display = ("name", "year", "asset", "offers_summary")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [OfferInline]
    # The file picker offers images; the model's validator is what refuses anything else.
    formfield_overrides = {
        models.FileField: {"widget": ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})}
    }

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("asset").prefetch_related("offers")

    @admin.display(description=_("offers"))
    def offers_summary(self, obj):
        return (
            ", ".join(f"{o.get_kind_display()} {o.price} {o.currency}" for o in obj.offers.all() if o.active)
            or "-"
        )


@admin.register(Offer)
class OfferAdmin(HostileInputMixin, admin.ModelAdmin):
    list_display = ("title", "kind", "price", "currency", "rental_hours", "play_hours", "active")
    list_filter = ("kind", "active")
    search_fields = ("title__name",)
    list_select_related = ("title",)


@admin.register(Order)
class OrderAdmin(PermissionActionsMixin, RecordAdmin):
    list_display = ("number", "customer", "title", "kind", "price", "status_display", "device", "created_at")
    list_filter = ("kind", "entitlement__state", "created_at")
    search_fields = (
        "number",
        "user__email",
        "user__username",
        "user__first_name",
        "user__last_name",
        "title__name",
        "entitlement__cookie__value",
        "entitlement__device__device_id",
    )
    list_select_related = ("user", "title", "entitlement__device")
    date_hierarchy = "created_at"
    fields = (
        "number",
        "customer",
        "title",
        "offer",
        "kind",
        "price",
        "currency",
        "payment_reference",
        "created_at",
        "status_display",
        "entitlement_link",
        "device",
        "cookie",
        "events",
    )
    readonly_fields = fields
    actions = ["retry"]

    @admin.display(description=_("status"), ordering="entitlement__state")
    def status_display(self, obj):
        labels = {
            "pending": _("pending"),
            "fulfilled": _("fulfilled"),
            "failed": _("failed"),
            "revoked": _("revoked"),
            "expired": _("expired"),
        }
        return labels[obj.status]

    @admin.display(description=_("entitlement"))
    def entitlement_link(self, obj):
        return admin_link(obj.entitlement, f"{obj.entitlement} · {obj.entitlement.get_state_display()}")

    @admin.display(description=_("device"))
    def device(self, obj):
        return admin_link(obj.entitlement.device)

    @admin.display(description=_("cookie"))
    def cookie(self, obj):
        return admin_link(obj.entitlement.cookie)

    @admin.display(description=_("events"))
    def events(self, obj):
        return events_table(obj.entitlement.events.select_related("actor_user"))

    @admin.action(description=_("Retry issuing the licence (failed orders)"), permissions=["retry"])
    def retry(self, request, queryset):
        return retry_entitlements(self, request, Entitlement.objects.filter(order__in=queryset))
