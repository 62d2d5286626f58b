"""Bindery's own binding at Play (decision 0013): a playback session only for the browser whose registration and
device key match the entitlement's device, a short token kept on the session, and a licence proxy that relays
only that browser's signed licence requests. Every refusal is in words."""

import base64
import json
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.signing import get_cookie_signer
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from binding import services
from binding.models import (
    BindingMode,
    Device,
    Entitlement,
    EntitlementKind,
    EntitlementState,
    PlaySession,
    Registration,
    TokenRequest,
    TokenRequestOutcome,
    TokenRequestPurpose,
)
from binding.services.identity import play_message
from sandbox.device import SimulatedDevice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings")]

BASE = "http://127.0.0.1:8000/sandbox"
RIGHTS = f"{BASE}/hms/wv/rights/"
DEVICE = "a1" * 16
LICENCE_BODY = json.dumps({"kids": ["M zMz"], "type": "temporary"}).encode()
KEYS = {"keys": [{"kty": "oct", "kid": "x", "k": "y"}], "type": "temporary"}


def raw_signature(device: SimulatedDevice, message: bytes) -> str:
    r, s = decode_dss_signature(device.private_key.sign(message, ec.ECDSA(hashes.SHA256())))
    return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()


def key_of(device: SimulatedDevice) -> str:
    return base64.b64encode(device.public_der).decode()


@pytest.fixture
def laptop():
    """The key of the browser the title is bound to."""
    return SimulatedDevice()


@pytest.fixture
def widevine(cookie, laptop, settings):
    """The registration `cookie` as a Widevine browser with its device key; Widevine titles bound by Bindery."""
    settings.EXPRESSPLAY_BINDING = {"pr": "expressplay", "wv": "bindery", "fp": "bindery"}
    Registration.objects.filter(pk=cookie.pk).update(drm="wv", identity_key=key_of(laptop))
    Device.objects.filter(pk=cookie.device_id).update(drm="wv", identity_key=key_of(laptop))
    cookie.refresh_from_db()
    return cookie


@pytest.fixture
def rental(user, asset, widevine):
    """A rental bound by Bindery to the Widevine device (issued by the worker's real path)."""
    entitlement = services.entitlement_create(
        user=user,
        asset=asset,
        kind=EntitlementKind.RENT,
        cookie=widevine,
        rental_period=timedelta(hours=48),
        play_duration=7200,
    )
    with responses.RequestsMock() as stub:
        stub.get(f"{BASE}/cmiapi/getrecord/", json={"event_id": 1, "device_id": DEVICE, "result": 0})
        entitlement = services.entitlement_issue(entitlement_id=entitlement.pk, task_id="t1")
    assert (entitlement.state, entitlement.bound_by) == (EntitlementState.READY, BindingMode.BINDERY)
    return entitlement


def browser_of(user, cookie_value: str | None) -> Client:
    client = Client()
    client.force_login(user)
    if cookie_value:
        client.cookies[settings.BINDING_BROWSER_COOKIE] = get_cookie_signer(
            salt=settings.BINDING_BROWSER_COOKIE
        ).sign(cookie_value)
    return client


@pytest.fixture
def browser(user, widevine):
    return browser_of(user, widevine.value)


def start(client, entitlement, device, *, challenge=None):
    challenge = challenge or services.play_challenge(entitlement)
    return client.post(
        reverse("storefront:play-session-start", args=[entitlement.pk]),
        {
            "challenge": challenge,
            "key": key_of(device),
            "signature": raw_signature(device, play_message(challenge)),
        },
    )


def stub_token(stub):
    stub.post(f"{BASE}/hms/wv/token", body=f"{RIGHTS}?ExpressPlayToken=SHORT\r\n")


def started(client, entitlement, device):
    with responses.RequestsMock() as stub:
        stub_token(stub)
        answer = start(client, entitlement, device)
    assert answer.status_code == 201, answer.content
    return answer.json()


