"""The demo's fixed data: who can log in, and the services that create it."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q

from binding import packaging, services
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


@dataclass(frozen=True)
class DemoClip:
    """A demo clip rendered by FFmpeg's own sources at setup: no network, nothing in git."""

    slug: str
    video: str  # a lavfi video source
    note: int  # Hz: the first note of the clip's little tune

    @property
    def audio(self) -> str:
        """A plucked whole-tone run, two notes a second: enough to hear that sound decrypts and keeps time."""
        return f"0.2*exp(-3*mod(t,0.5))*sin(2*PI*t*{self.note}*pow(2,2*floor(mod(2*t,6))/12))"


DEMO_CLIPS = (
    DemoClip("device-check", "testsrc2", 660),
    DemoClip("mandelbrot", "mandelbrot", 220),
    DemoClip("life", "life=mold=10:ratio=0.2:life_color=#2ecc71:death_color=#0b3d20", 330),
    DemoClip("colour-bars", "smptehdbars", 440),
    DemoClip("cellular", "cellauto=rule=110", 550),
)
DEMO_SECONDS = 60  # long enough to seek about in, and to show the player's time line
DEVICE_CHECK_SECONDS = 4  # the dummy clip only has to start


def demo_clip_render(clip: DemoClip, folder: Path, *, seconds: float) -> Path:
    """The clear clip, rendered once into `folder` and reused after (it carries no key)."""
    out = folder / f"{clip.slug}-{seconds:g}s.mp4"
    if not out.exists():
        partial = out.with_suffix(".part.mp4")
        packaging.clip_generate(partial, video=clip.video, audio=clip.audio, seconds=seconds)
        partial.replace(out)
    return out


def media_assets_load(
    *, force: bool = False, seconds: float = DEMO_SECONDS, progress: Callable[[str], None] | None = None
) -> list[MediaAsset]:
    """Render each demo clip and encrypt it with a fresh random key, once per install.

    A clip is packaged again only when its output is missing, when it predates every DRM's packaging (no HLS
    rendition or FairPlay IV), or with `force`: each install has its own keys, and none is ever committed.
    `progress`, when given, is told what is being rendered and packaged (tens of seconds on two cores).
    """
    assets = []
    for clip in DEMO_CLIPS:
        asset = MediaAsset.objects.filter(slug=clip.slug).first()
        complete = asset is not None and asset.iv and asset.hls_manifest
        if complete and not force and (Path(settings.MEDIA_ROOT) / asset.manifest).exists():
            assets.append(asset)
            continue
        length = DEVICE_CHECK_SECONDS if clip.slug == settings.BINDING_DEVICE_CHECK_ASSET else seconds
        if progress:
            progress(f"Rendering {clip.slug} ({length:g} s) with FFmpeg…")
        source = demo_clip_render(clip, Path(settings.DEMO_SOURCES_DIR), seconds=length)
        told = (
            (lambda rendition, slug=clip.slug: progress(f"Packaging {slug} for {rendition}…"))
            if progress
            else None
        )
        assets.append(services.media_asset_package(clip.slug, source, progress=told))
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
    DemoTitle(
        "mandelbrot",
        "Mandelbrot Dreams",
        2024,
        "A camera falls for ever into the edge of a fractal, and finds the same coastline at every scale.",
        "7.99",
        "2.99",
    ),
    DemoTitle(
        "life",
        "A Life in Green",
        2023,
        "Cells are born, crowd and die by four simple rules: a quiet "
        "epic of an ecosystem in a 320-pixel world.",
        "6.99",
        "2.49",
    ),
    DemoTitle(
        "colour-bars",
        "Colour Bars",
        2022,
        "The test card that watched over a century of broadcasting tells its story, one bar at a time.",
        "4.99",
        "1.99",
    ),
    DemoTitle(
        "cellular",
        "Rule 110",
        2025,
        "One row of cells, one rule, and the proof that a universe can "
        "compute anything. A thriller in black and white.",
        "8.99",
        "3.49",
    ),
)
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
            defaults={
                "name": demo.name,
                "year": demo.year,
                "synopsis": demo.synopsis,
                "poster": f"img/posters/{demo.slug}.jpg",
                "asset": assets[demo.slug],
            },
        )
        Offer.objects.update_or_create(
            title=title, kind=EntitlementKind.BUY, active=True, defaults={"price": Decimal(demo.buy)}
        )
        Offer.objects.update_or_create(
            title=title,
            kind=EntitlementKind.RENT,
            active=True,
            defaults={"price": Decimal(demo.rent), "rental_hours": RENTAL_HOURS, "play_hours": PLAY_HOURS},
        )
        titles.append(title)
    return titles


@transaction.atomic
def demo_reset(*, faults_off: bool = False) -> dict[str, int]:
    """Put the demo back to its seeded state: the demo customers' orders, entitlements, registrations,
    devices and audit trail removed, every demo login reset, the sandbox's device-binding switch back to its
    default, and its faults off when `faults_off`; the titles, their keys and staff's own records kept.
    Return how many rows of each kind went."""
    from axes.models import AccessAttempt

    from binding.models import BindingEvent, Device, Entitlement, Registration, TokenRequest

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
        "registrations": Registration.objects.filter(user__in=customers).delete()[0],
        "devices": Device.objects.filter(user__in=customers).delete()[0],
    }
    AccessAttempt.objects.filter(username__in=[demo.username for demo in DEMO_USERS]).delete()
    demo_users_load()
    if apps.is_installed("sandbox"):  # its device-binding switch back to the default; no import of it
        apps.get_app_config("sandbox").demo_reset(faults_off=faults_off)
    return removed


DEMO_API_CLIENT = "Demo storefront"


def demo_api_key_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-api-key"


def demo_api_client_load() -> str:
    """The demo's API client, "Demo storefront": the demo titles under their slugs as content ids, and an API
    key kept in var/demo-api-key (owner-only) so that `make demo` can print it and the README's curl
    examples work. A key that no longer works (revoked in admin, or a new database) is replaced."""
    from api.models import Client, ClientAPIKey, ClientTitle
    from bindery.local_files import make_owner_only

    client, _created = Client.objects.get_or_create(name=DEMO_API_CLIENT)
    for title in Title.objects.filter(slug__in=[demo.slug for demo in DEMO_TITLES]).select_related("asset"):
        ClientTitle.objects.get_or_create(
            client=client, content_id=title.slug, defaults={"asset": title.asset}
        )
    path = demo_api_key_file()
    key = path.read_text().strip() if path.exists() else ""
    try:
        works = bool(key) and ClientAPIKey.objects.get_from_key(key).client_id == client.pk
    except ClientAPIKey.DoesNotExist:
        works = False
    if not works:
        _api_key, key = ClientAPIKey.objects.create_key(name="make demo", client=client)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key + "\n")
        make_owner_only(path)
    return key
