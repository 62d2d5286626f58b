"""The health endpoint names each part to staff and to holders of its token, tells anyone else only whether
all is well, answers 500 when a part is down, and runs its checks once per HEALTH_CACHE seconds however many
ask."""

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client
from django.utils import timezone
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable

from binding import services as binding_services
from binding.models import Heartbeat
from storefront import health
from storefront.health import Sweep

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "monitoring-token-for-tests"
DETAILS = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def health_settings(settings):
    """Every test runs the checks afresh (no result kept from another test) and knows the token."""
    settings.HEALTH_CACHE = 0
    settings.HEALTH_TOKEN = TOKEN
    health.results_cache.clear()
    yield settings
    health.results_cache.clear()


class Runs:
    """How many times each slow check ran, and how long each run takes."""

    def __init__(self):
        self.delay = 0.3
        self.counted = {"CeleryWorkers": 0, "ExpressPlay": 0}
        self.lock = threading.Lock()

    def check(self, name):
        def run(check):
            time.sleep(self.delay)
            with self.lock:
                self.counted[name] += 1

        return run


@pytest.fixture
def runs(monkeypatch):
    """Count the runs of the slow checks (the worker ping, ExpressPlay), each made to pass after a delay;
    Redis passes at once, and the sweep has just run."""
    runs = Runs()

    async def redis_ok(self):
        return None

    monkeypatch.setattr(health.CeleryWorkers, "run", runs.check("CeleryWorkers"))
    monkeypatch.setattr(health.ExpressPlay, "run", runs.check("ExpressPlay"))
    monkeypatch.setattr(Redis, "run", redis_ok)
    binding_services.heartbeat_record(name=Heartbeat.SWEEP)  # beat is alive
    return runs


def test_health_reports_database_redis_worker_sweep_and_expressplay(redis_url, settings, live_server):
    settings.HEALTH_EXPRESSPLAY_CACHE = 0
    settings.REDIS_URL = redis_url
    settings.EXPRESSPLAY_SANDBOX_URL = f"{live_server.url}/sandbox"
    binding_services.heartbeat_record(name=Heartbeat.SWEEP)
    response = requests.get(f"{live_server.url}/health/?format=json", headers=DETAILS, timeout=20)
    report = response.json()
    assert len(report) == 6
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
    report = requests.get(f"{live_server.url}/health/?format=json&token={TOKEN}", timeout=20).json()
    expressplay = next(value for name, value in report.items() if "ExpressPlay" in name)
    assert expressplay != "OK" and "sandbox" in expressplay


def test_the_load_balancer_check_asks_only_the_database(live_server, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # Redis away: the shop still serves
    settings.EXPRESSPLAY_SANDBOX_URL = "http://127.0.0.1:9/sandbox"
    response = requests.get(f"{live_server.url}/health/live/?format=json", timeout=20)
    assert response.status_code == 200 and list(response.json()) == ["Database(alias='default')"]


def test_anyone_else_hears_only_the_overall_status_and_no_host(live_server, settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # Redis away: its check's detail names host and port
    monkeypatch.setattr(health.CeleryWorkers, "run", lambda self: None)
    monkeypatch.setattr(health.ExpressPlay, "run", lambda self: None)
    detailed = requests.get(f"{live_server.url}/health/?format=json", headers=DETAILS, timeout=20)
    assert detailed.status_code == 500 and "127.0.0.1" in detailed.text  # what only staff and the token see
    for query, headers in [
        ("", {}),
        ("?format=json", {}),
        ("?format=text", {}),
        ("?format=openmetrics", {}),
        ("", {"Accept": "text/html"}),
        ("?token=wrong", {}),
        ("", {"Authorization": "Bearer wrong"}),
    ]:
        answer = requests.get(f"{live_server.url}/health/{query}", headers=headers, timeout=20)
        assert answer.status_code == 500, query
        assert answer.json() == {"status": "error"}, (query, headers)
        assert "127.0.0.1" not in answer.text and "Redis" not in answer.text


def test_when_all_is_well_anyone_hears_ok(live_server, runs):
    answer = requests.get(f"{live_server.url}/health/", timeout=20)
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_staff_see_every_check(live_server, settings, runs):
    # Over real HTTP, as every test here: the view is async, and the browser tests' event loop may still
    # hold this thread.
    signed_in = Client()
    signed_in.force_login(get_user_model().objects.create_user("ops", password="x", is_staff=True))
    session = {settings.SESSION_COOKIE_NAME: signed_in.cookies[settings.SESSION_COOKIE_NAME].value}
    report = requests.get(f"{live_server.url}/health/?format=json", cookies=session, timeout=20).json()
    assert len(report) == 6 and all(value == "OK" for value in report.values()), report
    assert any(name.startswith("Redis(") for name in report)
    page = requests.get(
        f"{live_server.url}/health/", cookies=session, headers={"Accept": "text/html"}, timeout=20
    )
    assert page.status_code == 200 and "CeleryWorkers" in page.text  # the page the admin links to


def test_a_burst_of_requests_runs_the_checks_once_per_period(live_server, settings, runs):
    settings.HEALTH_CACHE = 2

    def burst() -> list[requests.Response]:
        with ThreadPoolExecutor(24) as pool:
            return list(pool.map(lambda _: requests.get(f"{live_server.url}/health/", timeout=20), range(24)))

    answers = burst()
    assert [answer.status_code for answer in answers] == [200] * 24
    assert runs.counted == {"CeleryWorkers": 1, "ExpressPlay": 1}
    burst()  # within the period: answered from the same run
    assert runs.counted == {"CeleryWorkers": 1, "ExpressPlay": 1}
    time.sleep(2.1)
    burst()  # the period is over: one run more, not 24
    assert runs.counted == {"CeleryWorkers": 2, "ExpressPlay": 2}


def test_while_the_checks_run_again_callers_get_the_last_result_at_once(live_server, settings, runs):
    settings.HEALTH_CACHE = 0.5
    runs.delay = 0.1
    requests.get(f"{live_server.url}/health/", timeout=20)
    time.sleep(0.6)
    runs.delay = 2.0
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(requests.get, f"{live_server.url}/health/", timeout=20)  # starts the second run
        time.sleep(0.3)
        started = time.monotonic()
        quick = requests.get(f"{live_server.url}/health/", timeout=20)
        waited = time.monotonic() - started
        assert slow.result().status_code == quick.status_code == 200
    assert waited < 1.0 and runs.counted["CeleryWorkers"] == 2


@pytest.mark.parametrize("queue", ["CELERY_EXPRESSPLAY_QUEUE", "CELERY_WEBHOOKS_QUEUE"])
def test_the_worker_check_wants_every_queue_consumed(celery_worker, settings, queue):
    from storefront.health import CeleryWorkers

    setattr(settings, queue, "nobody-reads-this-queue")
    # The in-process worker may not answer its first ping on a busy machine: wait until it does (10 s at most).
    deadline = time.monotonic() + 10
    while True:
        try:
            CeleryWorkers().run()
        except Exception as exc:
            if "workers unavailable" in str(exc) and time.monotonic() < deadline:
                time.sleep(0.2)  # give the worker a moment; no busy loop
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
    response = requests.get(f"{live_server.url}/health/?format=json", headers=DETAILS, timeout=20)
    assert response.status_code == 500
    assert "is Celery beat running?" in response.json()["Sweep()"]
