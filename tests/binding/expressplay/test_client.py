"""The ExpressPlay client against HTTP stubbed with `responses`: every call, every failure."""

import json
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses

from binding.expressplay import (
    ERROR_CODES,
    BuyToOwn,
    ContentKey,
    Endpoints,
    ExpressPlayClient,
    ExpressPlayMalformedResponse,
    ExpressPlayRejected,
    ExpressPlayRequestInvalid,
    ExpressPlayTimeout,
    ExpressPlayTransportError,
    Rental,
    explain,
    parse_records,
)
from tests.toolkit.expressplay import FP_URL, PR_URL, TEST_RECORDS_URL, WV_URL

SECRET = "201722,1ad8e0ff4f3c4b29a0b1c2d3e4f5a6b7"
ENDPOINTS = Endpoints.for_environment("test")
DEVICE = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
KEY = ContentKey(kid="0123456789abcdef0123456789abcdef", key="00112233445566778899aabbccddeeff")


@pytest.fixture
def client():
    return ExpressPlayClient(endpoints=ENDPOINTS, customer_authenticator=SECRET, timeout=3)


def sent_form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def sent_query(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.url.split("?", 1)[1]).items()}


# --- environments -----------------------------------------------------------------------------------------


def test_endpoints_follow_expressplay_hosts_per_environment():
    production = Endpoints.for_environment("production")
    assert production.playready_token == "https://pr-gen.service.expressplay.com/hms/pr/token"
    assert production.getrecord == "https://api.service.expressplay.com/cmiapi/getrecord/"
    assert ENDPOINTS.widevine_token == WV_URL
    china = Endpoints.for_environment("production", production_domain="service.expressplay.cn")
    assert china.fairplay_token == "https://fp-gen.service.expressplay.cn/hms/fp/token"
    sandbox = Endpoints.for_environment("sandbox", sandbox_url="http://127.0.0.1:8000/sandbox/")
    assert sandbox.playready_token == "http://127.0.0.1:8000/sandbox/hms/pr/token"
    assert sandbox.getrecord == "http://127.0.0.1:8000/sandbox/cmiapi/getrecord/"


# --- PlayReady ------------------------------------------------------------------------------------------------


@responses.activate
def test_playready_token_sends_every_parameter_and_builds_the_licence_url(client):
    responses.post(
        PR_URL,
        json={
            "licenseAcquisitionUrl": "https://pr.test.expressplay.com/playready/RightsManager.asmx",
            "token": "AQAAAx+/tok",
        },
    )
    token = client.playready_token(
        key=KEY, policy=BuyToOwn(), cookie="c00kie", device_id=DEVICE.upper(), expires=timedelta(days=2)
    )
    form = sent_form(responses.calls[0])
    assert form == {
        "customerAuthenticator": SECRET,
        "errorFormat": "json",
        "kid": KEY.kid,
        "contentKey": KEY.key,
        "rightsType": "BuyToOwn",
        "analogVideoOPL": "100",
        "compressedDigitalAudioOPL": "100",
        "compressedDigitalVideoOPL": "500",
        "uncompressedDigitalAudioOPL": "100",
        "uncompressedDigitalVideoOPL": "100",
        "cookie": "c00kie",
        "expirationTime": "+172800",
        "deviceid": DEVICE,
    }
    assert responses.calls[0].request.method == "POST"
    assert token.token == "AQAAAx+/tok"
    assert token.license_url == (
        "https://pr.test.expressplay.com/playready/RightsManager.asmx?ExpressPlayToken=AQAAAx%2B/tok"
    )


@responses.activate
def test_rental_sends_period_end_play_duration_and_persistent_flag(client):
    responses.post(PR_URL, json={"licenseAcquisitionUrl": "https://x/la", "token": "t"})
    end = datetime(2099, 1, 2, 3, 4, 5, tzinfo=UTC)
    client.playready_token(key=KEY, policy=Rental(period_end=end, play_duration=7200))
    form = sent_form(responses.calls[0])
    assert form["rightsType"] == "Rental"
    assert form["rental.periodEndTime"] == "2099-01-02T03:04:05Z"
    assert form["rental.playDuration"] == "7200"
    assert form["generalFlags"] == "00000001"


