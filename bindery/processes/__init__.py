"""The processes a Bindery deployment runs, and what runs them: their command lines (`commands`), the
embedded Redis of the demo and the tests (`redis_server`), and stopping them (`stop`). `manage.py rundemo`,
the scripts and the tests use them; they import no app but for binding's redaction."""

from .shutdown import stop

__all__ = ["stop"]
