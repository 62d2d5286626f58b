"""Widevine in Chromium, sandbox mode (decision 0013). With the sandbox refusing Widevine binding (-7002, its
default), a Widevine browser's titles are bound by Bindery: they play through playback sessions and Bindery's
licence proxy, and nothing another browser copies plays. With the sandbox binding Widevine, ExpressPlay binds."""

import pytest

from binding.models import (
    BindingMode,
    Device,
    DrmFallback,
    Entitlement,
    PlaySession,
    TokenRequest,
    TokenRequestPurpose,
)
from tests.toolkit.browser import playback, rent_and_wait, sign_in, wait_until

pytestmark = pytest.mark.integration


def present_as(context, live_server, drm: str) -> None:
    """Present the profile as a device of `drm`, as the presenter's "this browser registers as" does: the
    sandbox's signed cookie."""
    page = context.new_page()
    page.goto("/accounts/login/")
    csrf = page.evaluate("document.querySelector('input[name=csrfmiddlewaretoken]').value")
    answer = page.request.post(
        f"{live_server.url}/sandbox/present-as/",
        form={"drm": drm, "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{live_server.url}/accounts/login/"},
    )
    assert answer.ok, answer.status
    page.close()


def register_as_widevine(context, user, live_server) -> None:
    """Register the profile as a Widevine browser: presented as one in the sandbox, the registration page says
    so, starts the check as Widevine's (so the check token and the device are Widevine's) and proves its own
    device key."""
    present_as(context, live_server, "wv")
    page = context.new_page()
    page.goto("/devices/register/")
    page.get_by_test_id("start-check").click()
    page.wait_for_selector("#check[data-registration=bound]", timeout=30000)
    line = page.get_by_test_id("drm")
    assert line.get_attribute("data-drm") == "wv" and line.get_attribute("data-how") == "presented"
    assert "Widevine" in line.inner_text()
    page.close()
    device = Device.objects.get(user=user, drm="wv", removed_at=None)
    assert device.identity_key  # the page proved its key itself


def requested_urls(page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def play(page, entitlement_id: int) -> None:
    page.goto(f"/library/{entitlement_id}/play/")
    wait_until(page, "document.getElementById('video').currentTime > 1", timeout=30)
    played = playback(page)
    assert played["time"] > 1 and played["video"] > 0 and played["audio"] > 0, played


def test_a_widevine_browser_buys_rents_and_plays_bound_by_bindery_and_nothing_copied_plays(
    shop,
    browser_profile,
    user,
    live_server,
):
    laptop = browser_profile("widevine")
    sign_in(laptop, user, live_server)
    register_as_widevine(laptop, user, live_server)
    page = laptop.new_page()
    rental = rent_and_wait(page, "life").entitlement
    # The sandbox answered the bound Widevine request with -7002: Widevine fell back, the order did not fail.
    fallback = DrmFallback.objects.get(drm="wv")
    assert (fallback.expressplay_code, fallback.mode) == (-7002, BindingMode.BINDERY)
    bought = rent_and_wait(page, "mandelbrot", kind="buy").entitlement
    for entitlement in (rental, bought):
        entitlement.refresh_from_db()
        assert (entitlement.bound_by, entitlement.license_url, entitlement.device.drm) == (
            "bindery",
            "",
            "wv",
        )

    # It plays for real, through a playback session and Bindery's licence proxy: no token reaches the page.
    player = laptop.new_page()
    seen = requested_urls(player)
    play(player, rental.pk)
    licence_calls = [url for url in seen if "/licence/" in url]
    assert licence_calls and all("/library/sessions/" in url for url in licence_calls), seen
    assert not [url for url in seen if "ExpressPlayToken" in url]
    assert "ExpressPlayToken" not in player.content()
    session = PlaySession.objects.get(entitlement=rental)
    assert session.is_live and session.licence_requests >= 1
    assert TokenRequest.objects.filter(
        entitlement=rental, purpose=TokenRequestPurpose.PLAY, device_id=""
    ).exists()
    assert Entitlement.objects.get(pk=rental.pk).first_played_at is not None
    proxy_url, session_id = licence_calls[0], str(session.pk)
    library = laptop.new_page()
    library.goto("/library/")
    assert "by Bindery: plays only in this browser" in library.inner_text("[data-testid=library]")
    library.close()
    play(laptop.new_page(), bought.pk)

    # A second browser of the same customer: refused in words, nothing played.
    tablet = browser_profile("tablet")
    sign_in(tablet, user, live_server)
    other = tablet.new_page()
    other.goto(f"/library/{rental.pk}/play/")
    other.wait_for_selector("#player[data-state=error]", timeout=20000)
    assert other.get_attribute("#player", "data-error-code") == "not-registered"
    assert "This browser is not registered as one of your devices" in other.inner_text("#player")
    assert other.evaluate("document.getElementById('video').currentTime") == 0

    # The licence proxy URL and the session URLs copied into it: refused, in words.
    copied = other.evaluate(
        """async ([proxy, id]) => {
             const csrf = document.querySelector('input[name=csrfmiddlewaretoken]').value;
             const ask = async (url) => {
               const r = await fetch(url, {method: 'POST', headers: {'X-CSRFToken': csrf}, body: '{"kids":["x"]}'});
               return [r.status, await r.json()];
             };
             return [await ask(proxy), await ask('/library/sessions/' + id + '/heartbeat/')];
           }""",
        [proxy_url, session_id],
    )
    for status, answer in copied:
        assert status == 403 and answer["reason"] == "not-registered" and answer["message"], copied

    # The play page URL in a browser signed in as nobody: the session start says so in words.
    stranger = browser_profile("stranger").new_page()
    answer = stranger.request.post(f"{live_server.url}/library/sessions/{session_id}/licence/", data="{}")
    assert answer.status == 401 and answer.json()["reason"] == "signed-out"


def test_where_expressplay_binds_widevine_a_widevine_title_is_bound_by_expressplay(
    shop,
    browser_profile,
    user,
    live_server,
    settings,
):
    settings.SANDBOX_DEVICE_BINDING_DRMS = ["pr", "wv"]
    laptop = browser_profile("widevine")
    sign_in(laptop, user, live_server)
    register_as_widevine(laptop, user, live_server)
    page = laptop.new_page()
    rental = rent_and_wait(page, "life").entitlement
    rental.refresh_from_db()
    assert rental.bound_by == BindingMode.EXPRESSPLAY and "/hms/wv/rights/" in rental.license_url
    assert not DrmFallback.objects.exists()
    play(laptop.new_page(), rental.pk)
    assert not PlaySession.objects.exists()