@responses.activate
def test_playready_device_restriction_is_sent_as_deviceid_as_the_device_binding_document_spells_it(client):
    responses.post(PR_URL, json={"licenseAcquisitionUrl": "https://x/la", "token": "t"})
    client.playready_token(key=KEY, policy=BuyToOwn(), device_id=DEVICE)
    form = sent_form(responses.calls[0])
    assert form["deviceid"] == DEVICE
    assert "deviceId" not in form


@responses.activate
def test_device_restriction_parameter_name_is_configurable_and_names_the_refused_field():
    client = ExpressPlayClient(endpoints=ENDPOINTS, customer_authenticator=SECRET, device_id_param="deviceId")
    responses.post(PR_URL, json={"licenseAcquisitionUrl": "https://x/la", "token": "t"})
    client.playready_token(key=KEY, policy=BuyToOwn(), device_id=DEVICE)
    form = sent_form(responses.calls[0])
    assert form["deviceId"] == DEVICE
    assert "deviceid" not in form
    with pytest.raises(ExpressPlayRequestInvalid) as excinfo:
        client.playready_token(key=KEY, policy=BuyToOwn(), device_id="abc")
    assert excinfo.value.field == "deviceId"


# --- Widevine and FairPlay ----------------------------------------------------------------------------------


@responses.activate
def test_widevine_token_reads_the_uri_list_answer(client):
    url = "https://wv.service.expressplay.com/hms/wv/rights/?ExpressPlayToken=BAAAAwv"
    responses.post(WV_URL, body=url + "\r\n", content_type="text/uri-list")
    token = client.widevine_token(
        key=KEY, security_level=2, hdcp_output_control=1, license_duration=3600, cookie="c"
    )
    form = sent_form(responses.calls[0])
    assert (form["securityLevel"], form["hdcpOutputControl"], form["licenseDuration"]) == ("2", "1", "3600")
    assert token.license_url == url
    assert token.token == "BAAAAwv"


@responses.activate
def test_fairplay_token_sends_iv_and_rental_duration(client):
    url = "https://fp.service.expressplay.com:80/hms/fp/rights/?ExpressPlayToken=fpTok"
    responses.post(FP_URL, body=url, content_type="text/uri-list")
    token = client.fairplay_token(key=KEY, iv="ffeeddccbbaa99887766554433221100", rental_duration=600)
    form = sent_form(responses.calls[0])
    assert form["iv"] == "ffeeddccbbaa99887766554433221100"
    assert form["rentalDuration"] == "600"
    assert token.token == "fpTok"


# --- validation before sending ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cookie": "x" * 33}, "cookie"),
        ({"cookie": ""}, "cookie"),
        ({"cookie": " padded"}, "cookie"),
        ({"device_id": "abc"}, "deviceid"),
        ({"key": ContentKey(kid="0123", key=KEY.key)}, "kid"),
        ({"key": ContentKey(kid=KEY.kid, key="zz" * 16)}, "contentKey"),
        ({"expires": timedelta(days=31)}, "expirationTime"),
        ({"expires": datetime(2001, 1, 1, tzinfo=UTC)}, "expirationTime"),
        ({"expires": datetime(2099, 1, 1)}, "expirationTime"),  # naive: ambiguous
        ({"policy": Rental(period_end=datetime(2001, 1, 1, tzinfo=UTC))}, "rental.periodEndTime"),
        (
            {"policy": Rental(period_end=datetime(2099, 1, 1, tzinfo=UTC), play_duration=0)},
            "rental.playDuration",
        ),
    ],
)
@responses.activate
def test_invalid_parameters_are_refused_before_anything_is_sent(client, kwargs, field):
    arguments = {"key": KEY, "policy": BuyToOwn(), **kwargs}
    with pytest.raises(ExpressPlayRequestInvalid) as excinfo:
        client.playready_token(**arguments)
    assert excinfo.value.field == field
    assert len(responses.calls) == 0


