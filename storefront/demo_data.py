"""The demo's fixed data: who can log in, and the services that create it."""

import io
import json
import secrets
import shutil
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.db.models import Q

from binding.models import EntitlementKind, MediaAsset

from .models import Offer, Order, Title

DEMO_PASSWORD = "bindery-demo"  # noqa: S105 - a published demo login, created only by `load_demo`


@dataclass(frozen=True)
class DemoUser:
    username: str
    email: str
    first_name: str
    group: str  # a staff group, or "" for an end user
    description: str

    @property
    def is_staff(self) -> bool:
        return bool(self.group)


DEMO_USERS = (
    DemoUser("operator", "operator@bindery.example", "Olga", "Operations", "staff, Operations group (admin)"),
    DemoUser(
        "support", "support@bindery.example", "Sam", "Support", "staff, Support group (read-only + retry)"
    ),
    DemoUser("alice", "alice@bindery.example", "Alice", "", "end user"),
    DemoUser("bob", "bob@bindery.example", "Bob", "", "end user"),
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
        user.is_superuser = False
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.set(Group.objects.filter(name=demo.group))
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


@dataclass(frozen=True)
class DemoTitle:
    slug: str
    name: str
    year: int
    synopsis: str
    buy: str
    rent: str


DEMO_TITLES = (
    DemoTitle("mandelbrot", "Mandelbrot Dreams", 2024, "A camera falls for ever into the edge of a fractal, and "
              "finds the same coastline at every scale.", "7.99", "2.99"),
    DemoTitle("life", "A Life in Green", 2023, "Cells are born, crowd and die by four simple rules: a quiet "
              "epic of an ecosystem in a 320-pixel world.", "6.99", "2.49"),
    DemoTitle("colour-bars", "Colour Bars", 2022, "The test card that watched over a century of broadcasting "
              "tells its story, one bar at a time.", "4.99", "1.99"),
    DemoTitle("cellular", "Rule 110", 2025, "One row of cells, one rule, and the proof that a universe can "
              "compute anything. A thriller in black and white.", "8.99", "3.49"),
)  # fmt: skip
RENTAL_HOURS = 48
PLAY_HOURS = 3


@transaction.atomic
def titles_load() -> list[Title]:
    """Create or update the demo catalogue from the packaged clips: a buy and a rent offer each."""
    assets = {asset.slug: asset for asset in MediaAsset.objects.all()}
    titles = []
    for demo in DEMO_TITLES:
        if demo.slug not in assets:
            continue
        title, _created = Title.objects.update_or_create(
            slug=demo.slug,
            defaults={"name": demo.name, "year": demo.year, "synopsis": demo.synopsis,
                      "poster": f"img/posters/{demo.slug}.jpg", "asset": assets[demo.slug]},
        )  # fmt: skip
        Offer.objects.update_or_create(
            title=title, kind=EntitlementKind.BUY, active=True, defaults={"price": Decimal(demo.buy)}
        )
        Offer.objects.update_or_create(
            title=title, kind=EntitlementKind.RENT, active=True,
            defaults={"price": Decimal(demo.rent), "rental_hours": RENTAL_HOURS, "play_hours": PLAY_HOURS},
        )  # fmt: skip
        titles.append(title)
    return titles


@transaction.atomic
def demo_reset() -> dict[str, int]:
    """Put the demo back to its seeded state: the demo customers' orders, entitlements, registrations,
    devices and audit trail removed, every demo login reset; the titles, their keys and staff's own records
    kept. Return how many rows of each kind went."""
    from axes.models import AccessAttempt

    from binding.models import BindingEvent, Cookie, Device, Entitlement, TokenRequest

    customers = get_user_model().objects.filter(
        username__in=[demo.username for demo in DEMO_USERS if not demo.is_staff]
    )
    removed = {
        "orders": Order.objects.filter(user__in=customers).delete()[0],
        "token requests": TokenRequest.objects.filter(
            Q(entitlement__user__in=customers) | Q(cookie__user__in=customers)
        ).delete()[0],
        "entitlements": Entitlement.objects.filter(user__in=customers).delete()[0],
        "events": BindingEvent.objects.filter(user__in=customers).delete()[0],
        "registrations": Cookie.objects.filter(user__in=customers).delete()[0],
        "devices": Device.objects.filter(user__in=customers).delete()[0],
    }
    AccessAttempt.objects.filter(username__in=[demo.username for demo in DEMO_USERS]).delete()
    demo_users_load()
    return removed
