"""What a person sees at desktop and phone widths: hidden things stay hidden, shown things show, and the top
bar fits the screen without scrolling sideways."""

from decimal import Decimal

import pytest
from django.utils import timezone

from binding import services as binding_services
from binding.models import Entitlement, EntitlementState, IssueProgress, MediaAsset
from storefront import services
from storefront.models import Offer, Title
from tests.toolkit.browser import sign_in, wait_until

pytestmark = pytest.mark.integration

WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture
def pending_order(user):
    asset = MediaAsset.objects.create(
        slug="clip", kid="66" * 16, key="77" * 16, manifest="c/m.mpd", duration=60
    )
    title = Title.objects.create(
        slug="clip", name="Clip", synopsis="…", year=2026, poster="img/posters/life.jpg", asset=asset
    )
    offer = Offer.objects.create(title=title, kind="buy", price=Decimal("3.99"))
    cookie = binding_services.registration_create(user=user, user_agent="Chrome/156 (X11; Linux x86_64)")
    binding_services.device_bind(cookie=cookie, device_id="e5" * 16)
    return services.order_place(user=user, offer=offer, browser_cookie=cookie.value)


def fits(page, width: int, test_id_or_selector: str) -> bool:
    box = page.locator(test_id_or_selector).first.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


@pytest.mark.parametrize("screen", WIDTHS)
def test_play_now_shows_only_once_the_title_is_ready_and_the_top_bar_fits(
    browser_profile, live_server, user, pending_order, screen
):
    width, height = WIDTHS[screen]
    context = browser_profile(screen)
    sign_in(context, user, live_server)
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"/orders/{pending_order.number}/")

    assert page.get_by_test_id("status").inner_text().startswith("Your order is confirmed")
    assert not page.get_by_test_id("play").is_visible()  # pending: nothing to play yet
    # The top bar: every part on screen, the menu names My library, and the page does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for part in (".brand", "text=My library", "text=My devices", "text=Sign out", "#language"):
        assert page.locator(part).first.is_visible() and fits(page, width, part), part

    Entitlement.objects.filter(pk=pending_order.entitlement_id).update(
        state=EntitlementState.READY,
        progress=IssueProgress.DONE,
        license_url="http://127.0.0.1:9/licence",
        token_expires_at=timezone.now() + timezone.timedelta(hours=1),
    )
    wait_until(page, "!document.querySelector('[data-testid=play]').hidden")
    assert page.get_by_test_id("play").is_visible() and fits(page, width, "[data-testid=play]")


@pytest.mark.parametrize("screen", WIDTHS)
def test_the_presenter_resets_the_demo_in_one_click_at_either_width(
    browser_profile, live_server, settings, screen
):
    """The presenter's Reset demo, clicked in Chromium (its confirm dialog accepted): the demo customer's
    orders, devices and audit trail go; the page fits the screen."""
    from binding.models import BindingEvent, Device
    from storefront.demo_data import demo_users_load

    settings.EXPRESSPLAY_ENV = "sandbox"
    users = {user.username: user for user in demo_users_load()}
    cookie = binding_services.registration_create(
        user=users["alice"], user_agent="Chrome/156 (X11; Linux x86_64)"
    )
    binding_services.device_bind(cookie=cookie, device_id="e6" * 16)
    assert Device.objects.filter(user=users["alice"]).exists()
    width, height = WIDTHS[screen]
    context = browser_profile(screen)
    sign_in(context, users["operator"], live_server)
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/presenter/")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert "Device bound" in page.inner_text("body")  # alice's audit trail, live
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("reset-demo").click()
    page.wait_for_url("**/presenter/**")
    wait_until(page, "document.body.innerText.includes('The demo is reset')")
    assert not Device.objects.filter(user=users["alice"]).exists()
    assert not BindingEvent.objects.filter(user=users["alice"]).exists()
    assert page.get_by_test_id("reset-demo").is_visible() and fits(page, width, "[data-testid=reset-demo]")
