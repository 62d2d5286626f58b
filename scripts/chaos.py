"""Reliability run: a thousand paid checkouts while everything breaks; prints what became of each order.

Starts its own web server (gunicorn, serving the shop and the sandbox), Redis (with its append-only file),
a Celery worker and Celery beat, on a throw-away SQLite database (or CHAOS_DATABASE_URL). Then, while
customers check out through real HTTP POSTs:

  - the sandbox faults about 20 % of ExpressPlay calls: HTTP 503, ExpressPlay error codes, hangs past the
    client's timeout, answers lost after the token was made, records not there yet;
  - the worker is SIGKILLed every few seconds (at least CHAOS_KILLS times) and started again;
  - Redis is stopped and started again CHAOS_REDIS_RESTARTS times.

When the checkouts are done, the faults stop and the run waits up to CHAOS_RECOVERY seconds for every order
to settle. It prints orders placed, ready, failed with a reason, stuck (still pending), lost (a payment
taken with no order, or an order with no entitlement), tokens on record per entitlement against the tokens
the sandbox made, and the time from the last fault to the last order settled. Asserts nothing; exits 1 when
an order is lost or stuck.

    make chaos                                  # 1000 checkouts, 20 worker kills, 3 Redis restarts
    CHAOS_ORDERS=200 CHAOS_KILLS=5 make chaos   # a shorter run
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import (
    Part,
    checkout,
    registered_browsers,
    throwaway_stack,
    titles_with_offers,
    wait_for_web,
)

ORDERS = int(os.environ.get("CHAOS_ORDERS", "1000"))
KILLS = int(os.environ.get("CHAOS_KILLS", "20"))
REDIS_RESTARTS = int(os.environ.get("CHAOS_REDIS_RESTARTS", "3"))
DURATION = float(os.environ.get("CHAOS_DURATION", str(max(60, ORDERS * 0.15))))  # seconds of checkouts
RECOVERY = float(os.environ.get("CHAOS_RECOVERY", "300"))
CLIENTS = 8
TITLES = 25
# About 20 % of ExpressPlay calls faulted: 15 % of token requests, 20 % of record lookups.
FAULTS = {
    "latency_ms": 5,
    "jitter_ms": 20,
    "server_error": 0.04,
    "error_code": 0.02,
    "error_codes": "-2019 -2030",
    "hang": 0.04,
    "hang_seconds": 3.0,
    "drop": 0.05,
    "no_record": 0.05,
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def main() -> int:
    env = throwaway_stack(
        "chaos", EXPRESSPLAY_TIMEOUT="2", BINDING_SWEEP_INTERVAL="2", BINDING_REQUEUE_AFTER="10"
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bindery.processes import commands
    from bindery.processes.redis_server import EmbeddedRedis
    from binding.models import Entitlement, EntitlementState, MediaAsset, TokenRequest, TokenRequestOutcome
    from sandbox.models import FaultSettings, IssuedToken
    from storefront.models import Offer, Order

    var = Path(env["BINDERY_VAR_DIR"])
    log(
        f"chaos run in {var}: {ORDERS} checkouts over {DURATION:.0f} s, {KILLS} worker kills, "
        f"{REDIS_RESTARTS} Redis restarts"
    )
    call_command("migrate", verbosity=0)

    # Customers whose browsers registered, and titles with offers; every (customer, title) pair is one checkout.
    customers_needed = -(-ORDERS // TITLES)
    titles = titles_with_offers("chaos", TITLES)
    browsers = registered_browsers("chaos", customers_needed)
    offers = {(o.title_id, o.kind): o.pk for o in Offer.objects.all()}
    plan = [
        (b, offers[(t.pk, random.choice(["buy", "rent"]))]) for b in range(customers_needed) for t in titles
    ]
    random.shuffle(plan)
    plan = plan[:ORDERS]

    # The stack.
    redis = EmbeddedRedis(port=int(env["BINDERY_REDIS_PORT"]), data_dir=var / "redis")
    redis.start()
    web_port = int(env["WEB_PORT"])
    # As `make demo` runs them: the ExpressPlay queue on a thread pool (the one killed), the default queue.
    worker = Part("worker", commands.expressplay_worker(loglevel="WARNING"), var / "worker.log")
    default_worker = Part(
        "default worker", commands.default_worker(loglevel="WARNING"), var / "default-worker.log"
    )
    beat = Part(
        "beat", commands.beat(schedule=str(var / "beat-schedule"), loglevel="WARNING"), var / "beat.log"
    )
    web = Part("web", commands.web(bind=f"127.0.0.1:{web_port}", loglevel="warning"), var / "web.log")
    parts = [web, worker, default_worker, beat]
    try:
        for part in parts:
            part.start()
        wait_for_web(web_port)
        FaultSettings.objects.update_or_create(pk=1, defaults=FAULTS)

        # Checkouts, paced over DURATION by CLIENTS concurrent customers.
        answers: Counter[str] = Counter()
        placed: list[str] = []
        slow: list[float] = []
        started = time.monotonic()
        lock = threading.Lock()

        def place(index: int) -> None:
            browser, offer_id = plan[index]
            delay = started + index * DURATION / len(plan) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            begun = time.monotonic()
            outcome, number = checkout(web_port, browsers[browser], offer_id)
            with lock:
                slow.append(time.monotonic() - begun)
                answers["order placed" if number else outcome] += 1
                if number:
                    placed.append(number)

        stop_chaos = threading.Event()
        events = Counter()
        last_fault = [time.time()]

        def chaos() -> None:
            kill_every = DURATION / (KILLS + 1)
            redis_at = [DURATION * (n + 1) / (REDIS_RESTARTS + 1) for n in range(REDIS_RESTARTS)]
            next_kill = kill_every
            while not stop_chaos.is_set():
                now = time.monotonic() - started
                if redis_at and now >= redis_at[0]:
                    redis_at.pop(0)
                    redis.stop()  # SIGTERM: Redis writes its append-only file and exits
                    events["Redis stopped"] += 1
                    log("Redis stopped")
                    time.sleep(5)
                    redis.process = None
                    redis.start()
                    last_fault[0] = time.time()
                    log("Redis started again")
                elif events["worker killed"] < KILLS and now >= next_kill:
                    worker.signal(signal.SIGKILL)
                    events["worker killed"] += 1
                    last_fault[0] = time.time()
                    time.sleep(random.uniform(0.5, 2))
                    worker.start()
                    next_kill += kill_every
                for part in parts:  # what died on its own (beat losing Redis, say) is started again
                    if not part.alive() and not stop_chaos.is_set():
                        log(f"{part.name} exited with code {part.process.returncode}; starting it again")
                        events[f"{part.name} restarted"] += 1
                        part.start()
                time.sleep(0.2)

        chaos_thread = threading.Thread(target=chaos, daemon=True)
        chaos_thread.start()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(place, range(len(plan))))
        while events["worker killed"] < KILLS and chaos_thread.is_alive():
            time.sleep(0.5)  # the run promised its kills
        stop_chaos.set()
        chaos_thread.join()
        FaultSettings.objects.filter(pk=1).update(
            **{
                name: 0
                for name in (
                    "latency_ms",
                    "jitter_ms",
                    "server_error",
                    "error_code",
                    "hang",
                    "drop",
                    "no_record",
                )
            }
        )
        last_fault[0] = max(last_fault[0], time.time())
        log(
            f"checkouts done ({answers['order placed']} placed); faults off; waiting for every order to settle"
        )
        for part in parts:
            if not part.alive():
                part.start()
        recovery_deadline = time.monotonic() + RECOVERY
        pending = Entitlement.objects.filter(state=EntitlementState.PENDING)
        while pending.exists() and time.monotonic() < recovery_deadline:
            time.sleep(1)
        settled_at = max(
            (e.updated_at for e in Entitlement.objects.exclude(state=EntitlementState.PENDING)), default=None
        )
    finally:
        stop_chaos.set()
        for part in parts:
            part.stop()
        redis.stop()

    # What became of each order.
    orders = Order.objects.filter(number__in=placed).select_related("entitlement")
    states = Counter(order.entitlement.state for order in orders)
    failed = [o.entitlement for o in orders if o.entitlement.state == EntitlementState.FAILED]
    with_code = [e for e in failed if e.error_code is not None]
    with_words = [e for e in failed if e.error_code is not None or e.error_detail]
    lost = (len(placed) - orders.count()) + sum(1 for o in orders if o.entitlement_id is None)
    stuck = states[EntitlementState.PENDING]
    ids = [o.entitlement_id for o in orders]
    attempts = TokenRequest.objects.filter(entitlement_id__in=ids)
    per_entitlement = Counter(attempts.values_list("entitlement_id", flat=True))
    outcomes = Counter(attempts.values_list("outcome", flat=True))
    kids = list(MediaAsset.objects.filter(slug__startswith="chaos-").values_list("kid", flat=True))
    made = IssuedToken.objects.filter(kid__in=kids).count()
    may_exist = (
        outcomes[TokenRequestOutcome.ISSUED]
        + outcomes[TokenRequestOutcome.LOST]
        + outcomes[TokenRequestOutcome.SENT]
    )
    codes = Counter(e.error_code for e in with_code)
    recovery = max(0.0, settled_at.timestamp() - last_fault[0]) if settled_at else 0.0

    print()
    print(
        f"Bindery chaos run: {len(plan)} checkouts over {DURATION:.0f} s, "
        f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[1]}, gunicorn + ExpressPlay worker "
        f"({settings.CELERY_EXPRESSPLAY_CONCURRENCY} threads) + default worker + beat + Redis"
    )
    print(
        f"  faults: worker SIGKILLed {events['worker killed']} times, Redis stopped and started "
        f"{events['Redis stopped']} times, ~20 % of ExpressPlay calls faulted"
    )
    for name, count in sorted(events.items()):
        if name.endswith("restarted"):
            print(f"          {name} by the run after dying on its own: {count}")
    print(f"  checkout answers:       {dict(answers)}")
    print(f"  checkout time:          median {statistics.median(slow):.2f} s, max {max(slow):.2f} s")
    print(f"  orders placed:          {len(placed)}")
    print(f"  ready:                  {states[EntitlementState.READY]}")
    print(
        f"  failed with a reason:   {len(with_words)}  (with an ExpressPlay code: {len(with_code)} {dict(codes)})"
    )
    print(f"  failed without reason:  {len(failed) - len(with_words)}")
    print(f"  stuck (pending):        {stuck}")
    print(f"  lost:                   {lost}")
    print(
        f"  token requests:         {sum(per_entitlement.values())} for {len(per_entitlement)} entitlements "
        f"(mean {statistics.mean(per_entitlement.values()) if per_entitlement else 0:.2f}, "
        f"max {max(per_entitlement.values(), default=0)}); outcomes {dict(outcomes)}"
    )
    print(
        f"  tokens the sandbox made: {made}; on record as issued or answer lost: {may_exist} "
        f"({'every one on record' if made <= may_exist else 'SOME NOT ON RECORD'})"
    )
    print(f"  last fault -> last order settled: {recovery:.1f} s")
    print(f"  logs: {var}")
    return 1 if lost or stuck else 0


if __name__ == "__main__":
    sys.exit(main())
