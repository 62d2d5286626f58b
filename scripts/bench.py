"""Benchmark: checkout-to-ready latency and bound-token throughput with every real part.

Starts its own web server (gunicorn, serving the sandbox), the ExpressPlay queue's worker (a thread pool) and
Redis, on a throw-away database. It never touches DATABASE_URL or REDIS_URL: it uses SQLite in a temporary
folder and an embedded Redis, or BENCH_DATABASE_URL and BENCH_REDIS_URL, which it fills with bench data.
Prints figures and ratios; asserts nothing.

    make bench                      # defaults: 50 orders, 200 tokens, no added latency
    BENCH_LATENCY_MS=100 make bench # ExpressPlay an internet round trip away
    BINDING_DEVICE_LOOKUP=registration BENCH_LATENCY_MS=100 make bench   # trust the registration's device id
    BENCH_ORDERS=100 BENCH_TOKENS=500 make bench
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench BENCH_REDIS_URL=redis://127.0.0.1:6379/3 make bench
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from harness import THROWAWAY_DATA_KEY, free_port, percentile, wait_for_web

BASE_DIR = Path(__file__).resolve().parent.parent
ORDERS = int(os.environ.get("BENCH_ORDERS", "50"))
TOKENS = int(os.environ.get("BENCH_TOKENS", "200"))
LATENCY_MS = int(os.environ.get("BENCH_LATENCY_MS", "0"))


def configure() -> dict[str, str]:
    """Point this process (and the servers it starts) at a fresh database, Redis port and web port."""
    web_port = free_port()
    env = {
        "BINDERY_VAR_DIR": tempfile.mkdtemp(prefix="bindery-bench-"),
        "EXPRESSPLAY_ENV": "sandbox",
        "EXPRESSPLAY_SANDBOX_URL": f"http://127.0.0.1:{web_port}/sandbox",
        "BINDERY_REDIS_PORT": str(free_port()),
        "DJANGO_SETTINGS_MODULE": "storefront.settings",
        "BINDERY_DATA_KEYS": THROWAWAY_DATA_KEY,
        "LOG_LEVEL": "WARNING",
        "BENCH_WEB_PORT": str(web_port),
        # ExpressPlay is an internet round trip away: the sandbox waits this long on every token and record call.
        "SANDBOX_FAULTS": f"latency_ms={LATENCY_MS}" if LATENCY_MS else "",
    }
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
        if os.environ.get(f"BENCH_{name}"):
            env[name] = os.environ[f"BENCH_{name}"]
    os.environ.update(env)
    sys.path.insert(0, str(BASE_DIR))
    return env


def main() -> None:
    env = configure()
    import django

    django.setup()
    import requests
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from binding import selectors as binding_selectors
    from binding import services as binding_services
    from binding.expressplay import BuyToOwn, ContentKey, client_from_settings
    from binding.models import Entitlement, EntitlementKind, EntitlementState
    from sandbox.device import SimulatedDevice
    from sandbox.tokens import b64url
    from storefront import processes
    from storefront import services as shop_services
    from storefront.demo_data import media_assets_load, titles_load
    from storefront.redis_server import embedded_redis_from_settings

    call_command("migrate", verbosity=0)
    media_assets_load()
    title = titles_load()[0]
    redis = embedded_redis_from_settings()
    if redis:
        redis.start()
    child_env = dict(os.environ)
    web_port = int(env["BENCH_WEB_PORT"])
    # As `make demo` runs them: the web server, the ExpressPlay queue on a thread pool (fixed command lines).
    web_argv = processes.web(bind=f"127.0.0.1:{web_port}", loglevel="warning")
    worker_argv = processes.expressplay_worker(loglevel="WARNING")
    children = [subprocess.Popen(argv, cwd=BASE_DIR, env=child_env) for argv in (web_argv, worker_argv)]  # noqa: S603
    try:
        wait_for_web(web_port)
        time.sleep(2)  # let the worker connect to the broker
        user = get_user_model().objects.create_user(f"bench-{time.time_ns()}", password="bench")

        # Register one simulated device: dummy token, its redemption, the record lookup.
        device = SimulatedDevice()
        cookie = binding_services.cookie_create(user=user, user_agent="Bench/1.0 (X11; Linux x86_64)")
        check = binding_services.dummy_token_issue(cookie=cookie)
        check_kid = binding_selectors.device_check_asset().kid
        body = json.dumps({"kids": [b64url(bytes.fromhex(check_kid))], "type": "temporary"}).encode()
        requests.post(check.license_url, data=body, headers=device.headers(body), timeout=10)
        binding_services.device_confirm(cookie_id=cookie.pk)

        # The floor: the two bare ExpressPlay calls one order needs.
        client = client_from_settings()
        key = ContentKey(kid=title.asset.kid, key=title.asset.key)
        # With BINDING_DEVICE_LOOKUP=registration an order needs the token request only.
        lookup = settings.BINDING_DEVICE_LOOKUP == "every_purchase"
        floor = []
        known_device = client.device_id_for_cookie(cookie.value)
        for _ in range(ORDERS):
            start = time.perf_counter()
            device_id = client.device_id_for_cookie(cookie.value) if lookup else known_device
            client.playready_token(
                key=key,
                policy=BuyToOwn(),
                cookie=cookie.value,
                device_id=device_id,
                expires=timedelta(hours=1),
            )
            floor.append(time.perf_counter() - start)

        # Checkout to ready, one order at a time, as a user would place them.
        rent = title.offers.get(kind=EntitlementKind.RENT)
        latency = []
        for _ in range(ORDERS):
            start = time.perf_counter()
            order = shop_services.order_place(user=user, offer=rent, browser_cookie=cookie.value)
            while Entitlement.objects.filter(
                pk=order.entitlement_id, state=EntitlementState.PENDING
            ).exists():
                time.sleep(0.001)
            latency.append(time.perf_counter() - start)
            if Entitlement.objects.get(pk=order.entitlement_id).state != EntitlementState.READY:
                raise RuntimeError("an order failed; see the worker's log")
            Entitlement.objects.filter(pk=order.entitlement_id).update(state=EntitlementState.EXPIRED)

        # Throughput: many entitlements at once (each queued as it is created), one worker process.
        start = time.perf_counter()
        entitlements = [
            binding_services.entitlement_create(
                user=user, asset=title.asset, kind=EntitlementKind.BUY, cookie=cookie
            )
            for _ in range(TOKENS)
        ]
        ids = [e.pk for e in entitlements]
        while Entitlement.objects.filter(pk__in=ids, state=EntitlementState.PENDING).exists():
            time.sleep(0.01)
        elapsed = time.perf_counter() - start
        ready = Entitlement.objects.filter(pk__in=ids, state=EntitlementState.READY).count()

        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[1]
        ms = 1000
        print()
        print(
            f"Bindery benchmark: sandbox over HTTP (gunicorn) with {LATENCY_MS} ms per ExpressPlay call, "
            f"ExpressPlay worker ({settings.CELERY_EXPRESSPLAY_CONCURRENCY} threads), Redis, {database}, "
            f"device lookup: {settings.BINDING_DEVICE_LOOKUP}"
        )
        print(f"  checkout -> ready, {ORDERS} orders        median {statistics.median(latency) * ms:7.1f} ms   "
              f"p95 {percentile(latency, 0.95) * ms:7.1f} ms")  # fmt: skip
        print(f"  floor: {'getrecord + token request' if lookup else 'token request only       '}       median {statistics.median(floor) * ms:7.1f} ms   "
              f"p95 {percentile(floor, 0.95) * ms:7.1f} ms")  # fmt: skip
        print(f"  ratio checkout-to-ready / floor        median {statistics.median(latency) / statistics.median(floor):7.1f} x   "
              f"p95 {percentile(latency, 0.95) / percentile(floor, 0.95):7.1f} x")  # fmt: skip
        print(
            f"  bound tokens issued, 1 worker process  {ready / elapsed:7.1f} per second ({ready} of {TOKENS} in {elapsed:.1f} s)"
        )
    finally:
        for process in children:
            process.terminate()
        for process in children:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if redis:
            redis.stop()


if __name__ == "__main__":
    main()
