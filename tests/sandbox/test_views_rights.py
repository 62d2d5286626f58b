"""The sandbox's licence server: ClearKey answers for proven devices, refusals logged with their code."""

import base64
import time

import pytest

from sandbox.device import KEY_HEADER, SIGNATURE_HEADER, TIME_HEADER, SimulatedDevice, device_id_for
from sandbox.models import Record
from sandbox.tokens import b64url
from tests.toolkit.sandbox import KEY, KID, RIGHTS, licence_request, make_token, redeem, valid

pytestmark = pytest.mark.django_db


def test_granted_licence_is_a_clearkey_jwk_set_and_is_logged(client, device):
    response = redeem(client, make_token(device_id=device.device_id), device)
    assert response.status_code == 200
    key = response.json()["keys"][0]
    assert response.json()["type"] == "temporary"
    assert key["kty"] == "oct"
    assert key["kid"] == b64url(bytes.fromhex(KID))
    assert base64.urlsafe_b64decode(key["k"] + "==").hex() == KEY
    record = Record.objects.get()
    assert (record.result, record.cookie, record.device_id, record.kid, record.drm) == (
        0,
        "ck1",
        device.device_id,
        KID,
        "pr",
    )


def test_token_may_come_in_a_header_instead_of_the_query(client, device):
    body = licence_request()
    headers = {**device.headers(body), "ExpressPlayToken": make_token()}
    response = client.post(RIGHTS, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 200


def test_unbound_token_records_whichever_device_played_it(client, device):
    redeem(client, make_token(cookie="binding-cookie"), device)
    assert Record.objects.get().device_id == device.device_id


def test_device_id_is_the_first_32_hex_of_sha256_of_the_public_key(device):
    assert device.device_id == device_id_for(device.public_der)
    assert len(device.device_id) == 32


def test_licence_for_a_token_bound_to_another_device_is_refused_and_logged(client, device, other_device):
    response = redeem(client, make_token(device_id=other_device.device_id), device)
    assert response.status_code == 403
    assert response.json()["errorCode"] == -4905
    record = Record.objects.get()
    assert (record.result, record.device_id) == (-4905, device.device_id)


def requested_token(client, **changes) -> str:
    """Return a PlayReady token from the sandbox's own token endpoint, for a request with `changes`."""
    response = client.post("/sandbox/hms/pr/token", valid("pr", **changes))
    assert response.status_code == 200
    return response.json()["token"]


def test_a_token_requested_with_deviceid_is_bound_and_another_device_is_refused(client, device, other_device):
    token = requested_token(client, deviceid=device.device_id)
    refused = redeem(client, token, other_device)
    assert (refused.status_code, refused.json()["errorCode"]) == (403, -4905)
    assert redeem(client, token, device).status_code == 200


def test_a_token_requested_with_deviceId_carries_no_restriction_and_plays_on_any_device(
    client, device, other_device
):
    token = requested_token(client, deviceId=device.device_id)
    assert redeem(client, token, other_device).status_code == 200
    assert redeem(client, token, device).status_code == 200
    assert list(Record.objects.values_list("result", flat=True)) == [0, 0]


def test_tampered_token_is_refused(client, device):
    token = make_token()
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    response = redeem(client, flipped, device)
    assert (response.status_code, response.json()["errorCode"]) == (403, -4010)
    assert Record.objects.get().result == -4010


def test_token_of_another_drm_is_refused(client, device):
    response = redeem(client, make_token(drm="wv"), device)
    assert response.json()["errorCode"] == -4010


def test_missing_device_identity_is_refused(client):
    response = redeem(client, make_token(), None)
    assert (response.status_code, response.json()["errorCode"]) == (401, -4001)
    assert Record.objects.get().result == -4001


def test_signature_by_a_foreign_key_is_refused(client, device, other_device):
    body = licence_request()
    forged = device.headers(body)
    # Claim device's public key but sign with other_device's private key.
    forged[SIGNATURE_HEADER] = other_device.headers(body, timestamp=int(forged[TIME_HEADER]))[
        SIGNATURE_HEADER
    ]
    response = redeem(client, make_token(device_id=device.device_id), None, body=body, headers=forged)
    assert response.json()["errorCode"] == -4001
    assert Record.objects.get().result == -4001


def test_signature_over_another_body_is_refused(client, device):
    headers = device.headers(licence_request("ff" * 16))
    response = redeem(client, make_token(), None, headers=headers)
    assert response.json()["errorCode"] == -4001


def test_stale_device_clock_is_refused(client, device):
    body = licence_request()
    headers = device.headers(body, timestamp=int(time.time()) - 3600)
    response = redeem(client, make_token(), None, body=body, headers=headers)
    assert response.json()["errorCode"] == -4001


def test_non_p256_key_is_refused(client):
    from cryptography.hazmat.primitives.asymmetric import ec

    p384 = SimulatedDevice(ec.generate_private_key(ec.SECP384R1()))
    response = redeem(client, make_token(), None, headers={**p384.headers(licence_request())})
    assert response.json()["errorCode"] == -4001


def test_expired_token_is_refused(client, device):
    response = redeem(client, make_token(expires=int(time.time()) - 1), device)
    assert response.json()["errorCode"] == -4901


def test_rental_after_its_period_end_is_refused(client, device):
    token = make_token(rights_type="Rental", period_end=int(time.time()) - 1)
    assert redeem(client, token, device).json()["errorCode"] == -4902


def test_rental_play_duration_counts_from_first_play(client, device):
    token = make_token(rights_type="Rental", period_end=int(time.time()) + 3600, play_duration=60)
    assert redeem(client, token, device).status_code == 200
    assert redeem(client, token, device).status_code == 200  # still inside the 60 s
    first_licence_a_year_ago()
    assert redeem(client, token, device).json()["errorCode"] == -4903


def first_licence_a_year_ago() -> None:
    first = Record.objects.filter(result=0).order_by("event_id").first()
    Record.objects.filter(pk=first.pk).update(time=first.time.replace(year=first.time.year - 1))


@pytest.mark.parametrize(
    ("drm", "claim", "parameter"),
    [("wv", "license_duration", "licenseDuration"), ("fp", "rental_duration", "rentalDuration")],
)
def test_widevine_and_fairplay_play_windows_count_from_the_first_licence(
    client, device, drm, claim, parameter
):
    token = make_token(drm=drm, **{claim: 60})
    path = f"/sandbox/hms/{drm}/rights/"
    assert redeem(client, token, device, path=path).status_code == 200
    assert redeem(client, token, device, path=path).status_code == 200  # still inside the 60 s
    first_licence_a_year_ago()
    refused = redeem(client, token, device, path=path)
    assert (refused.status_code, refused.json()["errorCode"]) == (403, -4903)
    assert Record.objects.first().message.startswith(f"-4903 Rental play duration has ended: {parameter}")


def test_a_fairplay_rental_duration_of_0_never_ends(client, device):
    token = make_token(drm="fp", rental_duration=0)
    assert redeem(client, token, device, path="/sandbox/hms/fp/rights/").status_code == 200
    first_licence_a_year_ago()
    assert redeem(client, token, device, path="/sandbox/hms/fp/rights/").status_code == 200


def requested_uri_list_token(client, drm, **changes) -> str:
    response = client.post(f"/sandbox/hms/{drm}/token", valid(drm, **changes))
    assert response.status_code == 200, response.content
    return response.content.decode().strip().partition("ExpressPlayToken=")[2]


@pytest.mark.parametrize("drm", ["wv", "fp"])
def test_a_rental_asked_in_playready_terms_does_not_limit_a_widevine_or_fairplay_licence(client, device, drm):
    rental = {"rightsType": "Rental", "rental__periodEndTime": "+1", "rental__playDuration": "1"}
    token = requested_uri_list_token(client, drm, **rental)
    path = f"/sandbox/hms/{drm}/rights/"
    assert redeem(client, token, device, path=path).status_code == 200
    first_licence_a_year_ago()
    assert redeem(client, token, device, path=path).status_code == 200  # ExpressPlay ignores them too


@pytest.mark.parametrize(("drm", "parameter"), [("wv", "licenseDuration"), ("fp", "rentalDuration")])
def test_a_play_window_asked_in_the_drms_own_terms_ends_its_licences(client, device, drm, parameter):
    token = requested_uri_list_token(client, drm, **{parameter: "60"})
    path = f"/sandbox/hms/{drm}/rights/"
    assert redeem(client, token, device, path=path).status_code == 200
    first_licence_a_year_ago()
    assert redeem(client, token, device, path=path).json()["errorCode"] == -4903


def test_request_for_a_key_the_token_does_not_carry_is_refused(client, device):
    response = redeem(client, make_token(), device, body=licence_request("ff" * 16))
    assert response.json()["errorCode"] == -4904


def test_malformed_licence_request_is_refused(client, device):
    response = redeem(client, make_token(), device, body=b"not json")
    assert (response.status_code, response.json()["errorCode"]) == (400, -4906)


@pytest.mark.parametrize("drm", ["wv", "fp"])
def test_widevine_and_fairplay_rights_paths_speak_the_same_protocol(client, device, drm):
    response = redeem(client, make_token(drm=drm), device, path=f"/sandbox/hms/{drm}/rights/")
    assert response.status_code == 200


def test_cross_origin_preflight_allows_the_device_headers(client):
    response = client.options(RIGHTS, headers={"Origin": "http://localhost:8000"})
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    allowed = response["Access-Control-Allow-Headers"]
    for header in (KEY_HEADER, TIME_HEADER, SIGNATURE_HEADER, "Content-Type"):
        assert header in allowed


def test_refusals_carry_cors_headers_so_the_page_can_read_them(client, device):
    response = redeem(client, make_token(expires=int(time.time()) - 1), device)
    assert response["Access-Control-Allow-Origin"] == "*"


def test_get_is_not_a_licence_request(client):
    assert client.get(RIGHTS).status_code == 405
