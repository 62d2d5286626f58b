"""Fixtures of the binding tests: a customer, a packaged asset, and a browser registration bound to a device."""

import pytest
from django.contrib.auth import get_user_model

from binding import services
from binding.models import MediaAsset

DEVICE = "a1" * 16


@pytest.fixture
def user():
    return get_user_model().objects.create_user("hana", password="x")


@pytest.fixture
def asset():
    return MediaAsset.objects.create(
        slug="film", kid="33" * 16, key="44" * 16, manifest="film/manifest.mpd", duration=6
    )


@pytest.fixture
def cookie(user):
    cookie = services.cookie_create(user=user, user_agent="Chrome/156 (X11; Linux x86_64)")
    services.device_bind(cookie=cookie, device_id=DEVICE)
    cookie.refresh_from_db()
    return cookie
