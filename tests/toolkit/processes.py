"""What tests that start Bindery's processes (a worker, a beat) share: the test database as a URL those
processes can open, and a wait for what they do."""

import time

from django.db import connection


def database_url() -> str:
    """The test database, as a URL for a worker in another process."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")
