"""In Chromium: an operator revokes in admin, and the customer's library and title page say revoked, with the
reason; the register page at the device limit says so at once; the presenter always says which faults are on.
Screenshots of each at desktop and phone widths go to /tmp/truth-*.png."""

import os
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.signing import get_cookie_signer
from django.utils import timezone

from binding import services as binding_services
from binding.models import BindingMode, Entitlement, EntitlementState, MediaAsset
from sandbox.models import FaultSettings
from storefront import services
from storefront.demo_data import demo_users_load
from storefront.models import Offer, Title
from tests.toolkit.browser import CHROMIUM_ARGS, WIDTHS, serious_violations, sign_in

pytestmark = pytest.mark.integration

REASON = "Paid with a card reported stolen"
# Where the screenshots go, to be looked at (BINDERY_SCREENSHOTS, else the temporary directory).
SHOTS = Path(os.environ.get("BINDERY_SCREENSHOTS", tempfile.gettempdir()))


@pytest.fixture
def browser(playwright_instance, chromium_path, live_server):
    instance = playwright_instance.chromium.launch(
        executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
    )
    yield instance
    instance.close()


@pytest.fixture
def rented(user, settings):
    """A ready rental of "A Life in Green", bound to the customer's laptop."""
    settings.EXPRESSPLAY_ENV = "sandbox"
    asset = MediaAsset.objects.create(
        slug="life", kid="68" * 16, key="79" * 16, manifest="c/m.mpd", duration=60
    )
    title = Title.objects.create(
        slug="life",
        name="A Life in Green",
        synopsis="A minute of green.",
        year=2026,
        poster="img/posters/life.jpg",
        asset=asset,
    )
    offer = Offer.objects.create(
        title=title, kind="rent", price=Decimal("2.99"), rental_hours=48, play_hours=3
    )
    Offer.objects.create(title=title, kind="buy", price=Decimal("6.99"))
    cookie = binding_services.registration_create(
        user=user, user_agent="Chrome/156 (X11; Linux x86_64)", device_name="Laptop"
    )
    device = binding_services.device_bind(cookie=cookie, device_id="e7" * 16)
    order = services.order_place(user=user, offer=offer, browser_cookie=cookie.value)
    Entitlement.objects.filter(pk=order.entitlement_id).update(
        state=EntitlementState.READY,
        device=device,
        tokens_issued=1,
        bound_by=BindingMode.EXPRESSPLAY,
        token_expires_at=timezone.now() + timedelta(hours=20),
    )
    return {"order": order, "cookie": cookie, "title": title}


def customer_context(browser, live_server, user, cookie=None, screen="desktop"):
    width, height = WIDTHS[screen]
    context = browser.new_context(
        base_url=live_server.url, bypass_csp=True, locale="en-GB", viewport={"width": width, "height": height}
    )
    sign_in(context, user, live_server)
    if cookie is not None:
        signed = get_cookie_signer(salt=settings.BINDING_BROWSER_COOKIE).sign(cookie.value)
        context.add_cookies(
            [{"name": settings.BINDING_BROWSER_COOKIE, "value": signed, "url": live_server.url}]
        )
    return context


