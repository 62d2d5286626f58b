"""Real Chromium (Debian's, driven by Playwright), the live server, a real Celery worker and Redis.

Browser tests run when a Chromium is found (CHROMIUM_PATH, or chromium on PATH) and are skipped, saying
so, when not. `.ci/run` installs Debian's chromium when it is missing.
"""

import os

import pytest

from storefront.demo_data import titles_load
from tests.toolkit.browser import CHROMIUM_ARGS, find_chromium

# Playwright's sync API runs an event loop in this thread; Django's ORM calls here stay synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


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
            str(tmp_path / f"profile-{name}"),
            executable_path=chromium_path,
            headless=True,
            args=CHROMIUM_ARGS,
            base_url=live_server.url,
            locale="en-GB",
        )
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


@pytest.fixture
def shop(bindery):
    """The whole product with the demo's titles on sale: {slug: Title}."""
    return {title.slug: title for title in titles_load()}
