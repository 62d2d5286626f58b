"""Real Chromium (Debian's, driven by Playwright), the live server, a real Celery worker and Redis.

Browser tests run when a Chromium is found (CHROMIUM_PATH, or chromium on PATH) and are skipped, saying
so, when not. `.ci/run` installs Debian's chromium when it is missing.
"""

import json
import os
import shutil
import uuid
from io import StringIO

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from binding.models import MediaAsset
from storefront.celery import app as celery_app

# Playwright's sync API runs an event loop in this thread; Django's ORM calls here stay synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip
CLIPS = ("device-check", "mandelbrot", "life", "colour-bars", "cellular")


def find_chromium() -> str | None:
    candidates = [os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium"]
    candidates += [shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


@pytest.fixture(scope="session")
def chromium_path():
    path = find_chromium()
    if path is None:
        pytest.skip(
            "Chromium not found: browser tests skipped (install Debian's chromium or set CHROMIUM_PATH)"
        )
    return path


@pytest.fixture(scope="session")
def playwright_instance(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def browser_profile(playwright_instance, chromium_path, tmp_path, live_server):
    """Return a factory: profile(name) launches a persistent Chromium profile (one simulated device)."""
    contexts = []

    def launch(name: str = "a"):
        context = playwright_instance.chromium.launch_persistent_context(
            str(tmp_path / f"profile-{name}"), executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS,
            base_url=live_server.url, locale="en-GB",
        )  # fmt: skip
        context.set_default_timeout(20000)
        contexts.append(context)
        return context

    yield launch
    for context in contexts:
        context.close()


def sign_in(context, user, live_server):
    """Put a session for `user` into the browser profile, as signing in would."""
    client = Client()
    client.force_login(user)
    context.add_cookies([
        {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
         "url": live_server.url},
    ])  # fmt: skip


@pytest.fixture(scope="session")
def packaged_media(tmp_path_factory):
    """Encrypt the sample clips once per session; return {slug: MediaAsset field values}."""
    root = tmp_path_factory.mktemp("media")
    packaged = {}
    for slug in CLIPS:
        kid, key = uuid.uuid4().hex, uuid.uuid4().hex
        out = json.loads(call_command(
            "package_clip", str(settings.MEDIA_SOURCES_DIR / slug), str(root / slug), kid=kid, key=key,
            stdout=StringIO(),
        ))  # fmt: skip
        packaged[slug] = {
            "kid": kid,
            "key": key,
            "manifest": f"{slug}/manifest.mpd",
            "duration": out["duration"],
        }
    return root, packaged


@pytest.fixture
def media(packaged_media, settings, transactional_db):
    root, packaged = packaged_media
    settings.MEDIA_ROOT = root
    return {slug: MediaAsset.objects.create(slug=slug, **fields) for slug, fields in packaged.items()}


@pytest.fixture
def celery_worker(redis_url):
    """A real Celery worker (in-process thread) consuming a queue of its own from the real Redis."""
    queue = f"browser-{uuid.uuid4().hex[:8]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=20):
        yield
    celery_app.conf.task_default_queue = previous


@pytest.fixture
def bindery(live_server, settings, media, celery_worker):
    """The whole product against the sandbox over real HTTP."""
    settings.EXPRESSPLAY_ENV = "sandbox"
    settings.EXPRESSPLAY_SANDBOX_URL = f"{live_server.url}/sandbox"
    return live_server


@pytest.fixture
def user(transactional_db):
    return get_user_model().objects.create_user(
        "frank", email="frank@example.com", password="pw", first_name="Frank"
    )
