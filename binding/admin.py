"""Operators' admin for binding data.

Content keys, whole tokens and licence URLs are never shown. The audit trail is read-only. Every action goes
through a service, asks for a reason, and writes a BindingEvent with the operator as actor.
"""

from __future__ import annotations

import csv
import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from . import selectors, services
from .diagnostics import entitlement_diagnosis
from .exceptions import BindingError
from .expressplay import explain
from .models import (
    BindingEvent,
    Cookie,
    Device,
    DrmFallback,
    Entitlement,
    EntitlementState,
    MediaAsset,
    PlaySession,
    TokenRequestOutcome,
)
from .selectors import sweep_state

User = get_user_model()


# --- helpers ----------------------------------------------------------------------------------------------------


def admin_link(obj, text=None):
    """Return a link to `obj`'s admin page, or a dash."""
    if obj is None:
        return "-"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else str(obj))


def customer_link(user):
    """Return a link to the customer overview (all of one user's binding data on one page)."""
    if user is None:
        return "-"
    label = user.email or user.get_username()
    return format_html('<a href="{}">{}</a>', reverse("admin:binding_customer", args=[user.pk]), label)


def events_table(events) -> str:
    return render_to_string("admin/binding/_events.html", {"events": list(events[:50])})


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Kept in the audit trail with your name."),
    )  # fmt: skip


def what_was_done(opts, objects: list) -> str:
    """Name the objects an action acted on: "Rent A Life in Green (alice)", or "3 entitlements: …, …, …"."""
    if len(objects) == 1:
        return str(objects[0])
    names = ", ".join(str(obj) for obj in objects[:10]) + (", …" if len(objects) > 10 else "")
    return _("%(count)d %(things)s: %(names)s") % {
        "count": len(objects),
        "things": opts.verbose_name_plural,
        "names": names,
    }


def run_with_reason(
    modeladmin, request, queryset, *, title, help_text, apply, done, form_class=ReasonForm, form_kwargs=None
):
    """Ask for a reason on an intermediate page, then call apply(obj, cleaned_data) for each selected object.

    `done` says what was done, with "%(what)s" for the objects it was done to ("Retried issuing for
    %(what)s."), and "%(device)s" etc. for the form's fields: the confirmation names them, never "1 done.".
    """
    form = form_class(request.POST if "apply" in request.POST else None, **(form_kwargs or {}))
    if "apply" in request.POST and form.is_valid():
        acted, refused = [], []
        for obj in queryset:
            try:
                if apply(obj, form.cleaned_data) is not False:
                    acted.append(obj)
            except BindingError as exc:
                refused.append(f"{obj}: {exc.message}")
        if acted:
            fields = {name: str(value) for name, value in form.cleaned_data.items()}
            what = what_was_done(modeladmin.model._meta, acted)
            modeladmin.message_user(request, done % {**fields, "what": what}, messages.SUCCESS)
        for line in refused:
            modeladmin.message_user(request, line, messages.ERROR)
        if not done and not refused:
            modeladmin.message_user(request, _("Nothing to do for the selected rows."), messages.WARNING)
        return None
    return TemplateResponse(
        request,
        "admin/binding/action_form.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "help_text": help_text,
            "form": form,
            "queryset": queryset,
            # The rows picked on the changelist (an order action may act on their entitlements).
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action": request.POST.get("action"),
            "opts": modeladmin.model._meta,
            "cancel_url": _cancel_url(modeladmin, request),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


def _cancel_url(modeladmin, request) -> str:
    """Where Cancel goes: the object's page for an action started there, else the list."""
    opts = modeladmin.model._meta
    match = request.resolver_match
    if match is not None and match.url_name == f"{opts.app_label}_{opts.model_name}_object_action":
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[match.kwargs["object_id"]])
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


