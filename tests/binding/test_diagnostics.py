"""The admin's diagnosis before any live lookup: the player's refusal reports are part of what Bindery knows."""

import pytest
import responses
from django.contrib.auth import get_user_model
from django.utils import timezone

from binding import services
from binding.diagnostics import entitlement_diagnosis
from binding.models import BindingEvent, Device, Entitlement, EventKind
from tests.toolkit.expressplay import DEVICE, OTHER_DEVICE, RECORDS_URL, stub_expressplay

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings", "queued_tasks")]


@pytest.fixture
@responses.activate
def ready(user, asset, cookie):
    """A bought title whose token is bound to the laptop (the `cookie` fixture's device)."""
    stub_expressplay()
    entitlement = services.entitlement_create(user=user, asset=asset, kind="buy", cookie=cookie)
    return services.entitlement_issue(entitlement_id=entitlement.pk, task_id="t1")


@pytest.fixture
def tablet(user):
    """The customer's second browser, registered as a device of its own."""
    browser = services.registration_create(user=user, user_agent="Firefox/128 (Windows NT 10.0)")
    services.device_bind(cookie=browser, device_id=OTHER_DEVICE)
    browser.refresh_from_db()
    return browser


def refused(entitlement, *, code=-4905, browser_cookie):
    services.entitlement_refusal_report(
        entitlement=entitlement, code=code, browser_cookie=browser_cookie, actor_user=entitlement.user
    )
    return BindingEvent.objects.filter(kind=EventKind.LICENCE_REFUSED).latest("id")


def diagnose(entitlement):
    """The diagnosis the admin page shows first: nothing is asked of ExpressPlay (no call is stubbed)."""
    with responses.RequestsMock():
        return entitlement_diagnosis(Entitlement.objects.get(pk=entitlement.pk), lookup=False)


def test_the_verdict_before_lookup_names_the_refusal_and_both_devices(ready, tablet):
    laptop = Device.objects.get(device_id=DEVICE)
    assert diagnose(ready).verdict == "token ready"
    event = refused(ready, browser_cookie=tablet.value)
    assert event.reporting_device == tablet.device

    diagnosis = diagnose(ready)
    assert (diagnosis.verdict, diagnosis.ok) == ("bound to another device", False)
    assert f"{timezone.localtime(event.created_at):%Y-%m-%d %H:%M:%S}" in diagnosis.explanation
    assert f"bound to the customer's device “{laptop.label}” ({DEVICE[:8]}…)" in diagnosis.explanation
    assert f"registered as “{tablet.device.label}” ({OTHER_DEVICE[:8]}…)" in diagnosis.explanation
    assert diagnosis.refusal.device == tablet.device and diagnosis.refusal.result_code == -4905


@pytest.mark.parametrize("browser_cookie", [None, "forged-value", "pending"])
def test_a_refusal_in_a_browser_with_no_registration_names_it_as_not_registered(ready, user, browser_cookie):
    if browser_cookie == "pending":  # a registration of the customer's that has not finished
        browser_cookie = services.registration_create(user=user, user_agent="Safari/17 (Macintosh)").value
    event = refused(ready, browser_cookie=browser_cookie)
    assert event.reporting_device is None and event.detail == "in another browser, not registered"

    diagnosis = diagnose(ready)
    assert diagnosis.verdict == "bound to another device"
    assert "in a browser that is not registered" in diagnosis.explanation
    assert f"bound to the customer's device “{ready.device.label}” ({DEVICE[:8]}…)" in diagnosis.explanation


def test_another_customers_cookie_value_in_a_report_is_not_trusted(ready):
    stranger = get_user_model().objects.create_user("mo")
    theirs = services.registration_create(user=stranger, user_agent="Chrome/156 (Android 14)")
    their_device = services.device_bind(cookie=theirs, device_id="d4" * 16)

    event = refused(ready, browser_cookie=theirs.value)
    assert event.reporting_device is None and event.detail == "in another browser, not registered"
    explanation = diagnose(ready).explanation
    assert "not registered" in explanation
    assert their_device.label not in explanation and "d4d4" not in explanation


@responses.activate
def test_a_refusal_before_the_newest_token_does_not_count(ready, tablet):
    refused(ready, browser_cookie=tablet.value)
    operator = get_user_model().objects.create_user("olga", is_staff=True)
    assert services.entitlement_reissue(entitlement=ready, actor_user=operator, reason="customer called")
    stub_expressplay()
    services.entitlement_issue(entitlement_id=ready.pk, task_id="t2")

    diagnosis = diagnose(ready)
    assert (diagnosis.verdict, diagnosis.ok) == ("token ready", True)
    assert diagnosis.refusal is None


def test_a_refusal_in_the_bound_browser_says_its_device_id_changed(ready, cookie):
    refused(ready, browser_cookie=cookie.value)
    diagnosis = diagnose(ready)
    assert diagnosis.verdict == "bound to another device"
    assert "the very device the token is bound to" in diagnosis.explanation
    assert "register the browser again" in diagnosis.explanation


@pytest.mark.parametrize(
    ("code", "verdict", "words"),
    [
        (-4901, "token expired", "the token has expired"),
        (-4903, "viewing time used up", "viewing time after first play is over"),
        (-4902, "licence refused", "Rental period has ended."),
        (None, "licence refused", "The player gave no ExpressPlay code."),
    ],
)
def test_a_reported_refusal_for_another_reason_gives_its_verdict(ready, tablet, code, verdict, words):
    refused(ready, code=code, browser_cookie=tablet.value)
    diagnosis = diagnose(ready)
    assert (diagnosis.verdict, diagnosis.ok) == (verdict, False)
    assert diagnosis.explanation.startswith("Refused at ") and words in diagnosis.explanation


@responses.activate
def test_a_live_lookup_wins_over_the_players_report(ready, tablet):
    refused(ready, browser_cookie=tablet.value)
    newest = {
        "event_id": 2,
        "device_id": DEVICE,
        "result": 0,
        "kid": ready.asset.kid,
        "time": "2026-11-22T10:00:02Z",
    }
    responses.get(RECORDS_URL, json=[newest])
    diagnosis = entitlement_diagnosis(Entitlement.objects.get(pk=ready.pk), lookup=True)
    assert diagnosis.looked_up and diagnosis.verdict == "OK"
    assert diagnosis.refusal is not None  # still shown beside the records


@responses.activate
def test_when_the_records_cannot_be_read_the_players_report_still_counts(ready, tablet):
    refused(ready, browser_cookie=tablet.value)
    responses.get(RECORDS_URL, status=503)
    diagnosis = entitlement_diagnosis(Entitlement.objects.get(pk=ready.pk), lookup=True)
    assert diagnosis.lookup_error and diagnosis.verdict == "bound to another device"
