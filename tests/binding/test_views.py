"""Binding pages: access, JSON contracts, the browser's cookie."""

import pytest
import responses
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from binding import services
from binding.models import Device, Registration, RegistrationState
from tests.toolkit.broker import DEVICE_CONFIRM
from tests.toolkit.expressplay import TOKEN_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings")]


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_pages_need_a_login(client):
    for name in ("binding:devices", "binding:register"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


@responses.activate
def test_starting_a_check_creates_the_attempt_and_shows_the_player(signed_in, user, check_asset):
    responses.post(
        TOKEN_URL, json={"licenseAcquisitionUrl": "http://127.0.0.1:8000/sandbox/la", "token": "T"}
    )
    response = signed_in.post(
        reverse("binding:register"), {"next": "/devices/"}, HTTP_USER_AGENT="Firefox/128.0 (Windows)"
    )
    cookie = Registration.objects.get(user=user)
    assert response["Location"] == reverse("binding:check", args=[cookie.value]) + "?next=%2Fdevices%2F"
    page = signed_in.get(response["Location"])
    text = page.content.decode()
    assert "/media/dc/manifest.mpd" in text
    assert "ExpressPlayToken" not in text  # the page asks for the token when the check starts
    assert check_asset.key not in text  # the content key never reaches the browser
    assert '"keySystem": "org.w3.clearkey"' in text
    start = signed_in.post(reverse("binding:start", args=[cookie.value]))
    assert start.status_code == 200 and start.json()["licenseUrl"].endswith("ExpressPlayToken=T")
    assert start["Cache-Control"] == "no-store"


@responses.activate
def test_a_check_token_is_handed_out_once_and_never_after_the_check_is_over(signed_in, user, check_asset):
    responses.post(
        TOKEN_URL, json={"licenseAcquisitionUrl": "http://127.0.0.1:8000/sandbox/la", "token": "T"}
    )
    cookie = services.registration_create(user=user)
    start = reverse("binding:start", args=[cookie.value])
    assert signed_in.post(start).status_code == 200
    again = signed_in.post(start)  # a reload, or another page with the same address
    assert again.status_code == 409 and "works once" in again.json()["message"]
    assert len(responses.calls) == 1  # no second token was even asked for
    services.device_bind(cookie=cookie, device_id="ab" * 16)
    cookie.refresh_from_db()
    assert cookie.check_license_url == ""  # a bound check is spent: nothing left to hand out
    for response in (signed_in.get(reverse("binding:check", args=[cookie.value])), signed_in.post(start)):
        assert "ExpressPlayToken" not in response.content.decode()


@responses.activate
def test_failed_check_start_says_so_in_words_and_fails_the_attempt(signed_in, check_asset):
    responses.post(TOKEN_URL, status=503)
    signed_in.post(reverse("binding:register"))
    response = signed_in.post(reverse("binding:start", args=[Registration.objects.get().value]))
    assert response.status_code == 503 and "could not prepare the device check" in response.json()["message"]
    assert Registration.objects.get().state == RegistrationState.FAILED


def test_open_redirects_are_ignored(signed_in):
    page = signed_in.get(reverse("binding:register"), {"next": "https://evil.example/"})
    assert page.context["next"] == ""
    assert '<input type="hidden" name="next" value="">' in page.content.decode()


def test_another_users_attempt_is_not_found(signed_in):
    other = get_user_model().objects.create_user("eve", password="x")
    cookie = services.registration_create(user=other)
    assert signed_in.get(reverse("binding:check", args=[cookie.value])).status_code == 404
    assert signed_in.get(reverse("binding:status", args=[cookie.value])).status_code == 404
    assert signed_in.post(reverse("binding:licensed", args=[cookie.value])).status_code == 404


def test_licensed_queues_the_lookup_after_commit(
    signed_in, user, django_capture_on_commit_callbacks, queued_tasks
):
    cookie = services.registration_create(user=user)
    cookie.check_started_at = timezone.now()
    cookie.save(update_fields=["check_started_at"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = signed_in.post(reverse("binding:licensed", args=[cookie.value]))
    assert response.json() == {"queued": True}
    assert len(callbacks) == 1 and queued_tasks.ids(DEVICE_CONFIRM) == [cookie.pk]
    assert Registration.objects.get(pk=cookie.pk).state == RegistrationState.LICENCE_SEEN


def test_licensed_needs_csrf(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    cookie = services.registration_create(user=user)
    assert client.post(reverse("binding:licensed", args=[cookie.value])).status_code == 403


def test_status_reports_progress_then_remembers_the_browser_once_bound(signed_in, user, settings):
    cookie = services.registration_create(user=user, user_agent="HeadlessChrome/156 (X11; Linux x86_64)")
    pending = signed_in.get(reverse("binding:status", args=[cookie.value]))
    assert pending.json()["done"] is False
    assert settings.BINDING_BROWSER_COOKIE not in pending.cookies
    services.device_bind(cookie=cookie, device_id="a" * 32)
    bound = signed_in.get(reverse("binding:status", args=[cookie.value]))
    assert bound.json() == {
        "state": "bound",
        "done": True,
        "ok": True,
        "message": "This browser is registered as Chrome on Linux.",
        "device": "Chrome on Linux",
        "limit_reached": False,
    }
    remembered = bound.cookies[settings.BINDING_BROWSER_COOKIE]
    assert remembered["httponly"] and remembered["samesite"] == "Lax"
    devices = signed_in.get(reverse("binding:devices")).content.decode()
    assert "This browser" in devices and "Chrome on Linux" in devices


def test_status_at_the_device_limit_names_the_devices_to_remove(signed_in, user, settings):
    settings.BINDING_DEVICE_LIMIT = 1
    services.device_bind(
        cookie=services.registration_create(user=user, user_agent="Firefox/1 Windows"), device_id="a" * 32
    )
    cookie = services.registration_create(user=user)
    services.device_bind(cookie=cookie, device_id="b" * 32)
    body = signed_in.get(reverse("binding:status", args=[cookie.value])).json()
    assert body["done"] and not body["ok"] and body["limit_reached"]
    assert "Firefox on Windows" in body["message"]
    assert "Remove it under My devices" in body["message"]


def test_status_in_spanish(signed_in, user):
    cookie = services.registration_create(user=user)
    body = signed_in.get(reverse("binding:status", args=[cookie.value]), HTTP_ACCEPT_LANGUAGE="es").json()
    assert body["message"] == "Reproduciendo la comprobación del dispositivo…"


def test_rename_and_remove_from_my_devices(signed_in, user):
    device = services.device_bind(cookie=services.registration_create(user=user), device_id="a" * 32)
    signed_in.post(reverse("binding:rename", args=[device.pk]), {"label": "Kitchen laptop"})
    assert Device.objects.get(pk=device.pk).label == "Kitchen laptop"
    response = signed_in.post(reverse("binding:remove", args=[device.pk]), follow=True)
    assert "was removed" in response.content.decode()
    assert not Device.objects.active().exists()


def test_cannot_touch_another_users_device(signed_in):
    other = get_user_model().objects.create_user("eve", password="x")
    device = services.device_bind(cookie=services.registration_create(user=other), device_id="a" * 32)
    assert signed_in.post(reverse("binding:remove", args=[device.pk])).status_code == 404
    assert Device.objects.get(pk=device.pk).is_active