class ObjectActionsMixin:
    """The list page's actions also as buttons on each object's own page: the same action, the same services,
    the same reason form (its URL is the object's), and back to the object's page when done."""

    object_actions: tuple[str, ...] = ()

    def object_action_applies(self, obj, name: str) -> bool:
        """Whether the action `name` can do anything to `obj` (a button is shown only then)."""
        return True

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<path:object_id>/actions/<str:action>/",
                self.admin_site.admin_view(self.object_action_view),
                name=f"{opts.app_label}_{opts.model_name}_object_action",
            ),
            *super().get_urls(),
        ]

    def object_action_buttons(self, request, obj) -> list[dict]:
        if obj is None:
            return []
        opts, allowed = self.model._meta, self.get_actions(request)
        return [
            {
                "name": name,
                "label": allowed[name][2],
                "url": reverse(
                    f"admin:{opts.app_label}_{opts.model_name}_object_action", args=[obj.pk, name]
                ),
            }
            for name in self.object_actions
            if name in allowed and self.object_action_applies(obj, name)
        ]

    def object_action_view(self, request, object_id, action):
        """POST: run list action `action` on this one object (its reason form first); then back to its page."""
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        allowed = self.get_actions(request)
        if action not in self.object_actions or action not in allowed:
            raise PermissionDenied
        opts = self.model._meta
        back = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        if request.method != "POST":
            return HttpResponseRedirect(back)
        function = allowed[action][0]
        response = function(self, request, self.get_queryset(request).filter(pk=obj.pk))
        return response if response is not None else HttpResponseRedirect(back)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {"object_actions": self.object_action_buttons(request, obj)}
        return super().change_view(
            request, object_id, form_url, extra_context={**(extra_context or {}), **extra}
        )


class PermissionActionsMixin:
    """`has_<name>_permission` for the custom permissions the actions require."""

    def has_retry_permission(self, request):
        return request.user.has_perm("binding.retry_entitlement")

    def has_reissue_permission(self, request):
        return request.user.has_perm("binding.reissue_entitlement")

    def has_revoke_permission(self, request):
        return request.user.has_perm("binding.revoke_entitlement")

    def has_move_permission(self, request):
        return request.user.has_perm("binding.move_entitlement")

    def has_remove_permission(self, request):
        return request.user.has_perm("binding.remove_device")

    def has_refresh_permission(self, request):
        return request.user.has_perm("binding.refresh_device")

    def has_reset_swaps_permission(self, request):
        return request.user.has_perm("binding.reset_device_swaps")

    def has_export_permission(self, request):
        return request.user.has_perm("binding.export_bindingevent")


_ID = re.compile(r"[0-9]{1,18}")


