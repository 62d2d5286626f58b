"""How a device's DRM decides how its titles are bound (decision 0013): by ExpressPlay, by Bindery, or not
sold; and a DRM ExpressPlay will not bind (-7002, -6008) moving to its fallback without losing the order."""

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses

from binding import services
from binding.models import (
    BindingMode,
    Device,
    DrmFallback,
    EntitlementFailure,
    EntitlementKind,
    EntitlementState,
    Registration,
    TokenRequest,
)
from binding.services.drm import binding_mode, binding_modes, drm_fall_back
from tests.toolkit.expressplay import RECORDS_URL, SANDBOX_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings")]

DEVICE = "a1" * 16


def as_drm(cookie, drm):
    Registration.objects.filter(pk=cookie.pk).update(drm=drm)
    Device.objects.filter(pk=cookie.device_id).update(drm=drm)
    cookie.refresh_from_db()
    return cookie


def stub_records():
    responses.get(RECORDS_URL, json={"event_id": 1, "device_id": DEVICE, "result": 0})


def rent(user, asset, cookie):
    return services.entitlement_create(
        user=user,
        asset=asset,
        kind=EntitlementKind.RENT,
        cookie=cookie,
        rental_period=timedelta(hours=48),
        play_duration=7200,
    )


@responses.activate
def test_a_widevine_device_gets_a_widevine_token_bound_by_expressplay_when_it_binds(user, asset, cookie):
    as_drm(cookie, "wv")
    stub_records()
    responses.post(
        f"{SANDBOX_URL}/hms/wv/token", body=f"{SANDBOX_URL}/hms/wv/rights/?ExpressPlayToken=WV\r\n"
    )
    entitlement = services.entitlement_issue(entitlement_id=rent(user, asset, cookie).pk, task_id="t1")
    assert entitlement.state == EntitlementState.READY
    assert entitlement.bound_by == BindingMode.EXPRESSPLAY
    form = {k: v[0] for k, v in parse_qs(responses.calls[-1].request.body).items()}
    assert form["deviceid"] == DEVICE
    assert form["licenseDuration"] == "7200"
    assert TokenRequest.objects.get(entitlement=entitlement).drm == "wv"


@responses.activate
@pytest.mark.parametrize(("drm", "code"), [("wv", -7002), ("fp", -6008)])
def test_a_refused_binding_moves_the_drm_to_bindery_and_the_order_still_ends_ready(
    user, asset, cookie, drm, code
):
    asset.iv = "ab" * 16
    asset.save()
    as_drm(cookie, drm)
    stub_records()
    responses.post(
        f"{SANDBOX_URL}/hms/{drm}/token",
        status=400,
        json={"errorCode": code, "errorMessage": "Device ID binding is not supported"},
    )
    entitlement = services.entitlement_issue(entitlement_id=rent(user, asset, cookie).pk, task_id="t1")
    assert entitlement.state == EntitlementState.READY
    assert entitlement.bound_by == BindingMode.BINDERY
    assert entitlement.device == cookie.device
    assert entitlement.license_url == ""  # no token kept: a short one at each Play
    fallback = DrmFallback.objects.get(drm=drm)
    assert (fallback.mode, fallback.expressplay_code) == (BindingMode.BINDERY, code)
    assert binding_mode(drm) == BindingMode.BINDERY
    assert binding_mode("pr") == BindingMode.EXPRESSPLAY


@responses.activate
def test_after_a_fallback_no_bound_request_is_sent_for_that_drm_again(user, asset, cookie):
    as_drm(cookie, "wv")
    drm_fall_back("wv", code=-7002)
    stub_records()
    entitlement = services.entitlement_issue(entitlement_id=rent(user, asset, cookie).pk, task_id="t1")
    assert entitlement.bound_by == BindingMode.BINDERY
    assert not [c for c in responses.calls if "/token" in c.request.url]


@responses.activate
def test_a_refused_binding_code_of_another_drm_is_an_ordinary_refusal(user, asset, cookie):
    stub_records()  # a PlayReady device; -7002 is Widevine's code, so it says nothing about PlayReady
    responses.post(f"{SANDBOX_URL}/hms/pr/token", status=400, json={"errorCode": -7002, "errorMessage": "no"})
    entitlement = services.entitlement_issue(entitlement_id=rent(user, asset, cookie).pk, task_id="t1")
    assert entitlement.state == EntitlementState.FAILED
    assert entitlement.error_code == -7002
    assert not DrmFallback.objects.exists()


@responses.activate
def test_the_fallback_can_be_refuse_and_then_the_order_fails_in_words(user, asset, cookie, settings):
    settings.EXPRESSPLAY_BINDING_FALLBACK = {"wv": "refuse"}
    as_drm(cookie, "wv")
    stub_records()
    responses.post(f"{SANDBOX_URL}/hms/wv/token", status=400, json={"errorCode": -7002, "errorMessage": "no"})
    entitlement = services.entitlement_issue(entitlement_id=rent(user, asset, cookie).pk, task_id="t1")
    assert entitlement.state == EntitlementState.FAILED
    assert entitlement.failure == EntitlementFailure.DRM_NOT_BOUND
    assert "Widevine" in entitlement.error_detail


@responses.activate
def test_a_drm_configured_bindery_never_asks_expressplay_for_a_bound_token(user, asset, cookie, settings):
    settings.EXPRESSPLAY_BINDING = {"pr": "bindery"}
    stub_records()
    entitlement = services.entitlement_issue(entitlement_id=rent(user, asset, cookie).pk, task_id="t1")
    assert (entitlement.state, entitlement.bound_by) == (EntitlementState.READY, BindingMode.BINDERY)
    assert not [c for c in responses.calls if "/token" in c.request.url]


def test_binding_modes_name_every_offered_drm_in_one_read(settings, django_assert_num_queries):
    settings.EXPRESSPLAY_DRMS = ["pr", "wv", "fp"]
    settings.EXPRESSPLAY_BINDING = {"fp": "refuse"}
    drm_fall_back("wv", code=-7002)
    with django_assert_num_queries(1):
        modes = binding_modes()
    assert modes == {"pr": "expressplay", "wv": "bindery", "fp": "refuse"}


def test_falling_back_twice_records_one_fallback():
    assert drm_fall_back("wv", code=-7002) == drm_fall_back("wv", code=-7002) == BindingMode.BINDERY
    assert DrmFallback.objects.count() == 1
