"""A binding no one can take (decision 0009): a check proves one device once, and a purchase binds only to the
device that passed this customer's check, whatever ExpressPlay's records say besides."""

from datetime import timedelta

import pytest
import responses
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone

from binding import services
from binding.exceptions import CheckAlreadyStarted, CheckOver, RecordNotYetAvailable
from binding.models import (
    BindingEvent,
    Device,
    Entitlement,
    EntitlementFailure,
    EntitlementKind,
    EntitlementState,
    EventKind,
    Registration,
    RegistrationState,
)
from binding.selectors import entitlement_status, registration_status
from tests.toolkit.expressplay import RECORDS_URL, TOKEN_URL, token_form

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings")]

DEVICE = "a1" * 16  # the customer's device, bound by the `cookie` fixture
INTRUDER = "e9" * 16


def records(cookie, *devices, refused=()):
    """A getrecord answer for `cookie`, newest first: granted licences for `devices`, refused ones after."""
    rows = [
        {"event_id": 100 - i, "cookie": cookie.value, "device_id": d, "result": 0}
        for i, d in enumerate(devices)
    ]
    rows += [
        {"event_id": 50 - i, "cookie": cookie.value, "device_id": d, "result": -4905}
        for i, d in enumerate(refused)
    ]
    responses.get(RECORDS_URL, json=rows)


def stub_token():
    responses.post(
        TOKEN_URL, json={"licenseAcquisitionUrl": "http://127.0.0.1:8000/sandbox/pr", "token": "TOK"}
    )


@pytest.fixture
def purchase(user, asset, cookie):
    return services.entitlement_create(user=user, asset=asset, kind=EntitlementKind.BUY, cookie=cookie)


# --- a check proves one device, once -----------------------------------------------------------------------


@responses.activate
def test_a_check_token_is_asked_for_at_the_start_and_handed_out_once(user, check_asset):
    stub_token()
    cookie = services.registration_create(user=user)
    assert not cookie.check_license_url and cookie.state == RegistrationState.CREATED
    token = services.registration_check_start(cookie=cookie)
    assert token.license_url.endswith("ExpressPlayToken=TOK")
    with pytest.raises(CheckAlreadyStarted):
        services.registration_check_start(cookie=cookie)
    assert len(responses.calls) == 1