def test_a_key_storage_kid_is_accepted(client):
    assert client._key_params(ContentKey(kid="^movie-42", key=KEY.key))["kid"] == "^movie-42"


def test_fairplay_iv_must_be_32_hex(client):
    with pytest.raises(ExpressPlayRequestInvalid, match="iv"):
        client.fairplay_token(key=KEY, iv="1234")


# --- failures ---------------------------------------------------------------------------------------------------


@responses.activate
def test_json_error_becomes_rejected_with_code_and_plain_language_meaning(client):
    responses.post(PR_URL, status=401, json={"errorCode": -2018, "errorMessage": "Invalid authenticator"})
    with pytest.raises(ExpressPlayRejected) as excinfo:
        client.playready_token(key=KEY, policy=BuyToOwn())
    error = excinfo.value
    assert (error.code, error.status, error.retryable) == (-2018, 401, False)
    assert "wrong environment" in error.meaning
    assert "EXPRESSPLAY_ENV" in error.advice
    assert error.server_message == "Invalid authenticator"


@responses.activate
def test_html_error_body_still_yields_the_code(client):
    responses.post(
        WV_URL,
        status=400,
        body="<html><body><p>Error -7002: Device ID binding is not supported</p></body></html>",
    )
    with pytest.raises(ExpressPlayRejected) as excinfo:
        client.widevine_token(key=KEY, device_id=DEVICE)
    assert excinfo.value.code == -7002
    assert "not supported for Widevine" in excinfo.value.meaning


@responses.activate
def test_error_object_with_success_status_is_a_rejection(client):
    responses.post(PR_URL, status=200, json={"errorCode": -2019, "errorMessage": "Insufficient tokens"})
    with pytest.raises(ExpressPlayRejected) as excinfo:
        client.playready_token(key=KEY, policy=BuyToOwn())
    assert excinfo.value.code == -2019


@responses.activate
def test_a_4xx_without_an_expressplay_code_is_retried_like_an_outage_and_keeps_the_status(client):
    responses.post(PR_URL, status=404, body="Not Found")  # a proxy's page, not ExpressPlay refusing
    with pytest.raises(ExpressPlayTransportError) as excinfo:
        client.playready_token(key=KEY, policy=BuyToOwn())
    assert excinfo.value.status == 404 and excinfo.value.retryable


@responses.activate
def test_server_error_is_retryable_transport_error(client):
    responses.post(PR_URL, status=503, body="busy")
    with pytest.raises(ExpressPlayTransportError) as excinfo:
        client.playready_token(key=KEY, policy=BuyToOwn())
    assert excinfo.value.retryable
    assert excinfo.value.status == 503


@responses.activate
def test_timeout_is_reported_as_timeout_without_the_authenticator(client):
    responses.get(
        TEST_RECORDS_URL,
        body=requests.ReadTimeout(f"read timed out: {TEST_RECORDS_URL}?customerAuthenticator={SECRET}"),
    )
    with pytest.raises(ExpressPlayTimeout) as excinfo:
        client.get_records(cookie="abc")
    assert excinfo.value.retryable
    assert SECRET not in str(excinfo.value)
    assert excinfo.value.__cause__ is None and excinfo.value.__suppress_context__


@responses.activate
def test_connection_failure_message_is_redacted(client):
    encoded = SECRET.replace(",", "%2C")
    responses.get(
        TEST_RECORDS_URL,
        body=requests.ConnectionError(f"Max retries exceeded with url: /?customerAuthenticator={encoded}"),
    )
    with pytest.raises(ExpressPlayTransportError) as excinfo:
        client.get_records()
    text = str(excinfo.value)
    assert "ConnectionError" in text
    assert SECRET not in text and encoded not in text


