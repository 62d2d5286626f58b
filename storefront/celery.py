"""The Celery application: configured from Django settings (CELERY_*), tasks found in every app."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")

app = Celery("bindery")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def close_old_connections(task=None, **kwargs) -> None:
    """Treat a task like Django treats a request: keep a database connection for CONN_MAX_AGE, and drop one
    that is broken or too old.

    Celery's own Django fixup closes every connection before and after every task (a new PostgreSQL
    connection costs milliseconds, several times a token's own database work); CELERY_DB_REUSE_MAX turns that
    off, and this takes its place.
    """
    from django.db import close_old_connections as close

    if task is None or not getattr(task.request, "is_eager", False):
        close()
