"""Operators see cookies, devices and events in admin; never a content key or a licence URL."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from binding import services
from binding.models import MediaAsset

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return get_user_model().objects.create_user("gina", email="gina@example.com", password="x")


@pytest.fixture
def bound(customer):
    cookie = services.cookie_create(user=customer, user_agent="Firefox/128 Windows")
    cookie.check_license_url = "http://x/la?ExpressPlayToken=SECRETTOKEN"
    cookie.save()
    services.device_bind(cookie=cookie, device_id="e" * 32)
    return cookie


def test_operator_finds_a_customers_cookie_device_and_events_by_email(admin_client, bound):
    for name in ("cookie", "device", "bindingevent"):
        page = admin_client.get(reverse(f"admin:binding_{name}_changelist"), {"q": "gina@example.com"})
        assert page.status_code == 200
        assert page.context["cl"].result_count >= 1, name
    cookie_page = admin_client.get(reverse("admin:binding_cookie_change", args=[bound.pk])).content.decode()
    assert bound.value in cookie_page
    assert "SECRETTOKEN" not in cookie_page


def test_media_asset_admin_never_shows_the_content_key(admin_client):
    asset = MediaAsset.objects.create(
        slug="x", kid="1" * 32, key="abcdef" * 5 + "ab", manifest="x/manifest.mpd"
    )
    for url in (
        reverse("admin:binding_mediaasset_changelist"),
        reverse("admin:binding_mediaasset_change", args=[asset.pk]),
    ):
        text = admin_client.get(url).content.decode()
        assert asset.kid in text
        assert asset.key not in text


def test_audit_trail_is_read_only(admin_client, bound):
    event = bound.events.first()
    response = admin_client.post(
        reverse("admin:binding_bindingevent_change", args=[event.pk]), {"detail": "x"}
    )
    assert response.status_code == 403
    assert admin_client.get(reverse("admin:binding_bindingevent_add")).status_code == 403
