"""What `make bench`, `make chaos`, `make outage` and `make premiere` share: ports, percentiles, the stack's
processes, the shop's data for a run, registered customers with signed-in browsers, and one checkout through
the real web form.

The functions that touch Django import it themselves: the scripts configure the environment first.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# For throw-away data only: a database reused by a later run must stay readable (its generated SECRET_KEY is
# gone with the run's temporary folder).
THROWAWAY_DATA_KEY = "YmluZGVyeS1iZW5jaG1hcmtzLW9ubHktbm90LXJlYWw="


class Part:
    """One process of the stack, in a process group of its own so that a kill takes its children too."""

    def __init__(self, name: str, argv: list[str], logfile: Path):
        self.name, self.argv, self.logfile = name, argv, logfile
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        with self.logfile.open("a") as out:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv
                self.argv,
                cwd=BASE_DIR,
                env=dict(os.environ),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            os.killpg(self.process.pid, sig)
            self.process.wait()

    def stop(self) -> None:
        from bindery.processes import stop

        stop(self.process, grace=15, group=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def wait_for_web(port: int, *, timeout: float = 60.0) -> None:
    """Return once the web server on `port` answers a page (not just accepts connections)."""
    import requests

    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=5)
            return
        except requests.RequestException:  # not listening yet, or still loading the app
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def content_keys(prefix: str, count: int) -> list:
    """`count` media assets with random content keys, not in the catalogue (one per throughput order)."""
    from binding.models import MediaAsset

    return MediaAsset.objects.bulk_create(
        MediaAsset(
            slug=f"{prefix}-{n}", kid=secrets.token_hex(16), key=secrets.token_hex(16), manifest="x/m.mpd"
        )
        for n in range(count)
    )


def titles_with_offers(prefix: str, count: int, *, kinds=("buy", "rent"), bulk: bool = False) -> list:
    """Create `count` titles, each with a random content key and the offers of `kinds` (in a few statements
    with `bulk`, for catalogues of thousands)."""
    from binding.models import MediaAsset
    from storefront.models import Offer, Title

    assets = [
        MediaAsset(
            slug=f"{prefix}-{n}", kid=secrets.token_hex(16), key=secrets.token_hex(16), manifest="x/m.mpd"
        )
        for n in range(count)
    ]
    titles = [
        Title(slug=f"{prefix}-{n}", name=f"{prefix} {n}", synopsis="-", year=2026, poster="-", asset=asset)
        for n, asset in enumerate(assets)
    ]
    offers = [Offer(title=title, kind="buy", price=4) for title in titles if "buy" in kinds] + [
        Offer(title=title, kind="rent", price=2, rental_hours=48, play_hours=3)
        for title in titles
        if "rent" in kinds
    ]
    if bulk:
        for model, rows in ((MediaAsset, assets), (Title, titles), (Offer, offers)):
            model.objects.bulk_create(rows, batch_size=500)
        return titles
    for row in [*assets, *titles, *offers]:
        row.save()
    return titles


def registered_browsers(prefix: str, count: int) -> list[dict]:
    """Create `count` customers whose browser registered (a bound cookie, and the licence record ExpressPlay
    logged for it); return each browser's cookies (signed in, and remembering its registration) and its
    correlation value under "cookie"."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.signing import get_cookie_signer
    from django.test import Client

    from binding import services as binding_services
    from sandbox.device import SimulatedDevice
    from sandbox.models import Record

    signer = get_cookie_signer(salt=settings.BINDING_BROWSER_COOKIE)
    browsers = []
    for number in range(count):
        user = get_user_model().objects.create_user(
            f"{prefix}{number}", email=f"{prefix}{number}@example.com"
        )
        device = SimulatedDevice()
        cookie = binding_services.registration_create(
            user=user, user_agent=f"{prefix}/1.0 (X11; Linux x86_64)"
        )
        binding_services.device_bind(cookie=cookie, device_id=device.device_id)
        Record.objects.create(cookie=cookie.value, device_id=device.device_id, drm="pr")
        login = Client()
        login.force_login(user)
        browsers.append(
            {
                "cookies": {
                    settings.SESSION_COOKIE_NAME: login.cookies[settings.SESSION_COOKIE_NAME].value,
                    settings.BINDING_BROWSER_COOKIE: signer.sign(cookie.value),
                },
                "cookie": cookie.value,
            }
        )
    return browsers


def checkout(port: int, browser: dict, offer_id: int) -> tuple[str, str]:
    """Pay for `offer_id` as `browser` through the real checkout form (session, CSRF, demo card); return
    ("placed", order number) or (what went wrong, "")."""
    import requests

    from storefront.forms import DEMO_CARD

    csrf = secrets.token_hex(16)
    session = requests.Session()
    session.cookies.update({**browser["cookies"], "csrftoken": csrf})
    try:
        response = session.post(
            f"http://127.0.0.1:{port}/checkout/{offer_id}/",
            data={"csrfmiddlewaretoken": csrf, "cardholder": "Customer", "card_number": DEMO_CARD},
            allow_redirects=False,
            timeout=60,
        )
    except requests.RequestException as exc:
        return type(exc).__name__, ""
    location = response.headers.get("Location", "")
    if response.status_code == 302 and location.startswith("/orders/"):
        return "placed", location.split("/")[2]
    return f"HTTP {response.status_code} {location}".strip(), ""


def throwaway_stack(name: str, **settings_env: str) -> dict[str, str]:
    """Point this process (and the servers it starts) at a fresh folder, a web port and a Redis port of their
    own, the sandbox on that web port, and SQLite, or the database in `<NAME>_DATABASE_URL`; plus
    `settings_env`. Return the environment; the web port is under "WEB_PORT"."""
    web_port, redis_port = free_port(), free_port()
    env = {
        "BINDERY_VAR_DIR": tempfile.mkdtemp(prefix=f"bindery-{name}-"),
        "DJANGO_SETTINGS_MODULE": "bindery.settings",
        "BINDERY_DATA_KEYS": THROWAWAY_DATA_KEY,
        "EXPRESSPLAY_ENV": "sandbox",
        "EXPRESSPLAY_SANDBOX_URL": f"http://127.0.0.1:{web_port}/sandbox",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "BINDERY_REDIS_PORT": str(redis_port),
        "LOG_LEVEL": "ERROR",
        "WEB_PORT": str(web_port),
        **settings_env,
    }
    os.environ.pop("DATABASE_URL", None)
    if os.environ.get(f"{name.upper()}_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ[f"{name.upper()}_DATABASE_URL"]
    os.environ.update(env)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bindery.local_files import prepare

    prepare()  # the scripts are entry points too: the var folder before the settings
    return env
