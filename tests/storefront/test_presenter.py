"""The presenter's view: staff only, demo only; a sign-in link for the demo customer that works once; a live
audit trail; fault switches that come back here; a reset to the seeded state."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from binding import services as binding_services
from binding.models import BindingEvent, Device, Entitlement, Registration
from sandbox.models import FaultSettings
from storefront import presenter, services
from storefront.demo_data import demo_users_load
from storefront.exceptions import SignInLinkUsed
from storefront.models import Order, SpentSignInLink
from tests.toolkit.factories import title_create

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


USED = "This sign-in link was used already. Ask the presenter for a new one."


def sign_in_link(operator) -> str:
    return operator.get(reverse("presenter")).context["sign_in_url"]


def signed_in_as(browser: Client) -> str:
    return browser.get(reverse("storefront:library")).wsgi_request.user.get_username()


def test_the_sign_in_link_signs_a_browser_in_as_the_demo_customer(operator, demo):
    link = sign_in_link(operator)
    browser = Client()
    assert "Continue as Alice" in browser.get(link).content.decode()
    assert signed_in_as(browser) == ""
    assert not SpentSignInLink.objects.exists()  # neither the presenter's page nor the GET wrote anything
    assert browser.post(link).status_code == 302
    assert signed_in_as(browser) == "alice"


def test_the_presenter_page_says_the_link_works_once(operator):
    page = operator.get(reverse("presenter")).content.decode()
    assert "Each link from this page signs in once, within 15 minutes" in page


def test_a_used_sign_in_link_is_refused_in_words_and_signs_no_one_in(operator, demo):
    link = sign_in_link(operator)
    assert Client().post(link).status_code == 302
    copy = Client()  # someone who copied the link
    answer = copy.post(link)
    assert answer.status_code == 410 and USED in answer.content.decode()
    assert 'data-testid="demo-sign-in"' not in answer.content.decode()
    assert signed_in_as(copy) == ""
    assert SpentSignInLink.objects.count() == 1


def test_the_get_of_a_used_sign_in_link_says_it_was_used_and_offers_no_sign_in(operator, demo):
    link = sign_in_link(operator)
    Client().post(link)
    answer = Client().get(link)
    assert answer.status_code == 410 and USED in answer.content.decode()
    assert "Continue as Alice" not in answer.content.decode()
    spanish = Client().get(link, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Este enlace de acceso ya se usó. Pida al presentador uno nuevo." in spanish


def test_a_new_link_from_the_presenter_page_signs_in_after_one_was_used(operator, demo):
    Client().post(sign_in_link(operator))
    second = Client()
    assert second.post(sign_in_link(operator)).status_code == 302
    assert signed_in_as(second) == "alice"


def test_tampered_expired_and_staff_links_are_not_found(operator, demo, monkeypatch):
    link = sign_in_link(operator)
    assert Client().post(link[:-3] + "xyz/").status_code == 404
    staff = signing.dumps({"user": "operator", "nonce": "n" * 22}, salt=presenter.SIGN_IN_SALT)
    assert Client().post(reverse("presenter-sign-in", args=[staff])).status_code == 404
    without_nonce = signing.dumps("alice", salt=presenter.SIGN_IN_SALT)  # a link from before they had one
    assert Client().post(reverse("presenter-sign-in", args=[without_nonce])).status_code == 404
    monkeypatch.setattr(presenter, "SIGN_IN_MAX_AGE", -1)  # expired
    assert Client().get(link).status_code == 404 and Client().post(link).status_code == 404
    assert not SpentSignInLink.objects.exists()


def test_a_nonce_is_spent_once_even_by_two_requests_at_the_same_moment():
    """Two sign-ins at once both get past the signature; the unique nonce lets only one insert its row."""
    SpentSignInLink.objects.create(nonce="n" * 22)
    with pytest.raises(IntegrityError), transaction.atomic():
        SpentSignInLink.objects.create(nonce="n" * 22)
    with pytest.raises(SignInLinkUsed):
        services.sign_in_link_spend(nonce="n" * 22, max_age=presenter.SIGN_IN_MAX_AGE)
    assert SpentSignInLink.objects.count() == 1


def test_spent_links_older_than_a_links_max_age_are_deleted_by_the_next_sign_in():
    max_age = presenter.SIGN_IN_MAX_AGE
    SpentSignInLink.objects.create(nonce="old", spent_at=timezone.now() - timedelta(seconds=max_age + 1))
    SpentSignInLink.objects.create(nonce="recent", spent_at=timezone.now() - timedelta(seconds=max_age - 60))
    services.sign_in_link_spend(nonce="new", max_age=max_age)
    assert sorted(SpentSignInLink.objects.values_list("nonce", flat=True)) == ["new", "recent"]


def test_the_audit_trail_follows_the_demo_customer(operator, demo):
    cookie = binding_services.registration_create(
        user=demo["alice"], user_agent="Chrome/156 (X11; Linux x86_64)"
    )
    binding_services.device_bind(cookie=cookie, device_id="a7" * 16)
    binding_services.registration_create(user=demo["bob"])  # someone else: not shown
    events = operator.get(reverse("presenter-events")).json()["events"]
    assert [e["what"] for e in events] == ["Device bound", "Registration started"]
    assert events[0]["device"] == "Chrome on Linux (PlayReady)"  # and the DRM it plays with


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


def test_the_presenter_shows_where_expressplay_binds_devices_and_switches_it(operator, demo):
    page = operator.get(reverse("presenter")).content.decode()
    assert "ExpressPlay binds devices on: <strong>PlayReady</strong>." in page
    assert 'name="binding-drms" value="wv"' in page and 'name="binding-drms" value="fp"' in page
    switched = {"binding": "1", "binding-drms": ["pr", "wv"], "next": reverse("presenter")}
    answer = operator.post(reverse("sandbox:faults"), switched)
    assert answer.status_code == 302 and answer["Location"] == reverse("presenter")
    said = operator.get(reverse("presenter")).content.decode()
    assert (
        "ExpressPlay binds devices on: PlayReady, Widevine. New token requests follow within a second."
        in said
    )
    assert "ExpressPlay binds devices on: <strong>PlayReady, Widevine</strong>." in said


def test_support_sees_where_expressplay_binds_devices_but_has_no_switch(client, demo):
    client.force_login(demo["support"])
    page = client.get(reverse("presenter")).content.decode()
    assert "ExpressPlay binds devices on: <strong>PlayReady</strong>." in page
    assert 'name="binding-drms"' not in page


def test_reset_puts_the_device_binding_back_to_its_default_and_keeps_the_faults(operator, demo):
    from sandbox import faults

    FaultSettings.objects.create(pk=1, latency_ms=300, device_binding_drms="wv,fp")
    faults.forget()
    assert operator.post(reverse("presenter-reset")).status_code == 302
    row = FaultSettings.objects.get()
    assert (row.device_binding_drms, row.latency_ms) == (None, 300)
    assert faults.device_binding_drms() == ("pr",)
    assert (
        "ExpressPlay binds devices on: <strong>PlayReady</strong>."
        in operator.get(reverse("presenter")).content.decode()
    )


def test_reset_removes_the_customers_traces_and_keeps_titles_and_staff(operator, demo, queued_tasks):
    title = title_create(1)
    alice = demo["alice"]
    cookie = binding_services.registration_create(user=alice, user_agent="Chrome")
    binding_services.device_bind(cookie=cookie, device_id="a8" * 16)
    services.order_place(user=alice, offer=title.offers.get(kind="buy"), browser_cookie=cookie.value)
    alice.set_password("changed")
    alice.save()
    answer = operator.post(reverse("presenter-reset"), follow=True)
    assert "The demo is reset: 1 orders and 1 devices removed" in answer.content.decode()
    for model in (Order, Entitlement, Registration, Device, BindingEvent):
        assert not model.objects.filter(user=alice).exists(), model
    assert get_user_model().objects.get(username="alice").check_password("bindery-demo")
    assert title.offers.count() == 2 and get_user_model().objects.filter(username="operator").exists()


def test_support_may_watch_but_not_reset(client, demo):
    client.force_login(demo["support"])
    page = client.get(reverse("presenter")).content.decode()
    assert "Only the Operations group may reset the demo." in page
    assert client.post(reverse("presenter-reset")).status_code == 403


def faults_line(page: str) -> str:
    start = page.index('data-testid="faults-now"')
    return page[page.index(">", start) + 1 : page.index("</p>", start)]


def test_the_presenter_always_says_which_faults_are_on_and_its_polling_keeps_it_true(operator, demo):
    from sandbox import faults

    assert faults_line(operator.get(reverse("presenter")).content.decode()).startswith("No faults")
    FaultSettings.objects.create(pk=1, latency_ms=300)  # switched elsewhere: no message on this page
    faults.forget()
    for _visit in range(2):  # not only once, after switching: on every render
        assert (
            faults_line(operator.get(reverse("presenter")).content.decode()) == "Faults on: 300 ms per call."
        )
    now = operator.get(reverse("sandbox:faults-now")).json()
    assert now == {"active": True, "faults": "300 ms per call", "line": "Faults on: 300 ms per call."}
    FaultSettings.objects.filter(pk=1).update(latency_ms=0)
    faults.forget()
    assert operator.get(reverse("sandbox:faults-now")).json()["active"] is False


def test_the_faults_line_is_for_staff_only(client, demo):
    client.force_login(demo["alice"])
    assert client.get(reverse("sandbox:faults-now")).status_code == 302


def test_reset_offers_to_switch_every_fault_off_and_does_it(operator, demo):
    from sandbox import faults

    page = operator.get(reverse("presenter")).content.decode()
    assert 'name="faults_off" value="1" checked' in page  # on by default
    FaultSettings.objects.create(pk=1, latency_ms=300, server_error=0.15)
    faults.forget()
    answer = operator.post(reverse("presenter-reset"), {"faults_off": "1"}, follow=True)
    assert "Every fault is off." in answer.content.decode()
    row = FaultSettings.objects.get()
    assert (row.latency_ms, row.server_error) == (0, 0)
    assert not faults.current().active
    assert faults_line(answer.content.decode()).startswith("No faults")
