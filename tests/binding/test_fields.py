"""Secrets at rest: the database holds content keys and tokens only encrypted; keys can be rotated."""

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from binding import fields
from binding.expressplay import ContentKey, Endpoints, ExpressPlayClient, ExpressPlayRequestInvalid
from binding.models import Entitlement, EntitlementKind, MediaAsset

pytestmark = pytest.mark.django_db

KEY = "34" * 16


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - names are ours
        return cursor.fetchone()[0]


def test_content_keys_and_tokens_are_stored_encrypted_and_read_back_plain(user, cookie):
    asset = MediaAsset.objects.create(slug="film", kid="12" * 16, key=KEY, manifest="f/m.mpd")
    stored = raw("binding_mediaasset", "key", asset.pk)
    assert stored.startswith("enc1:") and KEY not in stored
    assert MediaAsset.objects.get(pk=asset.pk).key == KEY
    entitlement = Entitlement.objects.create(user=user, asset=asset, kind=EntitlementKind.BUY, cookie=cookie)
    Entitlement.objects.filter(pk=entitlement.pk).update(
        license_url="http://x/pr?ExpressPlayToken=WHOLETOKEN"
    )
    assert "WHOLETOKEN" not in raw("binding_entitlement", "license_url", entitlement.pk)
    assert Entitlement.objects.get(pk=entitlement.pk).license_url.endswith("WHOLETOKEN")


def test_a_value_stored_before_encryption_is_still_read(user):
    asset = MediaAsset.objects.create(slug="old", kid="56" * 16, key=KEY, manifest="f/m.mpd")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE binding_mediaasset SET key = %s WHERE id = %s", [KEY, asset.pk])
    assert MediaAsset.objects.get(pk=asset.pk).key == KEY


def test_keys_rotate_new_first_old_still_decrypts(settings, user):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.BINDERY_DATA_KEYS = [old]
    asset = MediaAsset.objects.create(slug="rot", kid="78" * 16, key=KEY, manifest="f/m.mpd")
    settings.BINDERY_DATA_KEYS = [new, old]
    assert MediaAsset.objects.get(pk=asset.pk).key == KEY
    settings.BINDERY_DATA_KEYS = [new]
    with pytest.raises(fields.ImproperlyConfigured, match="cannot be decrypted"):
        MediaAsset.objects.get(pk=asset.pk)


@pytest.mark.parametrize("drm", ["widevine_token", "fairplay_token", "playready_token"])
def test_the_device_restriction_is_checked_for_every_drm_before_sending(drm):
    client = ExpressPlayClient(
        endpoints=Endpoints.for_environment("sandbox", sandbox_url="http://127.0.0.1:9/sandbox"),
        customer_authenticator="1,2",
    )
    extra = {"iv": "00" * 16} if drm == "fairplay_token" else {}
    if drm == "playready_token":
        from binding.expressplay import BuyToOwn

        extra["policy"] = BuyToOwn()
    with pytest.raises(ExpressPlayRequestInvalid, match="deviceid"):
        getattr(client, drm)(
            key=ContentKey(kid="12" * 16, key=KEY), device_id="not-a-device<script>", **extra
        )
