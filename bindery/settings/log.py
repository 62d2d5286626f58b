"""Logging, and what error reports show: the same configuration in every process, secrets filtered."""

from .base import env

# The level of every process's log: web, workers and beat. A worker's or beat's --loglevel sets only Celery's own
# messages (the `celery` logger), as gunicorn's --log-level sets only gunicorn's.
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
# Every process configures its logging through this (the web in django.setup(), workers and beat through
# bindery/celery.py): LOGGING below, then the secrets filter on every handler, whoever made it.
LOGGING_CONFIG = "binding.redaction.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "binding.redaction.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # urllib3 logs full request lines at DEBUG, query strings and all.
        "urllib3": {"level": "WARNING"},
        # redis-py gives this logger a handler of its own, unless it exists: its lines go through ours instead.
        "push_response": {"level": "INFO"},
    },
}
# Error reports (the DEBUG page, mails to ADMINS) echo the request, its variables and settings: secrets starred.
# Secrets (binding.redaction) and the Redis URL password (bindery.processes.redis_server) never reach an error page.
DEFAULT_EXCEPTION_REPORTER_FILTER = "bindery.processes.redis_server.UrlPasswordReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "binding.redaction.SecretsExceptionReporter"