def licence(client, url, device, *, body=LICENCE_BODY, headers=None):
    return client.post(
        url, data=body, content_type="application/json", headers=headers or device.headers(body)
    )


def refusal(answer):
    payload = answer.json()
    assert payload["ok"] is False and payload["message"], payload
    return payload["reason"]


# --- the path that plays ------------------------------------------------------------------------------------


def test_the_registered_browser_plays_a_bindery_title_through_the_licence_proxy(browser, rental, laptop):
    with responses.RequestsMock() as stub:
        stub_token(stub)
        answer = start(browser, rental, laptop)
        token_call = stub.calls[0].request
    assert answer.status_code == 201
    session = answer.json()
    assert "ExpressPlayToken" not in answer.content.decode()  # the token never reaches the browser
    form = {k: v[0] for k, v in parse_qs(token_call.body).items()}
    assert "deviceid" not in form  # no device restriction: Bindery is the binding
    assert form["licenseDuration"] == "7200"
    request = TokenRequest.objects.get(purpose=TokenRequestPurpose.PLAY)
    assert (request.outcome, request.entitlement_id, request.drm) == (
        TokenRequestOutcome.ISSUED,
        rental.pk,
        "wv",
    )
    assert form["expirationTime"] == f"+{settings.BINDING_PLAY_TOKEN_TTL}"  # a short token, minutes

    with responses.RequestsMock() as stub:
        stub.post(RIGHTS, json=KEYS)
        answer = licence(browser, session["licenseUrl"], laptop)
        relayed = stub.calls[0].request
    assert answer.status_code == 200 and answer.json() == KEYS
    assert "ExpressPlayToken=SHORT" in relayed.url and relayed.body == LICENCE_BODY
    assert relayed.headers["X-Sandbox-Device-Key"] == key_of(laptop)  # the sandbox checks the device too
    rental.refresh_from_db()
    assert rental.first_played_at is not None  # the viewing time runs from the first licence, on record here
    assert PlaySession.objects.get().licence_requests == 1


def test_live_expressplay_gets_the_licence_request_without_the_device_headers(
    browser, rental, laptop, settings
):
    session = started(browser, rental, laptop)
    settings.EXPRESSPLAY_ENV = "test"
    with responses.RequestsMock() as stub:
        stub.post(RIGHTS, json=KEYS)
        assert licence(browser, session["licenseUrl"], laptop).status_code == 200
        assert "X-Sandbox-Device-Key" not in stub.calls[0].request.headers


def test_each_play_of_a_rental_gets_only_the_viewing_time_left(browser, rental, laptop):
    Entitlement.objects.filter(pk=rental.pk).update(first_played_at=timezone.now() - timedelta(hours=1))
    with responses.RequestsMock() as stub:
        stub_token(stub)
        assert start(browser, rental, laptop).status_code == 201
        form = {k: v[0] for k, v in parse_qs(stub.calls[0].request.body).items()}
    assert 3590 <= int(form["licenseDuration"]) <= 3600


def test_a_rental_whose_viewing_time_is_used_up_is_refused_before_any_token(browser, rental, laptop):
    Entitlement.objects.filter(pk=rental.pk).update(first_played_at=timezone.now() - timedelta(hours=3))
    with responses.RequestsMock():
        answer = start(browser, rental, laptop)
    assert answer.status_code == 410 and refusal(answer) == "viewing-time-used"
    assert not TokenRequest.objects.filter(purpose=TokenRequestPurpose.PLAY).exists()


@pytest.fixture
def ordered(rental, asset, user):
    """The rental as the shop's order (its pages look entitlements up by order)."""
    from storefront.models import Offer, Order, Title

    title = Title.objects.create(slug="film", name="Film", synopsis="-", year=2026, asset=asset)
    offer = Offer.objects.create(title=title, kind="rent", price=1, rental_hours=48, play_hours=2)
    Order.objects.create(
        user=user,
        title=title,
        offer=offer,
        kind="rent",
        price=1,
        currency="EUR",
        payment_reference="T",
        entitlement=rental,
    )
    return rental


