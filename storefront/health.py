"""The health endpoint (django-health-check) for a load balancer and for operators.

Database, Redis (the broker), a Celery worker answering, the sweep having run lately (Celery beat is alive),
and ExpressPlay (or the sandbox) accepting our credentials. Every check has a short timeout; none shows a
secret.
"""

from __future__ import annotations

import dataclasses
import datetime
import time

import celery
from asgiref.sync import sync_to_async
from celery.app import app_or_default
from django.conf import settings
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.contrib.celery import Ping
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView
from redis.asyncio import Redis as RedisClient

from binding import selectors as binding_selectors
from binding import services as binding_services
from binding.expressplay import client_from_settings

# A load balancer polls often; ExpressPlay's record retrieval is meant for troubleshooting, so one real call
# answers for HEALTH_EXPRESSPLAY_CACHE seconds (per web process).
_last_report: tuple[float, binding_services.ConnectionReport] | None = None


@dataclasses.dataclass
class ExpressPlay(HealthCheck):
    """ExpressPlay (or the sandbox) answers one authenticated record lookup."""

    timeout = datetime.timedelta(seconds=3)

    def run(self):
        global _last_report
        now = time.monotonic()
        if _last_report is not None and now - _last_report[0] < settings.HEALTH_EXPRESSPLAY_CACHE:
            report = _last_report[1]
        else:
            client = client_from_settings(timeout=self.timeout.total_seconds())
            report = binding_services.expressplay_connection_check(client=client)
            _last_report = (now, report)
        if not report.ok:
            code = f" (code {report.error_code})" if report.error_code is not None else ""
            outage = binding_selectors.expressplay_outage()
            delayed = (
                f"; {outage.delayed} paid orders delayed since {outage.since:%H:%M} UTC"
                if outage.delayed
                else ""
            )
            raise ServiceUnavailable(f"{report.environment}: {report.meaning}{code}{delayed}")


@dataclasses.dataclass
class CeleryWorkers(Ping):
    """Workers answer a ping and between them consume both queues, the default one and the ExpressPlay one
    (named without the app's memory address)."""

    app: celery.Celery = dataclasses.field(default_factory=app_or_default, repr=False)

    def check_active_queues(self, *active_workers):
        wanted = {self.app.conf.task_default_queue, settings.CELERY_EXPRESSPLAY_QUEUE}
        active = {
            queue.get("name")
            for queues in (self.app.control.inspect(active_workers).active_queues() or {}).values()
            for queue in queues
        }
        for queue in sorted(wanted - active):
            raise ServiceUnavailable(f"No worker for Celery task queue {queue}")


@dataclasses.dataclass
class Sweep(HealthCheck):
    """The sweep (binding.work_sweep) finished within BINDING_SWEEP_STALE_AFTER seconds: Celery beat runs it,
    and a worker takes the default queue. Without it, work a lost message stranded waits for ever."""

    async def run(self):
        # In the request's own thread (thread-sensitive), with its connection: the check executor's threads
        # would each keep a connection of their own, never closed nor health-checked.
        state = await sync_to_async(binding_selectors.sweep_state)()
        if state.finished_at is None:
            raise ServiceUnavailable("The sweep has never run: is Celery beat running?")
        if state.stale:
            ago = int((timezone.now() - state.finished_at).total_seconds())
            raise ServiceUnavailable(
                f"The sweep last finished {ago} s ago (more than {settings.BINDING_SWEEP_STALE_AFTER} s): "
                "is Celery beat running?"
            )


def _redis_client() -> RedisClient:
    return RedisClient.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


class LivenessView(HealthCheckView):
    """For a load balancer: this web node can serve (its database answers). Redis, the workers and ExpressPlay
    being away must not take the shop out of rotation: checkout keeps working without them."""

    checks = (Database,)


class BinderyHealthView(HealthCheckView):
    """For operators and monitoring: every part, 500 when one is away."""

    checks = (
        Database,
        (Redis, {"client_factory": _redis_client}),
        (CeleryWorkers, {"timeout": datetime.timedelta(seconds=2)}),
        Sweep,
        ExpressPlay,
    )