@pytest.mark.parametrize("over", ["bound", "failed", "expired"])
@responses.activate
def test_a_check_that_is_over_hands_out_nothing_and_forgets_its_token(user, check_asset, over):
    stub_token()
    cookie = services.registration_create(user=user)
    services.registration_check_start(cookie=cookie)
    if over == "bound":
        services.device_bind(cookie=cookie, device_id=DEVICE)
    elif over == "failed":
        services.device_confirm_gave_up(cookie_id=cookie.pk, reason="no record")
    else:
        Registration.objects.filter(pk=cookie.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        cookie.refresh_from_db()
        services.registration_expire_if_stale(cookie=cookie)
    cookie.refresh_from_db()
    assert cookie.state == over and cookie.check_license_url == ""
    with pytest.raises((CheckOver, CheckAlreadyStarted)):
        services.registration_check_start(cookie=cookie)


@responses.activate
def test_two_devices_playing_one_check_bind_neither_and_are_on_the_audit_trail(user, check_asset):
    cookie = services.registration_create(user=user)
    records(cookie, INTRUDER, DEVICE)
    assert services.device_confirm(cookie_id=cookie.pk) is None
    cookie.refresh_from_db()
    assert cookie.state == RegistrationState.FAILED and cookie.device is None
    assert not Device.objects.filter(user=user).exists()
    event = BindingEvent.objects.get(kind=EventKind.CHECK_REPLAYED, user=user)
    assert DEVICE in event.detail and INTRUDER in event.detail
    assert "Another device played this device check" in str(registration_status(cookie)["message"])


@responses.activate
def test_a_refused_record_is_no_evidence_against_the_check(user):
    cookie = services.registration_create(user=user)
    records(cookie, DEVICE, refused=[INTRUDER])
    assert services.device_confirm(cookie_id=cookie.pk).device_id == DEVICE


# --- a purchase binds only to the device that passed this customer's check -----------------------------------


@responses.activate
def test_a_second_device_playing_the_check_never_becomes_a_device_and_the_purchase_stays_bound(
    purchase, user, cookie
):
    records(cookie, INTRUDER, DEVICE)  # the intruder played a copy of the check token after the customer
    stub_token()
    entitlement = services.entitlement_issue(entitlement_id=purchase.pk, task_id="t1")
    assert entitlement.state == EntitlementState.READY
    assert entitlement.device == cookie.device and entitlement.token_device_id == DEVICE
    assert token_form()["deviceid"] == DEVICE
    assert list(Device.objects.filter(user=user).values_list("device_id", flat=True)) == [DEVICE]
    event = BindingEvent.objects.get(kind=EventKind.CHECK_REPLAYED, entitlement=entitlement)
    assert DEVICE in event.detail and INTRUDER in event.detail and event.user == user


@responses.activate
def test_records_naming_only_another_device_hold_the_order_for_a_fresh_check(purchase, user, cookie):
    records(cookie, INTRUDER)
    entitlement = services.entitlement_issue(entitlement_id=purchase.pk, task_id="t1")
    assert entitlement.state == EntitlementState.FAILED
    assert entitlement.failure == EntitlementFailure.DEVICE_CHECK_NEEDED
    assert entitlement.device is None and entitlement.tokens_issued == 0
    assert not any(c.request.url == TOKEN_URL for c in responses.calls)  # no token for anyone
    assert INTRUDER in entitlement.error_detail and DEVICE in entitlement.error_detail
    assert Device.objects.filter(user=user).count() == 1
    assert BindingEvent.objects.filter(kind=EventKind.CHECK_REPLAYED, entitlement=entitlement).exists()
    status = entitlement_status(entitlement)
    assert status["register"] is True and "Register this browser again" in status["next"]


@responses.activate
def test_registering_the_browser_again_sends_the_held_order_on_for_its_new_check(purchase, user, cookie):
    records(cookie, INTRUDER)
    services.entitlement_issue(entitlement_id=purchase.pk, task_id="t1")
    again = services.registration_create(user=user, replaces=cookie)
    services.device_bind(cookie=again, device_id=DEVICE)  # the same browser, the same DRM identity
    held = Entitlement.objects.get(pk=purchase.pk)
    assert held.state == EntitlementState.PENDING and held.cookie == again and held.failure == ""
    responses.get(
        RECORDS_URL, json=[{"event_id": 7, "cookie": again.value, "device_id": DEVICE, "result": 0}]
    )
    stub_token()
    issued = services.entitlement_issue(entitlement_id=purchase.pk, task_id="t2")
    assert issued.state == EntitlementState.READY and issued.token_device_id == DEVICE


def test_another_customers_registration_is_never_replaced(user, cookie):
    eve = get_user_model().objects.create_user("eve", password="x")
    assert services.registration_create(user=eve, replaces=cookie).replaces is None


@responses.activate
def test_the_device_limit_cannot_be_passed_by_playing_a_check_on_another_machine(
    user, asset, cookie, settings
):
    settings.BINDING_DEVICE_LIMIT = 1
    order = services.entitlement_create(user=user, asset=asset, kind=EntitlementKind.BUY, cookie=cookie)
    records(cookie, "c3" * 16, DEVICE)  # the customer's second machine played the same check
    stub_token()
    services.entitlement_issue(entitlement_id=order.pk, task_id="t1")
    assert Device.objects.filter(user=user).count() == 1  # still one device: the limit holds
    assert Entitlement.objects.get(pk=order.pk).token_device_id == DEVICE


@responses.activate
def test_no_record_yet_is_retried_not_held(purchase, cookie):
    responses.get(RECORDS_URL, json=[])
    with pytest.raises(RecordNotYetAvailable):
        services.entitlement_issue(entitlement_id=purchase.pk, task_id="t1")
    assert Entitlement.objects.get(pk=purchase.pk).state == EntitlementState.PENDING


@responses.activate
def test_a_removed_registered_device_holds_the_order(purchase, cookie):
    Device.objects.filter(pk=cookie.device_id).update(removed_at=timezone.now())
    entitlement = services.entitlement_issue(entitlement_id=purchase.pk, task_id="t1")
    assert entitlement.failure == EntitlementFailure.DEVICE_CHECK_NEEDED
    assert not responses.calls  # nothing asked of ExpressPlay for a device the customer removed


@override_settings(BINDING_DEVICE_LOOKUP="registration")
@responses.activate
def test_trusting_the_registration_binds_to_the_registered_device_without_a_lookup(purchase, cookie):
    stub_token()
    entitlement = services.entitlement_issue(entitlement_id=purchase.pk, task_id="t1")
    assert entitlement.token_device_id == DEVICE
    assert [c.request.url for c in responses.calls] == [TOKEN_URL]


@responses.activate
def test_the_diagnosis_of_a_held_order_names_both_devices(purchase, cookie):
    from binding.diagnostics import entitlement_diagnosis

    records(cookie, INTRUDER)
    held = services.entitlement_issue(entitlement_id=purchase.pk, task_id="t1")
    diagnosis = entitlement_diagnosis(held, lookup=False)
    assert diagnosis.verdict == "held for a fresh device check" and not diagnosis.ok
    assert INTRUDER in diagnosis.explanation and DEVICE in diagnosis.explanation


@responses.activate
def test_a_full_page_of_records_cannot_prove_one_device_and_binds_nothing(user):
    """An attacker replaying a copied check 32 times pushes the customer's own record out of getrecord's
    answer: the one device left in it proves nothing."""
    cookie = services.registration_create(user=user)
    responses.get(
        RECORDS_URL,
        json=[
            {"event_id": 200 - i, "cookie": cookie.value, "device_id": INTRUDER, "result": 0}
            for i in range(32)
        ],
    )
    assert services.device_confirm(cookie_id=cookie.pk) is None
    cookie.refresh_from_db()
    assert cookie.state == RegistrationState.FAILED and not Device.objects.filter(user=user).exists()
    assert "played 32 times" in BindingEvent.objects.get(kind=EventKind.CHECK_REPLAYED).detail


@responses.activate
def test_a_second_start_fails_the_attempt_so_whoever_got_there_first_binds_nothing(user, check_asset):
    stub_token()
    cookie = services.registration_create(user=user)
    services.registration_check_start(cookie=cookie)  # a copied reference, used before the customer's page
    with pytest.raises(CheckAlreadyStarted):
        services.registration_check_start(cookie=cookie)  # the customer's page
    cookie.refresh_from_db()
    assert cookie.state == RegistrationState.FAILED and cookie.check_license_url == ""
    assert not services.registration_licence_seen(cookie=cookie)  # the first starter's report changes nothing
    assert "started twice" in BindingEvent.objects.get(kind=EventKind.CHECK_REPLAYED, user=user).detail


def test_a_licence_reported_before_the_check_started_is_ignored_and_the_start_still_works(user, check_asset):
    cookie = services.registration_create(user=user)
    assert services.registration_licence_seen(cookie=cookie) is False
    cookie.refresh_from_db()
    assert cookie.state == RegistrationState.CREATED and cookie.check_started_at is None
