"""Fixtures of the binding tests: a packaged asset, and a browser registration bound to a device."""

import pytest

from binding.models import MediaAsset
from tests.toolkit import factories
from tests.toolkit.expressplay import DEVICE


@pytest.fixture
def asset():
    return MediaAsset.objects.create(
        slug="film", kid="33" * 16, key="44" * 16, manifest="film/manifest.mpd", duration=6
    )


@pytest.fixture
def cookie(user):
    return factories.device_register(user=user, device_id=DEVICE)
