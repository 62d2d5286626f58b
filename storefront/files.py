"""Files the product creates are its owner's only: the SQLite database (and its WAL and shared-memory
files) hold content keys, encrypted, and customers' data; Redis's files hold queued tasks."""

from __future__ import annotations

from pathlib import Path

OWNER_ONLY = 0o600


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
