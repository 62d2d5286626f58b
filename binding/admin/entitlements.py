"""Entitlements in admin: their state, binding, tokens and audit trail; retry, re-issue, revoke and move.

Content keys, whole tokens and licence URLs are never shown. Every action goes through a service, asks for a
reason, and writes a BindingEvent with the operator as actor.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .. import selectors, services
from ..diagnostics import entitlement_diagnosis
from ..expressplay import explain
from ..models import Device, Entitlement, EntitlementQuerySet, EntitlementState, TokenRequestOutcome
from ..selectors import sweep_state
from .toolkit import (
    ObjectActionsMixin,
    PermissionActionsMixin,
    ReasonForm,
    RecordAdmin,
    admin_link,
    events_table,
    operator,
    run_with_reason,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class MoveForm(ReasonForm):
    device = forms.ModelChoiceField(queryset=Device.objects.none(), label=_("Move to device"))

    def __init__(self, *args: Any, users: Collection[int] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The field declared above (the form's `fields` are typed as any Field).
        device = cast("forms.ModelChoiceField[Device]", self.fields["device"])
        device.queryset = Device.objects.active().filter(user__in=users).select_related("user")
        # Django's own way to relabel a ModelChoiceField's choices (its docs); the stubs see a method there.
        device.label_from_instance = lambda d: f"{d.label} · {d.device_id[:12]}… · {d.user}"  # type: ignore[method-assign,assignment]


def retry_entitlements(
    modeladmin: admin.ModelAdmin[Entitlement], request: HttpRequest, queryset: QuerySet[Entitlement]
) -> TemplateResponse | None:
    def apply(entitlement: Entitlement, data: dict[str, Any]) -> bool:
        return services.entitlement_retry(
            entitlement=entitlement, actor_user=operator(request), reason=data["reason"]
        )

    return run_with_reason(
        modeladmin,
        request,
        queryset,
        title=_("Retry issuing"),
        apply=apply,
        done=_("Retried issuing for %(what)s."),
        help_text=_(
            "Failed entitlements go back to the worker, which asks ExpressPlay for their token again."
        ),
    )


class WaitingTooLongFilter(admin.SimpleListFilter):
    title = _("waiting")
    parameter_name = "waiting"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> Iterable[tuple[str, StrOrPromise]]:
        return [("long", _("Pending longer than expected"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        entitlements = cast(
            EntitlementQuerySet, queryset
        )  # the entitlement admin's list, Entitlement.objects'
        return entitlements.waiting_too_long() if self.value() == "long" else queryset


def token_requests_table(entitlement: Entitlement) -> str:
    requests = list(entitlement.token_requests.all()[:50])
    return render_to_string(
        "admin/binding/_token_requests.html",
        {
            "requests": requests,
            "issued": sum(r.outcome == TokenRequestOutcome.ISSUED for r in requests),
            "lost": sum(r.outcome in (TokenRequestOutcome.LOST, TokenRequestOutcome.SENT) for r in requests),
        },
    )


class NeedsSupportFilter(admin.SimpleListFilter):
    title = _("needs attention")
    parameter_name = "attention"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> Iterable[tuple[str, StrOrPromise]]:
        return [("support", _("Refused: waits for support"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        entitlements = cast(
            EntitlementQuerySet, queryset
        )  # the entitlement admin's list, Entitlement.objects'
        return entitlements.needs_support() if self.value() == "support" else queryset


@admin.register(Entitlement)
class EntitlementAdmin(ObjectActionsMixin, PermissionActionsMixin, RecordAdmin[Entitlement]):
    change_form_template = "admin/binding/entitlement/change_form.html"
    change_list_template = "admin/binding/entitlement/change_list.html"
    list_display = (
        "id",
        "customer",
        "asset",
        "kind",
        "state",
        "device_link",
        "bound_by",
        "token_short",
        "token_expires_at",
        "error",
        "created_at",
    )
    list_filter = (
        NeedsSupportFilter,
        WaitingTooLongFilter,
        "state",
        "kind",
        "bound_by",
        "created_at",
        "asset",
    )
    search_fields = (
        "user__email",
        "user__username",
        "user__first_name",
        "user__last_name",
        "cookie__value",
        "device__device_id",
        "token_device_id",
        "order__number",
        "asset__titles__name",
        "asset__slug",
    )
    list_select_related = ("user", "asset", "device")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("customer", "order_link", "asset", "kind", "state", "progress")}),
        (_("Binding"), {"fields": ("cookie_link", "device_link", "bound_by", "token_device_id")}),
        (
            _("Token"),
            {
                "fields": (
                    "token_short",
                    "token_expires_at",
                    "tokens_issued",
                    "error",
                    "error_detail",
                    "retry_at",
                    "auto_retries",
                    "token_requests",
                )
            },
        ),
        (_("Rental"), {"fields": ("rental_ends_at", "play_duration", "first_played_at")}),
        (_("Audit trail"), {"fields": ("events",)}),
    )
    actions = ["retry", "reissue", "revoke", "move"]
    object_actions = ("retry", "reissue", "revoke", "move")

    def object_action_applies(self, obj: Entitlement, name: str) -> bool:
        state = obj.effective_state
        return {
            "retry": state == EntitlementState.FAILED,
            "reissue": state in (EntitlementState.READY, EntitlementState.FAILED),
            "revoke": state != EntitlementState.REVOKED,
            "move": state not in (EntitlementState.REVOKED, EntitlementState.EXPIRED),
        }[name]

    def get_readonly_fields(self, request: HttpRequest, obj: Entitlement | None = None) -> list[str]:
        # Every fieldset above lists its fields one by one (no row of several): each is a field's name.
        return [cast(str, f) for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entitlement]:
        return super().get_queryset(request).select_related("user", "asset", "device", "cookie", "order")

    @admin.display(description=_("order"))
    def order_link(self, obj: Entitlement) -> str:
        return admin_link(getattr(obj, "order", None))

    @admin.display(description=_("cookie"))
    def cookie_link(self, obj: Entitlement) -> str:
        return admin_link(obj.cookie)

    @admin.display(description=_("device"), ordering="device__label")
    def device_link(self, obj: Entitlement) -> str:
        return admin_link(obj.device)

    @admin.display(description=_("ExpressPlay error"))
    def error(self, obj: Entitlement) -> str:
        if obj.error_code is None:
            return obj.error_detail[:80] or "-"
        return format_html("<strong>{}</strong> {}", obj.error_code, explain(obj.error_code).meaning)

    @admin.display(description=_("events"))
    def events(self, obj: Entitlement) -> str:
        return events_table(obj.events.select_related("actor_user"))

    @admin.display(description=_("token requests"))
    def token_requests(self, obj: Entitlement) -> str:
        return token_requests_table(obj)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        entitlement = self.get_object(request, object_id)
        # ExpressPlay's records are asked only when the operator asks (a link), with a short timeout.
        lookup = request.GET.get("records") == "1"
        extra = {
            "diagnosis": entitlement_diagnosis(entitlement, lookup=lookup) if entitlement else None,
        }
        return super().change_view(
            request, object_id, form_url, extra_context={**(extra_context or {}), **extra}
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {
            "waiting_too_long": Entitlement.objects.waiting_too_long().count(),
            "outage": selectors.expressplay_outage(),
            "alert_after_minutes": settings.BINDING_PENDING_ALERT_AFTER // 60,
            "sweep": sweep_state(),
        }
        return super().changelist_view(request, extra_context={**(extra_context or {}), **extra})

    @admin.action(description=_("Retry issuing (failed only)"), permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Entitlement]) -> TemplateResponse | None:
        return retry_entitlements(self, request, queryset)

    @admin.action(description=_("Re-issue the token"), permissions=["reissue"])
    def reissue(self, request: HttpRequest, queryset: QuerySet[Entitlement]) -> TemplateResponse | None:
        def apply(entitlement: Entitlement, data: dict[str, Any]) -> object:
            return services.entitlement_reissue(
                entitlement=entitlement, actor_user=operator(request), reason=data["reason"]
            )

        return run_with_reason(
            self,
            request,
            queryset,
            title=_("Re-issue the token"),
            apply=apply,
            done=_("Asked for a new token for %(what)s."),
            help_text=_("A new token is requested for the device each entitlement is bound to."),
        )

    @admin.action(description=_("Revoke"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Entitlement]) -> TemplateResponse | None:
        def apply(entitlement: Entitlement, data: dict[str, Any]) -> object:
            return services.entitlement_revoke(
                entitlement=entitlement, actor_user=operator(request), reason=data["reason"]
            )

        return run_with_reason(
            self,
            request,
            queryset,
            title=_("Revoke entitlements"),
            done=_("Revoked %(what)s."),
            apply=apply,
            help_text=_(
                "Bindery stops handing out and renewing the token. ExpressPlay has no revocation call: a token "
                "already issued stays valid until it expires (at most ENTITLEMENT_TOKEN_LIFETIME, a day by "
                "default), which is why tokens are kept short-lived."
            ),
        )

    @admin.action(description=_("Move to another of the customer's devices"), permissions=["move"])
    def move(self, request: HttpRequest, queryset: QuerySet[Entitlement]) -> TemplateResponse | None:
        def apply(entitlement: Entitlement, data: dict[str, Any]) -> bool:
            return services.entitlement_move(
                entitlement=entitlement,
                device=data["device"],
                actor_user=operator(request),
                reason=data["reason"],
            )

        return run_with_reason(
            self,
            request,
            queryset,
            title=_("Move to another device"),
            apply=apply,
            form_class=MoveForm,
            done=_("Moved %(what)s to %(device)s."),
            form_kwargs={"users": {e.user_id for e in queryset}},
            help_text=_("The title is bound to the chosen device and a new token is issued for it."),
        )
