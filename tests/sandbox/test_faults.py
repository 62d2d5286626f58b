"""Fault injection: off by default, set by SANDBOX_FAULTS or the staff page, each fault at its rate."""

import random
import time

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from sandbox import faults
from sandbox.errors import SandboxError
from sandbox.models import FaultSettings, IssuedToken

from .test_token_api import valid

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
