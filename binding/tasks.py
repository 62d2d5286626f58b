"""Celery tasks of the binding app: thin wrappers that call one service each."""

from celery import shared_task

from . import services


@shared_task(name="binding.expressplay_connection_check")
def expressplay_connection_check() -> dict:
    """Check from a worker that ExpressPlay accepts our credentials; return the report as a dict."""
    return services.expressplay_connection_check().as_dict()
