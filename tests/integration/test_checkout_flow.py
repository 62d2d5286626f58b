"""Checkout to ready with every real part: the sandbox over HTTP, a Celery worker, Redis, the database."""

import json
import time

import pytest
import requests
from django.contrib.auth import get_user_model

from binding import services as binding_services
from binding.models import Entitlement, EntitlementState
from sandbox.tokens import b64url
from storefront import services
from storefront.demo_data import titles_load

pytestmark = pytest.mark.integration


def redeem(licence_url, kid, device):
    body = json.dumps({"kids": [b64url(bytes.fromhex(kid))], "type": "temporary"}).encode()
    return requests.post(
        licence_url,
        data=body,
        headers={"Content-Type": "application/json", **device.headers(body)},
        timeout=10,
    )


def wait_until_done(entitlement_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entitlement = Entitlement.objects.get(pk=entitlement_id)
        if entitlement.state != EntitlementState.PENDING:
            return entitlement
        time.sleep(0.1)
    raise AssertionError("the entitlement was not issued in time")


@pytest.fixture
def shop(live_server, media, celery_worker, settings):
    settings.EXPRESSPLAY_SANDBOX_URL = f"{live_server.url}/sandbox"
    return {title.slug: title for title in titles_load()}


def test_checkout_issues_a_token_that_only_the_registered_device_can_redeem(
    shop, media, device, other_device
):
    user = get_user_model().objects.create_user("lea", password="x")
    # Register: the device-check token, its redemption by this device, the record lookup.
    cookie = binding_services.registration_create(user=user, user_agent="Chrome/156 (X11; Linux x86_64)")
    check = binding_services.dummy_token_issue(cookie=cookie)
    assert redeem(check.license_url, media["device-check"].kid, device).ok
    binding_services.device_confirm(cookie_id=cookie.pk)
    # Checkout; the worker does the rest.
    title = shop["life"]
    order = services.order_place(user=user, offer=title.offers.get(kind="rent"), browser_cookie=cookie.value)
    entitlement = wait_until_done(order.entitlement_id)
    assert entitlement.state == EntitlementState.READY, entitlement.error_detail
    assert entitlement.device.device_id == device.device_id
    assert redeem(entitlement.license_url, title.asset.kid, other_device).json()["errorCode"] == -4905
    granted = redeem(entitlement.license_url, title.asset.kid, device)
    assert granted.status_code == 200
    assert granted.json()["keys"][0]["kid"] == b64url(bytes.fromhex(title.asset.kid))
