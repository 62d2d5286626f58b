"""Benchmark: every figure of the premiere issue as "measured, floor, ratio", with every real part.

Each leg starts its own stack on a throw-away database: the shop's web server (gunicorn), the sandbox on a
web server of its own (ExpressPlay is another service), the ExpressPlay queue's worker (a thread pool, as
`make demo` runs it) and Redis. It never touches DATABASE_URL or REDIS_URL: the SQLite leg uses a temporary
folder and an embedded Redis; a PostgreSQL leg runs when BENCH_DATABASE_URL is set (its Redis is
BENCH_REDIS_URL, or an embedded one). Each leg measures, at each ExpressPlay latency of BENCH_LATENCIES:

  checkout -> ready   the real web checkout (session, form, CSRF) until the token is ready, one order at a time,
                      interleaved with the floor: the bare ExpressPlay calls an order needs (getrecord + token,
                      or the token only with BINDING_DEVICE_LOOKUP=registration)
  tokens per second   BENCH_TOKENS orders queued at once, issued by the worker(s), against the sandbox's bare
                      rate of the same calls made by as many threads as the worker has, in the same run

and once per leg: catalogue and library renders at 10 000 titles / 1 000 orders against 10; the catalogue's
p95 under 50 concurrent clients against a trivial view (/health/live/) under the same load; sandbox licence
redemptions per second; and the CPU milliseconds one checkout costs in each process (docs/capacity.md).
Prints figures and ratios; asserts nothing.

    make bench                                   # SQLite; ExpressPlay 0 ms and 100 ms away
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench BENCH_REDIS_URL=redis://127.0.0.1:6379/3 make bench
    BENCH_LOOKUPS=every_purchase,registration make bench      # both device lookup modes
    BENCH_WORKERS=1,2 make bench                 # tokens per second with 1 and with 2 worker processes
    BENCH_DATABASES=postgresql make bench        # only the PostgreSQL leg (BENCH_DATABASE_URL set)
    BENCH_ORDERS=100 BENCH_TOKENS=500 BENCH_LATENCIES=0,50,100 make bench
    python scripts/bench.py --premiere           # the premiere run (scripts/premiere.py)
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from harness import (
    checkout,
    content_keys,
    free_port,
    percentile,
    registered_browsers,
    throwaway_stack,
    titles_with_offers,
    wait_for_web,
)

BASE_DIR = Path(__file__).resolve().parent.parent
ORDERS = int(os.environ.get("BENCH_ORDERS", "40"))
TOKENS = int(os.environ.get("BENCH_TOKENS", "300"))
LATENCIES = [int(v) for v in os.environ.get("BENCH_LATENCIES", "0,100").split(",")]
LOOKUPS = os.environ.get("BENCH_LOOKUPS", "every_purchase").split(",")
WORKERS = [int(v) for v in os.environ.get("BENCH_WORKERS", "1").split(",")]
BIG_CATALOGUE, BIG_LIBRARY, SMALL = 10_000, 1_000, 10
PAGE_SAMPLES = 60
CONCURRENT_CLIENTS, CONCURRENT_REQUESTS = 50, 1500
REDEMPTIONS = 3000
MS = 1000


def _stat_cpu(proc: Path, fields: slice) -> float:
    """Return the CPU seconds in `fields` of /proc/<pid>/stat (utime stime, then cutime cstime)."""
    values = (proc / "stat").read_text().rsplit(")", 1)[1].split()[fields]
    return sum(int(v) for v in values) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU seconds of process `pid` and its (reaped and live) children so far."""
    proc = Path(f"/proc/{pid}")
    try:
        own = _stat_cpu(proc, slice(11, 15))
        children = (proc / "task" / str(pid) / "children").read_text().split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return own + sum(cpu_seconds(int(child)) for child in children)


