"""Fault injection: off by default, set by SANDBOX_FAULTS or the staff page, each fault at its rate."""

import random
import time

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from sandbox import faults
from sandbox.errors import SandboxError
from sandbox.models import FaultSettings, IssuedToken
from tests.toolkit.sandbox import valid

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_faults():
    faults.forget()
    yield
    faults.forget()


def test_faults_are_off_by_default_and_the_sandbox_behaves(client):
    assert not faults.current().active
    assert client.post("/sandbox/hms/pr/token", valid("pr")).status_code == 200


def test_sandbox_faults_setting_is_parsed_and_bad_names_are_refused():
    parsed = faults.Faults.parse("latency_ms=100, drop=0.05, error_codes=-2030 -2019")
    assert (parsed.latency_ms, parsed.drop, parsed.codes()) == (100, 0.05, [-2030, -2019])
    with pytest.raises(ValueError, match="unknown fault"):
        faults.Faults.parse("explode=1")


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [("server_error", 503, -2030), ("error_code", 400, -2019)],
)
def test_an_injected_error_answers_before_any_work_is_done(client, fault, status, code):
    FaultSettings.objects.create(pk=1, **{fault: 1.0, "error_codes": "-2019"})
    response = client.post("/sandbox/hms/pr/token", valid("pr"))
    assert (response.status_code, response.json()["errorCode"]) == (status, code)
    assert not IssuedToken.objects.exists()


def test_a_dropped_answer_comes_after_the_token_was_made(client, monkeypatch):
    FaultSettings.objects.create(pk=1, drop=1.0, hang_seconds=0.01)
    slept = []
    monkeypatch.setattr(time, "sleep", slept.append)
    client.post("/sandbox/hms/pr/token", valid("pr"))
    assert IssuedToken.objects.count() == 1  # the work was done; the client would have timed out
    assert slept == [0.01]


def test_no_record_answers_an_empty_lookup(client, settings):
    FaultSettings.objects.create(pk=1, no_record=1.0)
    response = client.get(
        "/sandbox/cmiapi/getrecord/",
        {"customerAuthenticator": settings.SANDBOX_CUSTOMER_AUTHENTICATOR, "cookie": "abc"},
    )
    assert response.json() == []


def test_rates_are_shares_of_calls():
    rng = random.Random(7)
    picked = [
        faults.before_call(faults=faults.Faults(drop=0.2, no_record=0.1), lookup=True, rng=rng)
        for _ in range(5000)
    ]
    assert 0.17 < picked.count("drop") / 5000 < 0.23
    assert 0.07 < picked.count("no_record") / 5000 < 0.13
    with pytest.raises(SandboxError):
        faults.before_call(faults=faults.Faults(server_error=1.0))


