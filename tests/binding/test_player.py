"""What the pages that play are told (decision 0013): on a device-check page, every offered DRM in order with
the key systems its browser is asked for and how each would play; on a title's page, the device's own DRM.
Live FairPlay plays the HLS rendition with the server certificate; the sandbox plays every DRM through
ClearKey. The sandbox's "present this browser as" cookie is honoured there and nowhere else."""

import json

import pytest
import responses
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse

from binding import services
from binding.models import MediaAsset, Registration
from binding.player import DETECT_KEY_SYSTEMS, player_config

pytestmark = pytest.mark.django_db

BASE = "http://127.0.0.1:8000/sandbox"


@pytest.fixture
def asset():
    return MediaAsset.objects.create(
        slug="device-check",
        kid="11" * 16,
        key="22" * 16,
        iv="33" * 16,
        manifest="dc/manifest.mpd",
        hls_manifest="dc/hls/master.m3u8",
    )


@pytest.fixture
def live(settings):
    settings.EXPRESSPLAY_ENV = "test"
    settings.EXPRESSPLAY_FAIRPLAY_CERTIFICATE_URL = "https://shop.example/fairplay.cer"
    return settings


def test_a_check_page_lists_the_offered_drms_in_the_configured_order_with_their_key_systems(settings, asset):
    settings.EXPRESSPLAY_DRMS = ["fp", "pr"]
    config = player_config(asset=asset)
    assert [choice["drm"] for choice in config["detect"]] == ["fp", "pr"]
    assert config["detect"][1]["keySystems"] == [
        "com.microsoft.playready.recommendation",
        "com.microsoft.playready",
    ]
    assert set(config["playback"]) == {"fp", "pr"}
    assert config["drm"] == "fp"  # before the browser says, the first offered


def test_live_fairplay_plays_hls_with_the_certificate_and_the_others_play_dash(live, asset):
    config = player_config(asset=asset)
    fairplay, playready, widevine = (config["playback"][drm] for drm in ("fp", "pr", "wv"))
    assert fairplay == {
        "keySystem": "com.apple.fps",
        "manifestUrl": "/media/dc/hls/master.m3u8",
        "certificateUrl": "https://shop.example/fairplay.cer",
        "fairplay": True,
    }
    assert (playready["keySystem"], playready["manifestUrl"], playready["fairplay"]) == (
        "com.microsoft.playready",
        "/media/dc/manifest.mpd",
        False,
    )
    assert (widevine["keySystem"], widevine["certificateUrl"]) == ("com.widevine.alpha", "")


def test_a_title_page_is_told_only_its_devices_drm(live, asset):
    config = player_config(asset=asset, drm="fp")
    assert (config["drm"], config["keySystem"], config["fairplay"]) == ("fp", "com.apple.fps", True)
    assert "detect" not in config and "playback" not in config


def test_the_sandbox_plays_every_drm_through_clearkey_and_dash(settings, asset):
    assert settings.EXPRESSPLAY_ENV == "sandbox"
    config = player_config(asset=asset)
    for drm in ("pr", "wv", "fp"):
        assert config["playback"][drm]["keySystem"] == "org.w3.clearkey"
        assert config["playback"][drm]["manifestUrl"] == "/media/dc/manifest.mpd"
        assert not config["playback"][drm]["fairplay"]
    assert set(DETECT_KEY_SYSTEMS) == {"pr", "wv", "fp"}


@pytest.fixture
def signed_in(client, asset):
    user = get_user_model().objects.create_user("erin", password="x")
    client.force_login(user)
    return client, user


def check_page_config(client, cookie) -> dict:
    page = client.get(reverse("binding:check", args=[cookie.value])).content.decode()
    start = page.index('<script id="player-config" type="application/json">') + len(
        '<script id="player-config" type="application/json">'
    )
    return json.loads(page[start : page.index("</script>", start)])


def test_the_presenter_may_present_this_browser_as_fairplay_and_the_check_page_says_so(signed_in):
    client, user = signed_in
    answer = client.post(reverse("sandbox:present-as"), {"drm": "fp"})
    assert answer.status_code == 302
    config = check_page_config(client, services.registration_create(user=user))
    assert (config["presentAs"], config["drm"]) == ("fp", "fp")
    client.post(reverse("sandbox:present-as"), {"drm": ""})  # back to what its EME says
    assert check_page_config(client, services.registration_create(user=user))["presentAs"] is None


def test_a_forged_or_unknown_present_as_cookie_is_ignored(signed_in, settings):
    client, user = signed_in
    name = settings.SANDBOX_PRESENT_AS_COOKIE
    client.cookies[name] = "fp"  # not signed
    assert check_page_config(client, services.registration_create(user=user))["presentAs"] is None
    client.cookies[name] = signing.get_cookie_signer(salt=name + name).sign("xx")
    assert check_page_config(client, services.registration_create(user=user))["presentAs"] is None


def test_a_live_deployment_never_reads_the_present_as_cookie(signed_in, live):
    client, user = signed_in
    name = live.SANDBOX_PRESENT_AS_COOKIE
    client.cookies[name] = signing.get_cookie_signer(salt=name + name).sign("fp")
    config = check_page_config(client, services.registration_create(user=user))
    assert config["presentAs"] is None and config["drm"] == "pr"


def api_registration(customer: str) -> str:
    """Start a device check through the API, as a storefront's backend does; return its reference."""
    from rest_framework.test import APIClient

    from api.models import Client, ClientAPIKey

    client = Client.objects.create(name=f"Shop of {customer}")
    _key, secret = ClientAPIKey.objects.create_key(name="test", client=client)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    started = api.post("/api/v1/registrations/", {"customer": customer}, format="json")
    assert started.status_code == 201, started.content
    return started.json()["reference"]


@responses.activate
@pytest.mark.usefixtures("sandbox_settings")
def test_the_drop_in_check_starts_in_the_drm_its_script_detected(client, asset):
    responses.post(f"{BASE}/hms/fp/token", body=f"{BASE}/hms/fp/rights/?ExpressPlayToken=T\r\n")
    reference = api_registration("c-1")
    check = client.get(reverse("api:check", args=[reference])).json()
    assert [choice["drm"] for choice in check["config"]["detect"]] == ["pr", "wv", "fp"]
    answer = client.post(reverse("api:check-start", args=[reference]), {"drm": "fp"})
    assert answer.status_code == 200, answer.content
    assert Registration.objects.get(api_registration__reference=reference).drm == "fp"


@pytest.mark.usefixtures("sandbox_settings")
def test_the_drop_in_check_refuses_a_drm_not_offered_in_words(client, asset, settings):
    settings.EXPRESSPLAY_DRMS = ["pr"]
    reference = api_registration("c-2")
    answer = client.post(reverse("api:check-start", args=[reference]), {"drm": "wv"})
    assert answer.status_code == 409 and answer.json()["message"]
    assert Registration.objects.get(api_registration__reference=reference).drm != "wv"
