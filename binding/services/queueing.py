"""Hand work to the Celery queue after the transaction that made it due commits; never lose it doing so.

Every change of state that needs a worker calls `queue_after_commit` in the same transaction, and nothing
else in Bindery queues binding work. The row itself says that work is due (an entitlement `pending`, a
registration `licence_seen`) and when it was last queued (`queued_at`); the queue is only a hint. When the
broker cannot take the message, the row's `queued_at` is cleared so that the sweep queues it again as soon
as the broker is back, and the caller (a checkout, a renewal, a move) succeeds all the same.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

if TYPE_CHECKING:
    from celery import Task

    from ..models import Entitlement, Registration

logger = logging.getLogger(__name__)

# Task name → the model whose rows it works on (the row's queued_at is what the sweep reads).
ENTITLEMENT_ISSUE = "binding.entitlement_issue"
DEVICE_CONFIRM = "binding.device_confirm"


def queue_after_commit(task_name: str, *, model: type[Entitlement] | type[Registration], pk: int) -> None:
    """Queue `task_name(pk)` once the current transaction commits (at once outside one).

    The caller sets `queued_at` on the row in its own transaction; this never raises for a broker failure.
    """
    transaction.on_commit(partial(_send, task_name, model, pk))


def _task(task_name: str) -> Task[[int], str]:
    from binding import tasks  # tasks import the services: bound late

    by_name: dict[str, Task[[int], str]] = {
        ENTITLEMENT_ISSUE: tasks.entitlement_issue,
        DEVICE_CONFIRM: tasks.device_confirm,
    }
    return by_name[task_name]


def _send(task_name: str, model: type[Entitlement] | type[Registration], pk: int) -> None:
    try:
        # Both wait on ExpressPlay: their own queue, served by an I/O worker (CELERY_EXPRESSPLAY_QUEUE).
        _task(task_name).apply_async(args=(pk,), queue=settings.CELERY_EXPRESSPLAY_QUEUE)
    except Exception as exc:  # any broker failure at all: the sweep re-queues from the database
        logger.warning(
            "Could not queue %s for %s %s (%s: %s); the sweep will queue it once the broker is back.",
            task_name,
            model._meta.label,
            pk,
            type(exc).__name__,
            exc,
        )
        model.objects.filter(pk=pk).update(queued_at=None)


def due_again(model: type[Entitlement] | type[Registration], pk: int, *, countdown: float) -> None:
    """Record that the row's task waits `countdown` seconds before its next run (a retry), so the sweep
    does not treat the wait as lost work."""
    model.objects.filter(pk=pk).update(queued_at=timezone.now() + timedelta(seconds=countdown))
