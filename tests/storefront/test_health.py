"""The health endpoint names each part and answers 500 when one is down."""

import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from asgiref.sync import async_to_sync
from django.db import connections
from django.utils import timezone
from health_check.exceptions import ServiceUnavailable

from binding import services as binding_services
from binding.models import Heartbeat
from storefront.health import Sweep

pytestmark = pytest.mark.django_db(transaction=True)


def test_health_reports_database_redis_worker_sweep_and_expressplay(redis_url, settings, live_server):
    settings.HEALTH_EXPRESSPLAY_CACHE = 0
    settings.REDIS_URL = redis_url
    settings.EXPRESSPLAY_SANDBOX_URL = f"{live_server.url}/sandbox"
    binding_services.heartbeat_record(name=Heartbeat.SWEEP)
    response = requests.get(f"{live_server.url}/health/?format=json", timeout=20)
    report = response.json()
    assert len(report) == 5
    checks = " ".join(report)
    assert (
        "Database" in checks and "Redis" in checks and "CeleryWorkers" in checks and "ExpressPlay" in checks
    )
    assert report["Sweep()"] == "OK"
    assert all(value == "OK" for name, value in report.items() if "CeleryWorkers" not in name), report
    # Usually no worker runs during this test: the load balancer hears about it.
    ping = next(value for name, value in report.items() if "CeleryWorkers" in name)
    assert response.status_code == (200 if ping == "OK" else 500)
    assert settings.EXPRESSPLAY_CUSTOMER_AUTHENTICATOR not in response.text


def test_health_says_which_part_is_down(settings, live_server):
    settings.HEALTH_EXPRESSPLAY_CACHE = 0
    settings.EXPRESSPLAY_SANDBOX_URL = "http://127.0.0.1:9/sandbox"
    report = requests.get(f"{live_server.url}/health/?format=json", timeout=20).json()
    expressplay = next(value for name, value in report.items() if "ExpressPlay" in name)
    assert expressplay != "OK" and "sandbox" in expressplay


def test_the_load_balancer_check_asks_only_the_database(live_server, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # Redis away: the shop still serves
    settings.EXPRESSPLAY_SANDBOX_URL = "http://127.0.0.1:9/sandbox"
    response = requests.get(f"{live_server.url}/health/live/?format=json", timeout=20)
    assert response.status_code == 200 and list(response.json()) == ["Database(alias='default')"]


def test_the_worker_check_wants_both_queues_consumed(celery_worker, settings):
    from storefront.health import CeleryWorkers

    settings.CELERY_EXPRESSPLAY_QUEUE = "nobody-reads-this-queue"
    # The in-process worker may not answer its first ping on a busy machine: wait until it does (10 s at most).
    deadline = time.monotonic() + 10
    while True:
        try:
            CeleryWorkers().run()
        except Exception as exc:
            if "workers unavailable" in str(exc) and time.monotonic() < deadline:
                continue
            assert "No worker for Celery task queue nobody-reads-this-queue" in str(exc)
            return
        pytest.fail("the check passed with a queue nobody consumes")


def sweep_check():
    """Run the sweep check as the health view does, from sync code; return its error or None. In a thread of its
    own: the browser tests' Playwright keeps an event loop in this one for the whole session."""

    def run():
        try:
            async_to_sync(Sweep().run)()
        except ServiceUnavailable as exc:
            return str(exc)
        finally:
            connections.close_all()  # this thread's own
        return None

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def test_the_sweep_check_passes_after_a_recent_sweep_and_fails_once_it_is_stale(settings):
    settings.BINDING_SWEEP_STALE_AFTER = 60
    assert sweep_check() == "Unavailable: The sweep has never run: is Celery beat running?"
    binding_services.heartbeat_record(name=Heartbeat.SWEEP)
    assert sweep_check() is None
    Heartbeat.objects.update(finished_at=timezone.now() - timedelta(seconds=61))
    assert re.fullmatch(
        r"Unavailable: The sweep last finished 6\d s ago \(more than 60 s\): is Celery beat running\?",
        sweep_check(),
    )


def test_health_fails_when_beat_has_stopped(live_server, settings):
    settings.EXPRESSPLAY_SANDBOX_URL = "http://127.0.0.1:9/sandbox"
    Heartbeat.objects.create(
        name=Heartbeat.SWEEP,
        finished_at=timezone.now() - timedelta(seconds=settings.BINDING_SWEEP_STALE_AFTER + 5),
    )
    response = requests.get(f"{live_server.url}/health/?format=json", timeout=20)
    assert response.status_code == 500
    assert "is Celery beat running?" in response.json()["Sweep()"]
