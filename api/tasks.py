"""Celery tasks of the API: sending webhooks (queued after commit, found again by the sweep)."""

from celery import shared_task

from . import webhooks


@shared_task(name="api.webhook_deliver", ignore_result=True)
def webhook_deliver(delivery_id: int) -> str:
    return webhooks.delivery_send(delivery_id)


@shared_task(name="api.webhooks_sweep", ignore_result=True)
def webhooks_sweep() -> int:
    return webhooks.deliveries_sweep()
