"""The sweep: find again, from the database, every piece of work a lost message could have stranded.

Celery beat runs it every BINDING_SWEEP_INTERVAL seconds. The queue may lose a message (a broker restart
without persistence, a publish while the broker was away, a worker killed holding it); the rows do not.
The entitlement claim (a conditional UPDATE with a lease) keeps a re-queued issue to one token, however
many copies of its message exist.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from ..models import Entitlement, EntitlementState, Heartbeat, Registration, RegistrationState
from .entitlements import entitlements_expire_ended
from .heartbeats import heartbeat_record
from .issuing import entitlement_retry_automatically
from .queueing import DEVICE_CONFIRM, ENTITLEMENT_ISSUE, queue_after_commit
from .registrations import registrations_expire_stale

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepReport:
    entitlements_requeued: int
    lookups_requeued: int
    registrations_expired: int
    rentals_expired: int
    failures_retried: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _due(now: datetime) -> Q:
    """Never queued (the broker was away), or queued (or due after a retry's wait) long enough ago."""
    return Q(queued_at__isnull=True) | Q(
        queued_at__lt=now - timedelta(seconds=settings.BINDING_REQUEUE_AFTER)
    )


def _requeue(queryset: QuerySet[Entitlement] | QuerySet[Registration], task_name: str, now: datetime) -> int:
    """Queue the rows of `queryset` again, never-queued ones first, at most BINDING_SWEEP_BATCH; return how many."""
    order = (F("queued_at").asc(nulls_first=True), "pk")
    ids = list(queryset.order_by(*order).values_list("pk", flat=True)[: settings.BINDING_SWEEP_BATCH])
    queued = 0
    for pk in ids:
        # Mark first, each row only if it is still due: a sweep running at the same time, or a worker that
        # claimed it meanwhile, leaves it alone.
        if queryset.filter(pk=pk).update(queued_at=now):
            queue_after_commit(task_name, model=queryset.model, pk=pk)
            queued += 1
    return queued


def queue_backlog(queue: str) -> int:
    """Return how many messages wait in `queue` (0 when the broker cannot say)."""
    from celery import current_app

    try:
        with current_app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)  # never wait long
            # kombu's channels are untyped at this depth: a Redis channel answers queue_declare.
            declared = connection.default_channel.queue_declare(queue=queue, passive=True)  # type: ignore[attr-defined]
            return int(declared.message_count)
    except Exception as exc:  # the broker away or the queue not declared yet: nothing known to wait
        logger.debug("Queue %s length unknown (%s)", queue, exc)  # also: nothing ever queued there yet
        return 0


def work_sweep(*, now: datetime | None = None) -> SweepReport:
    """Queue again every pending issue without a live claim and every registration lookup that waits too
    long; retry failures whose automatic retry is due (ExpressPlay was unreachable); expire stale
    registrations and ended rentals. Return what it did."""
    now = now or timezone.now()
    registrations_expired = registrations_expire_stale(now=now)
    rentals_expired = entitlements_expire_ended(now=now)
    stranded = Entitlement.objects.filter(state=EntitlementState.PENDING).filter(
        Q(issuing_task="") | Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    due = _due(now)
    if queue_backlog(settings.CELERY_EXPRESSPLAY_QUEUE):
        # Messages are still waiting (a premiere's backlog): a row queued a while ago is most likely among
        # them. Queue again only what is known not to be queued, or whose worker died holding it.
        due = Q(queued_at__isnull=True) | (~Q(issuing_task="") & Q(claimed_until__lt=now))
    entitlements = _requeue(stranded.filter(due), ENTITLEMENT_ISSUE, now)
    lookups = Registration.objects.filter(state=RegistrationState.LICENCE_SEEN, expires_at__gt=now).filter(
        _due(now)
    )
    lookups_requeued = _requeue(lookups, DEVICE_CONFIRM, now)
    retry_due = Entitlement.objects.filter(state=EntitlementState.FAILED, retry_at__lte=now).order_by(
        "retry_at"
    )
    retried = sum(
        entitlement_retry_automatically(entitlement_id=pk)
        for pk in retry_due.values_list("pk", flat=True)[: settings.BINDING_SWEEP_BATCH]
    )
    report = SweepReport(entitlements, lookups_requeued, registrations_expired, rentals_expired, retried)
    if entitlements or lookups_requeued:
        logger.warning(
            "Sweep queued again %s entitlement issues and %s device lookups", entitlements, lookups_requeued
        )
    heartbeat_record(name=Heartbeat.SWEEP)
    return report
