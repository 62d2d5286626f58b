"""Reads for the operator's view of the service: orders delayed by an ExpressPlay outage, and the sweep's
last run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from ..models import (
    Entitlement,
    EntitlementState,
    Heartbeat,
)

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class Outage:
    """Paid orders whose licence is delayed because ExpressPlay cannot be reached, and since when."""

    delayed: int
    since: datetime | None
    reason: str


def expressplay_outage() -> Outage:
    """Return how many pending entitlements are delayed by ExpressPlay being unreachable, the oldest delay's
    start and the newest reason. Two queries, whatever the count."""
    delayed = Entitlement.objects.filter(state=EntitlementState.PENDING, delayed_since__isnull=False)
    summary = delayed.aggregate(count=Count("pk"), since=Min("delayed_since"))
    reason = delayed.order_by("-delayed_since").values_list("delay_reason", flat=True).first() or ""
    return Outage(summary["count"], summary["since"], reason)


@dataclass(frozen=True)
class SweepState:
    """When the sweep last finished (None: never), and whether that is too long ago: beat, or the worker
    that runs the sweep, has stopped, so nothing a lost message stranded is queued again."""

    finished_at: datetime | None
    stale: bool


def sweep_state(now: datetime | None = None) -> SweepState:
    """Return the sweep's heartbeat, stale when older than BINDING_SWEEP_STALE_AFTER seconds (one query)."""
    finished_at = Heartbeat.objects.filter(name=Heartbeat.SWEEP).values_list("finished_at", flat=True).first()
    limit = (now or timezone.now()) - timedelta(seconds=settings.BINDING_SWEEP_STALE_AFTER)
    return SweepState(finished_at=finished_at, stale=finished_at is None or finished_at < limit)