@responses.activate
def test_playready_success_that_is_not_json_is_malformed(client):
    responses.post(PR_URL, body="https://example/la?ExpressPlayToken=x", content_type="text/uri-list")
    with pytest.raises(ExpressPlayMalformedResponse):
        client.playready_token(key=KEY, policy=BuyToOwn())


@responses.activate
def test_uri_list_without_a_token_is_malformed(client):
    responses.post(WV_URL, body="https://wv.example/rights/", content_type="text/uri-list")
    with pytest.raises(ExpressPlayMalformedResponse):
        client.widevine_token(key=KEY)


@responses.activate
def test_every_call_has_the_configured_timeout(client, monkeypatch):
    seen = []
    original = client.session.request

    def spy(method, url, **kwargs):
        seen.append(kwargs.get("timeout"))
        return original(method, url, **kwargs)

    monkeypatch.setattr(client.session, "request", spy)
    responses.post(PR_URL, json={"licenseAcquisitionUrl": "https://x/la", "token": "t"})
    responses.get(TEST_RECORDS_URL, json=[])
    client.playready_token(key=KEY, policy=BuyToOwn())
    client.get_records()
    assert seen == [3, 3]


# --- record retrieval ---------------------------------------------------------------------------------------


@responses.activate
@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, {}),
        ({"cookie": "abc"}, {"cookie": "abc"}),
        ({"event_id": 42}, {"id": "42"}),
        ({"start": 200, "length": 200}, {"start": "200", "length": "200"}),
    ],
)
def test_getrecord_query_modes(client, kwargs, expected):
    responses.get(TEST_RECORDS_URL, json=[])
    assert client.get_records(**kwargs) == []
    query = sent_query(responses.calls[0])
    assert query.pop("customerAuthenticator") == SECRET
    assert query.pop("errorFormat") == "json"
    assert query == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cookie": "a", "event_id": 1},
        {"event_id": 1, "start": 0, "length": 5},
        {"start": 0},
        {"start": 0, "length": 0},
    ],
)
def test_getrecord_refuses_mixed_or_incomplete_selectors(client, kwargs):
    with pytest.raises(ExpressPlayRequestInvalid):
        client.get_records(**kwargs)


@pytest.mark.parametrize("body", ["", "[]", "{}", '{"records": []}'])
def test_no_records_in_any_shape_parses_to_an_empty_list(body):
    assert parse_records(body) == []


def test_single_record_object_is_one_record():
    (record,) = parse_records(json.dumps({"event_id": 7, "cookie": "c", "device_id": DEVICE, "result": 0}))
    assert (record.event_id, record.cookie, record.device_id, record.result_code) == (7, "c", DEVICE, 0)


def test_records_are_newest_first_and_unknown_fields_kept():
    body = json.dumps(
        {
            "events": [
                {"eventId": 1, "timestamp": "2026-11-01T10:00:00Z", "DeviceID": "old", "extra": 1},
                {"eventId": 3, "timestamp": "2026-11-01T12:00:00Z", "DeviceID": "new", "extra": 3},
                {"eventId": 2, "timestamp": "2026-11-01T11:00:00Z", "DeviceID": "mid", "extra": 2},
            ]
        }
    )
    records = parse_records(body)
    assert [r.device_id for r in records] == ["new", "mid", "old"]
    assert records[0].raw["extra"] == 3
    assert records[0].time == datetime(2026, 11, 1, 12, tzinfo=UTC)


def test_epoch_times_in_seconds_and_milliseconds_are_understood():
    body = json.dumps(
        [{"id": 1, "time": 1700000000, "device_id": "s"}, {"id": 2, "time": 1800000000000, "device_id": "ms"}]
    )
    assert [r.device_id for r in parse_records(body)] == ["ms", "s"]


