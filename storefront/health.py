"""The health endpoint (django-health-check) for monitoring and operators, and the liveness one for a load
balancer.

Database, Redis (the broker), a Celery worker answering, the sweep having run lately (Celery beat is alive),
and ExpressPlay (or the sandbox) accepting our credentials; and, never failing, the DRMs on which ExpressPlay
refused device binding (bound by their fallback instead). Every check has a short timeout; none shows a
secret. One run of every check takes seconds (the worker ping waits its whole timeout for replies), so one run
answers every request for HEALTH_CACHE seconds, and anyone may ask: anonymous callers hear only the overall
status, staff and holders of HEALTH_TOKEN the details (which name hosts and ports).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import datetime
import hmac
import threading
import time
from collections.abc import Awaitable, Callable

import celery
from asgiref.sync import sync_to_async
from celery.app import app_or_default
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from health_check.base import HealthCheck, HealthCheckResult
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
    """Workers answer a ping and between them consume every queue: the default one, the ExpressPlay one and the
    webhooks one (named without the app's memory address)."""

    app: celery.Celery = dataclasses.field(default_factory=app_or_default, repr=False)

    def check_active_queues(self, *active_workers):
        wanted = {
            self.app.conf.task_default_queue,
            settings.CELERY_EXPRESSPLAY_QUEUE,
            settings.CELERY_WEBHOOKS_QUEUE,
        }
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


@dataclasses.dataclass
class DrmBinding(HealthCheck):
    """Where ExpressPlay refused device binding (-7002 Widevine, -6008 FairPlay), the DRMs now bound by their
    fallback. A fallback is a working state, so this check never fails: it names them (`fallen_back`, in the
    check's name in every format), for monitoring to see and an operator to act on (admin, DRM binding
    fallbacks)."""

    fallen_back: str = "none"

    async def run(self):
        fallbacks = await sync_to_async(binding_services.drm_fallbacks)()
        self.fallen_back = (
            "; ".join(
                f"{fallback.get_drm_display()} bound {fallback.mode} since {fallback.since:%Y-%m-%d %H:%M} UTC "
                f"(ExpressPlay {fallback.expressplay_code})"
                for fallback in fallbacks
            )
            or "none"
        )


def _redis_client() -> RedisClient:
    return RedisClient.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


class LivenessView(HealthCheckView):
    """For a load balancer: this web node can serve (its database answers). Redis, the workers and ExpressPlay
    being away must not take the shop out of rotation: checkout keeps working without them."""

    checks = (Database,)


class ResultCache:
    """The newest results of one run of the checks, shared by every request of this process.

    A fresh result (younger than HEALTH_CACHE seconds) answers at once. A stale one starts one run; requests
    meanwhile get the stale result at once rather than wait seconds behind it (only the very first run, with
    nothing to show yet, is waited for). So a burst of requests costs one run per period, not one each.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # requests run on threads of their own, each with its own event loop
        self._done: tuple[float, list[HealthCheckResult]] | None = None
        self._running: concurrent.futures.Future | None = None

    def clear(self) -> None:
        with self._lock:
            self._done = None

    async def results(self, run: Callable[[], Awaitable[list[HealthCheckResult]]]) -> list[HealthCheckResult]:
        """Return the newest results, running the checks with `run` when they are older than HEALTH_CACHE."""
        with self._lock:
            done = self._done
            if done is not None and time.monotonic() - done[0] < settings.HEALTH_CACHE:
                return done[1]
            running = self._running
            if running is None:
                running = self._running = concurrent.futures.Future()
                running.set_running_or_notify_cancel()  # a waiter that goes away cannot cancel it for others
                mine = True
            else:
                mine = False
        if not mine:
            return done[1] if done is not None else await asyncio.wrap_future(running)
        try:
            results = await run()
        except BaseException as exc:
            with self._lock:
                self._running = None
            running.set_exception(exc)
            raise
        with self._lock:
            self._done, self._running = (time.monotonic(), results), None
        running.set_result(results)
        return results


results_cache = ResultCache()


@dataclasses.dataclass
class _Reported:
    """A check's result from the cache, handed to django-health-check's renderers as if it had just run."""

    result: HealthCheckResult

    async def get_result(self, executor=None) -> HealthCheckResult:
        return self.result


def _holds_health_token(request: HttpRequest) -> bool:
    token = settings.HEALTH_TOKEN
    if not token:
        return False
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    given = bearer.strip() if scheme.lower() == "bearer" else request.GET.get("token", "")
    return hmac.compare_digest(given.encode(), token.encode())


class BinderyHealthView(HealthCheckView):
    """For operators and monitoring: every part, 500 when one is away. Anonymous callers get the status
    only (`{"status": "ok"}`); staff and HEALTH_TOKEN holders get each check, in any of the formats."""

    checks = (
        Database,
        (Redis, {"client_factory": _redis_client}),
        (CeleryWorkers, {"timeout": datetime.timedelta(seconds=2)}),
        Sweep,
        ExpressPlay,
        DrmBinding,
    )

    async def get(self, request, *args, **kwargs):
        self.cached = await results_cache.results(self._run_checks)
        if not (_holds_health_token(request) or (await request.auser()).is_staff):
            healthy = not any(result.error for result in self.cached)
            return JsonResponse({"status": "ok" if healthy else "error"}, status=200 if healthy else 500)
        return await super().get(request, *args, **kwargs)

    async def _run_checks(self) -> list[HealthCheckResult]:
        checks = list(super().get_checks())
        with self.get_executor() as executor:
            return list(await asyncio.gather(*(check.get_result(executor) for check in checks)))

    def get_checks(self):
        """The cached results, for django-health-check's get() to render."""
        return [_Reported(result) for result in self.cached]
