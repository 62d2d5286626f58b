"""The command lines of the processes a Bindery deployment runs, in one place: `manage.py rundemo` starts
them, and so do `make bench`, `make chaos`, `make outage` and `make premiere`. README's "Deploying" lists the
same."""

from __future__ import annotations

import sys

from django.conf import settings

CELERY = [sys.executable, "-m", "celery", "-A", "bindery"]


def _thread_pool_worker(queue: str, threads: int, name: str, loglevel: str) -> list[str]:
    """A worker of one queue as a thread pool: many tasks in flight while each waits on the network."""
    return [
        *[*CELERY, "worker", "-Q", queue, "--pool", "threads", "--concurrency", str(threads)],
        *["--loglevel", loglevel, "--without-gossip", "--hostname", f"{name}@%h"],
    ]


def expressplay_worker(*, threads: int | None = None, loglevel: str = "INFO") -> list[str]:
    """The worker of the ExpressPlay queue: many calls in flight while each waits on the network."""
    threads = threads or settings.CELERY_EXPRESSPLAY_CONCURRENCY
    return _thread_pool_worker(settings.CELERY_EXPRESSPLAY_QUEUE, threads, "expressplay", loglevel)


def webhooks_worker(*, threads: int | None = None, loglevel: str = "INFO") -> list[str]:
    """The worker of the webhooks queue: a slow endpoint holds one thread (for at most WEBHOOK_TIMEOUT) while
    the other clients' webhooks go out."""
    threads = threads or settings.CELERY_WEBHOOKS_CONCURRENCY
    return _thread_pool_worker(settings.CELERY_WEBHOOKS_QUEUE, threads, "webhooks", loglevel)


def default_worker(*, loglevel: str = "INFO") -> list[str]:
    """The worker of everything else (the sweep): the default queue, one process."""
    return [
        *[*CELERY, "worker", "-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "--concurrency", "1"],
        *["--loglevel", loglevel, "--without-gossip", "--hostname", "default@%h"],
    ]


def beat(*, schedule: str | None = None, loglevel: str = "INFO") -> list[str]:
    """Celery beat, which runs the sweep. One per deployment."""
    return [
        *CELERY,
        "beat",
        "--loglevel",
        loglevel,
        "--schedule",
        schedule or settings.CELERY_BEAT_SCHEDULE_FILENAME,
    ]


def web(*, bind: str, workers: int = 2, threads: int = 8, loglevel: str = "info") -> list[str]:
    """gunicorn. Threads matter in the demo: a web request may call the sandbox, which this server also serves."""
    return [
        *[sys.executable, "-m", "gunicorn", "bindery.wsgi", "--bind", bind, "--workers", str(workers)],
        *["--threads", str(threads), "--timeout", "60", "--graceful-timeout", "5", "--log-level", loglevel],
    ]
