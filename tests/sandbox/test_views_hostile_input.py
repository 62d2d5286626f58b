"""Hostile input to the sandbox: any string, any size, gets a documented ExpressPlay code, never a 500; a
captured licence request cannot be replayed; a device key on another curve is refused."""

import base64
import secrets
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from sandbox.device import KEY_HEADER, NONCE_HEADER, SIGNATURE_HEADER, TIME_HEADER, SimulatedDevice
from sandbox.errors import MESSAGES, SandboxError
from sandbox.models import Record
from sandbox.params import parse_time, token_claims
from tests.toolkit.sandbox import licence_request, make_token, redeem, valid

pytestmark = pytest.mark.django_db

# Strings an attacker would send: any text (other scripts, superscript digits, control characters), long
# digit runs, signs, spaces.
hostile = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789+-Z.:T ²³¹٣۴", max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=0, max_value=10**30).map(lambda n: f"+{n}"),
)
many = hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TOKEN_PARAMS = [
    "expirationTime",
    "rental.periodEndTime",
    "rental.playDuration",
    "analogVideoOPL",
    "securityLevel",
    "hdcpOutputControl",
    "licenseDuration",
    "rentalDuration",
    "generalFlags",
    "cookie",
    "deviceid",
    "kid",
    "contentKey",
    "iv",
    "rightsType",
]


@many
@given(drm=st.sampled_from(["pr", "wv", "fp"]), name=st.sampled_from(TOKEN_PARAMS), value=hostile)
def test_any_token_parameter_value_is_accepted_or_refused_with_a_documented_code(drm, name, value):
    params = {**valid(drm), name: value}
    try:
        claims = token_claims(drm, params, binding_drms=["pr"])
    except SandboxError as err:
        assert err.code in MESSAGES
        return
    assert claims.expires > claims.issued


@many
@given(value=hostile)
def test_any_time_is_a_timestamp_within_reach_or_a_refusal(value):
    now = int(time.time())
    try:
        moment = parse_time(value, now=now, code=-2002)
    except SandboxError as err:
        assert err.code == -2002
        return
    assert 0 <= moment <= now + 101 * 365 * 24 * 3600


@many
@given(selector=st.sampled_from(["id", "start", "length", "cookie"]), value=hostile)
@example(selector="cookie", value="\x00")  # PostgreSQL refuses NUL in text: found on its leg
@example(selector="cookie", value="c" * 33)
def test_getrecord_answers_every_selector_value_without_a_server_error(client, selector, value):
    params = {"customerAuthenticator": settings.SANDBOX_CUSTOMER_AUTHENTICATOR, "errorFormat": "json"}
    params[selector] = value
    if selector in ("start", "length"):
        params.setdefault("start", "0")
        params.setdefault("length", "10")
        params[selector] = value
    response = client.get("/sandbox/cmiapi/getrecord/", params)
    assert response.status_code in (200, 400), response.content[:200]
    if response.status_code == 400:
        assert response.json()["errorCode"] in MESSAGES


@many
@given(
    header=st.sampled_from([KEY_HEADER, TIME_HEADER, NONCE_HEADER, SIGNATURE_HEADER, "ExpressPlayToken"]),
    value=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200),
)
def test_a_licence_request_with_any_header_replaced_is_answered_with_a_code_never_a_server_error(
    client, header, value
):
    device = SimulatedDevice()
    body = licence_request()
    headers = {**device.headers(body), header: value}
    response = client.post(
        f"/sandbox/playready/RightsManager.asmx?ExpressPlayToken={make_token()}",
        data=body,
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code in (200, 400, 401, 403), response.content[:200]
    if response.status_code != 200:
        assert response.json()["errorCode"] in MESSAGES


def test_a_captured_licence_request_cannot_be_replayed(client):
    device = SimulatedDevice()
    body = licence_request()
    captured = device.headers(body)
    token = make_token(device_id=device.device_id)
    first = redeem(client, token, None, body=body, headers=captured)
    assert first.status_code == 200 and first.json()["keys"]
    again = redeem(client, token, None, body=body, headers=captured)
    assert (again.status_code, again.json()["errorCode"]) == (403, -4908)
    assert "keys" not in again.json()
    assert Record.objects.filter(result=-4908).count() == 1  # the attempt is on record for operators
    # The same device, signing afresh, still gets its licence.
    assert redeem(client, token, device, body=body).status_code == 200


@pytest.mark.parametrize("swapped", ["nonce", "timestamp", "body"])
def test_a_well_formed_part_swapped_under_the_old_signature_is_refused(client, swapped):
    """The signature covers the nonce, the time and the body: a fresh nonce (to get past the replay check), a
    nearby time or another body, each well formed, under a signature made for the original is refused."""
    device = SimulatedDevice()
    body = licence_request()
    headers = device.headers(body)
    if swapped == "nonce":
        headers[NONCE_HEADER] = secrets.token_hex(16)
    elif swapped == "timestamp":
        headers[TIME_HEADER] = str(int(headers[TIME_HEADER]) - 1)
    else:
        body = licence_request() + b" "
    response = redeem(client, make_token(), None, body=body, headers=headers)
    assert (response.status_code, response.json()["errorCode"]) == (401, -4001), response.content[:200]
    assert "keys" not in response.json()
    # The same request, signed as sent, is let through: the refusal was the swap's.
    assert redeem(client, make_token(), device, body=body).status_code == 200


def test_a_request_without_a_nonce_is_refused(client):
    device = SimulatedDevice()
    body = licence_request()
    headers = device.headers(body)
    del headers[NONCE_HEADER]
    response = redeem(client, make_token(), None, body=body, headers=headers)
    assert (response.status_code, response.json()["errorCode"]) == (401, -4001)


@pytest.mark.parametrize("curve", [ec.SECP384R1(), ec.SECP256K1()])
def test_a_device_key_on_another_curve_is_refused(client, curve):
    key = ec.generate_private_key(curve)
    device = SimulatedDevice()
    body = licence_request()
    headers = device.headers(body)
    headers[KEY_HEADER] = base64.b64encode(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).decode()
    response = redeem(client, make_token(), None, body=body, headers=headers)
    assert (response.status_code, response.json()["errorCode"]) == (401, -4001)


@pytest.mark.parametrize(
    "body", [b'{"kids": ' + b"[" * 3000, b"[" * 100_000, b'{"kids": ["' + b"A" * 20_000 + b'"]}']
)
def test_a_deeply_nested_or_huge_licence_request_is_refused_as_malformed(client, body):
    device = SimulatedDevice()
    response = redeem(client, make_token(), device, body=body)
    assert (response.status_code, response.json()["errorCode"]) == (400, -4906)
    assert Record.objects.get().result == -4906  # on record for operators


@pytest.mark.parametrize("name", ["contentKey", "iv", "deviceid", "kid"])
def test_a_hex_value_with_a_trailing_newline_is_refused(name):
    drm = "fp" if name == "iv" else "pr"
    params = {**valid(drm), name: (valid(drm).get(name) or "a1" * 16) + "\n"}
    with pytest.raises(SandboxError):
        token_claims(drm, params, binding_drms=["pr"])
