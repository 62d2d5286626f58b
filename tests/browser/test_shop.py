"""Renting and watching in a real browser, and the same rental refused in another browser of the same user."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from binding import packaging
from binding import services as binding_services
from binding.models import Entitlement, EntitlementState
from sandbox.models import Record
from tests.toolkit.browser import playback, rent_and_wait, sign_in, wait_until

pytestmark = pytest.mark.integration


def test_rent_and_watch_then_a_second_browser_is_told_which_device_has_it(
    shop, browser_profile, user, live_server
):
    laptop = browser_profile("laptop")
    sign_in(laptop, user, live_server)
    page = laptop.new_page()
    order = rent_and_wait(page, "life")
    assert order.entitlement.device.label == "Chrome on Linux"
    page.get_by_test_id("play").click()
    wait_until(page, "document.getElementById('video').currentTime > 1")
    played = playback(page)
    assert played["time"] > 1 and played["video"] > 0 and played["audio"] > 0
    assert Entitlement.objects.get(pk=order.entitlement_id).first_played_at is not None
    library = laptop.new_page()
    library.goto("/library/")
    entry = library.get_by_test_id("entry")
    assert "Bound to Chrome on Linux" in entry.inner_text()
    assert "Rental ends in 1 day 23 h" in library.get_by_test_id("time-left").inner_text()

    # The same user in another browser profile: a different device, refused by the licence server.
    tablet = browser_profile("tablet")
    sign_in(tablet, user, live_server)
    other = tablet.new_page()
    other.goto(f"/library/{order.entitlement_id}/play/")
    other.wait_for_selector("#player[data-state=error]", timeout=20000)
    assert other.get_attribute("#player", "data-error-code") == "-4905"
    assert "bound to your device “Chrome on Linux”" in other.inner_text("#player")
    assert "A rental stays on the device it was rented on" in other.inner_text("#player")
    assert not other.get_by_test_id("move-here").is_visible()  # a rental cannot move
    assert other.evaluate("document.getElementById('video').currentTime") == 0
    refusal = Record.objects.filter(result=-4905).latest("event_id")
    assert refusal.device_id != order.entitlement.device.device_id


def test_expired_rental_does_not_play(shop, browser_profile, user, live_server):
    laptop = browser_profile("laptop")
    sign_in(laptop, user, live_server)
    page = laptop.new_page()
    order = rent_and_wait(page, "cellular")
    Entitlement.objects.filter(pk=order.entitlement_id).update(
        rental_ends_at=timezone.now() - timedelta(seconds=1)
    )
    page.goto(f"/library/{order.entitlement_id}/play/")
    page.wait_for_selector("#player[data-state=unavailable]", timeout=10000)
    assert "This rental has ended." in page.inner_text("#player")
    assert page.evaluate("document.getElementById('video').currentTime") == 0
    # Showing the page wrote nothing; the sweep (beat) records the end of the rental.
    assert Entitlement.objects.get(pk=order.entitlement_id).effective_state == EntitlementState.EXPIRED
    assert binding_services.work_sweep().rentals_expired == 1
    assert Entitlement.objects.get(pk=order.entitlement_id).state == EntitlementState.EXPIRED
    page.goto("/library/")
    assert page.get_by_test_id("entry").get_attribute("data-state") == "expired"


def test_expired_purchase_token_is_renewed_for_the_same_device_when_played(
    shop, browser_profile, user, live_server
):
    laptop = browser_profile("laptop")
    sign_in(laptop, user, live_server)
    page = laptop.new_page()
    rent_and_wait(page, "mandelbrot", kind="buy")
    entitlement = Entitlement.objects.get(user=user)
    old_url = entitlement.license_url
    Entitlement.objects.filter(pk=entitlement.pk).update(
        token_expires_at=timezone.now() - timedelta(minutes=1)
    )
    page.goto(f"/library/{entitlement.pk}/play/")
    wait_until(page, "document.getElementById('video').currentTime > 1", timeout=30)
    renewed = Entitlement.objects.get(pk=entitlement.pk)
    assert renewed.tokens_issued == 2
    assert renewed.license_url != old_url
    assert renewed.device_id == entitlement.device_id


def test_a_refused_purchase_offers_the_move_and_then_plays_in_this_browser(
    shop, browser_profile, user, live_server
):
    laptop = browser_profile("laptop")
    sign_in(laptop, user, live_server)
    page = laptop.new_page()
    rent_and_wait(page, "mandelbrot", kind="buy")
    entitlement = Entitlement.objects.get(user=user)

    # A second registered browser of the same customer: refused, and offered the move right there.
    tablet = browser_profile("tablet")
    sign_in(tablet, user, live_server)
    other = tablet.new_page()
    other.goto("/devices/register/")
    other.get_by_test_id("start-check").click()
    other.wait_for_selector("#check[data-registration=bound]", timeout=30000)
    other.goto(f"/library/{entitlement.pk}/play/")
    other.wait_for_selector("#player[data-state=error]", timeout=20000)
    assert other.get_attribute("#player", "data-error-code") == "-4905"
    assert "You can move it to this browser" in other.inner_text("#player") + other.inner_text("#watch")
    move = other.get_by_test_id("move-here")
    assert move.is_visible()
    move.click()
    wait_until(other, "document.getElementById('video').currentTime > 1", timeout=30)
    moved = Entitlement.objects.select_related("device").get(pk=entitlement.pk)
    assert moved.device_id != entitlement.device_id and moved.tokens_issued == 2
    assert not other.get_by_test_id("move-here").is_visible()  # playing: nothing to offer


def test_a_title_added_with_add_title_shows_its_poster_and_plays_bound(
    shop, browser_profile, user, live_server, tmp_path
):
    """Bring your own title: a clip made here goes through `add_title` (Shaka Packager) and plays in Chromium
    through ClearKey EME, with sound, bound like any other title."""
    own = packaging.clip_generate(
        tmp_path / "own.mp4", video="rgbtestsrc", audio="0.1*sin(2*PI*392*t)", seconds=6, size="640x360"
    )
    call_command("add_title", str(own), "--title", "Prospect Trailer", stdout=StringIO())
    laptop = browser_profile("laptop")
    sign_in(laptop, user, live_server)
    page = laptop.new_page()
    page.goto("/")
    poster = page.locator("img[src*='/media/posters/prospect-trailer']")
    wait_until(
        page, "[...document.images].some(i => i.src.includes('prospect-trailer') && i.naturalWidth === 240)"
    )
    assert poster.count() == 1
    order = rent_and_wait(page, "prospect-trailer")
    page.get_by_test_id("play").click()
    wait_until(page, "document.getElementById('video').currentTime > 1")
    played = playback(page)
    assert played["video"] > 0 and played["audio"] > 0
    assert order.entitlement.asset.slug == "prospect-trailer"


def tab_to(page, selector: str, *, presses: int = 60) -> None:
    """Press Tab until `selector` has the focus, as a keyboard user would; fail when it is never reached or
    shows no focus ring."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            ring = page.evaluate(
                "() => { const s = getComputedStyle(document.activeElement);"
                " return s.outlineStyle !== 'none' && s.outlineWidth !== '0px' || s.boxShadow !== 'none'; }"
            )
            assert ring, f"{selector} has the focus but shows no focus ring"
            return
    raise AssertionError(f"{selector} is not reachable with Tab on {page.url}")


def test_the_whole_walk_works_by_keyboard_alone(shop, browser_profile, user, live_server):
    """Sign in, pick a title, rent it, register the browser, pay and play: Tab, typing, Enter and Space only."""
    page = browser_profile("keyboard").new_page()
    page.goto("/accounts/login/")
    tab_to(page, "#id_username")
    page.keyboard.type(user.username)
    tab_to(page, "#id_password")
    page.keyboard.type("pw")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
    tab_to(page, "a[href='/titles/life/']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/titles/life/")
    tab_to(page, "[data-testid=offer-rent] a")
    page.keyboard.press("Enter")
    page.wait_for_url("**/devices/register/**")
    tab_to(page, "[data-testid=start-check]")
    page.keyboard.press("Space")
    page.wait_for_selector("#check[data-registration=bound]", timeout=30000)
    tab_to(page, "#continue")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=pay]")
    tab_to(page, "[data-testid=pay]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#order[data-state=ready]", timeout=30000)
    tab_to(page, "[data-testid=play]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/play/")
    wait_until(page, "document.getElementById('video').currentTime > 1")
