"""Nothing lost: one short test per fault kind, each with a real worker, a real Redis and the sandbox over
HTTP, each asserting where the order ends, not just that nothing raised.

`make chaos` runs the long version (a thousand checkouts, faults mixed, the worker killed over and over).
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.signing import get_cookie_signer
from django.urls import reverse

from bindery.celery import app as celery_app
from bindery.processes import stop
from bindery.processes.redis_server import EmbeddedRedis
from binding import services as binding_services
from binding.models import (
    Entitlement,
    EntitlementState,
    EventKind,
    TokenRequest,
    TokenRequestOutcome,
)
from sandbox import faults
from sandbox.device import SimulatedDevice
from sandbox.models import FaultSettings, IssuedToken, Record
from storefront import services as shop_services
from storefront.demo_data import titles_load
from storefront.forms import DEMO_CARD
from tests.toolkit.processes import database_url, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

BASE_DIR = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def set_faults(**values) -> None:
    FaultSettings.objects.update_or_create(pk=1, defaults={**faults.Faults().as_dict(), **values})
    faults.forget()


def settled(entitlement_id: int) -> Entitlement | None:
    entitlement = Entitlement.objects.get(pk=entitlement_id)
    return entitlement if entitlement.state != EntitlementState.PENDING else None


@pytest.fixture
def sandbox(live_server, settings):
    settings.EXPRESSPLAY_SANDBOX_URL = f"{live_server.url}/sandbox"
    settings.EXPRESSPLAY_TIMEOUT = 1.0
    yield f"{live_server.url}/sandbox"
    FaultSettings.objects.all().delete()
    faults.forget()


@pytest.fixture
def customer(media):
    """A customer whose browser registered: a bound cookie, and the licence record ExpressPlay logged for it."""
    user = get_user_model().objects.create_user("ines", password="x")
    device = SimulatedDevice()
    cookie = binding_services.registration_create(user=user, user_agent="Chrome/156 (X11; Linux x86_64)")
    binding_services.device_bind(cookie=cookie, device_id=device.device_id)
    cookie.refresh_from_db()
    Record.objects.create(
        cookie=cookie.value, device_id=device.device_id, drm="pr", kid=media["device-check"].kid
    )
    return user, cookie


@pytest.fixture
def titles(media):
    return {title.slug: title for title in titles_load()}


@pytest.fixture
def spawn_worker(redis_url, sandbox, tmp_path, settings):
    """Start `celery worker` processes (their own process group each) on a queue of their own: the default
    queue and the ExpressPlay queue are that one queue here."""
    queue = f"lost-{uuid.uuid4().hex[:8]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    settings.CELERY_EXPRESSPLAY_QUEUE = queue
    started: list[subprocess.Popen] = []

    def spawn(*, beat: bool = False, broker: str | None = None, **env) -> subprocess.Popen:
        environment = {
            **os.environ,
            "REDIS_URL": broker or redis_url,
            "DATABASE_URL": database_url(),
            "EXPRESSPLAY_ENV": "sandbox",
            "EXPRESSPLAY_SANDBOX_URL": sandbox,
            "EXPRESSPLAY_TIMEOUT": "1",
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "CELERY_EXPRESSPLAY_QUEUE": queue,
            "ENTITLEMENT_CLAIM_TIMEOUT": "3",
            "BINDING_SWEEP_INTERVAL": "1",
            "BINDING_REQUEUE_AFTER": "1",
            **env,
        }
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bindery",
            "worker",
            "--pool",
            "threads",  # as the ExpressPlay queue's worker runs in production
            "--concurrency",
            "4",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ]
        if beat:
            argv += ["--beat", "--schedule", str(tmp_path / f"beat-{len(started)}")]
        process = subprocess.Popen(
            argv, cwd=BASE_DIR, env=environment, stdin=subprocess.DEVNULL, start_new_session=True
        )
        started.append(process)
        return process

    yield spawn
    stop(*started, grace=20, group=True)
    celery_app.conf.task_default_queue = previous


def test_worker_killed_mid_task_the_sweep_hands_the_order_to_another_worker(spawn_worker, customer, titles):
    user, cookie = customer
    set_faults(latency_ms=4000)  # the first worker is inside its ExpressPlay call when it dies
    first = spawn_worker()
    order = shop_services.order_place(
        user=user, offer=titles["life"].offers.get(kind="rent"), browser_cookie=cookie.value
    )
    wait_for(
        lambda: Entitlement.objects.get(pk=order.entitlement_id).issuing_task, 30, "the first worker's claim"
    )
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    set_faults()
    spawn_worker(beat=True)  # beat runs the sweep every second here; the claim's lease is 3 s
    entitlement = wait_for(lambda: settled(order.entitlement_id), 60, "the order settled")
    assert entitlement.state == EntitlementState.READY, entitlement.error_detail
    assert entitlement.tokens_issued == 1
    assert entitlement.events.filter(kind=EventKind.TOKEN_ISSUED).count() == 1
    assert IssuedToken.objects.filter(cookie=cookie.value).count() == 1  # one token, however many messages


def test_redis_down_at_checkout_the_order_is_kept_and_issued_once_redis_is_back(
    spawn_worker, customer, titles, client, tmp_path
):
    user, cookie = customer
    redis = EmbeddedRedis(port=free_port(), data_dir=tmp_path / "redis").start()
    with broker(redis.url):
        redis.stop()
        client.force_login(user)
        client.cookies[settings.BINDING_BROWSER_COOKIE] = get_cookie_signer(
            salt=settings.BINDING_BROWSER_COOKIE
        ).sign(cookie.value)
        offer = titles["mandelbrot"].offers.get(kind="buy")
        response = client.post(
            reverse("storefront:checkout", args=[offer.pk]), {"cardholder": "Ines", "card_number": DEMO_CARD}
        )
        assert response.status_code == 302, response.content[:500]
        order = user.orders.get()
        assert response["Location"] == reverse("storefront:order", args=[order.number])
        page = client.get(response["Location"]).content.decode()
        assert "Preparing your licence" in page
        entitlement = Entitlement.objects.get(pk=order.entitlement_id)
        assert (entitlement.state, entitlement.queued_at) == (EntitlementState.PENDING, None)
        # Redis comes back; nobody does anything but the sweep.
        redis.process = None
        redis.start()
        spawn_worker(beat=True, broker=redis.url)
        entitlement = wait_for(lambda: settled(order.entitlement_id), 60, "the order settled")
    redis.stop()
    assert entitlement.state == EntitlementState.READY, entitlement.error_detail
    assert entitlement.tokens_issued == 1


def renew_through(fault: dict, spawn_worker, customer, titles) -> tuple[Entitlement, int, int, int]:
    """Renew a token while the sandbox suffers `fault` until one request went unanswered, then heal it;
    return the settled entitlement, its (lost, issued) requests and the tokens the sandbox made for it."""
    user, cookie = customer
    entitlement = ready_with_expired_token(user, cookie, titles)
    set_faults(**fault)
    spawn_worker()
    assert binding_services.entitlement_renew(entitlement=entitlement, actor_user=user)
    attempts = TokenRequest.objects.filter(entitlement=entitlement)
    wait_for(lambda: attempts.filter(outcome=TokenRequestOutcome.LOST).exists(), 30, "an unanswered request")
    set_faults()
    entitlement = wait_for(lambda: settled(entitlement.pk), 60, "the renewal settled")
    assert entitlement.state == EntitlementState.READY, entitlement.error_detail
    lost = attempts.filter(outcome=TokenRequestOutcome.LOST).count()
    issued = attempts.filter(outcome=TokenRequestOutcome.ISSUED).count()
    made = IssuedToken.objects.filter(cookie=cookie.value, kid=entitlement.asset.kid).count()
    return entitlement, lost, issued, made


def test_answer_lost_after_the_token_was_made_is_asked_again_and_every_token_is_on_record(
    spawn_worker, customer, titles
):
    # The sandbox makes the token; its answer never arrives within the client's 1 s.
    _, lost, issued, made = renew_through({"drop": 1.0, "hang_seconds": 1.5}, spawn_worker, customer, titles)
    assert lost >= 1 and issued == 1
    # The honest count: every token the sandbox made for this title is one Bindery has on record.
    assert made == lost + issued


def test_hang_past_the_timeout_is_retried_and_recorded(spawn_worker, customer, titles):
    # No answer within the client's 1 s, and nothing made.
    entitlement, lost, issued, made = renew_through(
        {"hang": 1.0, "hang_seconds": 1.5}, spawn_worker, customer, titles
    )
    assert lost >= 1 and issued == 1 and made == 1
    unanswered = entitlement.token_requests.filter(outcome=TokenRequestOutcome.LOST)
    assert all("no answer within 1 s" in attempt.detail for attempt in unanswered)


def ready_with_expired_token(user, cookie, titles) -> Entitlement:
    order = shop_services.order_place(
        user=user, offer=titles["life"].offers.get(kind="buy"), browser_cookie=cookie.value
    )
    Entitlement.objects.filter(pk=order.entitlement_id).update(
        state=EntitlementState.READY, device=cookie.device, token_expires_at=None, queued_at=None
    )
    return Entitlement.objects.get(pk=order.entitlement_id)


@contextmanager
def broker(url: str):
    """Point this process's Celery app at another broker (a Redis the test can stop)."""
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = url
    celery_app._pool, celery_app.amqp._producer_pool = None, None
    try:
        yield
    finally:
        celery_app.conf.broker_url = previous
        celery_app._pool, celery_app.amqp._producer_pool = None, None


