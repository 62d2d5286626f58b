"""Devices and registrations (cookies) in admin; remove a device, refresh it from ExpressPlay's records, reset
its customer's swap allowance."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from .. import services
from ..models import Device, Registration
from .toolkit import (
    ObjectActionsMixin,
    PermissionActionsMixin,
    RecordAdmin,
    admin_link,
    events_table,
    operator,
    run_with_reason,
)


@admin.register(Device)
class DeviceAdmin(ObjectActionsMixin, PermissionActionsMixin, RecordAdmin[Device]):
    change_form_template = "admin/binding/device/change_form.html"
    list_display = ("label", "customer", "drm", "device_id", "first_seen", "last_seen", "removed_at")
    list_filter = (("removed_at", admin.EmptyFieldListFilter), "drm", "first_seen", "last_seen")
    search_fields = (
        "label",
        "device_id",
        "user__email",
        "user__username",
        "user__first_name",
        "user__last_name",
    )
    list_select_related = ("user",)
    readonly_fields = (
        "customer",
        "device_id",
        "first_seen",
        "last_seen",
        "removed_at",
        "swaps",
        "entitlements_list",
        "events",
    )
    fields = ("label", *readonly_fields)
    actions = ["remove", "refresh", "reset_swaps"]
    object_actions = ("remove", "refresh", "reset_swaps")

    def object_action_applies(self, obj: Device, name: str) -> bool:
        return name != "remove" or obj.is_active

    @admin.display(description=_("device swaps"))
    def swaps(self, obj: Device) -> str:
        allowance = services.device_swap_allowance(obj.user)
        return _("%(used)d of %(limit)d used in the last %(days)d days") % {
            "used": allowance.used,
            "limit": allowance.limit,
            "days": allowance.period_days,
        }

    @admin.display(description=_("entitlements bound here"))
    def entitlements_list(self, obj: Device) -> str:
        items = obj.entitlements.select_related("asset")
        rows = ((admin_link(e, f"{e} · {e.get_state_display()}"),) for e in items)
        return format_html_join(mark_safe("<br>"), "{}", rows) or "-"

    @admin.display(description=_("events"))
    def events(self, obj: Device) -> str:
        return events_table(obj.events.select_related("actor_user"))

    @admin.action(description=_("Remove the device"), permissions=["remove"])
    def remove(self, request: HttpRequest, queryset: QuerySet[Device]) -> TemplateResponse | None:
        def apply(device: Device, data: dict[str, Any]) -> Device:
            return services.device_remove(device=device, actor_user=operator(request), reason=data["reason"])

        return run_with_reason(
            self,
            request,
            queryset,
            title=_("Remove devices"),
            done=_("Removed %(what)s."),
            apply=apply,
            help_text=_(
                "The device stops counting towards the customer's limit. Titles bound to it are not renewed until "
                "moved to another device. Removals by operators do not use the customer's swap allowance."
            ),
        )

    @admin.action(description=_("Refresh from ExpressPlay records"), permissions=["refresh"])
    def refresh(self, request: HttpRequest, queryset: QuerySet[Device]) -> TemplateResponse | None:
        def apply(device: Device, data: dict[str, Any]) -> None:
            summary = services.device_refresh(
                device=device, actor_user=operator(request), reason=data["reason"]
            )
            self.message_user(request, f"{device}: {summary}")

        return run_with_reason(
            self,
            request,
            queryset,
            title=_("Refresh devices from ExpressPlay records"),
            apply=apply,
            done=_("Refreshed %(what)s from ExpressPlay's records."),
            help_text=_(
                "Asks ExpressPlay's records for each device's registrations and reports what they say."
            ),
        )

    @admin.action(description=_("Reset the customer's device swap allowance"), permissions=["reset_swaps"])
    def reset_swaps(self, request: HttpRequest, queryset: QuerySet[Device]) -> TemplateResponse | None:
        def apply(device: Device, data: dict[str, Any]) -> None:
            return services.device_swaps_reset(
                user=device.user, actor_user=operator(request), reason=data["reason"]
            )

        return run_with_reason(
            self,
            request,
            queryset.distinct(),
            title=_("Reset device swap allowance"),
            apply=apply,
            done=_("Reset the device swap allowance of the owners of %(what)s."),
            help_text=_(
                "The customer may again remove devices or move titles as if none were used this period."
            ),
        )


@admin.register(Registration)
class RegistrationAdmin(RecordAdmin[Registration]):
    list_display = (
        "value",
        "customer",
        "state",
        "drm",
        "device_link",
        "expressplay_code",
        "created_at",
        "expires_at",
    )
    list_filter = ("state", "drm", "created_at")
    search_fields = ("value", "user__email", "user__username", "device__device_id")
    list_select_related = ("user", "device")
    date_hierarchy = "created_at"
    fields = (
        "value",
        "customer",
        "state",
        "device_link",
        "user_agent",
        "failure_reason",
        "expressplay_code",
        "created_at",
        "updated_at",
        "expires_at",
        "events",
    )
    readonly_fields = fields

    @admin.display(description=_("device"))
    def device_link(self, obj: Registration) -> str:
        return admin_link(obj.device)

    @admin.display(description=_("events"))
    def events(self, obj: Registration) -> str:
        return events_table(obj.events.select_related("actor_user"))
