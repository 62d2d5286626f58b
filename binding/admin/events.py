"""The audit trail in admin: read-only, exported as CSV; it also serves each customer's overview."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import BindingEvent
from .customers import CustomerOverviewMixin
from .export import events_csv
from .toolkit import PermissionActionsMixin, RecordAdmin


@admin.register(BindingEvent)
class BindingEventAdmin(CustomerOverviewMixin, PermissionActionsMixin, RecordAdmin[BindingEvent]):
    list_display = ("created_at", "kind", "customer", "actor", "actor_user", "expressplay_code", "detail")
    list_filter = ("kind", "actor", "created_at")
    search_fields = (
        "user__email",
        "user__username",
        "cookie__value",
        "device__device_id",
        "entitlement__order__number",
        "detail",
    )
    list_select_related = ("user", "actor_user")
    date_hierarchy = "created_at"
    actions = ["export"]

    def has_change_permission(self, request: HttpRequest, obj: BindingEvent | None = None) -> bool:
        return False  # the audit trail is append-only

    @admin.action(description=_("Export as CSV"), permissions=["export"])
    def export(self, request: HttpRequest, queryset: QuerySet[BindingEvent]) -> HttpResponse:
        return events_csv(
            BindingEvent.objects.filter(pk__in=queryset.values("pk")),
            f"bindery-audit-{timezone.now():%Y%m%d-%H%M}.csv",
        )
