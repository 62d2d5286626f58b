"""Secrets never reach a worker's or beat's log: real `celery` processes, started as README's "Deploying" starts
them, against an ExpressPlay that fails in the ways that make libraries log whole URLs and echoed requests."""

import os
import re
import secrets
import socketserver
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from bindery.celery import app as celery_app
from bindery.processes import stop
from binding import services
from binding.models import Entitlement, EntitlementKind, EntitlementState, MediaAsset
from tests.toolkit.processes import database_url, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

BASE_DIR = Path(settings.BASE_DIR)
# README's command is `celery`: the script installed next to this Python.
CELERY = str(Path(sys.executable).with_name("celery"))
DEVICE = "c3" * 16
# Python's email parser stops at a line that is no header: urllib3 warns "Failed to parse headers (url=…)".
GARBAGE_HEADERS = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nthis line is no header\r\nX-A: b\r\n\r\n"
)


class BadDayExpressPlay(socketserver.ThreadingTCPServer):
    """An ExpressPlay having a bad day: records behind headers that do not parse; token requests whose
    connection closes unanswered, then HTTP 500, then a 400 refusal page that echoes the form it was sent."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Answer)
        self.token_calls = 0
        self.record_calls = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/sandbox"


class _Answer(socketserver.BaseRequestHandler):
    def handle(self):
        head, body = self._read()
        if not head:
            return
        target = head.split(b" ")[1].decode()
        path, query = urlsplit(target).path, parse_qs(urlsplit(target).query)
        if path.endswith("/cmiapi/getrecord/"):
            self.server.record_calls += 1
            cookie = query.get("cookie", [""])[0]
            record = f'[{{"event_id": 1, "cookie": "{cookie}", "device_id": "{DEVICE}", "result": 0}}]'
            self.request.sendall(GARBAGE_HEADERS + record.encode())
            return
        self.server.token_calls += 1
        if self.server.token_calls == 1:
            return  # closed unanswered
        status = b"500 Internal Server Error" if self.server.token_calls == 2 else b"400 Bad Request"
        # An ExpressPlay refusal (its code in the page, so not an outage) that echoes the form it was sent.
        page = b"<html><body><h1>Error -2030</h1><p>You sent: " + body + b"</p></body></html>"
        self.request.sendall(
            b"HTTP/1.1 " + status + b"\r\nContent-Type: text/html\r\nConnection: close\r\n"
            + f"Content-Length: {len(page)}\r\n\r\n".encode() + page
        )  # fmt: skip  # the HTTP answer in wire order

    def _read(self) -> tuple[bytes, bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.request.recv(65536)
            if not chunk:
                return b"", b""
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        while length and len(body) < int(length.group(1)):
            body += self.request.recv(65536)
        return head, body


@pytest.fixture
def expressplay():
    server = BadDayExpressPlay()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def authenticator():
    return f"900042,{secrets.token_hex(16)}"


@pytest.fixture
def queue(settings):
    name = f"logs-{uuid.uuid4().hex[:8]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = name
    settings.CELERY_EXPRESSPLAY_QUEUE = name
    yield name
    celery_app.conf.task_default_queue = previous


@pytest.fixture
def start(redis_url, tmp_path):
    """Start a `celery -A bindery …` process with its stdout and stderr in one file; return (process, path)."""
    started = []

    def start_process(*argv: str, **env: str) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"process-{len(started)}.log"
        environment = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": database_url(), **env}
        with log.open("wb") as out:
            process = subprocess.Popen(
                [CELERY, "-A", "bindery", *argv],
                cwd=BASE_DIR, env=environment, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip  # the command, then how it runs
        started.append(process)
        return process, log

    yield start_process
    stop(*started, grace=20)


@pytest.fixture
def purchase(queue):
    """A pending purchase of an asset with a content key of its own, bound to DEVICE's registration."""
    user = get_user_model().objects.create_user("olga", password="x")
    cookie = services.registration_create(user=user, user_agent="Chrome/156 (X11; Linux x86_64)")
    services.device_bind(cookie=cookie, device_id=DEVICE)
    cookie.refresh_from_db()
    asset = MediaAsset.objects.create(
        slug="secret-film", kid=uuid.uuid4().hex, key=uuid.uuid4().hex, manifest="f/manifest.mpd", duration=6
    )
    return user, asset, cookie


def test_a_worker_facing_expressplay_errors_logs_no_authenticator_and_no_content_key(
    start, expressplay, authenticator, queue, purchase
):
    user, asset, cookie = purchase
    worker, log = start(
        *["worker", "-Q", queue, "--pool", "threads", "--concurrency", "2"],
        *["--without-gossip", "--without-mingle"],
        EXPRESSPLAY_ENV="sandbox",
        EXPRESSPLAY_SANDBOX_URL=expressplay.url,
        EXPRESSPLAY_CUSTOMER_AUTHENTICATOR=authenticator,
        EXPRESSPLAY_TIMEOUT="5",
        CELERY_TASK_DEFAULT_QUEUE=queue,
        CELERY_EXPRESSPLAY_QUEUE=queue,
        LOG_LEVEL="INFO",
    )
    entitlement = services.entitlement_create(user=user, asset=asset, kind=EntitlementKind.BUY, cookie=cookie)

    def failed():
        return Entitlement.objects.filter(pk=entitlement.pk, state=EntitlementState.FAILED).first()

    wait_for(failed, 90, "the purchase fails on ExpressPlay's 400")
    stop(worker)
    output = log.read_text(errors="replace")

    customer_id, secret_part = authenticator.split(",")
    for secret in (
        authenticator,
        secret_part,
        f"{customer_id}%2C{secret_part}",
        asset.key,
        asset.key.upper(),
    ):
        assert secret not in output, [line for line in output.splitlines() if secret in line]
    # The failures were logged, with their URLs (and tracebacks) and the echoed form, redacted...
    assert expressplay.token_calls == 3 and expressplay.record_calls >= 3
    assert "Failed to parse headers (url=http://127.0.0.1:" in output
    assert "/cmiapi/getrecord/?customerAuthenticator=***&errorFormat=json" in output
    assert "Traceback (most recent call last)" in output
    assert "contentKey=***" in output and f"kid={asset.kid}" in output
    # ... in LOGGING's format, with Bindery's INFO lines as LOG_LEVEL says (Celery's own default is WARNING).
    assert re.search(rf"WARNING binding\.services\.issuing: Entitlement {entitlement.pk} failed", output)
    assert "INFO binding.expressplay.client: ExpressPlay GET /sandbox/cmiapi/getrecord/ -> HTTP 200" in output


def test_beat_logs_through_the_same_configuration_as_the_web(start, tmp_path, queue):
    beat, log = start(
        *["beat", "--loglevel", "INFO", "--schedule", str(tmp_path / "beat-schedule")],
        BINDING_SWEEP_INTERVAL="0.5",
        CELERY_TASK_DEFAULT_QUEUE=queue,
        LOG_LEVEL="INFO",
    )
    wait_for(lambda: "Sending due task" in log.read_text(errors="replace"), 60, "beat sends the sweep")
    stop(beat)
    lines = [line for line in log.read_text(errors="replace").splitlines() if "Sending due task" in line]
    # LOGGING's formatter ("<time> LEVEL logger: message"), not Celery's ("[<time>: LEVEL/MainProcess] …").
    assert lines and all(
        re.match(r"\S+ \S+ INFO celery\.beat: Scheduler: Sending due task", ln) for ln in lines
    )
