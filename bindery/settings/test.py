"""The test suite's settings (pyproject's DJANGO_SETTINGS_MODULE for pytest): Bindery's own, and what only the
tests change. The var folder is prepared by bindery.pytest_plugin, before pytest-django loads these."""

# ruff: noqa: F403, F405
from . import *

# One fast password hasher for the suite: every test user and sign-in would otherwise pay PBKDF2 at a million
# iterations. Production keeps Django's default list.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not SQLite's shared in-memory database, which fails at once on cross-thread locks.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
