"""DRM binding fallbacks and playback sessions of titles bound by Bindery, in admin (decision 0013)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from .. import services
from ..models import DrmFallback, PlaySession
from .toolkit import (
    HostileInputMixin,
    RecordAdmin,
    admin_link,
    customer_link,
    operator,
    run_with_reason,
)


@admin.register(DrmFallback)
class DrmFallbackAdmin(HostileInputMixin, admin.ModelAdmin[DrmFallback]):
    """The DRMs on which ExpressPlay refused device binding, and how their titles are bound instead. An operator
    removes a row (the action below, or Delete) to have ExpressPlay's binding tried again."""

    list_display = ("drm", "mode", "expressplay_code", "detail", "since")
    readonly_fields = list_display
    fields = list_display
    actions = ["try_expressplay_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DrmFallback | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, tuple[Callable[..., str], str, str] | None]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # the action below says what deleting means
        return actions

    def delete_model(self, request: HttpRequest, obj: DrmFallback) -> None:
        services.drm_fallback_clear(
            fallback=obj, actor_user=operator(request), reason=str(_("deleted in admin"))
        )

    @admin.action(description=_("Try ExpressPlay's device binding again"), permissions=["delete"])
    def try_expressplay_again(
        self, request: HttpRequest, queryset: QuerySet[DrmFallback]
    ) -> TemplateResponse | None:
        def apply(fallback: DrmFallback, data: dict[str, Any]) -> bool:
            cleared = services.drm_fallback_clear(
                fallback=fallback, actor_user=operator(request), reason=data["reason"]
            )
            if cleared:
                self.message_user(
                    request,
                    _(
                        "%(drm)s: titles bought from now on ask ExpressPlay to bind the device again. If it still "
                        "refuses (%(code)s), %(drm)s falls back again by itself and the order is not lost. Titles "
                        "already bound by Bindery stay bound by Bindery."
                    )
                    % {"drm": fallback.get_drm_display(), "code": fallback.expressplay_code},
                    messages.SUCCESS,
                )
            return cleared

        return run_with_reason(
            self,
            request,
            queryset,
            title=_("Try ExpressPlay's device binding again"),
            apply=apply,
            done=_("ExpressPlay's device binding is tried again for %(what)s."),
            help_text=_(
                "ExpressPlay refused device binding on these DRMs, so their titles are bound by Bindery (or not "
                "sold). Do this after ExpressPlay enabled device binding on your account: the next order asks "
                "ExpressPlay to bind again."
            ),
        )


@admin.register(PlaySession)
class PlaySessionAdmin(RecordAdmin[PlaySession]):
    """Playback sessions of titles bound by Bindery: read-only (no licence URL shown)."""

    list_display = (
        "started_at",
        "customer",
        "entitlement_link",
        "device",
        "live",
        "last_seen",
        "ended_at",
        "end_reason",
        "licence_requests",
    )
    list_filter = ("started_at", ("ended_at", admin.EmptyFieldListFilter))
    search_fields = ("entitlement__user__email", "entitlement__user__username", "cookie__value", "id")
    list_select_related = ("entitlement__user", "entitlement__asset", "entitlement__device", "cookie")
    fields = (
        "id",
        "customer",
        "entitlement_link",
        "device",
        "cookie_link",
        "started_at",
        "last_seen",
        "ended_at",
        "end_reason",
        "licence_requests",
        "token_request_outcome",
    )
    readonly_fields = fields

    def has_change_permission(self, request: HttpRequest, obj: PlaySession | None = None) -> bool:
        return False

    @admin.display(description=_("customer"))
    def customer(self, obj: PlaySession) -> str:
        return customer_link(obj.entitlement.user)

    @admin.display(description=_("entitlement"))
    def entitlement_link(self, obj: PlaySession) -> str:
        return admin_link(obj.entitlement)

    @admin.display(description=_("device"))
    def device(self, obj: PlaySession) -> str:
        return admin_link(obj.entitlement.device)

    @admin.display(description=_("registration"))
    def cookie_link(self, obj: PlaySession) -> str:
        return admin_link(obj.cookie)

    @admin.display(description=_("live"), boolean=True)
    def live(self, obj: PlaySession) -> bool:
        return obj.is_live

    @admin.display(description=_("token request"))
    def token_request_outcome(self, obj: PlaySession) -> str:
        request = obj.token_request
        return f"{request.get_outcome_display()} · {request.token_short or '-'}" if request else "-"
