"""The presenter's view: staff only, demo only; a sign-in link for the demo customer; a live audit trail;
fault switches that come back here; a reset to the seeded state."""

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse

from binding import services as binding_services
from binding.models import BindingEvent, Cookie, Device, Entitlement
from sandbox.models import FaultSettings
from storefront import presenter
from storefront.demo_data import demo_users_load
from storefront.models import Order

from .test_shop import make_title

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.EXPRESSPLAY_ENV = "sandbox"
    return {user.username: user for user in demo_users_load()}


@pytest.fixture
def operator(client, demo):
    client.force_login(demo["operator"])
    return client


def test_only_staff_see_it_and_only_in_a_demo(client, demo, settings):
    url = reverse("presenter")
    client.force_login(demo["alice"])
    assert client.get(url).status_code == 302  # to the admin's sign-in
    client.force_login(demo["operator"])
    page = client.get(url).content.decode()
    assert "Reset demo" in page and 'data-testid="sign-in-url"' in page
    settings.EXPRESSPLAY_ENV = "test"  # a shop on the real ExpressPlay: no demo tools
    assert client.get(url).status_code == 404


def test_the_sign_in_link_signs_a_browser_in_as_the_demo_customer_once_and_not_for_long(
    operator, client, demo, monkeypatch
):
    page = operator.get(reverse("presenter"))
    link = page.context["sign_in_url"]
    from django.test import Client

    browser = Client()
    assert "Continue as Alice" in browser.get(link).content.decode()  # a GET writes nothing
    assert not browser.get(reverse("storefront:library")).wsgi_request.user.is_authenticated
    assert browser.post(link).status_code == 302
    assert browser.get(reverse("storefront:library")).wsgi_request.user.username == "alice"
    # Tampered with, or for a staff login: nothing.
    assert Client().post(link[:-3] + "xyz/").status_code == 404
    staff = signing.dumps("operator", salt=presenter.SIGN_IN_SALT)
    assert Client().post(reverse("presenter-sign-in", args=[staff])).status_code == 404
    monkeypatch.setattr(presenter, "SIGN_IN_MAX_AGE", -1)  # expired
    assert Client().get(link).status_code == 404 and Client().post(link).status_code == 404


def test_the_audit_trail_follows_the_demo_customer(operator, demo):
    cookie = binding_services.cookie_create(user=demo["alice"], user_agent="Chrome/156 (X11; Linux x86_64)")
    binding_services.device_bind(cookie=cookie, device_id="a7" * 16)
    binding_services.cookie_create(user=demo["bob"])  # someone else: not shown
    events = operator.get(reverse("presenter-events")).json()["events"]
    assert [e["what"] for e in events] == ["Device bound", "Registration started"]
    assert events[0]["device"] == "Chrome on Linux"


def test_fault_switches_post_to_the_sandbox_and_come_back(operator, demo):
    page = operator.get(reverse("presenter"))
    preset = page.context["presets"][0]["fields"]
    answer = operator.post(reverse("sandbox:faults"), {**preset, "next": reverse("presenter")})
    assert answer.status_code == 302 and answer["Location"] == reverse("presenter")
    assert FaultSettings.objects.get().latency_ms == 300
    # Back on the presenter's page, it says which faults are on.
    assert "Faults on: 300 ms per call." in operator.get(reverse("presenter")).content.decode()
    bad_day = page.context["presets"][1]["fields"]
    operator.post(reverse("sandbox:faults"), {**bad_day, "next": reverse("presenter")})
    said = operator.get(reverse("presenter")).content.decode()
    assert "20 ms per call, 15% HTTP 503, 10% answers lost, 5% lookups find no record yet" in said
    answer = operator.post(reverse("sandbox:faults"), {"reset": "1", "next": "https://evil.example/"})
    assert answer["Location"] == reverse("sandbox:faults")  # never somewhere else
    assert FaultSettings.objects.get().latency_ms == 0


def test_reset_removes_the_customers_traces_and_keeps_titles_and_staff(operator, demo, monkeypatch):
    from binding import tasks

    monkeypatch.setattr(tasks.entitlement_issue, "apply_async", lambda *args, **kwargs: None)
    title = make_title(1)
    alice = demo["alice"]
    cookie = binding_services.cookie_create(user=alice, user_agent="Chrome")
    binding_services.device_bind(cookie=cookie, device_id="a8" * 16)
    from storefront import services

    services.order_place(user=alice, offer=title.offers.get(kind="buy"), browser_cookie=cookie.value)
    alice.set_password("changed")
    alice.save()
    answer = operator.post(reverse("presenter-reset"), follow=True)
    assert "The demo is reset: 1 orders and 1 devices removed" in answer.content.decode()
    for model in (Order, Entitlement, Cookie, Device, BindingEvent):
        assert not model.objects.filter(user=alice).exists(), model
    assert get_user_model().objects.get(username="alice").check_password("bindery-demo")
    assert title.offers.count() == 2 and get_user_model().objects.filter(username="operator").exists()


def test_support_may_watch_but_not_reset(client, demo):
    client.force_login(demo["support"])
    page = client.get(reverse("presenter")).content.decode()
    assert "Only the Operations group may reset the demo." in page
    assert client.post(reverse("presenter-reset")).status_code == 403
