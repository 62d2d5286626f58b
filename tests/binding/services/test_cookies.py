"""Registration: attempts, their device-check token, the record lookup, the device limit."""

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from django.utils import timezone

from binding import services
from binding.exceptions import DeviceCheckUnavailable, RecordNotYetAvailable
from binding.models import BindingEvent, Device, EventKind, Registration, RegistrationState
from tests.toolkit.expressplay import RECORDS_URL, TOKEN_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings")]

CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
)
DEVICE_A = "a" * 32
DEVICE_B = "b" * 32


@pytest.fixture
def cookie(user):
    return services.registration_create(user=user, user_agent=CHROME_LINUX)


def kinds(**filters):
    return list(BindingEvent.objects.filter(**filters).order_by("id").values_list("kind", flat=True))


def test_cookie_is_a_unique_random_value_within_expresplays_limit(user):
    values = {services.registration_create(user=user).value for _ in range(20)}
    assert len(values) == 20
    assert all(8 <= len(v) <= 32 for v in values)
    assert kinds(user=user) == [EventKind.COOKIE_CREATED] * 20


@responses.activate
def test_dummy_token_carries_the_cookie_and_the_check_clip_key_and_lives_as_long_as_a_check(
    cookie, check_asset
):
    assert (
        cookie.state == RegistrationState.CREATED and not cookie.check_license_url
    )  # nothing before the start
    responses.post(
        TOKEN_URL, json={"licenseAcquisitionUrl": "http://127.0.0.1:8000/sandbox/la", "token": "T0K"}
    )
    token = services.registration_check_start(cookie=cookie)
    form = {k: v[0] for k, v in parse_qs(responses.calls[0].request.body).items()}
    assert form["cookie"] == cookie.value
    assert form["kid"] == check_asset.kid
    assert form["rightsType"] == "BuyToOwn"
    assert "deviceid" not in form and "deviceId" not in form
    assert form["expirationTime"] == "+180"  # BINDING_CHECK_TOKEN_TTL, not the attempt's 15 minutes
    cookie.refresh_from_db()
    assert cookie.state == RegistrationState.DUMMY_TOKEN_ISSUED
    assert (
        cookie.check_license_url
        == token.license_url
        == "http://127.0.0.1:8000/sandbox/la?ExpressPlayToken=T0K"
    )
    assert kinds(cookie=cookie) == [EventKind.COOKIE_CREATED, EventKind.DUMMY_TOKEN_ISSUED]


@responses.activate
def test_refused_dummy_token_fails_the_attempt_with_the_code_and_a_user_message(cookie, check_asset):
    responses.post(TOKEN_URL, status=401, json={"errorCode": -2018, "errorMessage": "bad"})
    with pytest.raises(DeviceCheckUnavailable) as excinfo:
        services.dummy_token_issue(cookie=cookie)
    assert "try again" in str(excinfo.value.message)
    cookie.refresh_from_db()
    assert (cookie.state, cookie.expressplay_code) == (RegistrationState.FAILED, -2018)
    event = BindingEvent.objects.get(kind=EventKind.DUMMY_TOKEN_FAILED)
    assert event.expressplay_code == -2018
    assert "wrong environment" in event.detail
    assert "0123456789abcdef" not in event.detail


@responses.activate
def test_unreachable_expressplay_fails_the_attempt_without_a_code(cookie, check_asset):
    responses.post(TOKEN_URL, status=503)
    with pytest.raises(DeviceCheckUnavailable):
        services.dummy_token_issue(cookie=cookie)
    cookie.refresh_from_db()
    assert cookie.state == RegistrationState.FAILED and cookie.expressplay_code is None


def test_missing_check_clip_is_a_clear_failure(cookie):
    with pytest.raises(DeviceCheckUnavailable):
        services.dummy_token_issue(cookie=cookie)
    assert "load_demo" in BindingEvent.objects.get(kind=EventKind.DUMMY_TOKEN_FAILED).detail


@responses.activate
def test_confirm_binds_the_device_id_from_the_records(cookie):
    responses.get(
        RECORDS_URL, json={"event_id": 4, "cookie": cookie.value, "device_id": DEVICE_A, "result": 0}
    )
    device = services.device_confirm(cookie_id=cookie.pk)
    assert (device.device_id, device.label, device.user) == (DEVICE_A, "Chrome on Linux", cookie.user)
    cookie.refresh_from_db()
    assert (cookie.state, cookie.device) == (RegistrationState.BOUND, device)
    assert EventKind.DEVICE_BOUND in kinds(cookie=cookie)
    assert parse_qs(responses.calls[0].request.url.split("?")[1])["cookie"] == [cookie.value]


