"""Real Chromium (Debian's, driven by Playwright), the live server, a real Celery worker and Redis.

Browser tests run when a Chromium is found (CHROMIUM_PATH, or chromium on PATH) and are skipped, saying
so, when not. `.ci/run` installs Debian's chromium when it is missing.
"""

import os
import shutil
import time

import pytest
from django.conf import settings
from django.test import Client

# Playwright's sync API runs an event loop in this thread; Django's ORM calls here stay synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip


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
    """Return a factory: profile(name) launches a persistent Chromium profile (one simulated device).

    Every page's console is watched: a Content-Security-Policy violation fails the test (except those that
    Playwright's own helpers cause, which evaluate strings with eval).
    """
    contexts = []
    violations: list[str] = []

    def watch(page):
        page.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text and "eval at evaluate" not in message.text
                else None
            ),
        )

    def launch(name: str = "a"):
        context = playwright_instance.chromium.launch_persistent_context(
            str(tmp_path / f"profile-{name}"), executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS,
            base_url=live_server.url, locale="en-GB",
        )  # fmt: skip
        context.set_default_timeout(20000)
        context.on("page", watch)
        for page in context.pages:
            watch(page)
        contexts.append(context)
        return context

    yield launch
    for context in contexts:
        context.close()
    assert violations == [], violations


def sign_in(context, user, live_server):
    """Put a session for `user` into the browser profile, as signing in would."""
    client = Client()
    client.force_login(user)
    context.add_cookies([
        {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
         "url": live_server.url},
    ])  # fmt: skip


def wait_until(page, expression: str, *, timeout: float = 20.0) -> None:
    """Poll a JavaScript expression until it is true.

    Playwright's wait_for_function evaluates its predicate with eval() inside the page, which Bindery's
    Content-Security-Policy (rightly) refuses; page.evaluate goes through the DevTools protocol instead.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout:.0f} s: {expression}")
        time.sleep(0.1)
