"""The database: DATABASE_URL, or SQLite in the var folder for the demo."""

from .base import VAR_DIR, env

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
# Keep connections between requests and tasks (a new PostgreSQL connection costs milliseconds; a new SQLite one
# runs its PRAGMAs and file checks again), and check a kept one before use so that a restarted database costs
# one reconnect, not an error.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and sandbox write to one SQLite file concurrently in the demo: wait for locks, don't fail.
    # WAL lets readers and the writer work at once; synchronous=NORMAL is WAL's usual (crash-safe) pairing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
    # Tests use a file too: SQLite's shared in-memory database fails at once on cross-thread locks.