def test_expressplay_down_across_several_backoffs_delays_the_order_and_it_becomes_ready_by_itself(
    spawn_worker, customer, titles
):
    user, cookie = customer
    set_faults(server_error=1.0)  # ExpressPlay answers nothing but 503
    spawn_worker(BINDING_RETRY_CAP="1", BINDING_OUTAGE_PATIENCE="3600")
    order = shop_services.order_place(
        user=user, offer=titles["life"].offers.get(kind="rent"), browser_cookie=cookie.value
    )
    wait_for(
        lambda: (
            TokenRequest.objects.filter(entitlement_id=order.entitlement_id).count()
            + (Entitlement.objects.filter(pk=order.entitlement_id, delayed_since__isnull=False).count() * 0)
            >= 0
            and Entitlement.objects.filter(pk=order.entitlement_id, delayed_since__isnull=False).exists()
        ),
        30,
        "the order marked delayed",
    )
    time.sleep(5)  # several backoffs (capped at 1 s here) against a dead ExpressPlay
    delayed = Entitlement.objects.get(pk=order.entitlement_id)
    assert delayed.state == EntitlementState.PENDING and "HTTP 503" in delayed.delay_reason
    assert not delayed.events.filter(kind=EventKind.TOKEN_FAILED).exists()
    set_faults()  # ExpressPlay is back; nobody does anything
    entitlement = wait_for(lambda: settled(order.entitlement_id), 30, "the order settled")
    assert entitlement.state == EntitlementState.READY, entitlement.error_detail
    assert entitlement.delayed_since is None and entitlement.tokens_issued == 1


def test_a_flushed_broker_strands_nothing_for_longer_than_the_sweeps_bound(
    spawn_worker, customer, titles, redis_url
):
    """Orders queued, then Redis emptied (FLUSHALL) before any worker took them: with the default sweep
    cadence (every 10 s, work queued 15 s ago is due again) every one is ready within about 30 s."""
    import redis as redis_client

    user, cookie = customer
    offers = [title.offers.get(kind="buy") for title in titles.values()][:4]
    orders = [
        shop_services.order_place(user=user, offer=offer, browser_cookie=cookie.value) for offer in offers
    ]
    broker = redis_client.Redis.from_url(redis_url)
    assert broker.llen(celery_app.conf.task_default_queue) == len(orders)  # queued, and then lost:
    broker.flushdb()
    flushed = time.monotonic()
    spawn_worker(beat=True, BINDING_SWEEP_INTERVAL="10", BINDING_REQUEUE_AFTER="15")
    for order in orders:
        entitlement = wait_for(lambda o=order: settled(o.entitlement_id), 45, "every order settled")
        assert entitlement.state == EntitlementState.READY, entitlement.error_detail
    took = time.monotonic() - flushed
    assert took < 40, f"recovered in {took:.0f} s"