class HostileInputMixin:
    """Bad admin input gets a message, never a 500: Django's admin trusts the ids an action posts and the
    values of date filters (`?created_at__year=99999`)."""

    def response_action(self, request, queryset):
        selected = request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
        if any(not _ID.fullmatch(value) for value in selected):
            self.message_user(request, _("Those rows cannot be selected."), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except (ValueError, OverflowError) as exc:  # Django answers IncorrectLookupParameters with ?e=1
            raise IncorrectLookupParameters(str(exc)) from exc


class RecordAdmin(HostileInputMixin, admin.ModelAdmin):
    """Rows that only Bindery's services create: no add or delete in admin, and a link to the customer."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("customer"), ordering="user__email")
    def customer(self, obj):
        return customer_link(obj.user)


# --- entitlements -----------------------------------------------------------------------------------------------


class MoveForm(ReasonForm):
    device = forms.ModelChoiceField(queryset=Device.objects.none(), label=_("Move to device"))

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device"].queryset = Device.objects.active().filter(user__in=users).select_related("user")
        self.fields["device"].label_from_instance = lambda d: f"{d.label} · {d.device_id[:12]}… · {d.user}"


def retry_entitlements(modeladmin, request, queryset):
    def apply(entitlement, data):
        return services.entitlement_retry(
            entitlement=entitlement, actor_user=request.user, reason=data["reason"]
        )

    return run_with_reason(
        modeladmin, request, queryset, title=_("Retry issuing"), apply=apply,
        done=_("Retried issuing for %(what)s."),
        help_text=_("Failed entitlements go back to the worker, which asks ExpressPlay for their token again."),
    )  # fmt: skip


class WaitingTooLongFilter(admin.SimpleListFilter):
    title = _("waiting")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [("long", _("Pending longer than expected"))]

    def queryset(self, request, queryset):
        return queryset.waiting_too_long() if self.value() == "long" else queryset


def token_requests_table(entitlement) -> str:
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

    def lookups(self, request, model_admin):
        return [("support", _("Refused: waits for support"))]

    def queryset(self, request, queryset):
        return queryset.needs_support() if self.value() == "support" else queryset


class EntitlementAdmin(ObjectActionsMixin, PermissionActionsMixin, RecordAdmin):
    change_form_template = "admin/binding/entitlement/change_form.html"
    change_list_template = "admin/binding/entitlement/change_list.html"
    list_display = (
        "id", "customer", "asset", "kind", "state", "device_link", "bound_by", "token_short", "token_expires_at",
        "error", "created_at",
    )  # fmt: skip
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
        "user__email", "user__username", "user__first_name", "user__last_name", "cookie__value",
        "device__device_id", "token_device_id", "order__number", "asset__titles__name", "asset__slug",
    )  # fmt: skip
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

    def object_action_applies(self, obj, name: str) -> bool:
        state = obj.effective_state
        return {
            "retry": state == EntitlementState.FAILED,
            "reissue": state in (EntitlementState.READY, EntitlementState.FAILED),
            "revoke": state != EntitlementState.REVOKED,
            "move": state not in (EntitlementState.REVOKED, EntitlementState.EXPIRED),
        }[name]

    def get_readonly_fields(self, request, obj=None):
        return [f for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "asset", "device", "cookie", "order")

    @admin.display(description=_("order"))
    def order_link(self, obj):
        return admin_link(getattr(obj, "order", None))

    @admin.display(description=_("cookie"))
    def cookie_link(self, obj):
        return admin_link(obj.cookie)

    @admin.display(description=_("device"), ordering="device__label")
    def device_link(self, obj):
        return admin_link(obj.device)

    @admin.display(description=_("ExpressPlay error"))
    def error(self, obj):
        if obj.error_code is None:
            return obj.error_detail[:80] or "-"
        return format_html("<strong>{}</strong> {}", obj.error_code, explain(obj.error_code).meaning)

    @admin.display(description=_("events"))
    def events(self, obj):
        return events_table(obj.events.select_related("actor_user"))

    @admin.display(description=_("token requests"))
    def token_requests(self, obj):
        return token_requests_table(obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        entitlement = self.get_object(request, object_id)
        # ExpressPlay's records are asked only when the operator asks (a link), with a short timeout.
        lookup = request.GET.get("records") == "1"
        extra = {
            "diagnosis": entitlement_diagnosis(entitlement, lookup=lookup) if entitlement else None,
        }
        return super().change_view(
            request, object_id, form_url, extra_context={**(extra_context or {}), **extra}
        )

    def changelist_view(self, request, extra_context=None):
        extra = {
            "waiting_too_long": Entitlement.objects.waiting_too_long().count(),
            "outage": selectors.expressplay_outage(),
            "alert_after_minutes": settings.BINDING_PENDING_ALERT_AFTER // 60,
            "sweep": sweep_state(),
        }
        return super().changelist_view(request, extra_context={**(extra_context or {}), **extra})

    @admin.action(description=_("Retry issuing (failed only)"), permissions=["retry"])
    def retry(self, request, queryset):
        return retry_entitlements(self, request, queryset)

    @admin.action(description=_("Re-issue the token"), permissions=["reissue"])
    def reissue(self, request, queryset):
        def apply(entitlement, data):
            return services.entitlement_reissue(
                entitlement=entitlement, actor_user=request.user, reason=data["reason"]
            )

        return run_with_reason(
            self, request, queryset, title=_("Re-issue the token"), apply=apply,
            done=_("Asked for a new token for %(what)s."),
            help_text=_("A new token is requested for the device each entitlement is bound to."),
        )  # fmt: skip

    @admin.action(description=_("Revoke"), permissions=["revoke"])
    def revoke(self, request, queryset):
        return run_with_reason(
            self, request, queryset, title=_("Revoke entitlements"), done=_("Revoked %(what)s."),
            apply=lambda e, data: services.entitlement_revoke(entitlement=e, actor_user=request.user, reason=data["reason"]),
            help_text=_(
                "Bindery stops handing out and renewing the token. ExpressPlay has no revocation call: a token "
                "already issued stays valid until it expires (at most ENTITLEMENT_TOKEN_LIFETIME, a day by "
                "default), which is why tokens are kept short-lived."
            ),
        )  # fmt: skip

    @admin.action(description=_("Move to another of the customer's devices"), permissions=["move"])
    def move(self, request, queryset):
        def apply(entitlement, data):
            return services.entitlement_move(
                entitlement=entitlement, device=data["device"], actor_user=request.user, reason=data["reason"]
            )

        return run_with_reason(
            self, request, queryset, title=_("Move to another device"), apply=apply, form_class=MoveForm,
            done=_("Moved %(what)s to %(device)s."),
            form_kwargs={"users": {e.user_id for e in queryset}},
            help_text=_("The title is bound to the chosen device and a new token is issued for it."),
        )  # fmt: skip


# --- devices, cookies, events, media ------------------------------------------------------------------------


class DeviceAdmin(ObjectActionsMixin, PermissionActionsMixin, RecordAdmin):
    change_form_template = "admin/binding/device/change_form.html"
    object_actions = ("remove", "refresh", "reset_swaps")

    def object_action_applies(self, obj, name: str) -> bool:
        return name != "remove" or obj.is_active

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

    @admin.display(description=_("device swaps"))
    def swaps(self, obj):
        allowance = services.device_swap_allowance(obj.user)
        return _("%(used)d of %(limit)d used in the last %(days)d days") % {
            "used": allowance.used, "limit": allowance.limit, "days": allowance.period_days,
        }  # fmt: skip

    @admin.display(description=_("entitlements bound here"))
    def entitlements_list(self, obj):
        items = obj.entitlements.select_related("asset")
        rows = ((admin_link(e, f"{e} · {e.get_state_display()}"),) for e in items)
        return format_html_join(mark_safe("<br>"), "{}", rows) or "-"

    @admin.display(description=_("events"))
    def events(self, obj):
        return events_table(obj.events.select_related("actor_user"))

    @admin.action(description=_("Remove the device"), permissions=["remove"])
    def remove(self, request, queryset):
        return run_with_reason(
            self, request, queryset, title=_("Remove devices"), done=_("Removed %(what)s."),
            apply=lambda d, data: services.device_remove(device=d, actor_user=request.user, reason=data["reason"]),
            help_text=_(
                "The device stops counting towards the customer's limit. Titles bound to it are not renewed until "
                "moved to another device. Removals by operators do not use the customer's swap allowance."
            ),
        )  # fmt: skip

    @admin.action(description=_("Refresh from ExpressPlay records"), permissions=["refresh"])
    def refresh(self, request, queryset):
        def apply(device, data):
            summary = services.device_refresh(device=device, actor_user=request.user, reason=data["reason"])
            self.message_user(request, f"{device}: {summary}")

        return run_with_reason(
            self, request, queryset, title=_("Refresh devices from ExpressPlay records"), apply=apply,
            done=_("Refreshed %(what)s from ExpressPlay's records."),
            help_text=_("Asks ExpressPlay's records for each device's registrations and reports what they say."),
        )  # fmt: skip

    @admin.action(description=_("Reset the customer's device swap allowance"), permissions=["reset_swaps"])
    def reset_swaps(self, request, queryset):
        return run_with_reason(
            self, request, queryset.distinct(), title=_("Reset device swap allowance"),
            done=_("Reset the device swap allowance of the owners of %(what)s."),
            apply=lambda d, data: services.device_swaps_reset(user=d.user, actor_user=request.user, reason=data["reason"]),
            help_text=_("The customer may again remove devices or move titles as if none were used this period."),
        )  # fmt: skip


class CookieAdmin(RecordAdmin):
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
        "value", "customer", "state", "device_link", "user_agent", "failure_reason", "expressplay_code",
        "created_at", "updated_at", "expires_at", "events",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("device"))
    def device_link(self, obj):
        return admin_link(obj.device)

    @admin.display(description=_("events"))
    def events(self, obj):
        return events_table(obj.events.select_related("actor_user"))


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _formula_safe(writerow):
    """Wrap csv's writerow so that no text cell starts like a spreadsheet formula (OWASP: prefix a quote).

    Numbers (an ExpressPlay code such as -2019) stay numbers; text that would run as a formula in Excel or
    LibreOffice (=HYPERLINK(...), +cmd, @SUM, a leading tab) is shown as text instead.
    """

    def safe(cell):
        if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
            return "'" + cell
        return cell

    return lambda row: writerow([safe(cell) for cell in row])


def events_csv(events, filename: str) -> HttpResponse:
    """Return the events as a CSV download (ExpressPlay codes with their meaning)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writerow = _formula_safe(csv.writer(response).writerow)
    writerow(["time", "event", "customer", "actor", "by", "cookie", "device_id", "entitlement", "expressplay_code",
                     "code_meaning", "detail"])  # fmt: skip
    for event in events.select_related("user", "actor_user", "cookie", "device"):
        writerow([
            event.created_at.isoformat(), event.kind, event.user.email if event.user else "", event.actor,
            event.actor_user.get_username() if event.actor_user else "", event.cookie.value if event.cookie else "",
            event.device.device_id if event.device else "", event.entitlement_id or "",
            "" if event.expressplay_code is None else event.expressplay_code,
            "" if event.expressplay_code is None else explain(event.expressplay_code).meaning, event.detail,
        ])  # fmt: skip
    return response


class BindingEventAdmin(PermissionActionsMixin, RecordAdmin):
    list_display = ("created_at", "kind", "customer", "actor", "actor_user", "expressplay_code", "detail")
    list_filter = ("kind", "actor", "created_at")
    search_fields = (
        "user__email", "user__username", "cookie__value", "device__device_id", "entitlement__order__number", "detail",
    )  # fmt: skip
    list_select_related = ("user", "actor_user")
    date_hierarchy = "created_at"
    actions = ["export"]

    def has_change_permission(self, request, obj=None):
        return False  # the audit trail is append-only

    @admin.action(description=_("Export as CSV"), permissions=["export"])
    def export(self, request, queryset):
        return events_csv(
            BindingEvent.objects.filter(pk__in=queryset.values("pk")),
            f"bindery-audit-{timezone.now():%Y%m%d-%H%M}.csv",
        )

    def get_urls(self):
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

    def customer_view(self, request, user_id):
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
            "cookies": customer.binding_cookies.select_related("device").order_by("-created_at")[:50],
            "devices": customer.devices.order_by("removed_at", "first_seen"),
            "entitlements": entitlements,
            "events": customer.binding_events.select_related("actor_user", "device", "cookie")[:200],
            "swaps": services.device_swap_allowance(customer),
            "opts": BindingEvent._meta,
            "can_export": self.has_export_permission(request),
        }
        return TemplateResponse(request, "admin/binding/customer.html", context)

    def customer_export(self, request, user_id):
        if not self.has_export_permission(request):
            raise PermissionDenied
        customer = get_object_or_404(User, pk=user_id)
        return events_csv(
            BindingEvent.objects.filter(user=customer), f"bindery-audit-{customer.get_username()}.csv"
        )


