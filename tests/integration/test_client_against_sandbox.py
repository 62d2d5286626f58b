"""The real client talks to the real sandbox over HTTP (live_server): the whole binding round trip."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from binding.expressplay import (
    BuyToOwn,
    Endpoints,
    ExpressPlayClient,
    ExpressPlayRejected,
    Rental,
    client_from_settings,
)
from sandbox.models import Record
from sandbox.tokens import b64url
from tests.toolkit.sandbox import play

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def test_binding_round_trip_dummy_token_record_lookup_bound_token(
    sandbox_client, content_key, device, other_device
):
    cookie = "bind-7f3a9c"
    # 2. Dummy token carrying the cookie; 3. the device plays it and the sandbox logs (cookie, device_id).
    dummy = sandbox_client.playready_token(
        key=content_key, policy=BuyToOwn(), cookie=cookie, expires=timedelta(minutes=10)
    )
    assert play(dummy.license_url, content_key.kid, device).status_code == 200
    # 4. Record retrieval by cookie gives back the device id.
    assert sandbox_client.device_id_for_cookie(cookie) == device.device_id
    # 5. The real token, bound to that device.
    rental = Rental(period_end=datetime.now(UTC) + timedelta(hours=48), play_duration=3600)
    bound = sandbox_client.playready_token(
        key=content_key, policy=rental, cookie=cookie, device_id=device.device_id
    )
    # 6. Another device is refused and the refusal is logged; the bound device gets the key.
    refused = play(bound.license_url, content_key.kid, other_device)
    assert refused.status_code == 403
    assert refused.json()["errorCode"] == -4905
    newest = sandbox_client.get_records(cookie=cookie)[0]
    assert (newest.device_id, newest.result_code) == (other_device.device_id, -4905)
    granted = play(bound.license_url, content_key.kid, device)
    assert granted.status_code == 200
    assert granted.json()["keys"][0]["kid"] == b64url(bytes.fromhex(content_key.kid))
    assert Record.objects.filter(cookie=cookie).count() == 3


def test_a_client_that_misspells_the_device_restriction_gets_bound_tokens_that_play_on_any_device(
    live_server, settings, content_key, device, other_device
):
    settings.SANDBOX_DEVICE_ID_PARAM = "deviceid"
    settings.EXPRESSPLAY_ENV = "sandbox"
    settings.EXPRESSPLAY_SANDBOX_URL = f"{live_server.url}/sandbox"
    settings.EXPRESSPLAY_DEVICE_ID_PARAM = "deviceId"
    misconfigured = client_from_settings()
    assert misconfigured.device_id_param == "deviceId"
    bound = misconfigured.playready_token(
        key=content_key, policy=BuyToOwn(), cookie="misspelt", device_id=device.device_id
    )
    # The request succeeded, yet the token is bound to nothing: the round trip's -4905 would not come.
    stranger = play(bound.license_url, content_key.kid, other_device)
    assert stranger.status_code == 200
    assert stranger.json()["keys"][0]["kid"] == b64url(bytes.fromhex(content_key.kid))
    assert Record.objects.get(cookie="misspelt").device_id == other_device.device_id


def test_device_binding_on_widevine_and_fairplay_is_refused_as_documented(
    sandbox_client, content_key, device
):
    with pytest.raises(ExpressPlayRejected) as wv:
        sandbox_client.widevine_token(key=content_key, device_id=device.device_id)
    with pytest.raises(ExpressPlayRejected) as fp:
        sandbox_client.fairplay_token(
            key=content_key, iv="ffeeddccbbaa99887766554433221100", device_id=device.device_id
        )
    assert (wv.value.code, fp.value.code) == (-7002, -6008)
    assert "Widevine" in wv.value.meaning and "FairPlay" in fp.value.meaning


def test_widevine_and_fairplay_tokens_without_binding_play(sandbox_client, content_key, device):
    wv = sandbox_client.widevine_token(
        key=content_key, security_level=1, hdcp_output_control=0, cookie="wv-c"
    )
    fp = sandbox_client.fairplay_token(key=content_key, iv="ffeeddccbbaa99887766554433221100", cookie="fp-c")
    assert play(wv.license_url, content_key.kid, device).status_code == 200
    assert play(fp.license_url, content_key.kid, device).status_code == 200


def test_wrong_authenticator_is_explained(live_server, content_key):
    endpoints = Endpoints.for_environment("sandbox", sandbox_url=f"{live_server.url}/sandbox")
    client = ExpressPlayClient(
        endpoints=endpoints, customer_authenticator="201722,ffffffffffffffffffffffffffffffff"
    )
    with pytest.raises(ExpressPlayRejected) as excinfo:
        client.playready_token(key=content_key, policy=BuyToOwn())
    assert (excinfo.value.code, excinfo.value.status) == (-2018, 401)
    assert "wrong environment" in excinfo.value.meaning


def test_record_paging_through_the_client(sandbox_client, content_key, device):
    token = sandbox_client.playready_token(key=content_key, policy=BuyToOwn(), cookie="pager")
    for _ in range(5):
        play(token.license_url, content_key.kid, device)
    pages = [sandbox_client.get_records(start=start, length=2) for start in (0, 2, 4, 6)]
    assert [len(page) for page in pages] == [2, 2, 1, 0]
    first = sandbox_client.get_records(event_id=pages[0][-1].event_id)
    assert first[0].event_id == pages[0][-1].event_id


def test_binding_works_with_the_cookie_in_a_header(live_server, content_key, device):
    endpoints = Endpoints.for_environment("sandbox", sandbox_url=f"{live_server.url}/sandbox")
    client = ExpressPlayClient(
        endpoints=endpoints,
        customer_authenticator=settings.SANDBOX_CUSTOMER_AUTHENTICATOR,
        cookie_header="ExpressPlayCookie",
    )
    dummy = client.playready_token(key=content_key, policy=BuyToOwn(), cookie="hdr-cookie")
    assert play(dummy.license_url, content_key.kid, device).status_code == 200
    assert client.device_id_for_cookie("hdr-cookie") == device.device_id
