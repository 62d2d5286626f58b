"""The files Bindery keeps on this machine, and who may read them.

Everything lives under the var folder (BINDERY_VAR_DIR, default `var/` next to manage.py): the SQLite
database, the embedded Redis's files and its password, the generated secret key, packaged media, the demo's
mails. `prepare()` makes what is missing, once per install; every entry point calls it before Django's
settings load (manage.py, bindery.wsgi, bindery.asgi, bindery.celery, gunicorn.conf.py, the test settings and
the scripts' harness). The settings only read (`generated()`), so that importing them writes nothing.

Every file here is its owner's only: the database (and its WAL and shared-memory files) holds content keys,
encrypted, and customers' data; Redis's files hold queued tasks.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

OWNER_ONLY = 0o600
OWNER_ONLY_DIR = 0o700

# Made per install when the environment does not give them (their names under the var folder).
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - file names, not secrets
REDIS_PASSWORD_FILE = "redis/password"  # noqa: S105
# Folders made empty, so that nothing has to make them while serving: WhiteNoise warns at every start
# about a missing STATIC_ROOT; packaged media and the demo's file mail backend write into the others.
FOLDERS = ("staticfiles", "media", "mail")


def environment() -> environ.Env:
    """Return the environment the settings read: the process's, plus an optional `.env` next to manage.py
    (whose variables never override the process's own)."""
    if (BASE_DIR / ".env").is_file():
        environ.Env.read_env(BASE_DIR / ".env")
    return environ.Env()


def var_dir(env: environ.Env) -> Path:
    """Return the var folder: BINDERY_VAR_DIR, or `var/` next to manage.py."""
    return Path(env("BINDERY_VAR_DIR", default=str(BASE_DIR / "var")))


def redis_embedded(env: environ.Env) -> bool:
    """Return True when Bindery runs its own Redis (REDIS_URL unset), which asks for a generated password."""
    return "REDIS_URL" not in env


def prepare() -> Path:
    """Make the var folder (0700) and what the settings will read from it, where missing: the generated
    secret key (unless SECRET_KEY is set), the embedded Redis's password (unless REDIS_URL is set), both
    0600, and the empty folders of FOLDERS. Return the var folder. Safe to call again, and from several
    processes at once: a generated file, once made, is never replaced."""
    env = environment()
    var = var_dir(env)
    var.mkdir(mode=OWNER_ONLY_DIR, parents=True, exist_ok=True)
    var.chmod(OWNER_ONLY_DIR)
    if not env("SECRET_KEY", default=""):
        _generate_once(var / SECRET_KEY_FILE)
    if redis_embedded(env):
        (var / REDIS_PASSWORD_FILE).parent.mkdir(mode=OWNER_ONLY_DIR, exist_ok=True)
        _generate_once(var / REDIS_PASSWORD_FILE)
    for name in FOLDERS:
        (var / name).mkdir(mode=OWNER_ONLY_DIR, exist_ok=True)
    return var


def _generate_once(path: Path) -> None:
    """Write a new random secret to `path` (0600) unless it exists.

    A fixed default would make every install forge-able by every other one; a secret generated per process
    would invalidate sessions, sandbox tokens and the Redis password on every restart. Written aside and
    linked into place, so that two processes preparing at once agree on one secret and no reader ever sees a
    half-written file.
    """
    if path.exists():
        return
    aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50))
        with contextlib.suppress(FileExistsError):  # another process was first: its secret stands
            os.link(aside, path)
    finally:
        aside.unlink()


def generated(path: Path, *, instead: str) -> str:
    """Return the secret `prepare()` generated in `path`; raise ImproperlyConfigured, naming the fix, when it
    has not run (`instead` names the variable that would make the file unnecessary)."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        raise ImproperlyConfigured(
            f"{path} is missing. It is generated once per install by bindery.local_files.prepare(), which "
            "manage.py, bindery.wsgi, bindery.asgi and `celery -A bindery` call before the settings load: "
            f"start Bindery through one of them (e.g. `python manage.py check`), call prepare() first, or set "
            f"{instead}."
        ) from None


def make_owner_only(*paths: Path) -> None:
    """Set each existing path to 0600 when it is more open (a path that does not exist is skipped)."""
    for path in paths:
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(OWNER_ONLY)
        except FileNotFoundError:
            continue


def sqlite_files_owner_only(sender, connection, **kwargs) -> None:
    """connection_created receiver: keep a SQLite database and its -wal and -shm files owner-only."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    make_owner_only(*(Path(name + suffix) for suffix in ("", "-wal", "-shm")))


if (
    __name__ == "__main__"
):  # `python -m bindery.local_files`: for tools that load the settings (mypy's plugin)
    print(prepare())
