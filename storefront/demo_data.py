"""The demo's fixed data: who can log in, and the services that create it."""

import io
import json
import secrets
import shutil
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from binding.models import MediaAsset

DEMO_PASSWORD = "bindery-demo"  # noqa: S105 - a published demo login, created only by `load_demo`


@dataclass(frozen=True)
class DemoUser:
    username: str
    email: str
    first_name: str
    is_staff: bool
    description: str


DEMO_USERS = (
    DemoUser("operator", "operator@bindery.example", "Olga", True, "staff operator (admin)"),
    DemoUser("alice", "alice@bindery.example", "Alice", False, "end user"),
    DemoUser("bob", "bob@bindery.example", "Bob", False, "end user"),
)


@transaction.atomic
def demo_users_load() -> list:
    """Create or reset the demo logins; return the users. Safe to run any number of times."""
    User = get_user_model()
    users = []
    for demo in DEMO_USERS:
        user, _created = User.objects.get_or_create(username=demo.username)
        user.email = demo.email
        user.first_name = demo.first_name
        user.is_staff = demo.is_staff
        user.is_superuser = demo.is_staff
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        users.append(user)
    return users


def media_assets_load(*, force: bool = False) -> list[MediaAsset]:
    """Encrypt every sample clip under media/sources with a fresh random key, once per install.

    A clip is packaged again only when its output is missing (or `force`): each install has its own keys,
    and none is ever committed. The packager is the sandbox's, reached by command name only.
    """
    assets = []
    for source in sorted(p for p in settings.MEDIA_SOURCES_DIR.iterdir() if (p / "video.mp4").exists()):
        slug = source.name
        asset = MediaAsset.objects.filter(slug=slug).first()
        if asset and not force and (settings.MEDIA_ROOT / asset.manifest).exists():
            assets.append(asset)
            continue
        kid, key = secrets.token_hex(16), secrets.token_hex(16)
        folder = f"{slug}-{kid[:8]}"
        output = json.loads(
            call_command(
                "package_clip",
                str(source),
                str(settings.MEDIA_ROOT / folder),
                kid=kid,
                key=key,
                stdout=io.StringIO(),
            )
        )
        if asset:
            shutil.rmtree(settings.MEDIA_ROOT / asset.manifest.split("/")[0], ignore_errors=True)
        asset, _ = MediaAsset.objects.update_or_create(
            slug=slug,
            defaults={
                "kid": kid,
                "key": key,
                "manifest": f"{folder}/manifest.mpd",
                "duration": output["duration"],
            },
        )
        assets.append(asset)
    return assets
