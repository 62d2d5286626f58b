"""Which DRM a browser registers with, found by its own EME (decision 0013): the first offered DRM whose key
system `requestMediaKeySystemAccess` grants. A test Chromium has only ClearKey, so each profile here is given
the EME of another browser (Edge's PlayReady, Safari's FairPlay) by a script that runs before the page's; the
sandbox still plays the check through real ClearKey, and the device is of the DRM the browser has."""

import pytest

from binding.models import Device, Registration, TokenRequest
from tests.toolkit.browser import register, sign_in, wait_for_playback

pytestmark = pytest.mark.integration

# The browser grants `granted` (and ClearKey, which the sandbox plays through); every other key system is
# refused, as a browser without that CDM does.
EME_OF = """
(() => {
  const real = navigator.requestMediaKeySystemAccess.bind(navigator);
  window.__asked = [];
  navigator.requestMediaKeySystemAccess = (keySystem, configurations) => {
    window.__asked.push(keySystem);
    if (keySystem === "org.w3.clearkey") return real(keySystem, configurations);
    if (%s.includes(keySystem)) return real("org.w3.clearkey", [{initDataTypes: ["cenc"],
      videoCapabilities: [{contentType: 'video/mp4; codecs="avc1.4d401e"'}]}]);
    return Promise.reject(new DOMException("Unsupported keySystem", "NotSupportedError"));
  };
})();
"""


def with_eme(context, *granted: str):
    context.add_init_script(EME_OF % list(granted))
    return context


@pytest.mark.parametrize(
    ("granted", "drm", "name"),
    [
        (["com.microsoft.playready.recommendation"], "pr", "PlayReady"),
        (["com.widevine.alpha"], "wv", "Widevine"),
        (["com.apple.fps"], "fp", "FairPlay"),
    ],
)
def test_a_browser_registers_with_the_first_offered_drm_its_eme_grants(
    bindery, browser_profile, user, granted, drm, name
):
    context = with_eme(browser_profile(drm), *granted)
    sign_in(context, user, bindery)
    page, _device_id = register(context, bindery)
    line = page.get_by_test_id("drm")
    assert (line.get_attribute("data-drm"), line.get_attribute("data-how")) == (drm, "detected")
    assert line.inner_text() == f"This browser registers with {name}, the DRM it supports."
    played = wait_for_playback(page)  # the sandbox plays every DRM through the real ClearKey CDM
    assert played["time"] > 1 and played["video"] > 0
    device = Device.objects.get(user=user)
    assert device.drm == drm and device.identity_key
    cookie = Registration.objects.get(user=user, device=device)
    assert TokenRequest.objects.get(cookie=cookie).drm == drm  # the check token came from that DRM's API
    devices = context.new_page()
    devices.goto("/devices/")
    assert devices.get_by_test_id("device-drm").inner_text() == name


def test_the_offered_order_decides_between_two_drms_the_browser_has(bindery, browser_profile, user, settings):
    settings.EXPRESSPLAY_DRMS = ["wv", "pr", "fp"]
    context = with_eme(browser_profile("both"), "com.microsoft.playready", "com.widevine.alpha")
    sign_in(context, user, bindery)
    page, _ = register(context, bindery)
    assert page.get_by_test_id("drm").get_attribute("data-drm") == "wv"
    assert page.evaluate("window.__asked[0]") == "com.widevine.alpha"
    assert Device.objects.get(user=user).drm == "wv"


def test_a_browser_with_none_of_them_is_simulated_as_the_first_offered_in_the_sandbox(
    bindery, browser_profile, user
):
    context = with_eme(browser_profile("none"))
    sign_in(context, user, bindery)
    page, _ = register(context, bindery)
    line = page.get_by_test_id("drm")
    assert (line.get_attribute("data-drm"), line.get_attribute("data-how")) == ("pr", "simulated")
    assert Device.objects.get(user=user).drm == "pr"
