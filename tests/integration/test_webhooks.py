"""Webhooks go out on a queue and a worker of their own (as `make demo` and README start it): one client's
slow endpoint holds one thread, for one deadline, and another client's webhook arrives meanwhile."""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections

from api import webhooks
from api.models import Client, DeliveryState, WebhookDelivery, WebhookEndpoint
from bindery.celery import app as celery_app
from bindery.processes import commands
from tests.webhook_receivers import Dribbler, Recorder, serve

pytestmark = pytest.mark.integration

TIMEOUT = 1.5


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


@pytest.fixture
def webhooks_worker(redis_url, transactional_db, settings):
    """A real worker started as commands.webhooks_worker says (its pool, its threads), on a queue of the
    test's own."""
    argv = commands.webhooks_worker()
    assert option(argv, "-Q") == settings.CELERY_WEBHOOKS_QUEUE
    queue = settings.CELERY_WEBHOOKS_QUEUE = f"webhooks-{uuid.uuid4().hex[:8]}"
    settings.WEBHOOK_TIMEOUT = TIMEOUT
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = True
    reuse, celery_app.conf.db_reuse_max = celery_app.conf.db_reuse_max, None  # see tests/conftest.py

    def close_connections(**kwargs):  # each pool thread's own, which would outlive the test database
        connections.close_all()

    task_postrun.connect(close_connections, weak=False)
    try:
        with start_worker(
            celery_app,
            pool=option(argv, "--pool"),
            concurrency=int(option(argv, "--concurrency")),
            perform_ping_check=False,
            queues=[queue],
            shutdown_timeout=20,
        ):
            yield queue
    finally:
        task_postrun.disconnect(close_connections)
        celery_app.conf.db_reuse_max = reuse


def delivery_to(url: str, client_name: str) -> WebhookDelivery:
    client = Client.objects.create(name=client_name)
    endpoint = WebhookEndpoint.objects.create(client=client, url=url, secret="s" * 32)
    event_id = uuid.uuid4()
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=event_id,
        event_type="entitlement.ready",
        payload={"id": str(event_id), "type": "entitlement.ready", "data": {}},
    )


def test_webhook_sends_have_their_own_queue():
    assert celery_app.conf.task_routes["api.webhook_deliver"] == {"queue": "webhooks"}
    assert "webhooks" not in (celery_app.conf.task_default_queue, "expressplay")


def test_a_slow_endpoint_neither_delays_another_clients_webhook_nor_outlasts_the_deadline(webhooks_worker):
    slow, fast = serve(Dribbler, pace=1.0), serve(Recorder)
    try:
        stuck = delivery_to(f"{slow.url}/hook", "Slow shop")
        prompt = delivery_to(f"{fast.url}/hook", "Fast shop")
        queued_at = time.monotonic()
        webhooks._queue(stuck.pk)
        webhooks._queue(prompt.pk)

        while not fast.received:
            assert time.monotonic() - queued_at < 1.0, "the other client's webhook waited for the slow one"
            time.sleep(0.02)
        assert slow.received, "the slow endpoint was not even called"
        stuck.refresh_from_db()
        assert stuck.error == "" and stuck.response_status is None  # still hanging on the slow endpoint
        while not (stuck := WebhookDelivery.objects.get(pk=stuck.pk)).error:
            assert time.monotonic() - queued_at < TIMEOUT + 1.0, "the slow send outlasted its deadline"
            time.sleep(0.05)
        assert "did not answer within 1.5 s" in stuck.error and stuck.state == DeliveryState.PENDING
        assert WebhookDelivery.objects.get(pk=prompt.pk).state == DeliveryState.DELIVERED
    finally:
        slow.shutdown()
        fast.shutdown()
