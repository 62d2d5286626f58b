"""Device binding in a real browser: a real encrypted clip plays, and ExpressPlay's records bind the device."""

import pytest

from binding.models import Device, Registration, RegistrationState
from sandbox.models import Record
from tests.toolkit.browser import register, sign_in, wait_for_playback

pytestmark = pytest.mark.integration


def test_new_user_registers_this_browser_and_the_stored_device_id_is_its_own(bindery, browser_profile, user):
    context = browser_profile("a")
    sign_in(context, user, bindery)
    page, device_id = register(context, bindery)
    assert page.inner_text("#result") == "This browser is registered as Chrome on Linux."
    played = wait_for_playback(page)
    assert played["time"] > 1 and played["video"] > 0 and played["audio"] > 0
    device = Device.objects.get(user=user)
    assert device.device_id == device_id  # learned from ExpressPlay's records, never sent by the page
    assert Record.objects.filter(device_id=device_id, result=0).exists()
    devices = context.new_page()
    devices.goto("/devices/")
    assert devices.get_by_test_id("device").count() == 1
    assert "This browser" in devices.get_by_test_id("device").inner_text()
    # The same browser, restarted, keeps its key and registers as the same device.
    context.close()
    again = browser_profile("a")
    sign_in(again, user, bindery)
    _, same_id = register(again, bindery)
    assert same_id == device_id
    assert Device.objects.filter(user=user).count() == 1
    assert Registration.objects.filter(user=user, state=RegistrationState.BOUND).count() == 2


def test_each_browser_profile_is_a_device_until_the_limit(bindery, browser_profile, user, settings):
    assert settings.BINDING_DEVICE_LIMIT == 3
    ids = []
    for name in ("one", "two", "three"):
        context = browser_profile(name)
        sign_in(context, user, bindery)
        ids.append(register(context, bindery)[1])
    assert len(set(ids)) == 3
    assert sorted(Device.objects.filter(user=user).values_list("device_id", flat=True)) == sorted(ids)
    fourth = browser_profile("four")
    sign_in(fourth, user, bindery)
    # The register page says so at once, naming the devices, before any device check plays.
    page = fourth.new_page()
    page.goto("/devices/register/")
    limit = page.get_by_test_id("device-limit").inner_text()
    assert "You already have 3 registered devices, the most allowed" in limit
    assert all(name in limit for name in ("Chrome on Linux", "Chrome on Linux (2)", "Chrome on Linux (3)"))
    assert page.get_by_test_id("manage-devices").is_visible()
    assert not page.get_by_test_id("start-check").is_visible()  # folded away: "This browser is one of them?"
    # Checked anyway (it might have been one of them): the licence server's records refuse a fourth device,
    # and the page offers My devices, not a "Try again" that cannot work.
    page.locator("details summary").click()
    page.get_by_test_id("start-check").click()
    page.wait_for_selector("#check[data-registration]", timeout=30000)
    message = page.inner_text("#result")
    assert "You already have 3 registered devices" in message
    assert "Chrome on Linux, Chrome on Linux (2), Chrome on Linux (3)" in message
    assert page.locator("#manage").is_visible()
    assert not page.locator("#retry").is_visible()
    assert Device.objects.filter(user=user).count() == 3


def test_licence_request_signed_with_a_foreign_key_is_refused_and_logged(bindery, browser_profile, user):
    context = browser_profile("forger")
    sign_in(context, user, bindery)
    # Present another key's public half while signing with this profile's key.
    context.add_init_script(
        """
        window.addEventListener('DOMContentLoaded', () => {
          const honest = window.BinderyDevice.sign;
          window.BinderyDevice.sign = async (body) => {
            const headers = await honest(body);
            const foreign = await crypto.subtle.generateKey({name: 'ECDSA', namedCurve: 'P-256'}, true, ['sign']);
            const spki = new Uint8Array(await crypto.subtle.exportKey('spki', foreign.publicKey));
            headers['X-Sandbox-Device-Key'] = btoa(String.fromCharCode(...spki));
            return headers;
          };
        });
        """
    )
    page, _ = register(context, bindery, expect_ok=False)
    assert page.get_attribute("#check", "data-error-code") == "-4001"
    assert "could not verify this device" in page.inner_text("#check")
    assert page.evaluate("document.getElementById('check-video').currentTime") == 0
    assert Record.objects.filter(result=-4001).count() >= 1
    assert not Device.objects.filter(user=user).exists()
    assert Registration.objects.get(user=user).is_pending  # nothing bound; a new attempt can start
