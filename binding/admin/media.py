"""Media assets in admin: read-only, never the content key."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from ..models import MediaAsset
from .toolkit import HostileInputMixin


@admin.register(MediaAsset)
class MediaAssetAdmin(HostileInputMixin, admin.ModelAdmin[MediaAsset]):
    list_display = ("slug", "kid", "duration", "packaged_at")
    search_fields = ("slug", "kid")
    fields = ("slug", "kid", "manifest", "duration", "packaged_at")  # never the content key
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # assets come from the packager (load_demo, add_title), with keys nobody types

    def has_delete_permission(self, request: HttpRequest, obj: MediaAsset | None = None) -> bool:
        return False
