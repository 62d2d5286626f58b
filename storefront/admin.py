"""Admin for the shop. Orders are read-only records of what was sold."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Offer, Order, Title


class OfferInline(admin.TabularInline):
    model = Offer
    extra = 0


@admin.register(Title)
class TitleAdmin(admin.ModelAdmin):
    list_display = ("name", "year", "asset")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [OfferInline]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "user", "title", "kind", "price", "status_display", "created_at")
    list_filter = ("kind", "entitlement__state", "created_at")
    search_fields = ("number", "user__username", "user__email", "title__name")
    list_select_related = ("user", "title", "entitlement")
    readonly_fields = ("number", "user", "title", "offer", "kind", "price", "currency", "payment_reference",
                       "entitlement", "created_at")  # fmt: skip

    @admin.display(description=_("status"))
    def status_display(self, order):
        return order.status

    def has_add_permission(self, request):
        return False
