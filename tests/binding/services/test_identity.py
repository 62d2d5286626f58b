"""The device key a registration proves (decision 0013): kept with the registration and its device when the
signature over the attempt's value verifies; refused in words, with nothing spent, when it does not."""

import base64

import pytest
import responses
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from django.contrib.auth import get_user_model
from django.urls import reverse

from binding import services
from binding.models import MediaAsset, Registration, RegistrationState, TokenRequest
from binding.services.identity import registration_message

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings")]

BASE = "http://127.0.0.1:8000/sandbox"


def prove(private_key, text: bytes) -> dict[str, str]:
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    r, s = decode_dss_signature(private_key.sign(text, ec.ECDSA(hashes.SHA256())))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # as WebCrypto signs
    return {"key": base64.b64encode(der).decode(), "signature": base64.b64encode(raw).decode()}


@pytest.fixture
def signed_in(client):
    user = get_user_model().objects.create_user("erin", password="x")
    client.force_login(user)
    MediaAsset.objects.create(slug="device-check", kid="11" * 16, key="22" * 16, manifest="dc/manifest.mpd")
    return client, user


@responses.activate
def test_a_proven_device_key_is_kept_with_the_registration_and_its_device(signed_in):
    client, user = signed_in
    responses.post(f"{BASE}/hms/wv/token", body=f"{BASE}/hms/wv/rights/?ExpressPlayToken=T\r\n")
    cookie = services.registration_create(user=user)
    key = ec.generate_private_key(ec.SECP256R1())
    fields = {"drm": "wv", **prove(key, registration_message(cookie.value))}
    assert client.post(reverse("binding:start", args=[cookie.value]), fields).status_code == 200
    cookie.refresh_from_db()
    assert (cookie.drm, cookie.identity_key) == ("wv", fields["key"])
    assert TokenRequest.objects.get(cookie=cookie).drm == "wv"  # the check token came from Widevine's API
    device = services.device_bind(cookie=cookie, device_id="ab" * 16)
    assert (device.drm, device.identity_key) == ("wv", fields["key"])


@responses.activate
@pytest.mark.parametrize("forgery", ["other value", "other key", "garbage"])
def test_a_proof_that_does_not_verify_is_refused_in_words_and_spends_nothing(signed_in, forgery):
    client, user = signed_in
    cookie = services.registration_create(user=user)
    key = ec.generate_private_key(ec.SECP256R1())
    fields = prove(key, registration_message(cookie.value))
    if forgery == "other value":
        fields = prove(key, registration_message("another-registration"))
    elif forgery == "other key":
        fields["key"] = prove(ec.generate_private_key(ec.SECP256R1()), b"x")["key"]
    else:
        fields["signature"] = "not base64!"
    response = client.post(reverse("binding:start", args=[cookie.value]), fields)
    assert response.status_code in (400, 409)
    assert "could not prove its device identity" in response.json()["message"]
    cookie.refresh_from_db()
    assert (
        cookie.state == RegistrationState.CREATED and cookie.check_started_at is None
    )  # the check can still start
    assert not responses.calls


def test_a_drm_the_shop_does_not_offer_is_refused_in_words(signed_in, settings):
    client, user = signed_in
    settings.EXPRESSPLAY_DRMS = ["pr", "wv"]
    cookie = services.registration_create(user=user)
    response = client.post(reverse("binding:start", args=[cookie.value]), {"drm": "fp"})
    assert response.status_code == 409 and "does not offer" in response.json()["message"]
    assert Registration.objects.get(pk=cookie.pk).check_started_at is None
