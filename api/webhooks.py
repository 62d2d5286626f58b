"""Signed webhooks: what happened to a client's registrations and entitlements, sent to its endpoints.

- **Nothing lost.** Every binding change writes a BindingEvent in its own transaction; a receiver of
  binding's `binding_event_recorded` signal (sent by its one writer of events) turns the events a client
  cares about into WebhookDelivery rows in that same transaction (an outbox), and queues their sending after
  commit. The sweep (beat) sends again any delivery whose time has come, so a
  lost message or a killed worker only delays it.
- **Signed as Standard Webhooks say** (https://www.standardwebhooks.com/): `webhook-id` (the event's id, the
  same on every attempt), `webhook-timestamp` (unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256
  of "<id>.<timestamp>.<body>">`, keyed by the endpoint's `whsec_<base64>` secret. While a rotated secret's
  grace period runs (WEBHOOK_SECRET_GRACE), the header carries a second signature, by the previous secret.
  A receiver checks one of them, refuses a timestamp over 5 minutes off and an id it has seen
  (api/webhook_signing.py signs, and its signature_valid is that check, and README's example).
- **Retried** by the sweep when due, with exponential backoff (30 s, 1 min, 2 min, … up to 1 h), for
  WEBHOOK_MAX_ATTEMPTS attempts; an attempt is claimed in the database first, so a message delivered twice
  sends once. Each attempt's status and the start of the answer are kept, and operators resend from admin.
- **Never inward, never held**: HTTPS addresses on the internet only (api/validators.py), checked when an
  endpoint is registered and again at every send, on the very address connected to, within one total deadline
  (api/webhook_client.py).
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from binding.models import BindingEvent, Entitlement, EventKind

from . import webhook_client
from .models import Client, DeliveryState, WebhookDelivery, WebhookEndpoint
from .serializers import EntitlementSerializer, RegistrationSerializer
from .webhook_signing import signed_headers

logger = logging.getLogger(__name__)

BACKOFF_FIRST = 30  # seconds
BACKOFF_CAP = 3600
INACTIVE = _("not sent: the endpoint is inactive")

REGISTRATION_EVENTS: dict[str, str] = {
    EventKind.DEVICE_BOUND: "registration.bound",
    EventKind.DUMMY_TOKEN_FAILED: "registration.failed",
    EventKind.RECORD_LOOKUP_FAILED: "registration.failed",
    EventKind.DEVICE_LIMIT_REACHED: "registration.failed",
    EventKind.COOKIE_EXPIRED: "registration.failed",
}
ENTITLEMENT_EVENTS: dict[str, str] = {
    EventKind.TOKEN_ISSUED: "entitlement.ready",  # "entitlement.renewed" for a second token and after
    EventKind.TOKEN_FAILED: "entitlement.failed",
    EventKind.ENTITLEMENT_REVOKED: "entitlement.revoked",
    EventKind.ENTITLEMENT_MOVED: "entitlement.moved",
    EventKind.ENTITLEMENT_EXPIRED: "entitlement.expired",
}


# --- recording (in the transaction of the change) ---------------------------------------------------------------


def _payload(event: BindingEvent, event_type: str, client: Client) -> dict[str, Any]:
    """The event's `data`: the registration or entitlement as the API answers it, as JSON would carry it."""
    data: dict[str, Any] = {}
    if event_type.startswith("registration."):
        registration = getattr(event.cookie, "api_registration", None) if event.cookie_id else None
        if registration is None:
            return {}
        data = RegistrationSerializer(registration, context={"request": None, "client": client}).data
    else:
        entitlement = (
            Entitlement.objects.select_related("user__api_customer", "device", "asset")
            .prefetch_related("asset__api_titles")
            .get(pk=event.entitlement_id)  # type: ignore[misc]  # an entitlement.* event names its entitlement
        )
        data = EntitlementSerializer(entitlement, context={"client": client}).data
    carried: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return carried


