"""Admin for binding data. Content keys are never shown; the audit trail is read-only."""

from django.contrib import admin

from .models import BindingEvent, Cookie, Device, MediaAsset


@admin.register(MediaAsset)
class MediaAssetAdmin(admin.ModelAdmin):
    list_display = ("slug", "kid", "duration", "packaged_at")
    search_fields = ("slug", "kid")
    fields = ("slug", "kid", "manifest", "duration", "packaged_at")  # never the content key
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # assets come from the packager (load_demo), with keys nobody types


@admin.register(Cookie)
class CookieAdmin(admin.ModelAdmin):
    list_display = ("value", "user", "state", "device", "expressplay_code", "created_at", "expires_at")
    list_filter = ("state", "created_at")
    search_fields = ("value", "user__username", "user__email", "device__device_id")
    list_select_related = ("user", "device")
    readonly_fields = (
        "value", "user", "state", "device", "user_agent", "failure_reason", "expressplay_code", "created_at",
        "updated_at", "expires_at",
    )  # fmt: skip
    exclude = ("check_license_url",)


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("label", "user", "device_id", "first_seen", "last_seen", "removed_at")
    list_filter = ("removed_at", "first_seen")
    search_fields = ("label", "device_id", "user__username", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("user", "device_id", "first_seen", "last_seen", "removed_at")


@admin.register(BindingEvent)
class BindingEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "user", "actor", "actor_user", "expressplay_code", "detail")
    list_filter = ("kind", "actor", "created_at")
    search_fields = ("user__username", "user__email", "cookie__value", "device__device_id", "detail")
    list_select_related = ("user", "actor_user")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
