"""Celery tasks of the binding app: thin wrappers that take ids, call one service, and own retries.

Tasks are queued only by `binding.services` (after commit, through `queue_after_commit`) and found again by
the sweep when a message is lost, so each may run more than once: every one is idempotent.
"""

import random
from typing import Any

from celery import Task, shared_task
from django.conf import settings

from . import services
from .exceptions import RecordNotYetAvailable
from .expressplay import ExpressPlayTimeout, ExpressPlayTransportError


def backoff(retries: int, *, base: float = 0.5, cap: float = 30.0) -> float:
    """Return the delay before retry number `retries` + 1: exponential, capped, with full jitter."""
    return random.uniform(0, min(cap, base * 2**retries))  # noqa: S311 - jitter, not cryptography


@shared_task(bind=True, name="binding.device_confirm", max_retries=None, ignore_result=True)
def device_confirm(self: Task[[int], str], cookie_id: int) -> str:
    """Find the cookie's device id in ExpressPlay's records and bind it; retry while it is not there yet."""
    try:
        device = services.device_confirm(cookie_id=cookie_id)
    except (RecordNotYetAvailable, ExpressPlayTransportError) as exc:
        if self.request.retries >= settings.BINDING_RECORD_LOOKUP_RETRIES:
            services.device_confirm_gave_up(
                cookie_id=cookie_id, reason=f"gave up after {self.request.retries} retries: {exc}"
            )
            return "gave-up"
        countdown = backoff(self.request.retries)
        services.device_confirm_retry_later(cookie_id=cookie_id, countdown=countdown)
        raise self.retry(exc=exc, countdown=countdown) from exc
    return "bound" if device else "not-bound"


@shared_task(name="binding.work_sweep", ignore_result=True)
def work_sweep() -> dict[str, Any]:
    """Queue again the work a lost message stranded; expire what is over (run by beat)."""
    return services.work_sweep().as_dict()


@shared_task(name="binding.expressplay_connection_check", ignore_result=False)
def expressplay_connection_check() -> dict[str, Any]:
    """Check from a worker that ExpressPlay accepts our credentials; return the report as a dict."""
    return services.expressplay_connection_check().as_dict()


@shared_task(bind=True, name="binding.entitlement_issue", max_retries=None, ignore_result=True)
def entitlement_issue(self: Task[[int], str], entitlement_id: int) -> str:
    """Issue the device-bound token of an entitlement; retry timeouts, 5xx and missing records with capped
    backoff for as long as BINDING_OUTAGE_PATIENCE allows (an outage delays a paid order, it does not fail it)."""
    # One claim id per run (the Celery id, and which retry this is): a redelivered copy of an earlier
    # message carries the same Celery id but not the same run, so it cannot share the claim.
    message_id = self.request.id or f"local-{entitlement_id}"
    task_id = f"{message_id}:{self.request.retries}"
    try:
        entitlement = services.entitlement_issue(entitlement_id=entitlement_id, task_id=task_id)
    except (RecordNotYetAvailable, ExpressPlayTransportError) as exc:
        countdown = backoff(self.request.retries, cap=settings.BINDING_RETRY_CAP)
        delayed = services.entitlement_retry_later(
            entitlement_id=entitlement_id,
            task_id=task_id,
            next_task_id=f"{message_id}:{self.request.retries + 1}",
            countdown=countdown,
            reason=_outage_reason(exc),
        )
        if not delayed:  # patience used up (BINDING_OUTAGE_PATIENCE): fail it, explained
            services.entitlement_give_up(
                entitlement_id=entitlement_id,
                task_id=task_id,
                reason=f"ExpressPlay could not be reached for {settings.BINDING_OUTAGE_PATIENCE // 60} minutes: {exc}",
            )
            return "gave-up"
        raise self.retry(exc=exc, countdown=countdown) from exc
    return entitlement.state


def _outage_reason(exc: Exception) -> str:
    """Why an issue waits, in an operator's words: short, and without the request's address."""
    if isinstance(exc, RecordNotYetAvailable):
        return "ExpressPlay's records do not show the device yet"
    if isinstance(exc, ExpressPlayTimeout):
        return "ExpressPlay did not answer in time"
    status = getattr(exc, "status", None)
    if status is not None:
        return f"ExpressPlay answered HTTP {status}"
    return "ExpressPlay could not be reached (no connection)"
