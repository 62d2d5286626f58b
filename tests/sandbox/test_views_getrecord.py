"""The sandbox's record retrieval: ExpressPlay's four query modes over the transaction log, whose every record
names the DRM whose licence server was asked."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from sandbox.models import IssuedToken, Record
from tests.toolkit.sandbox import licence_request, make_token, redeem

pytestmark = pytest.mark.django_db

URL = "/sandbox/cmiapi/getrecord/"


def auth(**params) -> dict:
    return {"customerAuthenticator": settings.SANDBOX_CUSTOMER_AUTHENTICATOR, "errorFormat": "json", **params}


@pytest.fixture
def log():
    for i in range(40):
        Record.objects.create(
            cookie=f"c{i % 4}", device_id=f"{i:032x}", drm="pr", result=0 if i % 5 else -4905
        )
    return list(Record.objects.order_by("event_id"))


def test_no_selector_returns_the_32_most_recent_events(client, log):
    body = client.get(URL, auth()).json()
    assert len(body) == 32
    assert [r["event_id"] for r in body] == [r.event_id for r in reversed(log)][:32]
    assert set(body[0]) == {"event_id", "time", "cookie", "device_id", "drm", "kid", "result", "message"}


def test_cookie_in_latest_mode_returns_the_latest_event_for_that_cookie(client, log, settings):
    settings.SANDBOX_GETRECORD_COOKIE_MODE = "latest"
    body = client.get(URL, auth(cookie="c1")).json()
    assert body["event_id"] == max(r.event_id for r in log if r.cookie == "c1")
    assert body["cookie"] == "c1"


def test_cookie_in_recent_mode_returns_up_to_32_events(client, log, settings):
    settings.SANDBOX_GETRECORD_COOKIE_MODE = "recent"
    body = client.get(URL, auth(cookie="c2")).json()
    assert len(body) == 10
    assert all(r["cookie"] == "c2" for r in body)
    assert body[0]["event_id"] > body[-1]["event_id"]


@pytest.mark.parametrize("mode", ["latest", "recent"])
def test_unknown_cookie_returns_no_records(client, log, settings, mode):
    settings.SANDBOX_GETRECORD_COOKIE_MODE = mode
    assert client.get(URL, auth(cookie="nobody")).json() == []


def test_id_returns_that_single_event(client, log):
    body = client.get(URL, auth(id=str(log[3].event_id))).json()
    assert body["event_id"] == log[3].event_id


def test_start_and_length_page_over_all_records(client, log):
    first = client.get(URL, auth(start="0", length="25")).json()
    second = client.get(URL, auth(start="25", length="25")).json()
    third = client.get(URL, auth(start="50", length="25")).json()
    assert [r["event_id"] for r in first + second] == [r.event_id for r in log]
    assert (len(first), len(second), third) == (25, 15, [])


@pytest.mark.parametrize(
    ("params", "code", "status"),
    [
        ({"customerAuthenticator": None}, -2017, 401),
        ({"customerAuthenticator": "1,ffffffffffffffffffffffffffffffff"}, -2018, 401),
        ({"cookie": "c1", "id": "3"}, -4907, 400),
        ({"cookie": "c1", "start": "0", "length": "5"}, -4907, 400),
        ({"start": "0"}, -2035, 400),
        ({"start": "0", "length": "0"}, -2035, 400),
        ({"id": "x"}, -2035, 400),
    ],
)
def test_errors(client, params, code, status):
    query = {k: v for k, v in auth(**params).items() if v is not None}
    response = client.get(URL, query)
    assert response.status_code == status
    assert response.json()["errorCode"] == code


def test_status_page_is_for_staff_and_shows_tokens_and_records_but_never_a_key(client, log):
    IssuedToken.objects.create(
        jti="f" * 32, drm="pr", kid="0123456789abcdef0123456789abcdef", cookie="c1", expires_at=log[0].time
    )
    anonymous = client.get("/sandbox/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    assert log[-1].device_id not in anonymous.content.decode()
    client.force_login(get_user_model().objects.create_user("staff", password="x", is_staff=True))
    response = client.get("/sandbox/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "0123456789abcdef0123456789abcdef" in text
    assert log[-1].device_id in text
    assert "contentKey" not in text


# --- every record names the DRM whose licence server was asked ------------------------------------------

RIGHTS_PATHS = {
    "pr": "/sandbox/playready/RightsManager.asmx",
    "wv": "/sandbox/hms/wv/rights/",
    "fp": "/sandbox/hms/fp/rights/",
}


def drms_on_record(client) -> list[tuple[int, str]]:
    """(result, drm) of every record getrecord returns, oldest first."""
    return [(r["result"], r["drm"]) for r in reversed(client.get(URL, auth()).json())]


@pytest.mark.parametrize("drm", ["pr", "wv", "fp"])
def test_a_granted_licence_is_on_record_under_its_drm(client, device, drm):
    assert redeem(client, make_token(drm=drm), device, path=RIGHTS_PATHS[drm]).status_code == 200
    assert drms_on_record(client) == [(0, drm)]


@pytest.mark.parametrize("drm", ["pr", "wv", "fp"])
def test_a_refused_licence_is_on_record_under_its_drm(client, device, other_device, drm):
    path = RIGHTS_PATHS[drm]
    redeem(client, make_token(drm=drm, device_id=other_device.device_id), device, path=path)  # -4905
    redeem(client, make_token(drm=drm), device, path=path, body=licence_request("ff" * 16))  # -4904
    redeem(client, make_token(drm=drm), None, path=path)  # -4001: no device identity
    redeem(client, "not-a-token", device, path=path)  # -4010 before any claim is read
    assert drms_on_record(client) == [(-4905, drm), (-4904, drm), (-4001, drm), (-4010, drm)]


@pytest.mark.parametrize("drm", ["pr", "wv", "fp"])
def test_a_token_of_another_drm_is_on_record_under_the_drm_that_was_asked(client, device, drm):
    other = "wv" if drm != "wv" else "pr"
    redeem(client, make_token(drm=other), device, path=RIGHTS_PATHS[drm])
    assert drms_on_record(client) == [(-4010, drm)]


@pytest.mark.parametrize("drm", ["pr", "wv", "fp"])
def test_a_replayed_licence_request_is_on_record_under_its_drm(client, device, drm):
    body = licence_request()
    captured = device.headers(body)
    token = make_token(drm=drm)
    path = RIGHTS_PATHS[drm]
    assert redeem(client, token, None, body=body, headers=captured, path=path).status_code == 200
    assert redeem(client, token, None, body=body, headers=captured, path=path).status_code == 403
    assert drms_on_record(client) == [(0, drm), (-4908, drm)]


def test_a_refused_request_sent_again_is_a_replay_on_record_under_its_drm(client, device):
    body = b'{"kids": ["AAAAAAAAAAAAAAAAAAAAAA"], "type": "temporary"}'
    captured = device.headers(body)
    token = make_token(drm="fp")
    for _ in range(2):
        redeem(client, token, None, body=body, headers=captured, path=RIGHTS_PATHS["fp"])
    assert drms_on_record(client) == [(-4904, "fp"), (-4908, "fp")]
