"""The operators' admin toolkit: what every ModelAdmin in Bindery builds on.

The rule: every ModelAdmin in the project builds on `RecordAdmin` (rows only Bindery's services write) or at
least on `HostileInputMixin` (everything else), so that no admin page answers bad input with a 500.
tests/binding/test_admin.py holds every registered admin to it; the admin site (bindery/admin.py) mixes
`HostileInputMixin` into an admin that a library registers without it.

- `HostileInputMixin` (from the leaf `adminkit`, so that `accounts` may use it too): ids an action posts
  that no row could have, and date filters no database can hold, get a message instead of a 500.
- `RecordAdmin`: no add or delete in admin, a link to the customer's overview.
- `ObjectActionsMixin`: the list's actions also as buttons on each object's page.
- `PermissionActionsMixin`: `has_<name>_permission` for binding's custom permissions, for
  `@admin.action(permissions=[...])`.
- `run_with_reason` (with `ReasonForm` and `what_was_done`): how every action that changes a customer's
  binding asks for a reason, calls a service per object, and says what it did, naming the objects.
- `admin_link`, `customer_link`, `events_table`: links to an object's page and to a customer's overview,
  and an object's audit trail as a table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from adminkit import HostileInputMixin

from ..exceptions import BindingError

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models.options import Options
    from django_stubs_ext import StrOrPromise

    from ..models import BindingEvent

    # The mixins below are always mixed into a ModelAdmin: the checker sees what they build on.
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object

_M = TypeVar("_M", bound=models.Model)
# What an admin action is: Django calls it with the admin, the request and the selected rows.
Action = Callable[[Any, HttpRequest, "models.QuerySet[Any]"], HttpResponseBase | None]

__all__ = [
    "Action",
    "HostileInputMixin",
    "ObjectActionsMixin",
    "PermissionActionsMixin",
    "ReasonForm",
    "RecordAdmin",
    "admin_link",
    "customer_link",
    "events_table",
    "operator",
    "run_with_reason",
    "what_was_done",
]


def operator(request: HttpRequest) -> User:
    """Return the operator who sent `request` to an admin page, as the services' `actor_user`."""
    # Every admin page is behind admin_site.admin_view, which lets in only signed-in staff: never AnonymousUser.
    return cast("User", request.user)


def admin_link(obj: models.Model | None, text: str | None = None) -> str:
    """Return a link to `obj`'s admin page, or a dash."""
    if obj is None:
        return "-"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else str(obj))


def customer_link(user: User | None) -> str:
    """Return a link to the customer overview (all of one user's binding data on one page)."""
    if user is None:
        return "-"
    label = user.email or user.get_username()
    return format_html('<a href="{}">{}</a>', reverse("admin:binding_customer", args=[user.pk]), label)


def events_table(events: models.QuerySet[BindingEvent]) -> str:
    """Return the newest 50 of `events` (BindingEvents) as the audit trail's table."""
    return render_to_string("admin/binding/_events.html", {"events": list(events[:50])})


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Kept in the audit trail with your name."),
    )


def what_was_done(opts: Options[Any], objects: Sequence[models.Model]) -> str:
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
    modeladmin: admin.ModelAdmin[_M],
    request: HttpRequest,
    queryset: models.QuerySet[_M],
    *,
    title: StrOrPromise,
    help_text: StrOrPromise,
    apply: Callable[[_M, dict[str, Any]], object],
    done: StrOrPromise,
    form_class: type[ReasonForm] = ReasonForm,
    form_kwargs: dict[str, Any] | None = None,
) -> TemplateResponse | None:
    """Ask for a reason on an intermediate page, then call apply(obj, cleaned_data) for each selected object.

    `done` says what was done, with "%(what)s" for the objects it was done to ("Retried issuing for
    %(what)s."), and "%(device)s" etc. for the form's fields: the confirmation names them, never "1 done.".
    """
    form = form_class(request.POST if "apply" in request.POST else None, **(form_kwargs or {}))
    if "apply" in request.POST and form.is_valid():
        acted: list[_M] = []
        refused: list[str] = []
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


def _cancel_url(modeladmin: admin.ModelAdmin[Any], request: HttpRequest) -> str:
    """Where Cancel goes: the object's page for an action started there, else the list."""
    opts = modeladmin.model._meta
    match = request.resolver_match
    if match is not None and match.url_name == f"{opts.app_label}_{opts.model_name}_object_action":
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[match.kwargs["object_id"]])
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


class ObjectActionsMixin(_ModelAdmin):
    """The list page's actions also as buttons on each object's own page: the same action, the same services,
    the same reason form (its URL is the object's), and back to the object's page when done."""

    object_actions: tuple[str, ...] = ()

    def object_action_applies(self, obj: Any, name: str) -> bool:
        """Whether the action `name` can do anything to `obj` (a button is shown only then)."""
        return True

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        return [
            path(
                "<path:object_id>/actions/<str:action>/",
                self.admin_site.admin_view(self.object_action_view),
                name=f"{opts.app_label}_{opts.model_name}_object_action",
            ),
            *super().get_urls(),
        ]

    def _actions(self, request: HttpRequest) -> dict[str, tuple[Action, str, str]]:
        # django-stubs type get_actions' values as optional and their functions as returning str; Django's are
        # always (the action, its name, its description).
        return cast("dict[str, tuple[Action, str, str]]", self.get_actions(request))

    def object_action_buttons(self, request: HttpRequest, obj: models.Model | None) -> list[dict[str, str]]:
        if obj is None:
            return []
        opts, allowed = self.model._meta, self._actions(request)
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

    def object_action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponseBase:
        """POST: run list action `action` on this one object (its reason form first); then back to its page."""
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        allowed = self._actions(request)
        if action not in self.object_actions or action not in allowed:
            raise PermissionDenied
        opts = self.model._meta
        back = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        if request.method != "POST":
            return HttpResponseRedirect(back)
        function = allowed[action][0]
        response = function(self, request, self.get_queryset(request).filter(pk=obj.pk))
        return response if response is not None else HttpResponseRedirect(back)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        extra = {"object_actions": self.object_action_buttons(request, obj)}
        return super().change_view(
            request, object_id, form_url, extra_context={**(extra_context or {}), **extra}
        )


class PermissionActionsMixin:
    """`has_<name>_permission` for the custom permissions the actions require."""

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("binding.retry_entitlement")

    def has_reissue_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("binding.reissue_entitlement")

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("binding.revoke_entitlement")

    def has_move_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("binding.move_entitlement")

    def has_remove_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("binding.remove_device")

    def has_refresh_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("binding.refresh_device")

    def has_reset_swaps_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("binding.reset_device_swaps")

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("binding.export_bindingevent")


class RecordAdmin(HostileInputMixin, admin.ModelAdmin[_M]):
    """Rows that only Bindery's services create: no add or delete in admin, and a link to the customer."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False

    @admin.display(description=_("customer"), ordering="user__email")
    def customer(self, obj: Any) -> str:  # Any: the record models share no base, only that `user` field
        return customer_link(obj.user)