def test_the_fault_page_is_for_staff_only(client):
    url = reverse("sandbox:faults")
    assert client.get(url).status_code == 302  # to the admin login
    customer = get_user_model().objects.create_user("cat", password="x")
    client.force_login(customer)
    assert client.get(url).status_code == 302
    staff = get_user_model().objects.create_user("sam", password="x", is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert "No faults" in client.get(url).content.decode()
    form = {name: value for name, value in faults.Faults(drop=0.1, latency_ms=50).as_dict().items()}
    assert client.post(url, form).status_code == 302
    assert faults.current().drop == 0.1 and faults.current().latency_ms == 50
    assert "Faults are on." in client.get(url).content.decode()
    assert client.post(url, {**form, "drop": 2}).status_code == 200  # refused: a rate is 0 to 1
    client.post(url, {"reset": "1"})
    assert not faults.current().active


def test_only_operations_may_change_the_faults_and_bad_values_are_refused(client):
    from django.contrib.auth.models import Group

    url = reverse("sandbox:faults")
    support = get_user_model().objects.create_user("sue", password="x", is_staff=True)
    support.groups.add(Group.objects.get(name="Support"))
    client.force_login(support)
    assert "Only the Operations group" in client.get(url).content.decode()
    assert client.post(url, faults.Faults(drop=1.0).as_dict()).status_code == 403
    operator = get_user_model().objects.create_user("olga", password="x", is_staff=True)
    operator.groups.add(Group.objects.get(name="Operations"))
    client.force_login(operator)
    for bad in (
        {"error_codes": "²"},
        {"error_codes": "--5"},
        {"hang_seconds": -1},
        {"hang_seconds": 1e308},
        {"latency_ms": 9223372036854775807},
    ):
        assert client.post(url, {**faults.Faults().as_dict(), **bad}).status_code == 200, bad  # refused
    assert not faults.current().active


def test_faults_never_sleep_negative_or_forever(monkeypatch):
    slept = []
    monkeypatch.setattr(time, "sleep", slept.append)
    with pytest.raises(SandboxError):
        faults.before_call(faults=faults.Faults(hang=1.0, hang_seconds=-1))
    with pytest.raises(SandboxError):
        faults.before_call(faults=faults.Faults(hang=1.0, hang_seconds=1e308, latency_ms=10**18))
    assert slept == [0.0, 60.0, 120.0]


def test_a_typo_in_sandbox_faults_is_named_by_check_and_never_breaks_the_sandbox(client, settings):
    from sandbox.checks import check_faults_setting

    settings.SANDBOX_FAULTS = "drop=lots"
    assert [error.id for error in check_faults_setting(None)] == ["sandbox.E001"]
    faults.forget()
    assert client.post("/sandbox/hms/pr/token", valid("pr")).status_code == 200


# --- the device-binding switch: does ExpressPlay bind devices on this DRM? --------------------------------

DEVICE = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


def bound_token_answer(client, drm: str) -> int:
    """The errorCode (0 for a token) of a token request for `drm` with a device restriction."""
    response = client.post(f"/sandbox/hms/{drm}/token", valid(drm, deviceid=DEVICE))
    return 0 if response.status_code == 200 else response.json()["errorCode"]


def binding_answers(client) -> dict[str, int]:
    return {drm: bound_token_answer(client, drm) for drm in ("pr", "wv", "fp")}


@pytest.fixture
def operations(client):
    from django.contrib.auth.models import Group

    operator = get_user_model().objects.create_user("olga", password="x", is_staff=True)
    operator.groups.add(Group.objects.get(name="Operations"))
    client.force_login(operator)
    return client


def switch(client, *drms, **extra):
    return client.post(reverse("sandbox:faults"), {"binding": "1", "binding-drms": list(drms), **extra})


def test_by_default_expressplay_binds_devices_on_playready_only(client):
    assert faults.device_binding_drms() == ("pr",)
    assert binding_answers(client) == {"pr": 0, "wv": -7002, "fp": -6008}


def test_the_default_is_the_setting_read_live_even_with_a_fault_row(client, settings):
    FaultSettings.objects.create(pk=1, latency_ms=0)  # a row whose switch was never set
    assert FaultSettings.objects.get().device_binding_drms is None
    settings.SANDBOX_DEVICE_BINDING_DRMS = ["fp", "pr"]
    assert faults.device_binding_drms() == ("pr", "fp")
    assert binding_answers(client) == {"pr": 0, "wv": -7002, "fp": 0}


def test_staff_switch_binding_per_drm_and_the_token_endpoints_follow_at_once(operations):
    answer = switch(operations, "wv")
    assert (answer.status_code, answer["Location"]) == (302, reverse("sandbox:faults"))
    assert FaultSettings.objects.get().device_binding_drms == "wv"
    assert binding_answers(operations) == {"pr": -5005, "wv": 0, "fp": -6008}
    switch(operations, "fp", "wv", "pr")
    assert FaultSettings.objects.get().device_binding_drms == "pr,wv,fp"
    assert binding_answers(operations) == {"pr": 0, "wv": 0, "fp": 0}
    switch(operations)  # nothing ticked: ExpressPlay binds nowhere
    assert faults.device_binding_drms() == ()
    assert "ExpressPlay binds devices on: none." in operations.get(reverse("sandbox:faults")).content.decode()


def test_a_bound_widevine_token_from_the_switch_carries_the_restriction(operations, settings):
    from urllib.parse import parse_qs, urlsplit

    from sandbox.tokens import open_token

    switch(operations, "pr", "wv")
    response = operations.post("/sandbox/hms/wv/token", valid("wv", deviceid=DEVICE))
    token = parse_qs(urlsplit(response.content.decode().strip()).query)["ExpressPlayToken"][0]
    assert open_token(token, settings.SANDBOX_TOKEN_SECRET).device_id == DEVICE


def test_back_to_the_default_follows_the_setting_again(operations, settings):
    switch(operations, "wv", "fp")
    operations.post(reverse("sandbox:faults"), {"binding": "1", "binding-default": "1"})
    assert FaultSettings.objects.get().device_binding_drms is None
    assert faults.device_binding_drms() == ("pr",)
    settings.SANDBOX_DEVICE_BINDING_DRMS = ["wv"]
    assert faults.device_binding_drms() == ("wv",)


def test_fault_presets_and_switching_all_faults_off_leave_the_binding_switch_alone(operations):
    switch(operations, "pr", "wv")
    operations.post(reverse("sandbox:faults"), faults.Faults(latency_ms=300).as_dict())
    assert faults.current().latency_ms == 300
    assert faults.device_binding_drms() == ("pr", "wv")
    operations.post(reverse("sandbox:faults"), {"reset": "1"})
    assert not faults.current().active
    assert faults.device_binding_drms() == ("pr", "wv")


def test_the_switch_on_a_fresh_sandbox_keeps_the_faults_it_started_with(operations, settings):
    settings.SANDBOX_FAULTS = "latency_ms=5"
    switch(operations, "pr")
    row = FaultSettings.objects.get()
    assert (row.device_binding_drms, row.latency_ms) == ("pr", 5)


def test_an_unknown_drm_is_refused_and_nothing_changes(operations):
    answer = switch(operations, "pr", "ms3")
    assert answer.status_code == 200
    assert (
        "ms3" in answer.content.decode()
    )  # "Select a valid choice. ms3 is not one of the available choices."
    assert not FaultSettings.objects.exists()
    assert faults.device_binding_drms() == ("pr",)


def test_the_faults_page_shows_the_switch_with_each_drm_and_ticks_the_binding_ones(operations):
    page = operations.get(reverse("sandbox:faults")).content.decode()
    assert "ExpressPlay binds devices on: <strong>PlayReady</strong>." in page
    for name in ("PlayReady", "Widevine", "FairPlay"):
        assert name in page
    assert 'name="binding-drms" value="pr" id="id_binding-drms_0" checked' in page
    assert 'value="wv" id="id_binding-drms_1" checked' not in page


def test_only_operations_may_switch_binding_and_others_see_it(client):
    from django.contrib.auth.models import Group

    support = get_user_model().objects.create_user("sue", password="x", is_staff=True)
    support.groups.add(Group.objects.get(name="Support"))
    client.force_login(support)
    page = client.get(reverse("sandbox:faults")).content.decode()
    assert "ExpressPlay binds devices on: <strong>PlayReady</strong>." in page
    assert 'name="binding-drms"' not in page
    assert switch(client, "wv").status_code == 403
    assert faults.device_binding_drms() == ("pr",)


def test_the_switch_is_cached_with_the_faults_and_forgotten_when_changed(client, django_assert_num_queries):
    faults.current()
    with django_assert_num_queries(0):  # one read a second serves the faults and the switch
        assert faults.device_binding_drms() == ("pr",)
    FaultSettings.objects.create(pk=1, device_binding_drms="wv")  # another process changed it
    assert faults.device_binding_drms() == ("pr",)  # for at most a second here
    faults.forget()
    assert faults.device_binding_drms() == ("wv",)


def test_resetting_the_switch_to_its_default_is_seen_at_once_in_this_process():
    FaultSettings.objects.create(pk=1, device_binding_drms="fp")
    assert faults.device_binding_drms() == ("fp",)
    faults.device_binding_default()
    assert faults.device_binding_drms() == ("pr",)


def test_the_status_page_names_the_drms_that_bind(operations):
    switch(operations, "pr", "fp")
    assert (
        "Device restriction accepted for: PlayReady, FairPlay."
        in operations.get("/sandbox/").content.decode()
    )


def test_a_drm_name_the_sandbox_does_not_know_in_the_setting_is_named_by_check(settings):
    from sandbox.checks import check_device_binding_setting

    assert check_device_binding_setting(None) == []
    settings.SANDBOX_DEVICE_BINDING_DRMS = ["pr", "widevine"]
    assert [error.id for error in check_device_binding_setting(None)] == ["sandbox.E002"]
    assert faults.device_binding_drms() == ("pr",)  # and the unknown name binds nothing