class MediaAssetAdmin(HostileInputMixin, admin.ModelAdmin):
    list_display = ("slug", "kid", "duration", "packaged_at")
    search_fields = ("slug", "kid")
    fields = ("slug", "kid", "manifest", "duration", "packaged_at")  # never the content key
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # assets come from the packager (load_demo, add_title), with keys nobody types

    def has_delete_permission(self, request, obj=None):
        return False


class CustomerUserAdmin(HostileInputMixin, UserAdmin):
    """Django's user admin, with a way into each customer's binding overview."""

    list_display = (*UserAdmin.list_display, "overview")

    @admin.display(description=_("Bindery"))
    def overview(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:binding_customer", args=[obj.pk]), _("overview")
        )


admin.site.site_header = _("Bindery operations")
admin.site.site_title = _("Bindery operations")
admin.site.index_title = _("Customers, devices and entitlements")

# --- DRM binding fallbacks and playback sessions (decision 0013) -----------------------------------------------


class DrmFallbackAdmin(HostileInputMixin, admin.ModelAdmin):
    """The DRMs on which ExpressPlay refused device binding, and how their titles are bound instead. An operator
    removes a row (the action below, or Delete) to have ExpressPlay's binding tried again."""

    list_display = ("drm", "mode", "expressplay_code", "detail", "since")
    readonly_fields = list_display
    fields = list_display
    actions = ["try_expressplay_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # the action below says what deleting means
        return actions

    def delete_model(self, request, obj):
        services.drm_fallback_clear(fallback=obj, actor_user=request.user, reason=str(_("deleted in admin")))

    @admin.action(description=_("Try ExpressPlay's device binding again"), permissions=["delete"])
    def try_expressplay_again(self, request, queryset):
        def apply(fallback, data):
            cleared = services.drm_fallback_clear(
                fallback=fallback, actor_user=request.user, reason=data["reason"]
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
            self, request, queryset, title=_("Try ExpressPlay's device binding again"), apply=apply,
            done=_("ExpressPlay's device binding is tried again for %(what)s."),
            help_text=_(
                "ExpressPlay refused device binding on these DRMs, so their titles are bound by Bindery (or not "
                "sold). Do this after ExpressPlay enabled device binding on your account: the next order asks "
                "ExpressPlay to bind again."
            ),
        )  # fmt: skip


class PlaySessionAdmin(RecordAdmin):
    """Playback sessions of titles bound by Bindery: read-only (no licence URL shown)."""

    list_display = (
        "started_at", "customer", "entitlement_link", "device", "live", "last_seen", "ended_at", "end_reason",
        "licence_requests",
    )  # fmt: skip
    list_filter = ("started_at", ("ended_at", admin.EmptyFieldListFilter))
    search_fields = ("entitlement__user__email", "entitlement__user__username", "cookie__value", "id")
    list_select_related = ("entitlement__user", "entitlement__asset", "entitlement__device", "cookie")
    fields = (
        "id", "customer", "entitlement_link", "device", "cookie_link", "started_at", "last_seen", "ended_at",
        "end_reason", "licence_requests", "token_request_outcome",
    )  # fmt: skip
    readonly_fields = fields

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("customer"))
    def customer(self, obj):
        return customer_link(obj.entitlement.user)

    @admin.display(description=_("entitlement"))
    def entitlement_link(self, obj):
        return admin_link(obj.entitlement)

    @admin.display(description=_("device"))
    def device(self, obj):
        return admin_link(obj.entitlement.device)

    @admin.display(description=_("registration"))
    def cookie_link(self, obj):
        return admin_link(obj.cookie)

    @admin.display(description=_("live"), boolean=True)
    def live(self, obj):
        return obj.is_live

    @admin.display(description=_("token request"))
    def token_request_outcome(self, obj):
        request = obj.token_request
        return f"{request.get_outcome_display()} · {request.token_short or '-'}" if request else "-"


admin.site.register(DrmFallback, DrmFallbackAdmin)
admin.site.register(PlaySession, PlaySessionAdmin)
admin.site.register(Entitlement, EntitlementAdmin)
admin.site.register(Device, DeviceAdmin)
admin.site.register(Cookie, CookieAdmin)
admin.site.register(BindingEvent, BindingEventAdmin)
admin.site.register(MediaAsset, MediaAssetAdmin)
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, CustomerUserAdmin)