def test_the_status_json_hands_out_no_licence_url_for_a_bindery_title(browser, ordered):
    rental = ordered
    status = browser.get(reverse("storefront:entitlement-status", args=[rental.pk])).json()
    assert status["ok"] and status["session"] and "licenseUrl" not in status
    assert status["renew"] is False  # no token kept, none to renew


def test_the_play_page_carries_a_challenge_and_writes_nothing(browser, ordered):
    rental = ordered
    before = PlaySession.objects.count()
    page = browser.get(reverse("storefront:play", args=[rental.pk]))
    assert page.status_code == 200
    config = json.loads(
        page.content.decode().split('id="player-config" type="application/json">')[1].split("<")[0]
    )
    assert config["challenge"] and config["sessionUrl"].endswith("/sessions/")
    assert PlaySession.objects.count() == before


# --- session start: every refusal -----------------------------------------------------------------------------


def test_another_customer_cannot_start_a_session(rental, laptop):
    other = get_user_model().objects.create_user("eve", password="x")
    answer = start(browser_of(other, None), rental, laptop)
    assert answer.status_code == 404 and refusal(answer) == "not-yours"


def test_a_browser_without_the_registration_cookie_is_refused(user, rental, laptop):
    answer = start(browser_of(user, None), rental, laptop)
    assert answer.status_code == 403 and refusal(answer) == "not-registered"


def test_a_signed_out_browser_is_refused_in_words(rental, laptop):
    answer = start(Client(), rental, laptop)
    assert answer.status_code == 401 and refusal(answer) == "signed-out"


def test_another_registered_device_of_the_customer_is_refused(user, rental, laptop):
    tablet = services.registration_create(user=user, user_agent="Chrome/156 (X11; Linux x86_64)")
    services.device_bind(cookie=tablet, device_id="b2" * 16)
    answer = start(browser_of(user, tablet.value), rental, laptop)
    assert answer.status_code == 403 and refusal(answer) == "other-device"
    assert "bound to your device" in answer.json()["message"]


def test_a_removed_device_is_refused(browser, rental, laptop):
    Device.objects.filter(pk=rental.device_id).update(removed_at=timezone.now())
    answer = start(browser, rental, laptop)
    assert answer.status_code == 403 and refusal(answer) in ("device-removed", "not-registered")


def test_a_signature_by_another_device_key_is_refused(browser, rental):
    answer = start(browser, rental, SimulatedDevice())
    assert answer.status_code == 403 and refusal(answer) == "wrong-key"


def test_a_challenge_signed_by_the_right_key_for_another_message_is_refused(browser, rental, laptop):
    challenge = services.play_challenge(rental)
    answer = browser.post(
        reverse("storefront:play-session-start", args=[rental.pk]),
        {
            "challenge": challenge,
            "key": key_of(laptop),
            "signature": raw_signature(laptop, b"something else"),
        },
    )
    assert refusal(answer) == "wrong-key"


def test_a_replayed_challenge_starts_no_second_session(browser, rental, laptop):
    challenge = services.play_challenge(rental)
    with responses.RequestsMock() as stub:
        stub_token(stub)
        assert start(browser, rental, laptop, challenge=challenge).status_code == 201
        again = start(browser, rental, laptop, challenge=challenge)
        assert len(stub.calls) == 1
    assert again.status_code == 409 and refusal(again) == "challenge-used"
    assert PlaySession.objects.count() == 1


def test_a_challenge_older_than_two_minutes_is_refused(browser, rental, laptop, monkeypatch):
    real = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real() - 600)
    old = services.play_challenge(rental)
    monkeypatch.setattr(signing.time, "time", real)
    answer = start(browser, rental, laptop, challenge=old)
    assert answer.status_code == 409 and refusal(answer) == "challenge-expired"


