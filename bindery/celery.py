"""The Celery application (`celery -A bindery`): configured from Django settings (CELERY_*), tasks found in
every app, its logging set up as the web's. An entry point: it prepares the var folder before the settings
load."""

import logging
import os

from celery import Celery, signals

from .local_files import prepare

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bindery.settings")
prepare()

app = Celery("bindery")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def logging_setup(loglevel=None, **kwargs) -> None:
    """Configure a worker's or beat's logging as django.setup() configures the web's: LOGGING, applied by
    LOGGING_CONFIG (binding.redaction.configure, which puts the secrets filter on every handler).

    Celery documents this signal as the way to own the logging: with a receiver connected it configures none
    itself, where it would replace the root handler (worker_hijack_root_logger), and the filter with it. The
    root level is LOG_LEVEL, as in the web; `--loglevel` sets Celery's own logger only.
    """
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    if loglevel:
        logging.getLogger("celery").setLevel(loglevel)


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
