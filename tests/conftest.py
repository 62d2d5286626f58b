"""Fixtures shared by the whole suite."""

import contextlib
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from bindery.celery import app as celery_app
from bindery.processes.redis_server import embedded_redis_from_settings
from binding import packaging
from binding.expressplay import ContentKey, Endpoints, ExpressPlayClient
from binding.models import MediaAsset
from sandbox.device import SimulatedDevice
from storefront.demo_data import DEMO_CLIPS, demo_clip_render


def pytest_report_header(config):
    from tests.toolkit.browser import find_chromium

    chromium = find_chromium()
    return (
        f"chromium: {chromium}" if chromium else "chromium: not found, so the browser tests will be SKIPPED"
    )


# The test toolkit (tests/toolkit/): `queued_tasks`, `user`, `check_asset`, `title`.
pytest_plugins = ["tests.toolkit.fixtures"]


@pytest.fixture(autouse=True)
def fresh_catalogue():
    """Start every test with a new catalogue cache version: a shared Redis keeps pages between tests."""
    from django.core.cache import cache
    from redis.exceptions import RedisError

    from storefront.catalogue_cache import VERSION_KEY

    with contextlib.suppress(RedisError):  # no Redis in this test: nothing is cached either
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


@pytest.fixture(autouse=True)
def mail_sent_at_once(request, monkeypatch):
    """Send each queued mail as soon as its transaction commits, in the test's own process, through Django's
    e-mail framework (the test backend: `django.core.mail.outbox`), instead of leaving a message in Redis that
    no worker of this test takes. Tests marked `worker_mail` leave the queue alone: a real worker sends."""
    if request.node.get_closest_marker("worker_mail"):
        return
    from accounts import mail, tasks

    monkeypatch.setattr(tasks.mail_send, "apply_async", lambda args, **options: mail.mail_send(args[0]))


@pytest.fixture(autouse=True)
def fresh_sandbox_switches():
    """Start and end every test with the sandbox's faults and device-binding switch read afresh: its
    one-second cache would otherwise carry a test's rolled-back row into the next test."""
    from sandbox import faults

    faults.forget()
    yield
    faults.forget()


@pytest.fixture(scope="session")
def redis_url():
    """Return the URL of a real Redis: REDIS_URL's, or the embedded server started for this session."""
    embedded = embedded_redis_from_settings(persistent=False)
    if embedded is None:
        yield settings.REDIS_URL
        return
    embedded.start()
    yield embedded.url
    embedded.stop()


@pytest.fixture
def sandbox_settings(settings):
    """Point Bindery at the sandbox on its usual demo URL (HTTP to it is stubbed with `responses`)."""
    from tests.toolkit.expressplay import SANDBOX_URL

    settings.EXPRESSPLAY_ENV = "sandbox"
    settings.EXPRESSPLAY_SANDBOX_URL = SANDBOX_URL
    return settings


@pytest.fixture
def content_key():
    return ContentKey(kid="0123456789abcdef0123456789abcdef", key="00112233445566778899aabbccddeeff")


@pytest.fixture
def device():
    return SimulatedDevice()


@pytest.fixture
def other_device():
    return SimulatedDevice()


@pytest.fixture
def sandbox_client(live_server):
    """An ExpressPlay client pointed at the sandbox served over real HTTP by live_server."""
    endpoints = Endpoints.for_environment("sandbox", sandbox_url=f"{live_server.url}/sandbox")
    return ExpressPlayClient(
        endpoints=endpoints, customer_authenticator=settings.SANDBOX_CUSTOMER_AUTHENTICATOR
    )


CLIP_SECONDS = 6  # the demo's clips, shortened: a test plays a few seconds at most


@pytest.fixture(scope="session")
def packaged_media(tmp_path_factory):
    """Render the demo clips short and encrypt them once per session (Shaka Packager); return
    (media root, {slug: MediaAsset field values})."""
    root = tmp_path_factory.mktemp("media")
    packaged = {}
    for clip in DEMO_CLIPS:
        source = demo_clip_render(clip, root / "sources", seconds=CLIP_SECONDS)
        kid, key, iv = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
        out = packaging.package(source, root / clip.slug, kid=kid, key=key, iv=iv)
        packaged[clip.slug] = {
            "kid": kid,
            "key": key,
            "iv": iv,  # FairPlay tokens carry the title's IV
            "manifest": f"{clip.slug}/manifest.mpd",
            "hls_manifest": f"{clip.slug}/hls/master.m3u8",
            "duration": out.duration,
        }
    return root, packaged


@pytest.fixture
def media(packaged_media, settings, transactional_db):
    root, packaged = packaged_media
    settings.MEDIA_ROOT = root
    return {slug: MediaAsset.objects.create(slug=slug, **fields) for slug, fields in packaged.items()}


@pytest.fixture
def bindery(live_server, settings, media, celery_worker):
    """The whole product against the sandbox over real HTTP."""
    settings.EXPRESSPLAY_ENV = "sandbox"
    settings.EXPRESSPLAY_SANDBOX_URL = f"{live_server.url}/sandbox"
    return live_server


@pytest.fixture
def celery_worker(redis_url, transactional_db, settings):
    """A real Celery worker (in-process thread) consuming a queue of its own from the real Redis: both the
    default queue, the ExpressPlay queue and the webhooks queue are that one queue for the test's duration."""
    queue = f"browser-{uuid.uuid4().hex[:8]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    settings.CELERY_EXPRESSPLAY_QUEUE = queue
    settings.CELERY_WEBHOOKS_QUEUE = queue

    # The worker's thread ends with the test: let Celery close its connections around each task, as it does by
    # default, or a kept one would outlive the thread and keep PostgreSQL from dropping the test database.
    reuse, celery_app.conf.db_reuse_max = celery_app.conf.db_reuse_max, None
    try:
        with start_worker(
            celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=20
        ):
            yield
    finally:
        celery_app.conf.db_reuse_max = reuse
        celery_app.conf.task_default_queue = previous