def servers_cpu(names: tuple[str, ...]) -> float:
    """Return the CPU seconds of every process on this machine whose command is one of `names` (the database
    and Redis servers: they serve this bench alone while it runs)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() in names:
                    total += _stat_cpu(proc, slice(11, 13))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return total


class Stack:
    """The processes of one leg, each in a process group of its own."""

    def __init__(self, env: dict[str, str], *, workers: int):
        from bindery.processes import commands

        self.var = Path(env["BINDERY_VAR_DIR"])
        self.shop_port, self.sandbox_port = int(env["WEB_PORT"]), int(env["SANDBOX_PORT"])
        self.argvs = {
            "shop": commands.web(bind=f"127.0.0.1:{self.shop_port}", threads=8, loglevel="warning"),
            "sandbox": commands.web(bind=f"127.0.0.1:{self.sandbox_port}", threads=32, loglevel="warning"),
        }
        for number in range(workers):
            self.argvs[f"worker{number}"] = [
                *commands.expressplay_worker(loglevel="WARNING"),
                "--hostname",
                f"expressplay{number}@%h",
            ]
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        for name, argv in self.argvs.items():
            with (self.var / f"{name}.log").open("w") as out:
                self.processes[name] = subprocess.Popen(  # noqa: S603 - fixed argv
                    argv, cwd=BASE_DIR, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT
                )
        wait_for_web(self.shop_port)
        wait_for_web(self.sandbox_port)
        time.sleep(3)  # the workers connect to the broker

    def cpu(self) -> dict[str, float]:
        return {name: cpu_seconds(process.pid) for name, process in self.processes.items()}

    def stop(self) -> None:
        from bindery.processes import stop

        stop(*self.processes.values(), grace=15)


def set_latency(ms: int) -> None:
    from sandbox.models import FaultSettings

    FaultSettings.objects.update_or_create(pk=1, defaults={"latency_ms": ms})
    time.sleep(1.3)  # the sandbox's processes read their faults again within a second


def wait_settled(entitlement_ids: list[int], *, pause: float = 0.002, timeout: float = 600) -> None:
    from binding.models import Entitlement, EntitlementState

    pending = Entitlement.objects.filter(pk__in=entitlement_ids, state=EntitlementState.PENDING)
    deadline = time.monotonic() + timeout
    while pending.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("orders still pending; see the worker's log")
        time.sleep(pause)


class Floor:
    """The bare ExpressPlay calls one order needs, made by the bench itself."""

    def __init__(self, cookies: list[str], assets: list, *, lookup: bool):
        from binding.expressplay import client_from_settings

        self.client, self.cookies, self.assets, self.lookup = client_from_settings(), cookies, assets, lookup
        # With the registration's device id trusted, an order needs the token request only: known ahead.
        self.known = (
            {} if lookup else {cookie: self.client.device_id_for_cookie(cookie) for cookie in cookies}
        )

    def once(self, index: int) -> float:
        from django.utils import timezone

        from binding.expressplay import ContentKey, Rental

        cookie, asset = self.cookies[index % len(self.cookies)], self.assets[index % len(self.assets)]
        start = time.perf_counter()
        device_id = self.client.device_id_for_cookie(cookie) if self.lookup else self.known[cookie]
        self.client.playready_token(
            key=ContentKey(kid=asset.kid, key=asset.key),
            policy=Rental(period_end=timezone.now() + timedelta(hours=48), play_duration=3 * 3600),
            cookie=cookie,
            device_id=device_id,
            expires=timedelta(hours=1),
        )
        return time.perf_counter() - start


def measure_latency(stack: Stack, browsers: list[dict], offers: list[int], floor: Floor) -> dict:
    """Checkout -> ready through the web form, one order at a time, each next to one floor sample."""
    from storefront.models import Order

    measured, bare = [], []
    for index in range(ORDERS):
        bare.append(floor.once(index))
        start = time.perf_counter()
        outcome, number = checkout(stack.shop_port, browsers[index], offers[index])
        if outcome != "placed":
            raise RuntimeError(f"checkout answered {outcome}")
        wait_settled([Order.objects.get(number=number).entitlement_id], pause=0.001)
        measured.append(time.perf_counter() - start)
    return {"measured": measured, "floor": bare}


def measure_throughput(user, cookie, assets: list, floor: Floor, *, threads: int) -> dict:
    """Tokens issued per second with TOKENS orders queued at once, and the bare calls' rate at `threads`.

    Each order is a purchase of a content key of its own: a customer owns a title once, so the same title
    twice would be refused (binding.services.entitlement_create)."""
    from binding import services as binding_services
    from binding.models import Entitlement, EntitlementKind, EntitlementState

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(floor.once, range(TOKENS)))
    bare_rate = TOKENS / (time.perf_counter() - start)

    start = time.perf_counter()
    ids = [
        binding_services.entitlement_create(
            user=user, asset=assets[index], kind=EntitlementKind.BUY, cookie=cookie
        ).pk
        for index in range(TOKENS)
    ]
    wait_settled(ids, pause=0.01)
    elapsed = time.perf_counter() - start
    ready = Entitlement.objects.filter(pk__in=ids, state=EntitlementState.READY).count()
    Entitlement.objects.filter(pk__in=ids).update(state=EntitlementState.EXPIRED)
    return {"rate": ready / elapsed, "bare_rate": bare_rate, "ready": ready}


def timed_gets(url: str, count: int, *, cookies: dict | None = None) -> list[float]:
    import requests

    session = requests.Session()
    session.cookies.update(cookies or {})
    times = []
    for _ in range(count):
        start = time.perf_counter()
        response = session.get(url, timeout=30)
        response.raise_for_status()
        times.append(time.perf_counter() - start)
    return times


def concurrent_gets(url: str) -> list[float]:
    """Return each request's time with CONCURRENT_CLIENTS clients asking `url` at once."""
    import requests

    local, times, lock = threading.local(), [], threading.Lock()

    def one(_index: int) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        start = time.perf_counter()
        local.session.get(url, timeout=60).raise_for_status()
        with lock:
            times.append(time.perf_counter() - start)

    with ThreadPoolExecutor(CONCURRENT_CLIENTS) as pool:
        list(pool.map(one, range(CONCURRENT_REQUESTS)))
    return times


