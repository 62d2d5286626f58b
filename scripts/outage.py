"""Reliability run: ExpressPlay down for OUTAGE_MINUTES while paid rentals keep coming; prints what became of
each order once it is back, and how hard the backlog hit ExpressPlay on its return.

Starts its own stack as `make demo` runs it, with its production settings (EXPRESSPLAY_TIMEOUT, the sweep,
BINDING_RETRY_CAP and BINDING_OUTAGE_PATIENCE as they are): gunicorn serving the shop, the ExpressPlay
worker on its thread pool, the default worker, beat, Redis, on a throw-away SQLite database (or
OUTAGE_DATABASE_URL), with the sandbox on a gunicorn of its own (ExpressPlay is another service) whose access
log counts every ExpressPlay call the worker makes. Then:

  - ExpressPlay goes down: the sandbox answers every token and record call with HTTP 503 (OUTAGE_MODE=503),
    or its server is stopped so that every call meets a refused connection (OUTAGE_MODE=refused);
  - OUTAGE_ORDERS customers rent a title through the real web checkout (session, form, CSRF) at once;
  - halfway through, one customer's order status is fetched through the web with that customer's session
    (what the order page says), and the admin's outage banner as an operator;
  - after OUTAGE_MINUTES ExpressPlay comes back, and the run waits up to OUTAGE_RECOVERY seconds for every
    order to settle.

Prints orders placed, ready, failed (with reasons), stuck (still pending), lost (an order placed with no
order or entitlement on record); for the ready ones the seconds from ExpressPlay's return to ready (median,
p95, max) and how many were ready within 60 s of it; ExpressPlay calls per second during the outage and the
peak per second in the first minute after its return; the order page's words during the outage and after.
Asserts nothing; exits 1 when a checkout was refused or an order is lost, failed or stuck.

    make outage                                        # 200 rentals, ExpressPlay down for 15 minutes
    OUTAGE_MINUTES=3 OUTAGE_ORDERS=50 make outage      # a shorter run
    OUTAGE_MODE=refused make outage                    # connections refused instead of HTTP 503
"""

from __future__ import annotations

import html
import os
import re
import socket
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from harness import (
    Part,
    checkout,
    free_port,
    percentile,
    registered_browsers,
    throwaway_stack,
    titles_with_offers,
    wait_for_web,
)

MINUTES = float(os.environ.get("OUTAGE_MINUTES", "15"))
ORDERS = int(os.environ.get("OUTAGE_ORDERS", "200"))
MODE = os.environ.get("OUTAGE_MODE", "503")
RECOVERY = float(os.environ.get("OUTAGE_RECOVERY", "300"))
CLIENTS = 8
TITLES = 25
READY_GOAL = 60  # seconds from ExpressPlay's return
# The sandbox's access log: one line per request, "[time] METHOD /path status".
ACCESS_FORMAT = "%(t)s %(m)s %(U)s %(s)s"
ACCESS_LINE = re.compile(r"^\[(?P<when>[^\]]+)\] (?P<method>\S+) (?P<path>\S+) (?P<status>\d+)")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def expressplay_calls(access_log: Path) -> list[tuple[int, int]]:
    """Return (second, HTTP status) of every ExpressPlay API call in the sandbox's access log: token requests
    and record retrieval, the calls the worker makes (not licence redemptions or pages)."""
    calls = []
    if not access_log.exists():
        return calls
    for line in access_log.read_text().splitlines():
        match = ACCESS_LINE.match(line)
        if not match:
            continue
        path = match["path"]
        if path.startswith("/sandbox/cmiapi/getrecord") or (
            path.startswith("/sandbox/hms/") and path.rstrip("/").endswith("/token")
        ):
            when = datetime.strptime(match["when"], "%d/%b/%Y:%H:%M:%S %z").timestamp()
            calls.append((int(when), int(match["status"])))
    return calls


def per_second(calls: list[tuple[int, int]], start: float, end: float) -> Counter[int]:
    """Calls in each whole second from `start` to `end` (wall clock, the access log's resolution)."""
    first, last = int(start), int(end)
    return Counter(second for second, _status in calls if first <= second < last)


