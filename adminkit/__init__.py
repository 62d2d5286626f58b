"""What every admin in Bindery stands on, whichever app it belongs to: the answer to hostile input.

A leaf: it imports Django and nothing of Bindery's, so that every app may build on it, `accounts` (itself a
leaf) included. The rest of the operators' toolkit (links, the reason form, object actions, `RecordAdmin`)
needs binding's models and errors, and lives in `binding.admin.toolkit`, which re-exports this. Decision 0017.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:  # the mixin is always mixed into a ModelAdmin: the checker sees what it builds on
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object

__all__ = ["HostileInputMixin"]

_ID = re.compile(r"[0-9]{1,18}")


class HostileInputMixin(_ModelAdmin):
    """Bad admin input gets a message, never a 500: Django's admin trusts the ids an action posts and the
    values of date filters (`?created_at__year=99999`).

    An id in a URL (`/admin/api/client/abc'%3B/change/`) needs nothing here: Django's admin already answers it
    with "… with ID “abc';” doesn't exist" and the index.
    """

    def response_action(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> HttpResponse | None:
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if any(not self._could_be_pk(value) for value in selected):
            self.message_user(request, _("Those rows cannot be selected."), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        try:
            return super().get_changelist_instance(request)
        except (ValueError, OverflowError) as exc:  # Django answers IncorrectLookupParameters with ?e=1
            raise IncorrectLookupParameters(str(exc)) from exc

    def _could_be_pk(self, value: str) -> bool:
        """Whether `value` could be a primary key of this admin's model (whether such a row exists or not)."""
        field = self.model._meta.pk
        while field.is_relation:  # a one-to-one primary key: the key it points to
            field = field.target_field
        if isinstance(field, models.IntegerField):  # AutoField and BigAutoField too
            # ASCII digits only (int() also takes "١٢"), and no more of them than a bigint holds.
            return _ID.fullmatch(value) is not None
        if "\x00" in value:  # PostgreSQL refuses NUL in text
            return False
        try:
            field.to_python(value)
        except ValidationError:
            return False
        return True
