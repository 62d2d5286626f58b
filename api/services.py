"""The API's own operations: a client's customer on first use, its titles, and keeping answers for
Idempotency-Key. Everything about binding goes through binding.services, as the shop's checkout does."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta
from typing import NotRequired, TypedDict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from binding import services as binding_services
from binding.exceptions import BindingError
from binding.models import Device, Entitlement, EntitlementKind, MediaAsset, Registration, RegistrationState

from . import webhook_signing, webhooks
from .exceptions import EndpointLimitReached
from .models import (
    Client,
    ClientRegistration,
    ClientTitle,
    Customer,
    IdempotentAnswer,
    WebhookDelivery,
    WebhookEndpoint,
)


class Policy(TypedDict):
    """How an entitlement is held: bought, or rented for `rental_hours` (and `play_hours` once play starts)."""

    type: EntitlementKind  # or its value, as PolicySerializer gives it
    rental_hours: NotRequired[float]
    play_hours: NotRequired[int]


@transaction.atomic
def customer_for(client: Client, external_id: str) -> Customer:
    """The client's customer with this id, created (with a password-less Bindery user) on first use."""
    customer = Customer.objects.select_related("user").filter(client=client, external_id=external_id).first()
    if customer:
        return customer
    user = get_user_model().objects.create_user(username=f"api-{client.pk}-{secrets.token_hex(8)}")
    try:
        with transaction.atomic():
            return Customer.objects.create(client=client, external_id=external_id, user=user)
    except IntegrityError:  # created by a concurrent call: use that one
        user.delete()
        return Customer.objects.select_related("user").get(client=client, external_id=external_id)


def registration_start(
    *, customer: Customer, device_name: str = "", user_agent: str = ""
) -> ClientRegistration:
    """Start a device check for the customer: a correlation cookie, and the one-time reference the client's
    page gives the drop-in script. The device-check token is asked from ExpressPlay when the customer's
    browser starts the check (`POST /api/v1/check/<reference>/start/`), and handed to it once."""
    user = customer.user
    name = device_name or binding_services.device_name_suggestion(user=user, user_agent=user_agent)
    with transaction.atomic():
        cookie = binding_services.registration_create(user=user, user_agent=user_agent, device_name=name)
        return ClientRegistration.objects.create(
            customer=customer, cookie=cookie, reference=secrets.token_urlsafe(24)
        )


@transaction.atomic
def title_register(
    *,
    client: Client,
    content_id: str,
    name: str,
    kid: str,
    key: str,
    manifest: str,
    hls_manifest: str = "",
    iv: str = "",
) -> ClientTitle:
    """A client's title: its content key id and key (kept encrypted, never read back), its DASH manifest and,
    for FairPlay, its HLS playlist and the IV it was encrypted with."""
    slug = f"c{client.pk}-{hashlib.sha256(content_id.encode()).hexdigest()[:20]}"
    asset = MediaAsset.objects.create(
        slug=slug, name=name, kid=kid, key=key, manifest=manifest, hls_manifest=hls_manifest, iv=iv
    )
    return ClientTitle.objects.create(client=client, content_id=content_id, asset=asset)


@transaction.atomic
def entitlement_grant(
    *, customer: Customer, asset: MediaAsset, policy: Policy, device_id: int | None = None
) -> Entitlement:
    """An entitlement for the customer, bound to `device_id` or else to the device their latest device check
    bound: binding.services.entitlement_create, the same as the shop's checkout."""
    devices = Device.objects.filter(user=customer.user, removed_at__isnull=True)
    if device_id is not None:
        devices = devices.filter(pk=device_id)
    bound = (
        Registration.objects.filter(user=customer.user, state=RegistrationState.BOUND, device__in=devices)
        .order_by("-created_at", "-pk")
        .first()
    )
    if bound is None:
        raise BindingError(
            _("The customer has no such registered device: run a device check first.")
            if device_id is None
            else _("The customer has no registered device with this id.")
        )
    rent = policy["type"] == EntitlementKind.RENT
    return binding_services.entitlement_create(
        user=customer.user,
        asset=asset,
        kind=policy["type"],
        cookie=bound,
        rental_period=timedelta(hours=policy["rental_hours"]) if rent else None,
        play_duration=policy["play_hours"] * 3600 if rent and policy.get("play_hours") else None,
    )


def request_fingerprint(method: str, path: str, data: object) -> str:
    body = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(f"{method} {path} {body}".encode()).hexdigest()


def idempotency_key_take(client: Client, key: str, fingerprint: str) -> tuple[bool, IdempotentAnswer]:
    """Take `key` for this request (True, a new row to fill in) or find who has it (False, their answer).
    Call inside the transaction that does the work: a second request with the key waits for the first."""
    try:
        with transaction.atomic():
            return True, IdempotentAnswer.objects.create(
                client=client, key=key, fingerprint=fingerprint, status=0, body={}
            )
    except IntegrityError:
        return False, IdempotentAnswer.objects.get(client=client, key=key)


def idempotency_answer_keep(answer: IdempotentAnswer, status: int, body: object) -> None:
    answer.status, answer.body = status, json.loads(json.dumps(body, default=str))
    answer.save(update_fields=["status", "body"])


def idempotent_answers_purge(*, days: int = 7) -> int:
    """Forget answers kept for Idempotency-Key after `days` (a retry comes within minutes, not weeks)."""
    deleted, _kinds = IdempotentAnswer.objects.filter(
        created_at__lt=timezone.now() - timedelta(days=days)
    ).delete()
    return deleted


@transaction.atomic
def webhook_endpoint_create(*, client: Client, url: str) -> WebhookEndpoint:
    """Register a webhook endpoint for the client, with a signing secret of its own. Raise
    EndpointLimitReached when the client has WEBHOOK_MAX_ENDPOINTS already (active or not): every endpoint
    receives every event, so each one multiplies the sends a change costs."""
    # One registration at a time per client, so that two concurrent ones cannot both find room for one.
    Client.objects.select_for_update().filter(pk=client.pk).first()
    limit = settings.WEBHOOK_MAX_ENDPOINTS
    if WebhookEndpoint.objects.filter(client=client).count() >= limit:
        raise EndpointLimitReached(
            _("You have %(limit)d webhook endpoints, as many as a client may have: remove one first.")
            % {"limit": limit}
        )
    return WebhookEndpoint.objects.create(client=client, url=url, secret=webhook_signing.secret_new())


@transaction.atomic
def webhook_secret_rotate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Give the endpoint a new signing secret and return it (the new secret is `endpoint.secret`). The one it
    replaces keeps signing, next to the new one, for WEBHOOK_SECRET_GRACE seconds; a secret rotated out
    before (a second rotation within the grace period) stops signing at once."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + timedelta(seconds=settings.WEBHOOK_SECRET_GRACE)
    endpoint.secret = webhook_signing.secret_new()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return endpoint


@transaction.atomic
def webhook_endpoint_deactivate(*, endpoint: WebhookEndpoint) -> int:
    """Stop sending to the endpoint: nothing new is recorded for it, and what was pending is cancelled (so a
    re-activated endpoint does not get a flood of stale events). Return how many deliveries were cancelled."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    endpoint.active = False
    return webhooks.deliveries_cancel(WebhookDelivery.objects.filter(endpoint=endpoint))
