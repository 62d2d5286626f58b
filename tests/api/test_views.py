"""The entitlement API: keys, scoping, problem details, idempotency, and every resource."""

import pytest
import responses
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.test import APIClient

from api.models import ClientAPIKey, Customer
from api.throttling import ClientKeyThrottle
from binding import services as binding_services
from binding.models import Entitlement, EntitlementState, MediaAsset, Registration
from tests.toolkit.api import client_with_key, register
from tests.toolkit.broker import DEVICE_CONFIRM
from tests.toolkit.expressplay import TOKEN_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings", "queued_tasks")]

KID, KEY = "ab" * 16, "cd" * 16


@pytest.fixture
def api():
    return client_with_key("Acme Films")


@pytest.fixture
def rival():
    return client_with_key("Rival Films")


@pytest.fixture
def title(api):
    made = api.post(
        "/api/v1/titles/",
        {
            "id": "feature-1",
            "name": "Feature",
            "kid": KID,
            "key": KEY,
            "manifest_url": "https://cdn.example/f.mpd",
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    return made.json()


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (
        body["status"] == status and body["title"] and body["detail"] and body["type"].startswith("https://")
    )
    return body


def test_no_key_an_unknown_key_and_a_revoked_key_are_401_problems(api):
    anonymous = APIClient()
    assert problem(anonymous.get("/api/v1/customers/"), 401)
    assert anonymous.get("/api/v1/customers/")["WWW-Authenticate"] == "Api-Key"
    anonymous.credentials(HTTP_AUTHORIZATION="Api-Key nope.nope")
    assert "unknown or has been revoked" in problem(anonymous.get("/api/v1/customers/"), 401)["detail"]
    ClientAPIKey.objects.filter(client=api.bindery_client).update(revoked=True)
    problem(api.get("/api/v1/customers/"), 401)


def test_a_title_key_is_write_only_and_never_read_back(api, title):
    assert "key" not in title and title["kid"] == KID
    read = api.get("/api/v1/titles/feature-1/").json()
    assert "key" not in read and KEY not in str(read)
    assert MediaAsset.objects.get(kid=KID).key == KEY  # kept, encrypted at rest
    assert KEY not in str(api.get("/api/v1/titles/").json())
    again = api.post(
        "/api/v1/titles/",
        {
            "id": "feature-1",
            "name": "F",
            "kid": "ef" * 16,
            "key": KEY,
            "manifest_url": "https://cdn.example/g.mpd",
        },
        format="json",
    )
    problem(again, 409)
    bad = problem(api.post("/api/v1/titles/", {"id": "x", "kid": "zz", "key": "short"}, format="json"), 400)
    assert set(bad["errors"]) >= {"kid", "key", "name", "manifest_url"}


def test_a_registration_gives_the_page_what_it_needs_and_reports_the_bound_device(api, check_asset):
    registration = register(api)
    assert registration["state"] == "created" and registration["done"] is False
    assert len(registration["reference"]) >= 32
    assert "license_url" not in registration["device_check"]  # the token is asked for when the check starts
    assert registration["device_check"]["start_url"].endswith(
        f"/api/v1/check/{registration['reference']}/start/"
    )
    assert registration["device_check"]["manifest_url"].endswith("/media/dc/manifest.mpd")
    assert registration["script_url"].endswith(".js")
    read = api.get(f"/api/v1/registrations/{registration['id']}/").json()
    assert read["state"] == "bound" and read["ok"] is True and read["device"]["name"] == "Living room"
    assert read["device_check"] is None and "sandbox/la" not in str(read)  # a bound check is spent
    devices = api.get("/api/v1/customers/cust-1/devices/").json()
    assert [d["name"] for d in devices] == ["Living room"]


def test_expressplay_refusing_the_device_check_fails_the_attempt_in_words(api, check_asset):
    registration = api.post("/api/v1/registrations/", {"customer": "c"}, format="json").json()
    with responses.RequestsMock() as stub:
        stub.post(TOKEN_URL, status=401, json={"errorCode": -2018, "errorMessage": "bad"})
        refused = APIClient().post(f"/api/v1/check/{registration['reference']}/start/")
    assert refused.status_code == 422 and "device check" in refused.json()["message"]
    assert refused.json()["retry"] is False and "Retry-After" not in refused
    read = api.get(f"/api/v1/registrations/{registration['id']}/").json()
    assert read["state"] == "failed" and read["done"] is True and read["device_check"] is None
    assert (
        Registration.objects.get(api_registration__reference=registration["reference"]).expressplay_code
        == -2018
    )


def test_expressplay_away_during_the_device_check_is_a_503_with_retry_after(api, check_asset, monkeypatch):
    from binding.services import registrations as cookies

    monkeypatch.setattr(cookies.time, "sleep", lambda seconds: None)  # its quick retries, not waited for
    registration = api.post("/api/v1/registrations/", {"customer": "c"}, format="json").json()
    with responses.RequestsMock() as stub:
        stub.post(TOKEN_URL, status=503, body="upstream unavailable")
        away = APIClient().post(f"/api/v1/check/{registration['reference']}/start/")
    assert away.status_code == 503 and away["Retry-After"] == "30"
    assert away.json()["retry"] is True and "try again" in away.json()["message"]


def test_a_passing_expressplay_fault_is_a_503_problem_with_retry_after_not_a_refusal():
    from api.views import _refused
    from binding.exceptions import BindingError

    transient = _refused(BindingError("away", code=-2001, transient=True))
    assert (
        transient.status_code == 503 and transient.retry_after == 30 and transient.expressplay_code == -2001
    )
    assert _refused(BindingError("no", code=-2018)).status_code == 422


def test_a_sees_registration_while_expressplay_is_away_says_send_again(api, check_asset, title, monkeypatch):
    from binding.services import registrations as cookies

    monkeypatch.setattr(cookies.time, "sleep", lambda seconds: None)
    with responses.RequestsMock() as stub:
        stub.post(TOKEN_URL, status=503, body="upstream unavailable")
        answer = api.post(
            "/api/sees/entitlement",
            {
                "messageID": "m",
                "version": 1,
                "contentID": "feature-1",
                "requestType": 2,
                "customerCookie": "c",
            },
            format="json",
        ).json()
    assert (
        answer["error"] == 5
        and answer["isAllowed"] is False
        and "send the request again" in answer["errorText"]
    )


def test_another_clients_records_are_404_to_it(api, rival, title, check_asset):
    registration = register(api)
    made = api.post(
        "/api/v1/entitlements/",
        {"customer": "cust-1", "title": "feature-1", "policy": {"type": "buy"}},
        format="json",
    ).json()
    device = api.get("/api/v1/customers/cust-1/devices/").json()[0]
    for url in [
        "/api/v1/customers/cust-1/",
        "/api/v1/customers/cust-1/devices/",
        f"/api/v1/registrations/{registration['id']}/",
        f"/api/v1/devices/{device['id']}/",
        f"/api/v1/entitlements/{made['id']}/",
        "/api/v1/titles/feature-1/",
    ]:
        problem(rival.get(url), 404)
    problem(rival.post(f"/api/v1/entitlements/{made['id']}/revoke/", {}, format="json"), 404)
    problem(rival.delete(f"/api/v1/devices/{device['id']}/"), 404)
    assert rival.get("/api/v1/entitlements/").json()["count"] == 0
    assert rival.get("/api/v1/customers/").json()["count"] == 0
    # The rival may use the same customer id: it is another customer.
    problem(
        rival.post(
            "/api/v1/entitlements/",
            {"customer": "cust-1", "title": "feature-1", "policy": {"type": "buy"}},
            format="json",
        ),
        400,
    )


def test_a_repeated_idempotency_key_gives_the_same_answer_and_one_entitlement(api, title, check_asset):
    register(api)
    body = {
        "customer": "cust-1",
        "title": "feature-1",
        "policy": {"type": "rent", "rental_hours": 48, "play_hours": 3},
    }
    first = api.post("/api/v1/entitlements/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-77")
    again = api.post("/api/v1/entitlements/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-77")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert Entitlement.objects.count() == 1
    other = dict(body, policy={"type": "buy"})
    reused = api.post("/api/v1/entitlements/", other, format="json", HTTP_IDEMPOTENCY_KEY="order-77")
    assert "different request" in problem(reused, 422)["detail"]
    # Without a key, a second rental of the same title is refused by the same rule as the shop's.
    assert "already watch" in problem(api.post("/api/v1/entitlements/", body, format="json"), 422)["detail"]
    assert Entitlement.objects.count() == 1


def test_an_entitlement_is_bound_to_the_customers_device_and_shows_its_token_once_ready(
    api, title, check_asset
):
    register(api)
    made = api.post(
        "/api/v1/entitlements/",
        {"customer": "cust-1", "title": "feature-1", "policy": {"type": "buy"}},
        format="json",
    ).json()
    assert made["state"] == "pending" and made["token_url"] is None and made["title"] == "feature-1"
    entitlement = Entitlement.objects.get(pk=made["id"])
    assert entitlement.cookie.device.label == "Living room" and entitlement.kind == "buy"
    Entitlement.objects.filter(pk=entitlement.pk).update(
        state=EntitlementState.READY,
        license_url="https://expressplay.example/pr?t=X",
        device=entitlement.cookie.device,
    )
    ready = api.get(f"/api/v1/entitlements/{made['id']}/").json()
    assert ready["state"] == "ready" and ready["token_url"] == "https://expressplay.example/pr?t=X"
    assert ready["device"]["name"] == "Living room"
    Entitlement.objects.filter(pk=entitlement.pk).update(state=EntitlementState.FAILED, error_code=-2018)
    failed = api.get(f"/api/v1/entitlements/{made['id']}/").json()
    assert failed["error"]["expressplay_code"] == -2018 and failed["error"]["expressplay_meaning"]
    listed = api.get("/api/v1/entitlements/?customer=cust-1").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == made["id"]


def test_an_entitlement_says_its_devices_drm_who_binds_it_and_what_that_drm_plays(api, title, check_asset):
    register(api)
    made = api.post(
        "/api/v1/entitlements/",
        {"customer": "cust-1", "title": "feature-1", "policy": {"type": "buy"}},
        format="json",
    ).json()
    entitlement = Entitlement.objects.get(pk=made["id"])
    device = entitlement.cookie.device
    Entitlement.objects.filter(pk=entitlement.pk).update(
        state=EntitlementState.READY,
        license_url="https://expressplay.example/pr?t=X",
        device=device,
        bound_by="expressplay",
    )
    ready = api.get(f"/api/v1/entitlements/{made['id']}/").json()
    assert (ready["device"]["drm"], ready["bound_by"]) == ("pr", "expressplay")
    assert ready["manifest_url"] == "https://cdn.example/f.mpd"
    # Bound by Bindery: no lasting token URL is handed out; its tokens are issued at each Play.
    Entitlement.objects.filter(pk=entitlement.pk).update(bound_by="bindery")
    assert api.get(f"/api/v1/entitlements/{made['id']}/").json()["token_url"] is None
    # A FairPlay device is told the title's HLS playlist.
    type(device).objects.filter(pk=device.pk).update(drm="fp")
    entitlement.asset.__class__.objects.filter(pk=entitlement.asset_id).update(
        hls_manifest="https://cdn.example/f.m3u8"
    )
    assert (
        api.get(f"/api/v1/entitlements/{made['id']}/").json()["manifest_url"] == "https://cdn.example/f.m3u8"
    )
    devices = api.get("/api/v1/customers/cust-1/devices/").json()
    assert [each["drm"] for each in devices] == ["fp"]


def test_revoke_move_and_device_changes_follow_the_shops_policy(api, title, check_asset, settings):
    settings.BINDING_SWAPS_PER_PERIOD = 1
    register(api, device_id="d1" * 16)
    made = api.post(
        "/api/v1/entitlements/",
        {"customer": "cust-1", "title": "feature-1", "policy": {"type": "buy"}},
        format="json",
    ).json()
    register(api, device_id="d2" * 16)
    devices = api.get("/api/v1/customers/cust-1/devices/").json()
    assert len(devices) == 2
    renamed = api.patch(f"/api/v1/devices/{devices[1]['id']}/", {"name": "Tablet"}, format="json")
    assert renamed.json()["name"] == "Tablet"
    moved = api.post(f"/api/v1/entitlements/{made['id']}/move/", {"device": devices[1]["id"]}, format="json")
    assert moved.status_code == 202 and moved.json()["queued"] is True
    assert Entitlement.objects.get(pk=made["id"]).device_id == devices[1]["id"]
    # The one device change of the period is used: removing a device is refused, in words.
    refused = problem(api.delete(f"/api/v1/devices/{devices[0]['id']}/"), 422)
    assert "device changes" in refused["detail"]
    assert (
        "device"
        in problem(
            api.post(f"/api/v1/entitlements/{made['id']}/move/", {"device": 999999}, format="json"), 400
        )["errors"]
    )
    revoked = api.post(f"/api/v1/entitlements/{made['id']}/revoke/", {"reason": "refund"}, format="json")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"


def test_bad_input_is_a_problem_never_a_500(api, title):
    problem(api.post("/api/v1/entitlements/", "{not json", content_type="application/json"), 400)
    problem(api.post("/api/v1/entitlements/", "a=b", content_type="application/x-www-form-urlencoded"), 415)
    no_device = api.post(
        "/api/v1/entitlements/",
        {"customer": "new", "title": "feature-1", "policy": {"type": "buy"}},
        format="json",
    )
    assert "device check" in problem(no_device, 422)["detail"]
    rent = api.post(
        "/api/v1/entitlements/",
        {"customer": "c", "title": "feature-1", "policy": {"type": "rent"}},
        format="json",
    )
    assert "rental_hours" in str(problem(rent, 400)["errors"])
    problem(
        api.post("/api/v1/entitlements/", {"customer": "c\x00", "title": "t", "policy": {}}, format="json"),
        400,
    )
    problem(api.get("/api/v1/entitlements/99999999999999999999999/"), 404)
    problem(api.get("/api/v1/entitlements/?customer=a%00b"), 400)  # PostgreSQL refuses NUL in text
    assert APIClient().get("/api/v1/check/a%00b/").status_code == 404
    problem(api.put("/api/v1/titles/feature-1/", {}, format="json"), 405)
    long_key = api.post("/api/v1/entitlements/", {}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 300)
    problem(long_key, 400)


def test_calls_beyond_the_keys_rate_are_429_with_retry_after(api, monkeypatch, settings):
    monkeypatch.setattr(ClientKeyThrottle, "cache", LocMemCache("throttle", {}))
    monkeypatch.setattr(ClientKeyThrottle, "THROTTLE_RATES", {"api_key": "3/minute"})
    assert [api.get("/api/v1/customers/").status_code for _ in range(3)] == [200, 200, 200]
    limited = problem(api.get("/api/v1/customers/"), 429)
    assert limited and int(api.get("/api/v1/customers/")["Retry-After"]) > 0
    # Another key has its own count.
    other = client_with_key("Other")
    assert other.get("/api/v1/customers/").status_code == 200


def test_the_schema_and_its_docs_are_served_offline(client):
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/entitlements/", "/api/v1/registrations/", "/api/v1/titles/"} <= set(paths)
    assert "Idempotency-Key" in str(paths["/api/v1/entitlements/"]["post"]["parameters"])
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower() and b"/static/drf_spectacular_sidecar/" in docs.content


def test_customers_are_made_on_first_use_and_listed(api, check_asset):
    made = api.post("/api/v1/customers/", {"id": "cust-7"}, format="json")
    assert made.status_code == 201 and made.json()["id"] == "cust-7" and made.json()["devices"] == 0
    assert api.post("/api/v1/customers/", {"id": "cust-7"}, format="json").status_code == 200
    register(api, customer="cust-8")
    listed = api.get("/api/v1/customers/").json()
    assert [c["id"] for c in listed["results"]] == ["cust-7", "cust-8"] and listed["results"][1][
        "devices"
    ] == 1
    assert api.get("/api/v1/customers/cust-8/").json()["devices"] == 1
    problem(api.get("/api/v1/customers/nobody/"), 404)


def test_renew_asks_for_a_new_token_only_once_the_old_one_has_expired(api, title, check_asset):
    from datetime import timedelta

    from django.utils import timezone

    register(api)
    made = api.post(
        "/api/v1/entitlements/",
        {"customer": "cust-1", "title": "feature-1", "policy": {"type": "buy"}},
        format="json",
    ).json()
    entitlement = Entitlement.objects.get(pk=made["id"])
    Entitlement.objects.filter(pk=entitlement.pk).update(
        state=EntitlementState.READY,
        device=entitlement.cookie.device,
        license_url="https://x/t",
        token_expires_at=timezone.now() + timedelta(days=1),
    )
    fresh = api.post(f"/api/v1/entitlements/{made['id']}/renew/", {}, format="json")
    assert fresh.status_code == 200 and fresh.json()["queued"] is False
    Entitlement.objects.filter(pk=entitlement.pk).update(
        token_expires_at=timezone.now() - timedelta(minutes=1)
    )
    renewed = api.post(f"/api/v1/entitlements/{made['id']}/renew/", {}, format="json")
    assert (
        renewed.status_code == 202
        and renewed.json()["queued"] is True
        and renewed.json()["state"] == "pending"
    )
    device = api.get(f"/api/v1/devices/{entitlement.cookie.device_id}/").json()
    assert device["name"] == "Living room" and device["customer"] == "cust-1" and device["active"] is True


def test_the_drop_in_check_queues_one_lookup_however_often_the_page_reports(
    api, check_asset, queued_tasks, django_capture_on_commit_callbacks
):
    from django.test import Client as BrowserClient

    registration = api.post(
        "/api/v1/registrations/",
        {"customer": "c", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 Safari/537.36"},
        format="json",
    ).json()
    browser = BrowserClient()  # the customer's browser on the storefront's page: no key, no cookies
    check = browser.get(f"/api/v1/check/{registration['reference']}/")
    assert check.status_code == 200 and check["Access-Control-Allow-Origin"] == "*"
    assert "licenseUrl" not in check.json()["config"]  # the token exists from the start on, not before
    with responses.RequestsMock() as stub:
        stub.post(
            TOKEN_URL, json={"licenseAcquisitionUrl": "http://127.0.0.1:8000/sandbox/la?t=1", "token": "T"}
        )
        started = browser.post(f"/api/v1/check/{registration['reference']}/start/")
    assert started.status_code == 200 and started["Access-Control-Allow-Origin"] == "*"
    assert started.json()["licenseUrl"].startswith("http://127.0.0.1:8000/sandbox/la")
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            assert browser.post(f"/api/v1/check/{registration['reference']}/licensed/").status_code == 200
    assert len(queued_tasks.ids(DEVICE_CONFIRM)) == 1
    again = browser.post(f"/api/v1/check/{registration['reference']}/start/")  # a copied reference, say
    assert again.status_code == 409 and "works once" in again.json()["message"]
    after = browser.get(f"/api/v1/check/{registration['reference']}/").json()
    assert after["state"] == "failed" and "sandbox/la" not in str(after)  # started twice: it proves nothing
    unknown = browser.get("/api/v1/check/made-up/")
    assert unknown.status_code == 404 and "unknown" in unknown.json()["message"]
    device_name = Customer.objects.get(external_id="c").user.binding_registrations.get().device_name
    assert device_name == "Chrome on Linux"  # from the browser's User-Agent the backend passed on


@responses.activate
def test_an_entitlement_asked_for_a_device_is_bound_to_that_device_whatever_the_records_add(
    api, title, check_asset
):
    register(api, device_id="d1" * 16)
    register(api, device_id="d2" * 16)
    first = api.get("/api/v1/customers/cust-1/devices/").json()[0]
    made = api.post(
        "/api/v1/entitlements/",
        {"customer": "cust-1", "title": "feature-1", "policy": {"type": "buy"}, "device": first["id"]},
        format="json",
    ).json()
    entitlement = Entitlement.objects.get(pk=made["id"])
    # An intruder played a copy of this device's check token: it is the newest record for the cookie.
    responses.get(
        "http://127.0.0.1:8000/sandbox/cmiapi/getrecord/",
        json=[
            {"event_id": 9, "cookie": entitlement.cookie.value, "device_id": "e9" * 16, "result": 0},
            {"event_id": 8, "cookie": entitlement.cookie.value, "device_id": "d1" * 16, "result": 0},
        ],
    )
    responses.post(
        TOKEN_URL, json={"licenseAcquisitionUrl": "http://127.0.0.1:8000/sandbox/pr", "token": "T"}
    )
    binding_services.entitlement_issue(entitlement_id=entitlement.pk, task_id="t1")
    ready = api.get(f"/api/v1/entitlements/{made['id']}/").json()
    assert ready["state"] == "ready" and ready["device"]["id"] == first["id"]
    assert Entitlement.objects.get(pk=entitlement.pk).token_device_id == "d1" * 16
    assert len(api.get("/api/v1/customers/cust-1/devices/").json()) == 2  # the intruder is no device


@responses.activate
def test_an_entitlement_whose_records_name_only_another_device_is_held_with_a_reason(api, title, check_asset):
    register(api, device_id="d1" * 16)
    made = api.post(
        "/api/v1/entitlements/",
        {"customer": "cust-1", "title": "feature-1", "policy": {"type": "buy"}},
        format="json",
    ).json()
    cookie = Entitlement.objects.get(pk=made["id"]).cookie
    responses.get(
        "http://127.0.0.1:8000/sandbox/cmiapi/getrecord/",
        json=[{"event_id": 9, "cookie": cookie.value, "device_id": "e9" * 16, "result": 0}],
    )
    binding_services.entitlement_issue(entitlement_id=made["id"], task_id="t1")
    held = api.get(f"/api/v1/entitlements/{made['id']}/").json()
    assert held["state"] == "failed" and held["token_url"] is None
    assert held["error"]["reason"] == "device_check_needed" and "device check" in held["error"]["message"]
    assert "e9" * 16 not in str(held)  # the ids are for the operators, in admin


def test_an_entitlement_for_a_device_of_another_customer_is_refused_in_words(api, title, check_asset):
    register(api, customer="cust-1", device_id="d1" * 16)
    register(api, customer="cust-2", device_id="d2" * 16)
    theirs = api.get("/api/v1/customers/cust-2/devices/").json()[0]
    refused = api.post(
        "/api/v1/entitlements/",
        {"customer": "cust-1", "title": "feature-1", "policy": {"type": "buy"}, "device": theirs["id"]},
        format="json",
    )
    assert refused.status_code in (400, 404, 422) and "no registered device" in refused.content.decode()


def test_a_title_may_bring_its_fairplay_rendition_and_iv_but_not_one_without_the_other(api):
    made = api.post(
        "/api/v1/titles/",
        {
            "id": "fp-1",
            "name": "Feature",
            "kid": "ef" * 16,
            "key": KEY,
            "manifest_url": "https://cdn.example/f.mpd",
            "hls_manifest_url": "https://cdn.example/f.m3u8",
            "iv": "AB" * 16,
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert (made.json()["hls_manifest_url"], made.json()["iv"]) == ("https://cdn.example/f.m3u8", "ab" * 16)
    assert MediaAsset.objects.get(kid="ef" * 16).iv == "ab" * 16
    half = api.post(
        "/api/v1/titles/",
        {
            "id": "fp-2",
            "name": "F",
            "kid": "fe" * 16,
            "key": KEY,
            "manifest_url": "https://cdn.example/g.mpd",
            "iv": "ab" * 16,
        },
        format="json",
    )
    assert half.status_code == 400 and not MediaAsset.objects.filter(kid="fe" * 16).exists()
