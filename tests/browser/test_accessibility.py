"""Accessibility: the shop, registration, order, library, player and presenter pages pass axe-core's automated
check with no serious or critical violation, at desktop and phone widths."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.signing import get_cookie_signer

from binding import services as binding_services
from binding.models import MediaAsset
from storefront import services
from storefront.demo_data import demo_users_load
from storefront.models import Offer, Title
from tests.toolkit.browser import CHROMIUM_ARGS, WIDTHS, serious_violations, sign_in

pytestmark = pytest.mark.integration


@pytest.fixture
def shop_with_an_order(user, settings):
    settings.EXPRESSPLAY_ENV = "sandbox"
    asset = MediaAsset.objects.create(
        slug="clip", kid="68" * 16, key="79" * 16, manifest="c/m.mpd", duration=75
    )
    title = Title.objects.create(
        slug="clip",
        name="Clip",
        synopsis="A minute of test pattern.",
        year=2026,
        poster="img/posters/life.jpg",
        asset=asset,
    )
    offer = Offer.objects.create(
        title=title, kind="rent", price=Decimal("2.99"), rental_hours=48, play_hours=3
    )
    Offer.objects.create(title=title, kind="buy", price=Decimal("6.99"))
    cookie = binding_services.registration_create(user=user, user_agent="Chrome/156 (X11; Linux x86_64)")
    binding_services.device_bind(cookie=cookie, device_id="e7" * 16)
    order = services.order_place(user=user, offer=offer, browser_cookie=cookie.value)
    return {"order": order, "cookie": cookie, "title": title}


@pytest.fixture
def browser(playwright_instance, chromium_path, live_server):
    instance = playwright_instance.chromium.launch(
        executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
    )
    yield instance
    instance.close()


@pytest.mark.parametrize("screen", WIDTHS)
def test_customer_pages_have_no_serious_accessibility_violation(
    browser, live_server, user, shop_with_an_order, screen
):
    # bypass_csp only lets the test add axe-core to the page; the policy itself is tested in test_security.
    width, height = WIDTHS[screen]
    context = browser.new_context(
        base_url=live_server.url, bypass_csp=True, locale="en-GB", viewport={"width": width, "height": height}
    )
    sign_in(context, user, live_server)
    signed = get_cookie_signer(salt=settings.BINDING_BROWSER_COOKIE).sign(shop_with_an_order["cookie"].value)
    context.add_cookies([{"name": settings.BINDING_BROWSER_COOKIE, "value": signed, "url": live_server.url}])
    order = shop_with_an_order["order"]
    pages = [
        "/",
        f"/titles/{shop_with_an_order['title'].slug}/",
        "/devices/register/",
        "/devices/",
        f"/orders/{order.number}/",
        "/library/",
        f"/library/{order.entitlement_id}/play/",
        "/?q=a",
        "/account/",
        "/orders/",
        "/accounts/password_change/",
    ]
    page = context.new_page()
    found = {}
    for url in pages:
        page.goto(url)
        if problems := serious_violations(page):
            found[url] = problems
    context.close()
    assert found == {}


def test_sign_in_and_presenter_pages_have_no_serious_accessibility_violation(browser, live_server, settings):
    settings.EXPRESSPLAY_ENV = "sandbox"
    operator = next(u for u in demo_users_load() if u.username == "operator")
    context = browser.new_context(base_url=live_server.url, bypass_csp=True, locale="en-GB")
    page = context.new_page()
    signed_out = [
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
    ]
    found = {}
    for url in signed_out:
        page.goto(url)
        found[url] = serious_violations(page)
    sign_in(context, operator, live_server)
    for url in ("/presenter/", "/admin/dashboard/"):
        page.goto(url)
        found[url] = serious_violations(page)
    context.close()
    assert found == {url: [] for url in [*signed_out, "/presenter/", "/admin/dashboard/"]}
