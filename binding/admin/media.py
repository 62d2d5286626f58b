"""Media assets in admin: read-only, never the content key."""

from __future__ import annotations

from django.contrib import admin

from ..models import MediaAsset
from .toolkit import HostileInputMixin


@admin.register(MediaAsset)
class MediaAssetAdmin(HostileInputMixin, admin.ModelAdmin):
    list_display = ("slug", "kid", "duration", "packaged_at")
    search_fields = ("slug", "kid")
    fields = ("slug", "kid", "manifest", "duration", "packaged_at")  # never the content key
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # assets come from the packager (load_demo, add_title), with keys nobody types

    def has_delete_permission(self, request, obj=None):
        return False