def measure_pages(stack: Stack, browser: dict, offer_id: int, user) -> dict:
    """Catalogue and library renders, small against big; the catalogue under load against a trivial view."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from binding.models import Entitlement, EntitlementKind, EntitlementState
    from storefront.catalogue_cache import CACHED_PAGES, catalogue_changed
    from storefront.models import Offer, Order

    shop = f"http://127.0.0.1:{stack.shop_port}"
    offer = Offer.objects.select_related("title__asset").get(pk=offer_id)
    reader = get_user_model().objects.get(username=browser["username"])

    def add_orders(count: int) -> None:
        entitlements = Entitlement.objects.bulk_create(
            Entitlement(
                user=reader, asset=offer.title.asset, kind=EntitlementKind.BUY, state=EntitlementState.EXPIRED
            )
            for _ in range(count)
        )
        Order.objects.bulk_create(
            Order(
                user=reader,
                title=offer.title,
                offer=offer,
                kind=offer.kind,
                price=offer.price,
                currency="EUR",
                payment_reference="BENCH",
                entitlement=entitlement,
                number=f"BNCH-{secrets.token_hex(5)}",
            )
            for entitlement in entitlements
        )

    # Page 60 is past what the cache keeps: rendered on every visit (the last page, with 10 titles).
    uncached = f"{shop}/?page={CACHED_PAGES + 10}"
    # A search (name and synopsis, every word): cached like the catalogue, and past the cached pages, not.
    search, search_uncached = f"{shop}/?q=9", f"{shop}/?q=9&page={CACHED_PAGES + 10}"
    add_orders(SMALL)
    small_catalogue = timed_gets(f"{shop}/", PAGE_SAMPLES)
    small_uncached = timed_gets(uncached, PAGE_SAMPLES)
    small_search = timed_gets(search, PAGE_SAMPLES)
    small_search_uncached = timed_gets(search_uncached, PAGE_SAMPLES)
    small_library = timed_gets(f"{shop}/library/", PAGE_SAMPLES, cookies=browser["cookies"])
    add_orders(BIG_LIBRARY - SMALL)
    titles_with_offers("catalogue", BIG_CATALOGUE - SMALL, bulk=True)
    catalogue_changed()  # bulk_create sends no post_save
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does within a minute of a bulk load
            cursor.execute("ANALYZE")
    big_catalogue = timed_gets(f"{shop}/", PAGE_SAMPLES)
    big_uncached = timed_gets(uncached, PAGE_SAMPLES)
    big_search = timed_gets(search, PAGE_SAMPLES)
    big_search_uncached = timed_gets(search_uncached, PAGE_SAMPLES)
    big_library = timed_gets(f"{shop}/library/", PAGE_SAMPLES, cookies=browser["cookies"])

    trivial = concurrent_gets(f"{shop}/health/live/")
    loaded = concurrent_gets(f"{shop}/")
    return {
        "catalogue": (small_catalogue, big_catalogue),
        "catalogue, uncached": (small_uncached, big_uncached),
        "search": (small_search, big_search),
        "search, uncached": (small_search_uncached, big_search_uncached),
        "library": (small_library, big_library),
        "concurrent": (trivial, loaded),
    }


def measure_redemptions(stack: Stack, cookie: str) -> dict:
    """Licence redemptions per second at the sandbox: signed ClearKey requests for a device-bound token."""
    import requests

    from binding.expressplay import BuyToOwn, ContentKey, client_from_settings
    from binding.models import MediaAsset
    from sandbox.device import SimulatedDevice
    from sandbox.tokens import b64url

    device = SimulatedDevice()
    asset = MediaAsset.objects.exclude(slug="device-check").first()
    token = client_from_settings().playready_token(
        key=ContentKey(kid=asset.kid, key=asset.key),
        policy=BuyToOwn(),
        cookie=cookie,
        device_id=device.device_id,
        expires=timedelta(hours=1),
    )
    body = json.dumps({"kids": [b64url(bytes.fromhex(asset.kid))], "type": "temporary"}).encode()
    signed = [device.headers(body) for _ in range(REDEMPTIONS)]  # signed before the clock starts
    local, granted, lock = threading.local(), [0], threading.Lock()

    def redeem(headers: dict) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        response = local.session.post(token.license_url, data=body, headers=headers, timeout=30)
        if response.status_code == 200 and response.json().get("keys"):
            with lock:
                granted[0] += 1

    start = time.perf_counter()
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(redeem, signed))
    elapsed = time.perf_counter() - start
    return {"rate": granted[0] / elapsed, "granted": granted[0]}


def measure_cpu(stack: Stack, browsers: list[dict], offers: list[int]) -> dict:
    """CPU milliseconds per checkout in each process: orders placed through the web, issued, settled."""
    from storefront.models import Order

    servers = {"database server": ("postgres", "postmaster"), "redis": ("redis-server", "valkey-server")}
    before = {**stack.cpu(), **{name: servers_cpu(names) for name, names in servers.items()}}

    def place(index: int) -> str:
        return checkout(stack.shop_port, browsers[index], offers[index])[1]

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(place, range(len(browsers))))
    orders = Order.objects.filter(number__in=numbers)
    wait_settled(list(orders.values_list("entitlement_id", flat=True)), pause=0.05)
    after = {**stack.cpu(), **{name: servers_cpu(names) for name, names in servers.items()}}
    return {name: (after[name] - before[name]) * MS / len(numbers) for name in after}


def leg(database: str, lookup: str, workers: int) -> dict:
    """Run one leg in this process (a fresh Django); return its figures."""
    settings_env = {"BINDING_DEVICE_LOOKUP": lookup, "SANDBOX_PORT": str(free_port())}
    if os.environ.get("BENCH_REDIS_URL") and database != "sqlite":
        settings_env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    env = throwaway_stack("bench", **settings_env)
    env["EXPRESSPLAY_SANDBOX_URL"] = os.environ["EXPRESSPLAY_SANDBOX_URL"] = (
        f"http://127.0.0.1:{env['SANDBOX_PORT']}/sandbox"
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bindery.processes.redis_server import EmbeddedRedis
    from binding.models import Registration

    call_command("migrate", verbosity=0)
    if database != "sqlite":  # a reused server database starts empty
        call_command("flush", "--no-input", verbosity=0)
    redis = None
    if "REDIS_URL" not in settings_env:
        redis = EmbeddedRedis(
            port=int(env["BINDERY_REDIS_PORT"]), data_dir=Path(env["BINDERY_VAR_DIR"]) / "redis"
        )
        redis.start()
    titles = titles_with_offers("bench", SMALL, kinds=("rent",))
    token_assets = content_keys("tokens", TOKENS)  # throughput orders: one key each (off the catalogue)
    per_latency_orders = ORDERS * len(LATENCIES)
    browsers = registered_browsers("viewer", per_latency_orders + 1 + 50)
    from storefront.models import Offer

    rent_offers = list(Offer.objects.order_by("pk").values_list("pk", flat=True))
    cookies = [b["cookie"] for b in browsers]
    stack = Stack(env, workers=workers)
    results: dict = {"database": database, "lookup": lookup, "workers": workers, "latency": {}}
    try:
        stack.start()
        floor = Floor(cookies, [t.asset for t in titles], lookup=lookup == "every_purchase")
        reader = browsers[-1]
        reader_cookie = Registration.objects.get(value=reader["cookie"])
        for number, latency in enumerate(LATENCIES):
            set_latency(latency)
            chunk = browsers[number * ORDERS : (number + 1) * ORDERS]
            offers = [rent_offers[i % len(rent_offers)] for i in range(ORDERS)]
            results["latency"][latency] = {
                "checkout": measure_latency(stack, chunk, offers, floor),
                "tokens": measure_throughput(
                    reader_cookie.user,
                    reader_cookie,
                    token_assets,
                    floor,
                    threads=settings.CELERY_EXPRESSPLAY_CONCURRENCY * workers,
                ),
            }
        set_latency(0)
        cpu_browsers = browsers[per_latency_orders : per_latency_orders + 50]
        results["cpu"] = measure_cpu(
            stack, cpu_browsers, [rent_offers[i % len(rent_offers)] for i in range(50)]
        )
        reader["username"] = reader_cookie.user.username
        results["pages"] = measure_pages(stack, reader, rent_offers[0], reader_cookie.user)
        results["redemptions"] = measure_redemptions(stack, reader["cookie"])
    finally:
        stack.stop()
        if redis:
            redis.stop()
    return results


def median(values):
    return statistics.median(values)


def p95(values):
    return percentile(values, 0.95)


def row(label: str, measured: str, floor: str, ratio: str, goal: str) -> None:
    print(f"  {label:<50} {measured:>22} {floor:>22} {ratio:>16}   {goal}")


def report(results: dict) -> None:
    title = (
        f"{results['database']}, device lookup: {results['lookup']}, "
        f"{results['workers']} ExpressPlay worker process(es)"
    )
    print()
    print(f"== {title}")
    row("", "measured", "floor", "ratio", "goal")
    lookup = results["lookup"] == "every_purchase"
    for latency, figures in results["latency"].items():
        done, bare = figures["checkout"]["measured"], figures["checkout"]["floor"]
        row(
            f"checkout -> ready, ExpressPlay {latency} ms (med / p95)"
            + ("" if lookup else ", token-only floor"),
            f"{median(done) * MS:.1f} / {p95(done) * MS:.1f} ms",
            f"{median(bare) * MS:.1f} / {p95(bare) * MS:.1f} ms",
            f"{median(done) / median(bare):.2f} / {p95(done) / p95(bare):.2f} x",
            "<= 2 / 3 x",
        )
        tokens = figures["tokens"]
        row(
            f"bound tokens per second, ExpressPlay {latency} ms",
            f"{tokens['rate']:.1f} /s",
            f"{tokens['bare_rate']:.1f} /s bare",
            f"{tokens['rate'] / tokens['bare_rate']:.2f} x",
            ">= 0.8 x",
        )
    pages = results["pages"]
    for name, (small, big), size in (
        ("catalogue", pages["catalogue"], f"{BIG_CATALOGUE} titles"),
        ("catalogue, uncached page", pages["catalogue, uncached"], f"{BIG_CATALOGUE} titles"),
        ("search", pages["search"], f"{BIG_CATALOGUE} titles"),
        ("search, uncached page", pages["search, uncached"], f"{BIG_CATALOGUE} titles"),
        ("library", pages["library"], f"{BIG_LIBRARY} orders"),
    ):
        row(
            f"{name} render, {size} vs {SMALL} (median)",
            f"{median(big) * MS:.1f} ms",
            f"{median(small) * MS:.1f} ms",
            f"{median(big) / median(small):.2f} x",
            "<= 2 x",
        )
    trivial, loaded = pages["concurrent"]
    row(
        f"catalogue p95, {CONCURRENT_CLIENTS} clients, vs /health/live/",
        f"{p95(loaded) * MS:.1f} ms",
        f"{p95(trivial) * MS:.1f} ms",
        f"{p95(loaded) / p95(trivial):.2f} x",
        "<= 2 x",
    )
    redemptions = results["redemptions"]
    row("sandbox licence redemptions per second", f"{redemptions['rate']:.0f} /s", "", "", ">= 1000 /s")
    cpu = results["cpu"]
    parts = ", ".join(f"{name} {ms:.1f}" for name, ms in cpu.items() if ms >= 0.05)
    print(
        f"  CPU ms per checkout (ExpressPlay 0 ms): {parts}; ours in all {sum(v for k, v in cpu.items() if k != 'sandbox'):.1f}"
    )


def main() -> None:
    if "--premiere" in sys.argv:
        os.execv(sys.executable, [sys.executable, str(Path(__file__).with_name("premiere.py"))])  # noqa: S606
    if "--leg" in sys.argv:
        _flag, database, lookup, workers = sys.argv[sys.argv.index("--leg") :][:4]
        print("BENCH-RESULT " + json.dumps(leg(database, lookup, int(workers))), flush=True)
        return
    databases = ["sqlite", "postgresql"] if os.environ.get("BENCH_DATABASE_URL") else ["sqlite"]
    databases = os.environ.get("BENCH_DATABASES", ",".join(databases)).split(",")
    legs = [
        (database, lookup, workers) for database in databases for lookup in LOOKUPS for workers in WORKERS
    ]
    print(
        f"Bindery benchmark: {ORDERS} orders one at a time and {TOKENS} at once per latency "
        f"({', '.join(f'{v} ms' for v in LATENCIES)}); {len(legs)} leg(s)",
        flush=True,
    )
    for database, lookup, workers in legs:
        env = dict(os.environ)
        env.pop("DATABASE_URL", None)
        if database != "sqlite":
            env["BENCH_DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        else:
            env.pop("BENCH_DATABASE_URL", None)
        output = subprocess.run(  # noqa: S603 - this script, fixed arguments
            [sys.executable, __file__, "--leg", database, lookup, str(workers)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        line = next((line for line in output.stdout.splitlines() if line.startswith("BENCH-RESULT ")), None)
        if line is None:
            print(
                f"== {database}, {lookup}, {workers} worker(s): failed\n{output.stdout[-3000:]}{output.stderr[-3000:]}"
            )
            continue
        report(json.loads(line.removeprefix("BENCH-RESULT ")))


if __name__ == "__main__":
    main()