def test_a_challenge_for_another_entitlement_is_refused(browser, rental, laptop, asset, widevine, user):
    Entitlement.objects.filter(pk=rental.pk).update(kind=EntitlementKind.BUY)
    other = services.play_challenge(Entitlement(pk=rental.pk + 1000))
    answer = start(browser, rental, laptop, challenge=other)
    assert answer.status_code == 400 and refusal(answer) == "challenge-invalid"


def test_no_more_than_the_concurrent_plays_are_live_at_once(browser, rental, laptop, settings):
    settings.BINDING_CONCURRENT_PLAYS = 2
    first = started(browser, rental, laptop)
    started(browser, rental, laptop)
    with responses.RequestsMock():
        third = start(browser, rental, laptop)
    assert third.status_code == 429 and refusal(third) == "session-limit"
    assert "2 windows" in third.json()["message"]
    # Ending one (the page went away) makes room again.
    assert browser.post(first["endUrl"]).json()["ended"] is True
    started(browser, rental, laptop)


def test_a_session_without_heartbeats_no_longer_counts(browser, rental, laptop, settings):
    settings.BINDING_CONCURRENT_PLAYS = 1
    started(browser, rental, laptop)
    PlaySession.objects.update(last_seen=timezone.now() - timedelta(seconds=PlaySession.LIVE_FOR + 1))
    started(browser, rental, laptop)


def test_an_expressplay_outage_answers_503_and_play_can_be_pressed_again(browser, rental, laptop):
    with responses.RequestsMock() as stub:
        stub.post(f"{BASE}/hms/wv/token", body=requests.ConnectionError("refused"))
        answer = start(browser, rental, laptop)
    assert answer.status_code == 503 and refusal(answer) == "unavailable"
    assert answer["Retry-After"] == "30"
    assert PlaySession.objects.get().ended_at is not None  # it takes no place of a live one
    assert TokenRequest.objects.get(purpose=TokenRequestPurpose.PLAY).outcome != TokenRequestOutcome.ISSUED
    rental.refresh_from_db()
    assert rental.state == EntitlementState.READY  # nothing lost
    started(browser, rental, laptop)


# --- the licence proxy: every refusal ---------------------------------------------------------------------------


def test_the_proxy_url_copied_into_a_browser_without_the_registration_is_refused(
    user, browser, rental, laptop
):
    session = started(browser, rental, laptop)
    for client, reason, status in (
        (browser_of(user, None), "not-registered", 403),
        (Client(), "signed-out", 401),
        (browser_of(get_user_model().objects.create_user("eve", password="x"), None), "no-session", 404),
    ):
        with responses.RequestsMock():  # nothing is relayed
            answer = licence(client, session["licenseUrl"], laptop)
        assert answer.status_code == status and refusal(answer) == reason


def test_a_licence_request_signed_by_another_key_is_refused(browser, rental, laptop):
    session = started(browser, rental, laptop)
    with responses.RequestsMock():
        answer = licence(browser, session["licenseUrl"], SimulatedDevice())
    assert answer.status_code == 403 and refusal(answer) == "wrong-key"


def test_an_unsigned_licence_request_is_refused(browser, rental, laptop):
    session = started(browser, rental, laptop)
    with responses.RequestsMock():
        answer = browser.post(session["licenseUrl"], data=LICENCE_BODY, content_type="application/json")
    assert refusal(answer) == "wrong-key"


def test_a_replayed_licence_request_nonce_is_refused(browser, rental, laptop):
    session = started(browser, rental, laptop)
    headers = laptop.headers(LICENCE_BODY)
    with responses.RequestsMock() as stub:
        stub.post(RIGHTS, json=KEYS)
        assert licence(browser, session["licenseUrl"], laptop, headers=headers).status_code == 200
        again = licence(browser, session["licenseUrl"], laptop, headers=headers)
        assert len(stub.calls) == 1
    assert again.status_code == 409 and refusal(again) == "replayed"