def test_an_operator_revokes_in_admin_and_the_customer_is_told_why(browser, live_server, user, rented):
    operator = next(u for u in demo_users_load() if u.username == "operator")
    admin = browser.new_context(base_url=live_server.url, locale="en-GB")
    sign_in(admin, operator, live_server)
    page = admin.new_page()
    page.goto(f"/admin/binding/entitlement/{rented['order'].entitlement_id}/change/")
    page.get_by_test_id("object-action-revoke").click()  # on the entitlement's own page
    page.fill("textarea[name=reason]", REASON)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"**/admin/binding/entitlement/{rented['order'].entitlement_id}/change/")
    assert "Revoked Rent A Life in Green (jo)." in page.locator(".messagelist").inner_text()
    admin.close()

    for screen in WIDTHS:
        context = customer_context(browser, live_server, user, rented["cookie"], screen)
        page = context.new_page()
        page.goto("/library/")
        entry = page.get_by_test_id("entry")
        assert entry.get_attribute("data-state") == "revoked"
        said = entry.inner_text()
        assert "Revoked on" in said and REASON in said and "support@bindery.example" in said
        assert "Rental ends in" not in said and "Ready to play" not in said
        assert (
            page.get_by_test_id("contact-support").get_attribute("href") == "mailto:support@bindery.example"
        )
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing overflows
        assert serious_violations(page) == []
        page.screenshot(path=SHOTS / f"truth-library-revoked-{WIDTHS[screen][0]}.png", full_page=True)
        page.goto(f"/titles/{rented['title'].slug}/")
        notice = page.get_by_test_id("revoked").inner_text()
        assert "was revoked" in notice and REASON in notice
        assert page.get_by_text("You can already watch this title.").count() == 0
        page.goto(f"/orders/{rented['order'].number}/")
        page.wait_for_selector("#order[data-state=revoked]")
        assert page.locator("#progress").is_hidden()  # no failed "Looking up your device" step
        history = page.get_by_test_id("history").inner_text()
        assert "Paid" in history and f"Revoked by our support team: “{REASON}”" in history
        assert serious_violations(page) == []
        page.screenshot(path=SHOTS / f"truth-order-revoked-{WIDTHS[screen][0]}.png", full_page=True)
        context.close()


def test_the_register_page_at_the_device_limit_names_the_devices_at_once(
    browser, live_server, user, settings
):
    settings.BINDING_DEVICE_LIMIT = 2
    for device_id, name in (("a1" * 16, "Kitchen laptop"), ("b2" * 16, "Phone")):
        cookie = binding_services.registration_create(user=user, user_agent="Chrome/156", device_name=name)
        binding_services.device_bind(cookie=cookie, device_id=device_id)
    for screen in WIDTHS:
        context = customer_context(browser, live_server, user, screen=screen)  # a third browser
        page = context.new_page()
        page.goto("/devices/register/")
        limit = page.get_by_test_id("device-limit")
        assert "You already have 2 registered devices, the most allowed" in limit.inner_text()
        assert page.get_by_test_id("limit-devices").inner_text().split("\n")[0].startswith("Kitchen laptop")
        assert page.get_by_role("button", name="Start the device check").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert serious_violations(page) == []
        page.screenshot(path=SHOTS / f"truth-register-limit-{WIDTHS[screen][0]}.png", full_page=True)
        page.get_by_test_id("manage-devices").click()
        page.wait_for_url("**/devices/")
        context.close()


def test_the_presenter_always_says_which_faults_are_on(browser, live_server, settings):
    from sandbox import faults

    settings.EXPRESSPLAY_ENV = "sandbox"
    operator = next(u for u in demo_users_load() if u.username == "operator")
    for screen in WIDTHS:
        FaultSettings.objects.update_or_create(pk=1, defaults={"latency_ms": 0})
        faults.forget()
        width, height = WIDTHS[screen]
        context = browser.new_context(
            base_url=live_server.url,
            bypass_csp=True,
            locale="en-GB",
            viewport={"width": width, "height": height},
        )
        sign_in(context, operator, live_server)
        page = context.new_page()
        page.goto("/presenter/")
        line = page.get_by_test_id("faults-now")
        assert line.inner_text().startswith("No faults")
        FaultSettings.objects.filter(pk=1).update(latency_ms=300)  # switched in another tab
        faults.forget()
        for _tick in range(60):
            if line.inner_text() == "Faults on: 300 ms per call.":
                break
            page.wait_for_timeout(100)
        assert line.inner_text() == "Faults on: 300 ms per call."  # its polling keeps it true
        assert page.get_by_test_id("reset-faults-off").is_checked()
        assert serious_violations(page) == []
        page.screenshot(path=SHOTS / f"truth-presenter-{width}.png", full_page=True)
        context.close()