def accepting(port: int, *, timeout: float = 60.0) -> float:
    """Return the time at which `port` first accepts a connection."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return time.time()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def order_status(web_port: int, browser: dict, entitlement_id: int) -> dict:
    """The order page's status, as the page itself polls it: JSON, with the customer's session."""
    import requests

    response = requests.get(
        f"http://127.0.0.1:{web_port}/library/{entitlement_id}/status/",
        cookies=browser["cookies"],
        timeout=30,
    )
    if response.status_code != 200:
        return {"message": f"HTTP {response.status_code}", "next": ""}
    return response.json()


def outage_banner(web_port: int, cookies: dict) -> str:
    """The outage banner on admin's Entitlements list, as an operator reads it ("" when there is none)."""
    import requests

    response = requests.get(
        f"http://127.0.0.1:{web_port}/admin/binding/entitlement/", cookies=cookies, timeout=30
    )
    match = re.search(r'<p[^>]*data-testid="outage"[^>]*>(.*?)</p>', response.text, re.S)
    if not match:
        return f"(none; HTTP {response.status_code})"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match[1])).split())


def main() -> int:
    if MODE not in ("503", "refused"):
        print(f"OUTAGE_MODE is 503 or refused, not {MODE!r}")
        return 2
    env = throwaway_stack("outage")
    sandbox_port = free_port()
    env["EXPRESSPLAY_SANDBOX_URL"] = os.environ["EXPRESSPLAY_SANDBOX_URL"] = (
        f"http://127.0.0.1:{sandbox_port}/sandbox"
    )
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from bindery.processes import commands
    from bindery.processes.redis_server import EmbeddedRedis
    from binding.models import Entitlement, EntitlementState, MediaAsset
    from sandbox.models import FaultSettings, IssuedToken
    from storefront.models import Offer, Order

    var = Path(env["BINDERY_VAR_DIR"])
    outage_seconds = MINUTES * 60
    down = "every call answered HTTP 503" if MODE == "503" else "every connection refused"
    log(f"outage run in {var}: {ORDERS} rentals, ExpressPlay down for {MINUTES:g} min ({down})")
    call_command("migrate", verbosity=0)
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":  # a reused server database
        call_command("flush", "--no-input", verbosity=0)

    # Customers whose browsers registered, and titles to rent; every (customer, title) pair is one checkout.
    titles = titles_with_offers("outage", TITLES, kinds=("rent",))
    browsers = registered_browsers("renter", -(-ORDERS // TITLES))
    offers = list(Offer.objects.filter(title__in=titles).values_list("pk", flat=True))
    plan = [(b, o) for b in range(len(browsers)) for o in offers][:ORDERS]
    operator = get_user_model().objects.create_superuser("outage-operator", email="operator@example.com")
    admin_login = Client()
    admin_login.force_login(operator)
    admin_cookies = {settings.SESSION_COOKIE_NAME: admin_login.cookies[settings.SESSION_COOKIE_NAME].value}

    redis = EmbeddedRedis(port=int(env["BINDERY_REDIS_PORT"]), data_dir=var / "redis")
    redis.start()
    web_port = int(env["WEB_PORT"])
    access_log = var / "sandbox-access.log"
    sandbox_argv = commands.web(bind=f"127.0.0.1:{sandbox_port}", threads=32, loglevel="warning")
    sandbox_argv += ["--access-logfile", str(access_log), "--access-logformat", ACCESS_FORMAT]
    web = Part("web", commands.web(bind=f"127.0.0.1:{web_port}", loglevel="warning"), var / "web.log")
    sandbox = Part("sandbox", sandbox_argv, var / "sandbox.log")
    worker = Part("worker", commands.expressplay_worker(loglevel="WARNING"), var / "worker.log")
    default_worker = Part(
        "default worker", commands.default_worker(loglevel="WARNING"), var / "default-worker.log"
    )
    beat = Part(
        "beat", commands.beat(schedule=str(var / "beat-schedule"), loglevel="WARNING"), var / "beat.log"
    )
    parts = [web, sandbox, worker, default_worker, beat]
    answers: Counter[str] = Counter()
    placed: list[tuple[str, int]] = []  # (order number, browser)
    during: dict = {}
    try:
        for part in parts:
            part.start()
        wait_for_web(web_port)
        wait_for_web(sandbox_port)
        time.sleep(3)  # the workers connect to the broker

        # ExpressPlay goes down.
        if MODE == "503":
            FaultSettings.objects.update_or_create(pk=1, defaults={"server_error": 1.0})
            time.sleep(1.5)  # each sandbox process reads the faults at most a second old
        else:
            sandbox.stop()
        outage_started = time.time()
        log(f"ExpressPlay down ({down}); {ORDERS} rentals through the web checkout")

        lock = threading.Lock()

        def place(index: int) -> None:
            browser, offer_id = plan[index]
            outcome, number = checkout(web_port, browsers[browser], offer_id)
            with lock:
                answers["order placed" if number else outcome] += 1
                if number:
                    placed.append((number, browser))

        checkouts_started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(place, range(len(plan))))
        checkouts_took = time.monotonic() - checkouts_started
        log(f"checkouts done in {checkouts_took:.1f} s ({answers['order placed']} placed)")

        # Halfway: what the customer's order page and the operator's admin say.
        time.sleep(max(0.0, outage_started + outage_seconds / 2 - time.time()))
        if placed:
            number, browser = placed[0]
            sample = Order.objects.get(number=number)
            during["status"] = order_status(web_port, browsers[browser], sample.entitlement_id)
        during["banner"] = outage_banner(web_port, admin_cookies)
        pending = Entitlement.objects.filter(state=EntitlementState.PENDING)
        during["pending"] = pending.count()
        during["delayed"] = pending.filter(delayed_since__isnull=False).count()
        log(f"halfway: {during['pending']} pending, {during['delayed']} of them delayed")

        # ExpressPlay comes back.
        time.sleep(max(0.0, outage_started + outage_seconds - time.time()))
        states_at_return = Counter(Entitlement.objects.values_list("state", flat=True))
        if MODE == "503":
            FaultSettings.objects.filter(pk=1).update(server_error=0)
            returned_at = time.time()
        else:
            sandbox.start()
            returned_at = accepting(sandbox_port)  # back when it takes connections (its app may still load)
            wait_for_web(sandbox_port)
        log(f"ExpressPlay back; waiting up to {RECOVERY:.0f} s for every order to settle")
        deadline = time.monotonic() + RECOVERY
        while pending.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        settled_in = time.time() - returned_at
        time.sleep(2)  # the access log's last lines
        after = {}
        if placed:
            after = order_status(web_port, browsers[browser], sample.entitlement_id)
        banner_after = outage_banner(web_port, admin_cookies)
        exits = {part.name: part.process.returncode for part in parts if not part.alive()}
    finally:
        for part in parts:
            part.stop()
        redis.stop()

    # What became of each order.
    numbers = [number for number, _browser in placed]
    orders = list(Order.objects.filter(number__in=numbers).select_related("entitlement"))
    lost = (len(numbers) - len(orders)) + sum(1 for o in orders if o.entitlement_id is None)
    entitlements = [o.entitlement for o in orders if o.entitlement_id is not None]
    states = Counter(e.state for e in entitlements)
    failed = [e for e in entitlements if e.state == EntitlementState.FAILED]
    reasons = Counter(
        f"code {e.error_code}: {e.error_detail}"
        if e.error_code is not None
        else e.error_detail or "no reason"
        for e in failed
    )
    stuck = [e for e in entitlements if e.state == EntitlementState.PENDING]
    ready = [e for e in entitlements if e.state == EntitlementState.READY]
    to_ready = sorted(e.updated_at.timestamp() - returned_at for e in ready)
    within = sum(1 for seconds in to_ready if seconds <= READY_GOAL)
    before_return = sum(1 for seconds in to_ready if seconds < 0)
    windows = [(e.rental_ends_at - e.updated_at).total_seconds() / 3600 for e in ready if e.rental_ends_at]
    kids = list(MediaAsset.objects.filter(slug__startswith="outage-").values_list("kid", flat=True))
    tokens_made = IssuedToken.objects.filter(kid__in=kids).count()

    # ExpressPlay's side, from its access log.
    calls = expressplay_calls(access_log)
    in_outage = per_second(calls, outage_started, returned_at)
    first_minute = per_second(calls, returned_at, returned_at + 60)
    outage_statuses = Counter(
        status for second, status in calls if int(outage_started) <= second < int(returned_at)
    )
    after_statuses = Counter(status for second, status in calls if second >= int(returned_at))

    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[1]
    print()
    print(
        f"Bindery outage run: ExpressPlay down {MINUTES:g} min ({down}), {len(plan)} rentals through the web "
        f"checkout at its start, {database}, ExpressPlay worker ({settings.CELERY_EXPRESSPLAY_CONCURRENCY} "
        f"threads) + default worker + beat + Redis; BINDING_RETRY_CAP {settings.BINDING_RETRY_CAP:g} s, "
        f"BINDING_OUTAGE_PATIENCE {settings.BINDING_OUTAGE_PATIENCE // 3600} h, "
        f"EXPRESSPLAY_TIMEOUT {settings.EXPRESSPLAY_TIMEOUT:g} s"
    )
    print(f"  checkout answers:        {dict(answers)} in {checkouts_took:.1f} s")
    print(f"  orders placed:           {len(numbers)}")
    print(f"  at ExpressPlay's return: {dict(states_at_return)}")
    print(f"  ready:                   {len(ready)}")
    print(f"  failed:                  {len(failed)} {dict(reasons) if reasons else ''}".rstrip())
    print(
        f"  stuck (pending):         {len(stuck)}"
        + (
            f" ({RECOVERY:.0f} s after the return)"
            if stuck
            else f" (all settled {settled_in:.0f} s after the return)"
        )
    )
    print(f"  lost:                    {lost}")
    other = {state: n for state, n in states.items() if state not in ("ready", "failed", "pending")}
    if other:
        print(f"  other states:            {other}")
    if to_ready:
        print(
            f"  return -> ready:         median {statistics.median(to_ready):.1f} s, "
            f"p95 {percentile(to_ready, 0.95):.1f} s, max {to_ready[-1]:.1f} s; "
            f"ready within {READY_GOAL} s: {within} of {len(numbers)}"
            + (f" ({before_return} ready before the return)" if before_return else "")
        )
        print(
            f"  rental window at ready:  {min(windows):.2f} to {max(windows):.2f} h left (the delay given back)"
        )
    print(f"  tokens ExpressPlay made: {tokens_made} for {len(ready)} ready")
    if MODE == "503":
        print(
            f"  ExpressPlay calls during the outage: {sum(in_outage.values())} in {returned_at - outage_started:.0f} s, "
            f"{sum(in_outage.values()) / (returned_at - outage_started):.2f}/s "
            f"(peak {max(in_outage.values(), default=0)}/s), "
            f"{sum(in_outage.values()) / max(1, len(numbers)):.1f} per order; answers {dict(outage_statuses)}"
        )
    else:
        print("  ExpressPlay calls during the outage: not counted (nothing listening to count them)")
    print(
        f"  ExpressPlay calls, first minute after its return: {sum(first_minute.values())}, "
        f"peak {max(first_minute.values(), default=0)}/s "
        f"(worker concurrency {settings.CELERY_EXPRESSPLAY_CONCURRENCY}); "
        f"busiest seconds {sorted(first_minute.values(), reverse=True)[:5]}; "
        f"answers after the return {dict(after_statuses)}"
    )
    print(
        f"  halfway through: {during.get('pending', 0)} pending, {during.get('delayed', 0)} of them delayed"
    )
    status = during.get("status", {})
    print(f"  order page during the outage: state {status.get('state')!r}, delayed {status.get('delayed')!r}")
    print(f"      message: {status.get('message', '')}")
    print(f"      next:    {status.get('next', '')}")
    print(
        f"  order page after:  state {after.get('state')!r}: {after.get('message', '')} {after.get('timing', '')}"
    )
    print(f"  admin banner during the outage: {during.get('banner', '')}")
    print(f"  admin banner after:             {banner_after}")
    if exits:
        print(f"  processes that exited on their own: {exits}")
    print(f"  logs: {var}")
    refused = len(plan) - len(numbers)
    return 1 if refused or lost or failed or stuck else 0


if __name__ == "__main__":
    sys.exit(main())
