"""A DRM that fell back is visible (decision 0013): admin lists it and tries ExpressPlay's binding again when
asked, saying what that does; /health/ names it without failing; playback sessions are read-only in admin."""

import asyncio

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from binding.models import BindingEvent, DrmFallback, EventKind
from binding.services.drm import binding_mode, drm_fall_back
from storefront.health import DrmBinding

pytestmark = pytest.mark.django_db


@pytest.fixture
def operations(client):
    user = get_user_model().objects.create_user("olga", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Operations"))
    client.force_login(user)
    return client


def test_admin_lists_the_fallback_and_the_action_says_what_it_did(operations):
    drm_fall_back("wv", code=-7002, detail="Device ID binding is not supported")
    listing = operations.get(reverse("admin:binding_drmfallback_changelist")).content.decode()
    assert "Widevine" in listing and "-7002" in listing
    fallback = DrmFallback.objects.get()
    url = reverse("admin:binding_drmfallback_changelist")
    form = {"action": "try_expressplay_again", "_selected_action": [fallback.pk]}
    confirm = operations.post(url, form).content.decode()
    assert "enabled device binding on your account" in confirm  # asks first, saying what it means
    assert DrmFallback.objects.exists()
    done = operations.post(url, {**form, "apply": "1", "reason": "account changed"}, follow=True)
    assert "ask ExpressPlay to bind the device again" in done.content.decode()
    assert not DrmFallback.objects.exists() and binding_mode("wv") == "expressplay"
    event = BindingEvent.objects.get(kind=EventKind.DRM_BINDING_RETRIED)
    assert "account changed" in event.detail and event.actor_user.username == "olga"


def test_playback_sessions_are_read_only_in_admin(operations):
    assert operations.get(reverse("admin:binding_playsession_changelist")).status_code == 200
    assert operations.get(reverse("admin:binding_playsession_add")).status_code == 403


@pytest.mark.django_db(transaction=True)  # the async check reads in another thread, on its own connection
def test_health_names_the_drms_that_fell_back_and_stays_ok():
    check = DrmBinding()
    assert asyncio.run(check.get_result()).error is None and check.fallen_back == "none"
    drm_fall_back("fp", code=-6008)
    check = DrmBinding()
    result = asyncio.run(check.get_result())
    assert result.error is None
    assert "FairPlay bound bindery since" in repr(check) and "-6008" in repr(check)