@responses.activate
def test_confirm_raises_while_expressplay_has_no_record_yet(cookie):
    responses.get(RECORDS_URL, json=[])
    with pytest.raises(RecordNotYetAvailable):
        services.device_confirm(cookie_id=cookie.pk)
    cookie.refresh_from_db()
    assert cookie.is_pending


@responses.activate
def test_confirm_is_idempotent(cookie):
    responses.get(RECORDS_URL, json={"cookie": cookie.value, "device_id": DEVICE_A})
    first = services.device_confirm(cookie_id=cookie.pk)
    second = services.device_confirm(cookie_id=cookie.pk)
    assert first == second
    assert Device.objects.count() == 1
    assert len(responses.calls) == 1  # a bound cookie needs no lookup


@responses.activate
def test_refused_record_lookup_fails_the_attempt(cookie):
    responses.get(RECORDS_URL, status=401, json={"errorCode": -2018})
    assert services.device_confirm(cookie_id=cookie.pk) is None
    cookie.refresh_from_db()
    assert (cookie.state, cookie.expressplay_code) == (RegistrationState.FAILED, -2018)


def test_same_browser_registering_again_keeps_one_device(user):
    first = services.device_bind(
        cookie=services.registration_create(user=user, user_agent=CHROME_LINUX), device_id=DEVICE_A
    )
    again = services.device_bind(
        cookie=services.registration_create(user=user, user_agent=CHROME_LINUX), device_id=DEVICE_A
    )
    assert first == again
    assert Device.objects.filter(user=user).count() == 1
    again.refresh_from_db()
    assert again.last_seen >= first.last_seen


def test_second_browser_becomes_a_second_device_with_a_distinct_name(user):
    services.device_bind(
        cookie=services.registration_create(user=user, user_agent=CHROME_LINUX), device_id=DEVICE_A
    )
    second = services.device_bind(
        cookie=services.registration_create(user=user, user_agent=CHROME_LINUX), device_id=DEVICE_B
    )
    assert second.label == "Chrome on Linux (2)"


def test_device_limit_refuses_a_new_device_and_names_the_registered_ones(user, settings):
    settings.BINDING_DEVICE_LIMIT = 2
    for device_id in (DEVICE_A, DEVICE_B):
        services.device_bind(
            cookie=services.registration_create(user=user, user_agent=CHROME_LINUX), device_id=device_id
        )
    refused = services.registration_create(user=user, user_agent=CHROME_LINUX)
    assert services.device_bind(cookie=refused, device_id="c" * 32) is None
    refused.refresh_from_db()
    assert (refused.state, refused.failure_reason) == (RegistrationState.FAILED, "device_limit")
    event = BindingEvent.objects.get(kind=EventKind.DEVICE_LIMIT_REACHED)
    assert event.detail == "Chrome on Linux, Chrome on Linux (2)"
    # A device already registered still binds at the limit.
    assert (
        services.device_bind(cookie=services.registration_create(user=user), device_id=DEVICE_A).device_id
        == DEVICE_A
    )


def test_removed_device_comes_back_when_registered_again(user):
    device = services.device_bind(cookie=services.registration_create(user=user), device_id=DEVICE_A)
    services.device_remove(device=device, actor_user=user)
    assert not Device.objects.active().exists()
    again = services.device_bind(cookie=services.registration_create(user=user), device_id=DEVICE_A)
    assert again.pk == device.pk and again.is_active


def test_stale_attempt_expires_and_cannot_be_confirmed(cookie):
    Registration.objects.filter(pk=cookie.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.device_confirm(cookie_id=cookie.pk) is None
    cookie.refresh_from_db()
    assert cookie.state == RegistrationState.EXPIRED
    assert kinds(cookie=cookie)[-1] == EventKind.COOKIE_EXPIRED


def test_expire_stale_cookies_in_bulk(user):
    fresh = services.registration_create(user=user)
    old = services.registration_create(user=user)
    Registration.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert services.registrations_expire_stale() == 1
    assert Registration.objects.get(pk=fresh.pk).is_pending
    assert Registration.objects.get(pk=old.pk).state == RegistrationState.EXPIRED


def test_licence_seen_moves_state_once_and_only_for_pending_attempts(cookie):
    assert not services.registration_licence_seen(cookie=cookie)  # not started: no token can have played
    cookie.check_started_at = timezone.now()
    cookie.save(update_fields=["check_started_at"])
    assert services.registration_licence_seen(cookie=cookie)
    assert services.registration_licence_seen(cookie=cookie)
    assert kinds(kind=EventKind.LICENCE_SEEN) == [EventKind.LICENCE_SEEN]
    services.device_bind(cookie=cookie, device_id=DEVICE_A)
    assert not services.registration_licence_seen(cookie=cookie)
