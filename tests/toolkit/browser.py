"""Driving real Chromium (Debian's, through Playwright): finding it, signing a profile in, waiting on the page,
the shop's walk, the device check, and axe-core's verdict. The fixtures are in tests/browser/conftest.py."""

import os
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.test import Client

from storefront.models import Order

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}


def find_chromium() -> str | None:
    candidates = [os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium"]
    candidates += [shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def sign_in(context, user, live_server):
    """Put a session for `user` into the browser profile, as signing in would."""
    client = Client()
    client.force_login(user)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            },
        ]
    )


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


def rent_and_wait(page, slug, *, kind="rent"):
    """Rent (or buy) `slug` from its title page (registering the browser on the way) and wait for "Ready to
    play"; return the order."""
    page.goto(f"/titles/{slug}/")
    page.get_by_test_id(f"offer-{kind}").get_by_role("link").click()
    if "/devices/register/" in page.url:
        page.get_by_test_id("start-check").click()
        page.wait_for_selector("#check[data-registration=bound]", timeout=30000)
        page.click("#continue")
    page.get_by_test_id("pay").click()
    page.wait_for_selector("#order[data-state=ready]", timeout=30000)
    assert page.get_by_test_id("status").inner_text() == "Ready to play."
    assert "ms after you asked: device looked up in" in page.get_by_test_id("timing").inner_text()
    return Order.objects.select_related("entitlement__device").get(
        number=page.url.rstrip("/").rsplit("/", 1)[1]
    )


def playback(page):
    return page.evaluate(
        """() => { const v = document.getElementById('video');
                   return {time: v.currentTime, video: v.webkitVideoDecodedByteCount, audio: v.webkitAudioDecodedByteCount}; }"""
    )


def register(context, live_server, *, expect_ok=True):
    """Run the device check in this profile; return (page, this profile's device id)."""
    page = context.new_page()
    page.goto("/devices/register/")
    page.get_by_test_id("start-check").click()
    page.wait_for_selector("#check[data-registration]", timeout=30000)
    assert (page.get_attribute("#check", "data-registration") == "bound") is expect_ok, page.inner_text(
        "#result"
    )
    device_id = page.evaluate("BinderyDevice.identity().then(identity => identity.deviceId)")
    return page, device_id


def wait_for_playback(page):
    wait_until(
        page,
        "document.getElementById('check-video').currentTime > 1 || document.getElementById('check').dataset.state === 'ended'",
    )
    return page.evaluate(
        """() => { const v = document.getElementById('check-video');
                   return {time: v.currentTime, video: v.webkitVideoDecodedByteCount, audio: v.webkitAudioDecodedByteCount}; }"""
    )


def serious_violations(page) -> list:
    """Run axe-core in the page; return its serious and critical violations (rule, impact, first elements)."""
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        (v["id"], v["impact"], [node["target"] for node in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
