"""Celery tasks of the API: sending webhooks (queued after commit, found again by the sweep)."""

from celery import shared_task

from . import services, webhooks


@shared_task(name="api.webhook_deliver", ignore_result=True)
def webhook_deliver(delivery_id: int) -> str:
    return webhooks.delivery_send(delivery_id)


@shared_task(name="api.webhooks_sweep", ignore_result=True)
def webhooks_sweep() -> int:
    """Send every delivery whose time has come (beat): first sends the queue lost, and every retry."""
    return webhooks.deliveries_sweep()


@shared_task(name="api.idempotent_answers_purge", ignore_result=True)
def idempotent_answers_purge() -> int:
    return services.idempotent_answers_purge()
