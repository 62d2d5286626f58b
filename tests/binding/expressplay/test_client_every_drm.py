"""Every DRM's token request in its own documented terms (research/expressplay-api.md, sections 3-5 and 11):
the policy, the title's IV, the http: licence URLs ExpressPlay's examples answer, and the DRM a device has."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import responses

from binding.expressplay import (
    BuyToOwn,
    ContentKey,
    Endpoints,
    ExpressPlayClient,
    ExpressPlayRequestInvalid,
    Rental,
    https_licence_url,
    licence_seconds,
)
from tests.toolkit.expressplay import FP_URL, PR_URL, WV_URL

SECRET = "201722,1ad8e0ff4f3c4b29a0b1c2d3e4f5a6b7"
ENDPOINTS = Endpoints.for_environment("test")
KEY = ContentKey(kid="0123456789abcdef0123456789abcdef", key="00112233445566778899aabbccddeeff")
IV = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def live():
    return ExpressPlayClient(
        endpoints=ENDPOINTS, customer_authenticator=SECRET, timeout=3, https_licence_urls=True
    )


def sent(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


PR_ANSWER = {
    "licenseAcquisitionUrl": "https://pr.test.expressplay.com/playready/RightsManager.asmx",
    "token": "T0K",
}
WV_ANSWER = "https://wv.test.expressplay.com/hms/wv/rights/?ExpressPlayToken=WVTOKEN\r\n"
# Adobe's FairPlay example answers with http: and an explicit :80 (research section 5).
FP_ANSWER = "http://fp.test.expressplay.com:80/hms/fp/rights/?ExpressPlayToken=FPTOKEN\r\n"


@responses.activate
def test_a_playready_rental_goes_in_playready_rental_parameters(live):
    responses.post(PR_URL, json=PR_ANSWER)
    live.token(
        "pr", key=KEY, policy=Rental(period_end=NOW + timedelta(hours=48), play_duration=7200), now=NOW
    )
    form = sent(responses.calls[0])
    assert form["rightsType"] == "Rental"
    assert form["rental.periodEndTime"] == "2026-12-04T12:00:00Z"
    assert form["rental.playDuration"] == "7200"
    assert form["generalFlags"] == "00000001"
    assert "licenseDuration" not in form and "rentalDuration" not in form and "iv" not in form


@responses.activate
def test_a_widevine_rental_goes_in_license_duration_and_never_in_playready_terms(live):
    responses.post(WV_URL, body=WV_ANSWER, content_type="text/uri-list")
    token = live.token(
        "wv", key=KEY, policy=Rental(period_end=NOW + timedelta(hours=48), play_duration=7200), now=NOW
    )
    form = sent(responses.calls[0])
    assert form["licenseDuration"] == "7200"  # the viewing time, shorter than the 48 h left
    assert form["securityLevel"] == "1" and form["hdcpOutputControl"] == "0"
    assert not {"rightsType", "rental.periodEndTime", "rental.playDuration", "iv"} & set(form)
    assert token.license_url.startswith("https://wv.test.expressplay.com/hms/wv/rights/")


@responses.activate
def test_a_rental_ending_before_its_viewing_time_is_used_plays_only_until_its_end(live):
    responses.post(WV_URL, body=WV_ANSWER, content_type="text/uri-list")
    live.token(
        "wv", key=KEY, policy=Rental(period_end=NOW + timedelta(minutes=30), play_duration=7200), now=NOW
    )
    assert sent(responses.calls[0])["licenseDuration"] == "1800"


@responses.activate
def test_a_fairplay_rental_sends_rental_duration_and_the_titles_own_iv(live):
    responses.post(FP_URL, body=FP_ANSWER, content_type="text/uri-list")
    live.token("fp", key=KEY, iv=IV, policy=Rental(period_end=NOW + timedelta(hours=48)), now=NOW)
    form = sent(responses.calls[0])
    assert form["iv"] == IV
    assert form["rentalDuration"] == str(48 * 3600)
    assert not {"rightsType", "rental.periodEndTime", "licenseDuration", "analogVideoOPL"} & set(form)


@responses.activate
def test_buy_to_own_sends_no_duration_to_widevine_or_fairplay(live):
    responses.post(WV_URL, body=WV_ANSWER, content_type="text/uri-list")
    responses.post(FP_URL, body=FP_ANSWER, content_type="text/uri-list")
    live.token("wv", key=KEY, policy=BuyToOwn())
    live.token("fp", key=KEY, iv=IV, policy=BuyToOwn())
    assert "licenseDuration" not in sent(responses.calls[0])
    assert "rentalDuration" not in sent(responses.calls[1])


@responses.activate
def test_fairplay_without_the_titles_iv_is_refused_before_anything_is_sent(live):
    with pytest.raises(ExpressPlayRequestInvalid, match="iv"):
        live.token("fp", key=KEY, iv="", policy=BuyToOwn())
    assert not responses.calls


@responses.activate
def test_an_http_licence_url_is_used_as_https_by_a_live_client(live):
    responses.post(FP_URL, body=FP_ANSWER, content_type="text/uri-list")
    token = live.token("fp", key=KEY, iv=IV, policy=BuyToOwn())
    assert token.license_url == "https://fp.test.expressplay.com/hms/fp/rights/?ExpressPlayToken=FPTOKEN"


@responses.activate
def test_an_http_playready_licence_host_is_used_as_https_too(live):
    responses.post(
        PR_URL,
        json={
            **PR_ANSWER,
            "licenseAcquisitionUrl": "http://expressplay-licensing.axprod.net/LicensingService.ashx",
        },
    )
    token = live.token("pr", key=KEY, policy=BuyToOwn())
    assert (
        token.license_url
        == "https://expressplay-licensing.axprod.net/LicensingService.ashx?ExpressPlayToken=T0K"
    )


@responses.activate
def test_the_sandbox_client_keeps_the_plain_http_it_is_served_on():
    sandbox = ExpressPlayClient(
        endpoints=Endpoints.for_environment("sandbox", sandbox_url="http://127.0.0.1:8000/sandbox"),
        customer_authenticator=SECRET,
    )
    responses.post(
        "http://127.0.0.1:8000/sandbox/hms/wv/token",
        body="http://127.0.0.1:8000/sandbox/hms/wv/rights/?ExpressPlayToken=X\r\n",
        content_type="text/uri-list",
    )
    token = sandbox.token("wv", key=KEY, policy=BuyToOwn())
    assert token.license_url.startswith("http://127.0.0.1:8000/")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://fp.service.expressplay.com:80/hms/fp/rights/?x=1",
            "https://fp.service.expressplay.com/hms/fp/rights/?x=1",
        ),
        ("http://host:8080/a", "https://host:8080/a"),
        ("https://wv.service.expressplay.com/x", "https://wv.service.expressplay.com/x"),
    ],
)
def test_https_licence_url_changes_only_the_scheme_and_the_default_port(url, expected):
    assert https_licence_url(url) == expected


def test_an_ended_rental_has_no_licence_seconds_left():
    with pytest.raises(ExpressPlayRequestInvalid):
        licence_seconds(Rental(period_end=NOW - timedelta(seconds=1)), now=NOW)
    assert licence_seconds(BuyToOwn(), now=NOW) is None


@responses.activate
def test_the_device_restriction_goes_to_whichever_drm_the_device_has(live):
    responses.post(WV_URL, body=WV_ANSWER, content_type="text/uri-list")
    live.token("wv", key=KEY, policy=BuyToOwn(), device_id="a1b2c3d4e5f60718293a4b5c6d7e8f90")
    assert sent(responses.calls[0])["deviceid"] == "a1b2c3d4e5f60718293a4b5c6d7e8f90"