def test_a_licence_request_from_a_clock_far_off_is_refused(browser, rental, laptop):
    session = started(browser, rental, laptop)
    headers = laptop.headers(LICENCE_BODY, timestamp=int(timezone.now().timestamp()) - 3600)
    with responses.RequestsMock():
        assert refusal(licence(browser, session["licenseUrl"], laptop, headers=headers)) == "clock"


def test_an_ended_session_relays_nothing(browser, rental, laptop):
    session = started(browser, rental, laptop)
    browser.post(session["endUrl"])
    with responses.RequestsMock():
        answer = licence(browser, session["licenseUrl"], laptop)
    assert answer.status_code == 410 and refusal(answer) == "session-ended"


def test_a_stale_session_relays_nothing_and_its_heartbeat_does_not_revive_it(browser, rental, laptop):
    session = started(browser, rental, laptop)
    PlaySession.objects.update(last_seen=timezone.now() - timedelta(seconds=PlaySession.LIVE_FOR + 1))
    assert refusal(browser.post(session["heartbeatUrl"])) == "session-ended"
    with responses.RequestsMock():
        assert refusal(licence(browser, session["licenseUrl"], laptop)) == "session-ended"


def test_a_heartbeat_keeps_the_session_live(browser, rental, laptop):
    session = started(browser, rental, laptop)
    PlaySession.objects.update(last_seen=timezone.now() - timedelta(seconds=PlaySession.HEARTBEAT))
    assert browser.post(session["heartbeatUrl"]).json() == {"ok": True}
    assert PlaySession.objects.get().is_live


def test_a_device_removed_during_the_session_stops_the_proxy(browser, rental, laptop):
    session = started(browser, rental, laptop)
    Device.objects.filter(pk=rental.device_id).update(removed_at=timezone.now())
    with responses.RequestsMock():
        answer = licence(browser, session["licenseUrl"], laptop)
    assert answer.status_code == 403


def test_the_licence_server_s_refusal_is_relayed_as_it_came(browser, rental, laptop):
    session = started(browser, rental, laptop)
    with responses.RequestsMock() as stub:
        stub.post(RIGHTS, status=403, json={"errorCode": -4901, "errorMessage": "token expired"})
        answer = licence(browser, session["licenseUrl"], laptop)
    assert answer.status_code == 403 and answer.json()["errorCode"] == -4901


def test_a_licence_server_outage_answers_503_with_words(browser, rental, laptop):
    session = started(browser, rental, laptop)
    with responses.RequestsMock() as stub:
        stub.post(RIGHTS, body=requests.ConnectionError("down"))
        answer = licence(browser, session["licenseUrl"], laptop)
    assert answer.status_code == 503 and refusal(answer) == "unavailable" and answer["Retry-After"]


def test_a_licence_server_redirect_is_not_followed(browser, rental, laptop):
    session = started(browser, rental, laptop)
    with responses.RequestsMock() as stub:
        stub.post(RIGHTS, status=302, headers={"Location": "http://169.254.169.254/"})
        answer = licence(browser, session["licenseUrl"], laptop)
        assert len(stub.calls) == 1
    assert answer.status_code == 503


def test_an_oversized_licence_request_is_refused_unread(browser, rental, laptop):
    session = started(browser, rental, laptop)
    body = b"x" * (65 * 1024)
    with responses.RequestsMock():
        answer = licence(browser, session["licenseUrl"], laptop, body=body)
    assert answer.status_code == 413 and refusal(answer) == "too-large"


def test_a_session_id_is_no_use_in_another_registered_browser_of_the_same_device(
    user, browser, rental, laptop
):
    """A stolen session id: a second registration of the same customer cannot use it, even signed right."""
    session = started(browser, rental, laptop)
    again = services.registration_create(user=user, user_agent="Chrome/156 (X11; Linux x86_64)")
    services.device_bind(cookie=again, device_id=DEVICE)
    with responses.RequestsMock():
        answer = licence(browser_of(user, again.value), session["licenseUrl"], laptop)
    assert answer.status_code == 403 and refusal(answer) == "other-browser"
