"""The audit trail as a CSV download, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.functional import Promise

from ..expressplay import explain
from ..models import BindingEvent


def _code_meaning(event: BindingEvent) -> str | Promise:
    return "" if event.expressplay_code is None else explain(event.expressplay_code).meaning


# One column per row: its header, and how an event gives its cell.
_COLUMNS: tuple[tuple[str, Callable[[BindingEvent], object]], ...] = (
    ("time", lambda event: event.created_at.isoformat()),
    ("event", lambda event: event.kind),
    ("customer", lambda event: event.user.email if event.user else ""),
    ("actor", lambda event: event.actor),
    ("by", lambda event: event.actor_user.get_username() if event.actor_user else ""),
    ("cookie", lambda event: event.cookie.value if event.cookie else ""),
    ("device_id", lambda event: event.device.device_id if event.device else ""),
    ("entitlement", lambda event: event.entitlement_id or ""),
    ("expressplay_code", lambda event: "" if event.expressplay_code is None else event.expressplay_code),
    ("code_meaning", _code_meaning),
    ("detail", lambda event: event.detail),
)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _formula_safe(writerow: Callable[[list[Any]], object]) -> Callable[[list[Any]], object]:
    """Wrap csv's writerow so that no text cell starts like a spreadsheet formula (OWASP: prefix a quote).

    Numbers (an ExpressPlay code such as -2019) stay numbers; text that would run as a formula in Excel or
    LibreOffice (=HYPERLINK(...), +cmd, @SUM, a leading tab) is shown as text instead.
    """

    def safe(cell: object) -> object:
        if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
            return "'" + cell
        return cell

    return lambda row: writerow([safe(cell) for cell in row])


def events_csv(events: QuerySet[BindingEvent], filename: str) -> HttpResponse:
    """Return the events as a CSV download (ExpressPlay codes with their meaning)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writerow = _formula_safe(csv.writer(response).writerow)
    writerow([header for header, _cell in _COLUMNS])
    for event in events.select_related("user", "actor_user", "cookie", "device"):
        writerow([cell(event) for _header, cell in _COLUMNS])
    return response
