"""Run the whole demo in the foreground: embedded Redis (if needed), three Celery workers (the ExpressPlay
queue and the webhooks queue, each on a thread pool, and the default queue), Celery beat (the sweep that finds stranded work again) and the
web server.

A part that dies is started again, with a line in the log saying so; one that keeps dying (5 times in a
minute) stops the demo. Ctrl-C (or SIGTERM) stops every process this command started, so a second
`make demo` starts cleanly.
"""

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bindery.processes import commands, stop
from bindery.processes.redis_server import EmbeddedRedisError, embedded_redis_from_settings, url_redacted


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) == 0


RESTART_LIMIT = 5  # deaths of one part within RESTART_WINDOW seconds before the demo gives up
RESTART_WINDOW = 60.0


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    deaths: list[float] = field(default_factory=list)


class Command(BaseCommand):
    help = "Start Redis (embedded when REDIS_URL is unset), three Celery workers, Celery beat and the web server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument(
            "--worker-concurrency", type=int, default=None, help="threads of the ExpressPlay worker"
        )

    def handle(self, *args, host, port, web_workers, worker_concurrency, **options):
        if _port_in_use(host, port):
            raise CommandError(
                f"Port {port} on {host} is already taken (another `make demo`?). Stop that process first."
            )
        self.children: list[Child] = []
        self.stopping = False
        self.env = dict(os.environ)
        if "EXPRESSPLAY_SANDBOX_URL" not in os.environ:
            # The worker and the web server reach the sandbox where this very server listens.
            self.env["EXPRESSPLAY_SANDBOX_URL"] = f"http://{host}:{port}/sandbox"
        if "BINDERY_PUBLIC_URL" not in os.environ:
            # Links in mails and webhooks lead to this very server (`make demo PORT=8100` included).
            self.env["BINDERY_PUBLIC_URL"] = f"http://{host}:{port}"
        redis = self.redis = embedded_redis_from_settings()
        try:
            if redis is not None:
                redis.start()
                where = "started" if redis.process else "already running"
                self.stdout.write(
                    f"Redis: embedded Valkey {where} on {url_redacted(redis.url)} "
                    f"(password in {settings.VAR_DIR / 'redis' / 'password'})"
                )
            self._spawn("worker", commands.expressplay_worker(threads=worker_concurrency))
            self._spawn("webhooks worker", commands.webhooks_worker())
            self._spawn("default worker", commands.default_worker())
            self._spawn("beat", commands.beat())
            self._spawn("web", commands.web(bind=f"{host}:{port}", workers=web_workers))
            self._wait_for_web(host, port)
            self._banner(host, port)
            self._supervise()
        except EmbeddedRedisError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            self._stop_children()
            if redis is not None:
                redis.stop()
            self.stdout.write("Bindery demo stopped.")

    def _spawn(self, name: str, argv: list[str]) -> None:
        child = Child(name, argv)
        self._start(child)
        self.children.append(child)

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(child.argv, stdin=subprocess.DEVNULL, env=self.env)  # noqa: S603

    def _wait_for_web(self, host: str, port: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not _port_in_use(host, port):
            if time.monotonic() > deadline:
                raise CommandError(f"The web server did not start on {host}:{port} within {timeout:.0f} s.")
            self._check_children()
            time.sleep(0.2)

    def _banner(self, host: str, port: int) -> None:
        from storefront.demo_data import DEMO_PASSWORD, DEMO_USERS, demo_api_key_file

        key_file = demo_api_key_file()
        api_key = key_file.read_text().strip() if key_file.exists() else "(run load_demo to make one)"

        url = f"http://{host}:{port}/"
        lines = [
            "",
            "=" * 72,
            f"  Bindery demo is running:   {url}",
            f"  Admin:                     {url}admin/",
            *(
                [f"  ExpressPlay sandbox:       {url}sandbox/   (faults, for staff: {url}sandbox/faults/)"]
                if settings.EXPRESSPLAY_ENV == "sandbox"
                else []
            ),
            f"  Health:                    {url}health/",
            f"  ExpressPlay environment:   {settings.EXPRESSPLAY_ENV}",
            "",
            "  Demo logins (password for all: " + DEMO_PASSWORD + "):",
            *(f"    {u.username:<10} {u.description}" for u in DEMO_USERS),
            "",
            f"  Entitlement API:           {url}api/v1/docs/   (README: Using Bindery from your own storefront)",
            f"  Demo API key:              {api_key}",
            "",
            "  Press Ctrl-C to stop every process.",
            "=" * 72,
            "",
        ]
        self.stdout.write("\n".join(lines))

    def _check_children(self) -> None:
        """Start again every part that died; give up on one that keeps dying."""
        for child in self.children:
            code = child.process.poll()
            if code is None:
                continue
            time.sleep(0.3)  # a Ctrl-C reaches the children too: let our own handler see it first
            if self.stopping:
                return
            now = time.monotonic()
            child.deaths = [t for t in child.deaths if now - t < RESTART_WINDOW] + [now]
            if len(child.deaths) > RESTART_LIMIT:
                raise CommandError(
                    f"The {child.name} process keeps exiting (code {code}, {len(child.deaths)} times within "
                    f"{RESTART_WINDOW:.0f} s); stopping the demo."
                )
            self.stdout.write(
                f"rundemo: the {child.name} process exited with code {code}; starting it again."
            )
            self._start(child)
        redis = self.redis
        if (
            redis is not None
            and redis.process is not None
            and redis.process.poll() is not None
            and not self.stopping
        ):
            self.stdout.write(
                f"rundemo: the embedded Redis exited with code {redis.process.returncode}; starting it again."
            )
            redis.process = None
            redis.start()

    def _supervise(self) -> None:
        stop = False

        def request_stop(signum, frame):
            nonlocal stop
            stop = self.stopping = True

        # Installed explicitly: a shell that starts us in the background leaves SIGINT ignored.
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        while not stop:
            self._check_children()
            time.sleep(0.2)

    def _stop_children(self) -> None:
        self.stopping = True
        stop(*(child.process for child in self.children), grace=10)
