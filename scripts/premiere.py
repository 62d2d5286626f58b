"""Premiere night: thousands of rentals through the real web checkout, with ExpressPlay an internet round
trip away. Prints how many became ready, pay-to-ready median and p95 against the floor, and tokens per second.

Starts its own stack as `make demo` runs it (gunicorn, the ExpressPlay worker on a thread pool, the default
worker, beat, Redis), with the sandbox on a gunicorn of its own (ExpressPlay is another service), on a
throw-away SQLite database (or PREMIERE_DATABASE_URL, emptied first). Customers whose browsers are registered
rent titles through HTTP POSTs (session, form, CSRF) at PREMIERE_RATE per second; the sandbox waits
PREMIERE_LATENCY_MS on every ExpressPlay call. Asserts nothing.

    make premiere                                     # 10 000 rentals at 150 per second, 100 ms
    PREMIERE_RENTALS=2000 PREMIERE_RATE=50 make premiere
"""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import (
    checkout,
    free_port,
    percentile,
    registered_browsers,
    throwaway_stack,
    titles_with_offers,
    wait_for_web,
)

BASE_DIR = Path(__file__).resolve().parent.parent
RENTALS = int(os.environ.get("PREMIERE_RENTALS", "10000"))
RATE = float(os.environ.get("PREMIERE_RATE", "150"))
LATENCY_MS = int(os.environ.get("PREMIERE_LATENCY_MS", "100"))
TITLES = 50
CLIENTS = 48


def main() -> None:
    env = throwaway_stack("premiere", SANDBOX_FAULTS=f"latency_ms={LATENCY_MS}" if LATENCY_MS else "")
    # ExpressPlay is another service: the sandbox gets a server of its own, so its answers never queue behind
    # the shop's checkouts.
    sandbox_port = free_port()
    env["EXPRESSPLAY_SANDBOX_URL"] = os.environ["EXPRESSPLAY_SANDBOX_URL"] = (
        f"http://127.0.0.1:{sandbox_port}/sandbox"
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bindery.processes import commands, stop
    from bindery.processes.redis_server import EmbeddedRedis
    from binding.expressplay import ContentKey, Rental, client_from_settings
    from binding.models import Entitlement, EntitlementState
    from storefront.models import Offer, Order

    var = Path(env["BINDERY_VAR_DIR"])
    call_command("migrate", verbosity=0)
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":  # a reused server database
        call_command("flush", "--no-input", verbosity=0)
    titles = titles_with_offers("premiere", TITLES, kinds=("rent",))
    browsers = registered_browsers("viewer", -(-RENTALS // TITLES))
    cookies = [browser["cookie"] for browser in browsers]
    offers = list(Offer.objects.values_list("pk", flat=True))
    plan = [(b, o) for b in range(len(browsers)) for o in offers][:RENTALS]

    redis = EmbeddedRedis(port=int(env["BINDERY_REDIS_PORT"]), data_dir=var / "redis").start()
    web_port = int(env["WEB_PORT"])
    argvs = {
        "web": commands.web(bind=f"127.0.0.1:{web_port}", threads=16, loglevel="warning"),
        "sandbox": commands.web(bind=f"127.0.0.1:{sandbox_port}", threads=32, loglevel="warning"),
        "worker": commands.expressplay_worker(loglevel="WARNING"),
        "default worker": commands.default_worker(loglevel="WARNING"),
        "beat": commands.beat(schedule=str(var / "beat-schedule"), loglevel="WARNING"),
    }
    processes = []
    try:
        for name, argv in argvs.items():
            with (var / f"{name.replace(' ', '-')}.log").open("w") as out:
                processes.append(
                    subprocess.Popen(  # noqa: S603 - fixed argv
                        argv,
                        cwd=BASE_DIR,
                        env=dict(os.environ),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        wait_for_web(web_port)
        wait_for_web(sandbox_port)
        time.sleep(3)  # the workers connect to the broker

        # The floor: the two ExpressPlay calls one rental needs, as the worker would make them, with latency.
        client = client_from_settings()
        first = titles[0].asset
        floor = []
        for index in range(30):
            start = time.perf_counter()
            device_id = client.device_id_for_cookie(cookies[index % len(cookies)])
            client.playready_token(
                key=ContentKey(kid=first.kid, key=first.key),
                policy=Rental(
                    period_end=django.utils.timezone.now() + django.utils.timezone.timedelta(hours=48)
                ),
                cookie=cookies[index % len(cookies)],
                device_id=device_id,
                expires=django.utils.timezone.timedelta(hours=1),
            )
            floor.append(time.perf_counter() - start)

        answers: dict[str, int] = {}
        lock = threading.Lock()
        started = time.monotonic()

        def place(index: int) -> None:
            browser, offer_id = plan[index]
            delay = started + index / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            outcome, _number = checkout(web_port, browsers[browser], offer_id)
            with lock:
                answers[outcome] = answers.get(outcome, 0) + 1

        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(place, range(len(plan))))
        placed_in = time.monotonic() - started
        pending = Entitlement.objects.filter(state=EntitlementState.PENDING)
        deadline = time.monotonic() + 600
        while pending.exists() and time.monotonic() < deadline:
            time.sleep(1)
        drained_in = time.monotonic() - started
        orders = list(Order.objects.select_related("entitlement"))
        ready = [o for o in orders if o.entitlement.state == EntitlementState.READY]
        pay_to_ready = [(o.entitlement.updated_at - o.created_at).total_seconds() for o in ready]
        first_order = min(o.created_at for o in orders)
        last_ready = max(o.entitlement.updated_at for o in ready)
        rate = len(ready) / (last_ready - first_order).total_seconds()
    finally:
        stop(*processes, grace=20, group=True)
        redis.stop()

    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[1]
    print()
    print(
        f"Bindery premiere: {len(plan)} rentals through the web checkout at {RATE:g}/s, ExpressPlay {LATENCY_MS} ms "
        f"away, {database}, 1 ExpressPlay worker ({settings.CELERY_EXPRESSPLAY_CONCURRENCY} threads)"
    )
    print(f"  checkout answers:        {answers}; all sent in {placed_in:.1f} s")
    print(
        f"  ready:                   {len(ready)} of {len(orders)} orders (every pending settled in {drained_in:.1f} s)"
    )
    print(
        f"  floor (getrecord+token): median {statistics.median(floor) * 1000:.0f} ms, p95 {percentile(floor, 0.95) * 1000:.0f} ms"
    )
    print(
        f"  pay -> ready:            median {statistics.median(pay_to_ready) * 1000:.0f} ms "
        f"({statistics.median(pay_to_ready) / statistics.median(floor):.1f} x floor), "
        f"p95 {percentile(pay_to_ready, 0.95) * 1000:.0f} ms ({percentile(pay_to_ready, 0.95) / percentile(floor, 0.95):.1f} x)"
    )
    print(f"  tokens per second:       {rate:.1f} (first order to last token)")
    print(f"  logs: {var}")


if __name__ == "__main__":
    main()
