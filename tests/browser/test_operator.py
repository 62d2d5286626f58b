"""An operator finds why a customer's second browser was refused, starting from the customer's email."""

import json
import time

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from binding import services
from binding.models import Entitlement, EntitlementState
from sandbox.device import SimulatedDevice
from sandbox.tokens import b64url
from storefront import services as shop_services
from storefront.demo_data import titles_load
from tests.toolkit.browser import sign_in

pytestmark = pytest.mark.integration


def redeem(url, kid, device):
    body = json.dumps({"kids": [b64url(bytes.fromhex(kid))], "type": "temporary"}).encode()
    return requests.post(
        url, data=body, headers={"Content-Type": "application/json", **device.headers(body)}, timeout=10
    )


def test_operator_finds_the_failing_entitlement_by_email_and_reads_the_verdict(
    bindery, browser_profile, media
):
    customer = get_user_model().objects.create_user("nora", email="nora@example.com", password="x")
    laptop, tablet = SimulatedDevice(), SimulatedDevice()
    cookie = services.registration_create(user=customer, user_agent="Chrome/156 (X11; Linux x86_64)")
    check = services.dummy_token_issue(cookie=cookie)
    assert redeem(check.license_url, media["device-check"].kid, laptop).ok
    services.device_confirm(cookie_id=cookie.pk)
    title = titles_load()[0]
    order = shop_services.order_place(
        user=customer, offer=title.offers.get(kind="buy"), browser_cookie=cookie.value
    )
    # The worker issues the token (queued after the order's commit).
    deadline = time.monotonic() + 30
    while (entitlement := Entitlement.objects.get(pk=order.entitlement_id)).state == EntitlementState.PENDING:
        assert time.monotonic() < deadline, "the worker did not issue the token"
        time.sleep(0.1)
    assert redeem(entitlement.license_url, title.asset.kid, laptop).ok
    assert redeem(entitlement.license_url, title.asset.kid, tablet).json()["errorCode"] == -4905

    operator = get_user_model().objects.create_user("olga", password="x", is_staff=True)
    operator.groups.add(Group.objects.get(name="Operations"))
    context = browser_profile("operator")
    sign_in(context, operator, bindery)
    page = context.new_page()
    page.goto("/admin/")
    page.get_by_role("link", name="Entitlements").first.click()
    page.fill("#searchbar", "nora@example.com")
    page.press("#searchbar", "Enter")
    page.locator("#result_list tbody tr").first.locator("a").first.click()
    assert page.get_by_test_id("verdict").inner_text() == "token ready"  # nothing asked of ExpressPlay yet
    page.get_by_test_id("lookup-records").click()
    verdict = page.get_by_test_id("verdict")
    assert verdict.inner_text() == "bound to another device"
    diagnosis = page.locator("#diagnosis").inner_text()
    assert tablet.device_id in diagnosis and laptop.device_id in diagnosis
    assert "The token is bound to another device." in diagnosis
