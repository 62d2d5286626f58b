"""The operators' picture of the shop over the last day: per hour, how many paid orders became ready at once,
waited (an outage, a slow lookup) or failed, and how long pay-to-ready took (p50, p95). Server-rendered SVG,
no script; two queries whatever the number of orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Min, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from binding.models import EntitlementState, TokenRequestOutcome, TokenRequestPurpose

from .models import Order

HOURS = 24
WAITED_AFTER = timedelta(seconds=60)  # ready later than this after payment: it waited


@dataclass
class Hour:
    start: object
    ready: int = 0
    waited: int = 0
    failed: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.ready + self.waited + self.failed + self.pending


def pay_to_ready(seconds: float | None) -> str:
    """A wait as operators read it: milliseconds under ten seconds, else seconds or minutes."""
    if seconds is None:
        return "\u2013"  # an en dash: no order was ready
    if seconds < 10:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def shop_health(now=None) -> dict:
    """The last HOURS hours of paid orders, bucketed by the hour they were placed in."""
    now = now or timezone.now()
    first_hour = (now - timedelta(hours=HOURS - 1)).replace(minute=0, second=0, microsecond=0)
    hours = [Hour(start=first_hour + timedelta(hours=n)) for n in range(HOURS)]
    issued = Q(
        entitlement__token_requests__outcome=TokenRequestOutcome.ISSUED,
        entitlement__token_requests__purpose=TokenRequestPurpose.ENTITLEMENT,
    )
    rows = (
        Order.objects.filter(created_at__gte=first_hour)
        .annotate(first_token=Min("entitlement__token_requests__answered_at", filter=issued))
        .values_list(
            "created_at",
            "first_token",
            "entitlement__state",
            "entitlement__bound_by",
            "entitlement__updated_at",
        )
    )
    waits: list[float] = []
    for placed, first_token, state, bound_by, updated in rows:
        hour = hours[min(HOURS - 1, int((placed - first_hour).total_seconds() // 3600))]
        ready_at = first_token or (
            updated if bound_by == "bindery" and state != EntitlementState.PENDING else None
        )
        if ready_at is not None:
            waited = ready_at - placed
            waits.append(waited.total_seconds())
            if waited > WAITED_AFTER:
                hour.waited += 1
            else:
                hour.ready += 1
        elif state == EntitlementState.PENDING:
            hour.pending += 1
        else:
            hour.failed += 1
    return {
        "hours": hours,
        "orders": sum(hour.total for hour in hours),
        "failed": sum(hour.failed for hour in hours),
        "waited": sum(hour.waited for hour in hours),
        "pending": sum(hour.pending for hour in hours),
        "p50": _percentile(waits, 0.5),
        "p95": _percentile(waits, 0.95),
        "peak": max([hour.total for hour in hours] + [1]),
    }


CHART_HEIGHT = 120
BAR = 10  # width of one hour's bar, in the chart's own units (the SVG scales to the page)


def _bars(health: dict) -> list[dict]:
    """Each hour's stacked bar: ready (bottom), waited, pending, failed (top), in chart units."""
    scale = CHART_HEIGHT / health["peak"]
    bars = []
    for number, hour in enumerate(health["hours"]):
        y = CHART_HEIGHT
        parts = []
        for name, count in (
            ("ready", hour.ready),
            ("waited", hour.waited),
            ("pending", hour.pending),
            ("failed", hour.failed),
        ):
            height = count * scale
            y -= height
            if count:
                parts.append({"name": name, "y": round(y, 2), "height": round(height, 2), "count": count})
        bars.append({"x": number * (BAR + 2), "hour": hour, "parts": parts})
    return bars


@staff_member_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    health = shop_health()
    return render(
        request,
        "admin/shop_dashboard.html",
        {
            "title": _("Shop health"),
            "health": health,
            "bars": _bars(health),
            "p50": pay_to_ready(health["p50"]),
            "p95": pay_to_ready(health["p95"]),
            "chart_width": HOURS * (BAR + 2),
            "chart_height": CHART_HEIGHT,
            "bar_width": BAR,
        },
    )
