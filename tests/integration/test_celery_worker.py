"""A real Celery worker process, a real Redis, and the sandbox over HTTP complete a task."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from bindery.processes import stop
from binding.tasks import expressplay_connection_check
from sandbox.models import Record

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

BASE_DIR = Path(settings.BASE_DIR)


@pytest.fixture
def worker(redis_url, live_server):
    """Start `celery -A bindery worker` on a queue of its own, pointed at live_server's sandbox."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "EXPRESSPLAY_ENV": "sandbox",
        "EXPRESSPLAY_SANDBOX_URL": f"{live_server.url}/sandbox",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "bindery", "worker", "--pool", "solo", "-Q", queue,
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=BASE_DIR, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip  # the command line as typed, then how it runs
    yield queue
    stop(process, grace=20)


def test_worker_checks_expressplay_credentials_against_the_sandbox(worker, device):
    Record.objects.create(cookie="seen", device_id=device.device_id, drm="pr")
    result = expressplay_connection_check.apply_async(queue=worker)
    report = result.get(timeout=60)
    assert report["ok"] is True
    assert report["environment"] == "sandbox"
    assert report["records_seen"] == 1