def deliveries_record(sender: object, event: BindingEvent, **kwargs: Any) -> None:
    """binding_event_recorded: an event of an API client's customer becomes one delivery per endpoint."""
    instance = event
    if instance.user_id is None:
        return
    event_type = REGISTRATION_EVENTS.get(instance.kind) or ENTITLEMENT_EVENTS.get(instance.kind)
    if event_type is None or (event_type.startswith("entitlement.") and not instance.entitlement_id):
        return
    endpoints = list(
        WebhookEndpoint.objects.filter(
            active=True, client__customers__user_id=instance.user_id
        ).select_related("client")
    )
    if not endpoints:
        return
    if instance.kind == EventKind.TOKEN_ISSUED:
        # An entitlement.* event without its entitlement returned above.
        issued = Entitlement.objects.filter(pk=instance.entitlement_id).values_list(  # type: ignore[misc]
            "tokens_issued", flat=True
        )
        if (issued.first() or 0) > 1:
            event_type = "entitlement.renewed"
    payload = _payload(instance, event_type, endpoints[0].client)
    if not payload:
        return
    for endpoint in endpoints:
        event_id = uuid.uuid4()
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=event_id,
            event_type=event_type,
            payload={
                "id": str(event_id),
                "type": event_type,
                "created": instance.created_at.isoformat(),
                "data": payload,
            },
        )
        transaction.on_commit(partial(_queue, delivery.pk))


def _queue(delivery_id: int) -> None:
    from .tasks import webhook_deliver

    try:
        # Its own queue (CELERY_WEBHOOKS_QUEUE, as CELERY_TASK_ROUTES says), named here so that tests can move it.
        webhook_deliver.apply_async(args=(delivery_id,), queue=settings.CELERY_WEBHOOKS_QUEUE)
    except Exception as exc:  # the broker is away: the sweep sends it when its time comes
        logger.warning("Could not queue webhook delivery %s (%s); the sweep will send it.", delivery_id, exc)


# --- sending ----------------------------------------------------------------------------------------------------


def delivery_send(delivery_id: int) -> str:
    """Send one delivery now, if it is still due; record the answer; schedule the next attempt on failure."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("endpoint")
            .filter(pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=timezone.now())
            .first()
        )
        if delivery is None:
            return "not-due"
        if not delivery.endpoint.active:  # deactivated since it was queued: never sent, unless resent
            deliveries_cancel(WebhookDelivery.objects.filter(pk=delivery.pk))
            return "cancelled"
        # Claim the attempt: a copy of this task, or the sweep's, finds it not due until the backoff has passed
        # (so a message the queue delivers twice sends once), and never before this send's deadline has.
        delivery.attempts += 1
        claim = max(_backoff(delivery.attempts), timedelta(seconds=settings.WEBHOOK_TIMEOUT + 5))
        delivery.next_attempt_at = timezone.now() + claim
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    status, answer, error = None, "", ""
    try:
        answered = webhook_client.post(
            endpoint.url,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Bindery-Webhooks/1",
                **signed_headers(endpoint, str(delivery.event_id), body),
            },
            timeout=settings.WEBHOOK_TIMEOUT,
            allow_loopback=settings.WEBHOOK_ALLOW_LOOPBACK_HTTP,
        )
        status, answer = answered.status, answered.body
    except webhook_client.WebhookSendError as exc:
        error = str(exc)[:300]
    delivered = status is not None and 200 <= status < 300
    given_up = not delivered and delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        response_status=status,
        response_body=answer,
        error=error,
        state=DeliveryState.DELIVERED
        if delivered
        else DeliveryState.FAILED
        if given_up
        else DeliveryState.PENDING,
        delivered_at=timezone.now() if delivered else None,
    )
    # The next attempt, when due, is queued by the sweep (beat, every BINDING_SWEEP_INTERVAL seconds): the
    # database says when, and no message waits in Redis for an hour.
    return "delivered" if delivered else "given-up" if given_up else "retry"


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (attempts - 1)))


def delivery_resend(delivery: WebhookDelivery) -> None:
    """An operator's resend (admin): due now again, with a fresh count of attempts."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.PENDING, attempts=0, next_attempt_at=timezone.now(), delivered_at=None
    )
    transaction.on_commit(partial(_queue, delivery.pk))


def deliveries_cancel(deliveries: QuerySet[WebhookDelivery]) -> int:
    """Cancel the pending ones among `deliveries` (their endpoint is inactive); return how many. Each keeps
    the reason; an operator may still resend one from admin, which sends it once its endpoint is active."""
    return deliveries.filter(state=DeliveryState.PENDING).update(
        state=DeliveryState.CANCELLED, error=str(INACTIVE)
    )


def deliveries_sweep(*, now: datetime | None = None) -> int:
    """Queue every pending delivery whose time has come (found from the database, whatever the queue lost);
    cancel those of inactive endpoints, however they became inactive."""
    deliveries_cancel(WebhookDelivery.objects.filter(endpoint__active=False))
    due = list(
        WebhookDelivery.objects.filter(
            state=DeliveryState.PENDING, endpoint__active=True, next_attempt_at__lte=now or timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    for delivery_id in due:
        _queue(delivery_id)
    return len(due)