def test_non_json_getrecord_answer_is_malformed():
    with pytest.raises(ExpressPlayMalformedResponse):
        parse_records("<html>oops</html>")


@responses.activate
def test_device_id_for_cookie_takes_the_newest_granted_record_that_has_one(client):
    responses.get(
        TEST_RECORDS_URL,
        json=[
            {"event_id": 10, "cookie": "abc", "device_id": "another-device", "result": -4905},
            {"event_id": 9, "cookie": "abc", "device_id": "", "result": -4010},
            {"event_id": 8, "cookie": "abc", "device_id": "dev-newer", "result": 0},
            {"event_id": 5, "cookie": "abc", "device_id": "dev-older", "result": 0},
        ],
    )
    assert client.device_id_for_cookie("abc") == "dev-newer"


@responses.activate
def test_device_id_for_cookie_is_none_while_nothing_was_logged(client):
    responses.get(TEST_RECORDS_URL, json=[])
    assert client.device_id_for_cookie("abc") is None


@responses.activate
def test_device_id_for_cookie_ignores_records_of_another_cookie(client):
    responses.get(TEST_RECORDS_URL, json=[{"event_id": 1, "cookie": "other", "device_id": DEVICE}])
    assert client.device_id_for_cookie("abc") is None


# --- secrets --------------------------------------------------------------------------------------------------


@responses.activate
def test_authenticator_never_reaches_repr_logs_or_errors(client, caplog):
    caplog.set_level(logging.DEBUG)
    responses.post(
        PR_URL, status=401, json={"errorCode": -2018, "errorMessage": f"bad authenticator {SECRET}"}
    )
    with pytest.raises(ExpressPlayRejected) as excinfo:
        client.playready_token(key=KEY, policy=BuyToOwn())
    assert SECRET not in repr(client)
    assert SECRET not in str(excinfo.value) and SECRET not in excinfo.value.server_message
    assert SECRET not in caplog.text
    assert KEY.key not in repr(KEY)


def test_a_client_without_authenticator_cannot_be_built():
    with pytest.raises(ExpressPlayRequestInvalid):
        ExpressPlayClient(endpoints=ENDPOINTS, customer_authenticator="")


# --- the error catalogue -----------------------------------------------------------------------------------------


def test_catalogue_explains_every_documented_code():
    documented = [-2002, -2003, -2005, -2008, -2017, -2018, -2019, -2020, -2021, -2022, -2023, -2025, -2027, -2030,
                  -2031, -2033, -2034, -2035, -2036, -2037, -2040, -3004, -4001, -4010, -4018, -4019, -4020, -4021,
                  -4022, -4024, -5001, -5002, -5003, -5004, -5005, -5006, -5007, -6001, -6002, -6003, -6004, -6005,
                  -6006, -6007, -6008, -6009, -7002, -7003, -7004, -7006, -7007, -7008, -7009, -7011]  # fmt: skip  # the codes as the reference lists them, 14 a row
    for code in documented:
        entry = ERROR_CODES[code]
        assert str(entry.meaning) and str(entry.advice), code
        assert not entry.sandbox_only
    assert len(ERROR_CODES) >= 60


def test_unknown_codes_still_get_an_explanation():
    assert "Undocumented" in str(explain(-9999).meaning)
    assert explain(-9999).code == -9999


@responses.activate
def test_cookie_can_travel_in_a_header_instead_of_a_parameter():
    client = ExpressPlayClient(
        endpoints=ENDPOINTS, customer_authenticator=SECRET, cookie_header="ExpressPlayCookie"
    )
    responses.post(PR_URL, json={"licenseAcquisitionUrl": "https://x/la", "token": "t"})
    client.playready_token(key=KEY, policy=BuyToOwn(), cookie="c00kie")
    request = responses.calls[0].request
    assert request.headers["ExpressPlayCookie"] == "c00kie"
    assert "cookie" not in sent_form(responses.calls[0])
