"""`manage.py rundemo` (what `make demo` ends with) starts every process and stops every one of them."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            child = int(status.parent.name)
            found += [child, *children_of(child)]
    return found


def parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


def is_celery_worker(pid: int) -> bool:
    try:
        return b"celery\x00-A\x00bindery\x00worker\x00" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def is_valkey_server(pid: int) -> bool:
    try:
        return b"valkey-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def answers(client: redis.Redis) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:  # not listening yet
        return False


def reply(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(command)
        return conn.recv(256)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_rundemo_serves_pages_and_stops_every_process_it_started(tmp_path, stop_signal):
    web_port = free_port()
    env = {
        **os.environ,
        "BINDERY_VAR_DIR": str(tmp_path),
    }
    if settings.REDIS_EMBEDDED:
        redis_port = free_port()
        env["BINDERY_REDIS_PORT"] = str(redis_port)
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--no-input"], cwd=settings.BASE_DIR, env=env, check=True, capture_output=True
    )
    demo = subprocess.Popen(
        [*manage, "rundemo", "--port", str(web_port), "--web-workers", "1", "--worker-concurrency", "1"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip  # the command line as typed, then how it runs
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                home = requests.get(f"http://127.0.0.1:{web_port}/", timeout=10)
                break
            except requests.RequestException:  # not listening yet, or still loading
                assert demo.poll() is None, demo.stdout.read()
                assert time.monotonic() < deadline, "the demo did not start within 60 s"
                time.sleep(0.3)
        assert home.status_code == 200
        sandbox = requests.get(
            f"http://127.0.0.1:{web_port}/sandbox/cmiapi/getrecord/?errorFormat=json", timeout=5
        )
        assert sandbox.json()["errorCode"] == -2017  # the sandbox answers (no authenticator given)
        started = children_of(demo.pid)
        expected = 5 + (1 if settings.REDIS_EMBEDDED else 0)  # web, three workers, beat, maybe redis
        assert len(started) >= expected
        if stop_signal == signal.SIGTERM:
            # A part that dies is started again; the web server keeps serving.
            def workers():  # the worker processes rundemo started itself (not their pool processes)
                return [
                    pid
                    for pid in children_of(demo.pid)
                    if is_celery_worker(pid) and parent_of(pid) == demo.pid
                ]

            worker = workers()[0]
            os.kill(worker, signal.SIGKILL)
            deadline = time.monotonic() + 20
            while not [pid for pid in workers() if pid not in started]:
                assert time.monotonic() < deadline, "the worker was not started again"
                time.sleep(0.3)
            assert demo.poll() is None
            assert requests.get(f"http://127.0.0.1:{web_port}/", timeout=5).status_code == 200
            if settings.REDIS_EMBEDDED:
                # So is the embedded Redis, with the same password.
                (server,) = [pid for pid in children_of(demo.pid) if is_valkey_server(pid)]
                os.kill(server, signal.SIGKILL)
                deadline = time.monotonic() + 20
                password = (tmp_path / "redis" / "password").read_text().strip()
                while not answers(redis.Redis(port=redis_port, password=password, socket_timeout=2)):
                    assert time.monotonic() < deadline, "the embedded Redis was not started again"
                    time.sleep(0.3)
                assert reply(redis_port, b"PING\r\n").startswith(b"-NOAUTH")
            started = sorted(set(started) | set(children_of(demo.pid)))
        # Ctrl-C in a terminal signals the whole foreground group; SIGTERM comes from a supervisor, to us only.
        if stop_signal == signal.SIGINT:
            os.killpg(demo.pid, signal.SIGINT)
        else:
            demo.send_signal(signal.SIGTERM)
        output, _ = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
    assert "Bindery demo is running" in output
    assert "Bindery demo stopped." in output
    if stop_signal == signal.SIGTERM:
        assert "worker process exited with code -9; starting it again." in output
        if settings.REDIS_EMBEDDED:
            assert "the embedded Redis exited with code -9; starting it again." in output
    if settings.REDIS_EMBEDDED:
        assert f"Redis: embedded Valkey started on redis://:********@127.0.0.1:{redis_port}/0" in output
        assert (tmp_path / "redis" / "password").read_text().strip() not in output
    time.sleep(0.5)
    alive = [
        pid
        for pid in started
        if Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    ]
    assert alive == []
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", web_port)) != 0
