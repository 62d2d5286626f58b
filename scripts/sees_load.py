"""SEES under load: 50 concurrent SEES requests that each wait for the worker, and /health/live/ beside them.

SEES answers synchronously: a device-bound request (requestType 3) waits up to SEES_WAIT seconds for the
worker's token. Here no worker runs, so every request waits its whole SEES_WAIT: the worst case for the web
server's threads. Each leg starts the shop's web server (gunicorn, 2 processes, 8 threads each, as `make demo`)
on a throw-away SQLite database and an embedded Redis, and measures /health/live/ unloaded (p50/p95 of 100
calls), then while 50 SEES calls run at once (a probe every 50 ms, open loop), and prints the ratio. The legs differ in SEES_MAX_CONCURRENT,
the threads per process that may serve SEES: the default, and "unbounded" (every request served, as before).
Prints figures; asserts nothing.

    .venv/bin/python scripts/sees_load.py                 # both legs
    SEES_LOAD_CALLS=100 .venv/bin/python scripts/sees_load.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import percentile, throwaway_stack, wait_for_web

CALLS = int(os.environ.get("SEES_LOAD_CALLS", 50))
LEGS = [("bounded (default SEES_MAX_CONCURRENT=3)", "3"), ("unbounded (every request served)", "1000")]


def leg(max_waiting: str) -> dict:
    env = throwaway_stack("sees", SEES_MAX_CONCURRENT=max_waiting, SEES_WAIT="5")
    import django

    django.setup()
    import requests
    from django.core.management import call_command

    from api.models import Client, ClientAPIKey
    from api.services import customer_for, title_register
    from bindery.processes import commands, stop
    from bindery.processes.redis_server import EmbeddedRedis
    from binding import services as binding_services

    call_command("migrate", verbosity=0)
    redis = EmbeddedRedis(
        port=int(env["BINDERY_REDIS_PORT"]), data_dir=Path(env["BINDERY_VAR_DIR"]) / "redis"
    )
    redis.start()
    client = Client.objects.create(name="SEES load")
    title_register(
        client=client, content_id="t1", name="T", kid="ab" * 16, key="cd" * 16, manifest="https://x/m.mpd"
    )
    for number in range(CALLS):  # each caller's device registered already: its request goes to the worker
        customer = customer_for(client, f"sees.load-{number}")
        cookie = binding_services.registration_create(user=customer.user, user_agent="Safari")
        binding_services.device_bind(cookie=cookie, device_id=f"{number:032x}")
    _key, secret = ClientAPIKey.objects.create_key(name="load", client=client)
    port = int(env["WEB_PORT"])
    base = f"http://127.0.0.1:{port}"
    with (Path(env["BINDERY_VAR_DIR"]) / "web.log").open("w") as log:
        web = subprocess.Popen(  # noqa: S603 - fixed argv
            commands.web(bind=f"127.0.0.1:{port}", loglevel="warning"),
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_web(port)
        health = requests.Session()

        def health_once() -> float:
            started = time.perf_counter()
            health.get(f"{base}/health/live/", timeout=60).raise_for_status()
            return time.perf_counter() - started

        for _ in range(20):
            health_once()  # warm both processes
        before = [health_once() for _ in range(100)]

        def sees_call(number: int) -> tuple[float, int]:
            started = time.perf_counter()
            answer = requests.post(
                f"{base}/api/sees/entitlement",
                json={
                    "messageID": f"m-{number}",
                    "version": 1,
                    "contentID": "t1",
                    "requestType": 3,
                    "customerCookie": f"load-{number}",
                },
                headers={"Authorization": f"Api-Key {secret}"},
                timeout=120,
            )
            return time.perf_counter() - started, answer.json()["error"]

        # Open loop, as a load balancer's probe: one health call every 50 ms whatever the last one is doing,
        # so that a stall counts once for every call it holds up.
        during: list[float] = []
        done = threading.Event()

        def probe() -> None:
            started = time.perf_counter()
            requests.get(f"{base}/health/live/", timeout=60).raise_for_status()
            during.append(time.perf_counter() - started)

        def sample(probes: ThreadPoolExecutor) -> None:
            while not done.is_set():
                probes.submit(probe)
                time.sleep(0.05)

        with ThreadPoolExecutor(CALLS) as pool, ThreadPoolExecutor(200) as probes:
            sampler = threading.Thread(target=sample, args=(probes,))
            futures = [pool.submit(sees_call, n) for n in range(CALLS)]
            sampler.start()
            answers = [future.result() for future in futures]
            done.set()
            sampler.join()
    finally:
        stop(web, grace=15)
        redis.stop()
    seconds = [s for s, _error in answers]
    return {
        "before_p50": percentile(before, 0.5),
        "before_p95": percentile(before, 0.95),
        "during_p50": percentile(during, 0.5),
        "during_p95": percentile(during, 0.95),
        "during_max": max(during),
        "during_n": len(during),
        "sees_waited": sum(1 for s in seconds if s >= 4),
        "sees_answered_at_once": sum(1 for s in seconds if s < 1),
        "sees_max": max(seconds),
        "errors": sorted({error for _s, error in answers}),
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--leg":
        print(json.dumps(leg(sys.argv[2])))
        return
    print(f"{CALLS} concurrent SEES requestType 3 calls, no worker (each may wait SEES_WAIT = 5 s)")
    print(f"{'leg':40} {'health p95 before':>18} {'p95 during':>11} {'ratio':>6} {'max':>7}  SEES calls")
    for label, max_waiting in LEGS:
        out = subprocess.run(  # noqa: S603 - this script, a fresh Django per leg
            [sys.executable, __file__, "--leg", max_waiting], capture_output=True, text=True, check=True
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        ratio = r["during_p95"] / r["before_p95"]
        print(
            f"{label:40} {r['before_p95'] * 1000:>15.1f} ms {r['during_p95'] * 1000:>8.1f} ms {ratio:>5.1f}x "
            f"{r['during_max'] * 1000:>5.0f} ms  {r['sees_waited']} waited 5 s, {r['sees_answered_at_once']} "
            f"answered 'send again' at once (slowest {r['sees_max']:.1f} s; {r['during_n']} health calls)"
        )


if __name__ == "__main__":
    main()
