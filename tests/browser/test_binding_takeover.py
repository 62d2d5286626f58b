"""An attacker who copies every URL a customer's browser uses still cannot take the customer's rental
(decision 0009): three Chromium profiles, the customer's, an intruder's, and the customer's again."""

import pytest

from binding.models import BindingEvent, Device, EventKind
from sandbox.models import Record
from storefront.demo_data import titles_load
from tests.toolkit.browser import playback, rent_and_wait, sign_in, wait_until

pytestmark = pytest.mark.integration


def licence_requests(page):
    """Collect every licence URL the page sends a licence request to (what an attacker on the path sees)."""
    seen: list[str] = []
    page.on(
        "request", lambda request: seen.append(request.url) if "ExpressPlayToken=" in request.url else None
    )
    return seen


def play_elsewhere(context, manifest_url: str, licence_url: str) -> dict:
    """Play `manifest_url` with a copied licence URL in another profile, through Bindery's own drop-in player
    on a page of the same origin (the sandbox signs requests with this profile's own device key)."""
    page = context.new_page()
    page.goto("/accounts/login/")
    page.evaluate(
        "() => { const d = document.createElement('div'); d.id = 'stolen'; document.body.appendChild(d); }"
    )
    page.add_script_tag(url="/static/js/bindery-check.js")
    page.evaluate(
        "([manifestUrl, licenseUrl]) => BinderyCheck.play({container: '#stolen', manifestUrl, licenseUrl})",
        [manifest_url, licence_url],
    )
    wait_until(
        page,
        "['playing', 'ended', 'error'].includes(document.getElementById('stolen').dataset.state) && "
        "(document.getElementById('stolen').dataset.state === 'error' || "
        "document.querySelector('#stolen video').currentTime > 0.5)",
        timeout=30,
    )
    device_id = page.evaluate("BinderyDevice.identity().then(identity => identity.deviceId)")
    return {
        "state": page.get_attribute("#stolen", "data-state"),
        "code": page.get_attribute("#stolen", "data-error-code"),
        "device_id": device_id,
    }


def test_an_intruder_who_replays_the_check_cannot_take_the_rental(bindery, browser_profile, user, media):
    titles_load()
    # 1. The customer registers their browser; an attacker sees the check's licence request go by.
    laptop = browser_profile("customer")
    sign_in(laptop, user, bindery)
    check_page = laptop.new_page()
    copied = licence_requests(check_page)
    check_page.goto("/devices/register/")
    check_page.get_by_test_id("start-check").click()
    check_page.wait_for_selector("#check[data-registration=bound]", timeout=30000)
    customer_id = Device.objects.get(user=user).device_id
    assert copied, "the check's licence request was seen"
    # The check is spent: a reload of the check page is handed no token.
    reload = laptop.new_page()
    reload.goto(check_page.url)
    assert "ExpressPlayToken" not in reload.content()

    # 2. The intruder replays that licence request and plays the check clip with it, within its few minutes.
    intruder = browser_profile("intruder")
    replay = play_elsewhere(intruder, media["device-check"].manifest_url, copied[0])
    assert replay["state"] in ("playing", "ended"), replay  # the token itself is good: ExpressPlay logs it
    assert replay["device_id"] != customer_id
    assert Record.objects.filter(device_id=replay["device_id"], result=0).exists()

    # 3. The customer rents in their own browser: bound to their registered device, not the intruder's newer record.
    shop = laptop.new_page()
    order = rent_and_wait(shop, "life")
    assert order.entitlement.device.device_id == customer_id
    assert list(Device.objects.filter(user=user).values_list("device_id", flat=True)) == [customer_id]

    # 4. The customer's browser plays it.
    copied.clear()
    player = laptop.new_page()
    rental_urls = licence_requests(player)
    player.goto(f"/library/{order.entitlement_id}/play/")
    wait_until(player, "document.getElementById('video').currentTime > 1", timeout=30)
    assert playback(player)["video"] > 0
    assert rental_urls

    # 5. The intruder, with the rental's licence URL copied too, is refused by the licence server.
    stolen = play_elsewhere(intruder, media["life"].manifest_url, rental_urls[0])
    assert stolen["state"] == "error" and stolen["code"] == "-4905", stolen

    # 6. The customer's audit trail shows the intruder's attempt, with both device ids.
    event = BindingEvent.objects.get(user=user, kind=EventKind.CHECK_REPLAYED)
    assert replay["device_id"] in event.detail and customer_id in event.detail
