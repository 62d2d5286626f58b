"""A device's name: suggested at registration in the customer's language, chosen by the customer, unique."""

import pytest
from django.urls import reverse
from django.utils import translation

from binding import services
from binding.models import Device, Registration

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings")]

LINUX_CHROME = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36"


@pytest.fixture(autouse=True)
def no_dummy_token(monkeypatch):
    """The registration page asks ExpressPlay for a device-check token; not what these tests are about."""
    monkeypatch.setattr(services, "dummy_token_issue", lambda cookie: None)


def test_the_name_the_customer_gives_is_the_devices_name(client, user):
    client.force_login(user)
    client.post(
        reverse("binding:register"), {"name": "  Living-room   laptop "}, HTTP_USER_AGENT=LINUX_CHROME
    )
    cookie = Registration.objects.get(user=user)
    assert cookie.device_name == "Living-room laptop"
    device = services.device_bind(cookie=cookie, device_id="d1" * 16)
    assert device.label == "Living-room laptop"


def test_the_suggestion_is_in_the_customers_language_and_not_taken(client, user):
    client.force_login(user)
    english = client.get(reverse("binding:register"), HTTP_USER_AGENT=LINUX_CHROME).content.decode()
    assert 'value="Chrome on Linux"' in english
    Device.objects.create(
        user=user,
        device_id="d2" * 16,
        label="Chrome en Linux",
        first_seen="2026-11-30T00:00Z",
        last_seen="2026-11-30T00:00Z",
    )
    spanish = client.get(
        reverse("binding:register"), HTTP_USER_AGENT=LINUX_CHROME, HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert 'value="Chrome en Linux (2)"' in spanish and "Ponle nombre a este dispositivo" in spanish
    # An empty name takes the suggestion.
    client.post(
        reverse("binding:register"), {"name": ""}, HTTP_USER_AGENT=LINUX_CHROME, HTTP_ACCEPT_LANGUAGE="es"
    )
    assert Registration.objects.get(user=user).device_name == "Chrome en Linux (2)"


def test_two_browsers_given_the_same_name_stay_apart(user):
    first = services.registration_create(user=user, user_agent=LINUX_CHROME, device_name="Laptop")
    second = services.registration_create(user=user, user_agent=LINUX_CHROME, device_name="Laptop")
    assert services.device_bind(cookie=first, device_id="d3" * 16).label == "Laptop"
    assert services.device_bind(cookie=second, device_id="d4" * 16).label == "Laptop (2)"


def test_registering_the_same_device_again_under_a_new_name_renames_it(user):
    services.device_bind(
        cookie=services.registration_create(user=user, device_name="Laptop"), device_id="d5" * 16
    )
    again = services.registration_create(user=user, device_name="Work laptop")
    assert services.device_bind(cookie=again, device_id="d5" * 16).label == "Work laptop"
    assert Device.objects.filter(user=user).count() == 1


def test_a_name_too_long_is_refused_with_words(client, user):
    client.force_login(user)
    page = client.post(reverse("binding:register"), {"name": "x" * 81}).content.decode()
    assert "Ensure this value has at most 80 characters" in page and not Registration.objects.exists()
    with translation.override("en"):
        assert services.device_name_suggestion(user=user, user_agent="") == "Unknown browser"
