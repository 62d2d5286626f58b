"""The sandbox's token endpoints answer like ExpressPlay's: paths, shapes, media types and error codes."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from sandbox.models import IssuedToken
from sandbox.tokens import open_token
from tests.toolkit.sandbox import KEY, KID, valid

pytestmark = pytest.mark.django_db

DEVICE = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


def url(drm: str) -> str:
    return f"/sandbox/hms/{drm}/token"


def test_playready_token_answers_json_with_licence_url_and_token(client):
    response = client.post(url("pr"), valid("pr", cookie="abc", deviceid=DEVICE))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["licenseAcquisitionUrl"] == "http://testserver/sandbox/playready/RightsManager.asmx"
    claims = open_token(body["token"], settings.SANDBOX_TOKEN_SECRET)
    assert (claims.kid, claims.cookie, claims.device_id, claims.rights_type) == (
        KID,
        "abc",
        DEVICE,
        "BuyToOwn",
    )


@pytest.mark.parametrize("drm", ["wv", "fp"])
def test_widevine_and_fairplay_answer_a_uri_list_pointing_at_the_sandbox_rights_endpoint(client, drm):
    response = client.get(url(drm), valid(drm))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/uri-list"
    licence_url = response.content.decode().strip()
    parts = urlsplit(licence_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"http://testserver/sandbox/hms/{drm}/rights/"
    token = parse_qs(parts.query)["ExpressPlayToken"][0]
    assert open_token(token, settings.SANDBOX_TOKEN_SECRET).drm == drm


def test_token_is_opaque_and_carries_no_key_in_clear(client):
    token = client.post(url("pr"), valid("pr")).json()["token"]
    assert KEY not in token and KID not in token
    assert not IssuedToken.objects.filter(kid=KEY).exists()
    row = IssuedToken.objects.get()
    assert KEY not in str(vars(row))


def test_rental_token_carries_period_end_and_play_duration(client):
    params = valid("pr", rightsType="Rental", rental__periodEndTime="+3600", rental__playDuration="600")
    claims = open_token(client.post(url("pr"), params).json()["token"], settings.SANDBOX_TOKEN_SECRET)
    assert claims.rights_type == "Rental"
    assert claims.period_end - claims.issued == 3600
    assert claims.play_duration == 600


def test_expiration_time_in_rfc3339_sets_token_expiry(client):
    params = valid("pr", expirationTime="2099-01-01T00:00:00Z")
    response = client.post(url("pr"), params)
    # 2099 is more than 30 days away: ExpressPlay caps token lifetime at 30 days.
    assert response.json()["errorCode"] == -2002


@pytest.mark.parametrize(
    ("drm", "changes", "code", "status"),
    [
        ("pr", {"customerAuthenticator": None}, -2017, 401),
        ("pr", {"customerAuthenticator": "201722,ffffffffffffffffffffffffffffffff"}, -2018, 401),
        ("pr", {"kid": None}, -4018, 400),
        ("pr", {"kid": "0123"}, -4020, 400),
        ("pr", {"kid": KID + "00"}, -4021, 400),
        ("pr", {"kid": "z" * 32}, -4022, 400),
        ("pr", {"kid": "^stored-key"}, -4019, 400),
        ("pr", {"contentKey": None}, -4019, 400),
        ("pr", {"contentKey": "12345"}, -2027, 400),
        ("pr", {"kek": "00" * 16}, -5007, 400),
        ("pr", {"rightsType": None}, -2020, 400),
        ("pr", {"rightsType": "Lease"}, -2021, 400),
        ("pr", {"rightsType": "Rental"}, -2022, 400),
        ("pr", {"rightsType": "Rental", "rental__periodEndTime": "tomorrow"}, -2022, 400),
        (
            "pr",
            {"rightsType": "Rental", "rental__periodEndTime": "+60", "rental__playDuration": "-5"},
            -2025,
            400,
        ),
        ("pr", {"expirationTime": "+abc"}, -2002, 400),
        ("pr", {"expirationTime": "2001-01-01T00:00:00Z"}, -2002, 400),
        ("pr", {"expirationTime": "2030-01-01 00:00:00"}, -2002, 400),
        ("pr", {"cookie": "c" * 33}, -2033, 400),
        ("pr", {"deviceid": "abc"}, -5004, 400),
        ("pr", {"deviceid": "g" * 32}, -5004, 400),
        ("pr", {"analogVideoOPL": None}, -5006, 400),
        ("pr", {"compressedDigitalVideoOPL": "1000"}, -2034, 400),
        ("pr", {"uncompressedDigitalAudioOPL": "loud"}, -2034, 400),
        ("pr", {"unknownOutputBehavior": "Maybe"}, -5001, 400),
        ("pr", {"generalFlags": "1"}, -5003, 400),
        ("pr", {"errorFormat": "xml"}, -3004, 400),
        ("wv", {"securityLevel": None}, -7003, 400),
        ("wv", {"securityLevel": "9"}, -7004, 400),
        ("wv", {"hdcpOutputControl": None}, -7006, 400),
        ("wv", {"hdcpOutputControl": "7"}, -7006, 400),
        ("wv", {"licenseDuration": "soon"}, -7007, 400),
        ("wv", {"deviceid": DEVICE}, -7002, 400),
        ("wv", {"generalFlags": "00000001"}, -5003, 400),
        ("fp", {"generalFlags": "00000000"}, -5003, 400),
        ("fp", {"rentalDuration": "soon"}, -6007, 400),
        ("fp", {"iv": None}, -6003, 400),
        ("fp", {"iv": "1234"}, -6003, 400),
        ("fp", {"rentalDuration": "-1"}, -6007, 400),
        ("fp", {"deviceid": DEVICE}, -6008, 400),
    ],
)
def test_each_documented_error_code(client, drm, changes, code, status):
    response = client.post(url(drm), valid(drm, **changes))
    assert response.status_code == status
    if code == -3004:
        # The format asked for is unknown, so the answer uses the default: HTML.
        assert response["Content-Type"].startswith("text/html")
        assert str(code) in response.content.decode()
    else:
        assert response["Content-Type"] == "application/json"
        assert response.json()["errorCode"] == code
    assert not IssuedToken.objects.exists()


def test_errors_default_to_html_like_expressplay(client):
    response = client.get(url("pr"), valid("pr", errorFormat=None, customerAuthenticator=None))
    assert response.status_code == 401
    assert response["Content-Type"].startswith("text/html")
    assert "-2017" in response.content.decode()


def test_device_binding_on_widevine_can_be_allowed_by_setting(client, settings):
    settings.SANDBOX_DEVICE_BINDING_DRMS = ["pr", "wv"]
    response = client.post(url("wv"), valid("wv", deviceid=DEVICE))
    assert response.status_code == 200
    token = parse_qs(urlsplit(response.content.decode().strip()).query)["ExpressPlayToken"][0]
    assert open_token(token, settings.SANDBOX_TOKEN_SECRET).device_id == DEVICE


def pr_claims(client, **changes):
    response = client.post(url("pr"), valid("pr", **changes))
    assert response.status_code == 200
    return open_token(response.json()["token"], settings.SANDBOX_TOKEN_SECRET)


def test_the_device_restriction_is_read_as_deviceid_only(client):
    assert pr_claims(client, deviceid=DEVICE).device_id == DEVICE


@pytest.mark.parametrize("name", ["deviceId", "DeviceId", "deviceID", "device_id"])
def test_another_spelling_of_the_device_restriction_is_ignored_like_any_unknown_parameter(client, name):
    assert pr_claims(client, **{name: DEVICE}).device_id == ""
    assert IssuedToken.objects.get().device_id == ""


def test_a_misspelt_device_restriction_is_ignored_even_when_malformed_or_on_widevine(client):
    assert pr_claims(client, deviceId="not hex").device_id == ""
    assert client.post(url("wv"), valid("wv", deviceId=DEVICE)).status_code == 200


def test_the_spelling_the_sandbox_reads_is_a_setting(client, settings):
    settings.SANDBOX_DEVICE_ID_PARAM = "deviceId"
    assert pr_claims(client, deviceId=DEVICE).device_id == DEVICE
    assert pr_claims(client, deviceid=DEVICE).device_id == ""


def test_unknown_drm_path_is_404(client):
    assert client.post("/sandbox/hms/xx/token", valid("pr")).status_code == 404


def test_other_methods_are_refused(client):
    assert client.put(url("pr")).status_code == 405


def test_cookie_is_also_accepted_in_the_cookie_header(client):
    response = client.post(url("pr"), valid("pr"), headers={"ExpressPlayCookie": "from-header"})
    claims = open_token(response.json()["token"], settings.SANDBOX_TOKEN_SECRET)
    assert claims.cookie == "from-header"
