"""Signed webhooks: written with the change they report, signed, retried with backoff, resent from admin."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta

import pytest
import responses
from django.contrib.auth import get_user_model
from django.utils import timezone

from api import webhook_signing, webhooks
from api.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from binding import services as binding_services
from binding.models import Entitlement
from tests.toolkit.api import client_with_key, register
from tests.toolkit.broker import WEBHOOK_DELIVER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings", "queued_tasks")]

HOOK = "https://shop.example/hooks/bindery"


@pytest.fixture
def api():
    return client_with_key("Acme Films")


@pytest.fixture
def endpoint(api):
    made = api.post("/api/v1/webhooks/", {"url": HOOK}, format="json")
    assert made.status_code == 201
    return made.json()


@pytest.fixture
def entitlement(api, check_asset):
    api.post(
        "/api/v1/titles/",
        {
            "id": "f1",
            "name": "F",
            "kid": "ab" * 16,
            "key": "cd" * 16,
            "manifest_url": "https://cdn.example/f.mpd",
        },
        format="json",
    )
    register(api)
    made = api.post(
        "/api/v1/entitlements/",
        {"customer": "cust-1", "title": "f1", "policy": {"type": "buy"}},
        format="json",
    )
    return Entitlement.objects.get(pk=made.json()["id"])


def test_an_endpoint_must_be_https_and_its_secret_is_shown_once(api, endpoint):
    assert endpoint["secret"].startswith("whsec_")
    assert len(base64.b64decode(endpoint["secret"].removeprefix("whsec_"))) == 32
    assert api.get(f"/api/v1/webhooks/{endpoint['id']}/").json()["secret"] is None
    refused = api.post("/api/v1/webhooks/", {"url": "http://shop.example/hook"}, format="json")
    assert refused.status_code == 400 and "HTTPS" in str(refused.json()["errors"])


def test_a_change_writes_its_delivery_in_the_same_transaction_and_it_arrives_signed(
    api, endpoint, entitlement, queued_tasks, django_capture_on_commit_callbacks
):
    queued_tasks.clear()
    with django_capture_on_commit_callbacks(execute=True):
        revoked = api.post(
            f"/api/v1/entitlements/{entitlement.pk}/revoke/", {"reason": "refund"}, format="json"
        )
    assert revoked.status_code == 200
    delivery = WebhookDelivery.objects.get(event_type="entitlement.revoked")
    # queued after commit, on its own queue
    assert queued_tasks.ids(WEBHOOK_DELIVER) == [delivery.pk] and queued_tasks.queues(WEBHOOK_DELIVER) == [
        "webhooks"
    ]
    with responses.RequestsMock() as hook:
        hook.post(HOOK, body="thanks")
        assert webhooks.delivery_send(delivery.pk) == "delivered"
        sent = hook.calls[0].request
    body = sent.body
    assert sent.headers["webhook-id"] == str(delivery.event_id)
    assert abs(int(sent.headers["webhook-timestamp"]) - time.time()) < 5
    assert webhook_signing.signature_valid(endpoint["secret"], sent.headers, body)
    assert not webhook_signing.signature_valid(endpoint["secret"], sent.headers, body + b" ")
    assert not webhook_signing.signature_valid(webhook_signing.secret_new(), sent.headers, body)
    event = json.loads(body)
    assert event["type"] == "entitlement.revoked" and event["id"] == sent.headers["webhook-id"]
    assert event["data"]["id"] == entitlement.pk and event["data"]["state"] == "revoked"
    assert event["data"]["customer"] == "cust-1" and event["data"]["title"] == "f1"
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED and delivery.response_status == 200
    assert delivery.response_body == "thanks"


# Standard Webhooks' own example (the test vector of its reference libraries).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID, VECTOR_TIME, VECTOR_BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'


def vector_headers(signature: str, *, message_id=VECTOR_ID, timestamp=VECTOR_TIME) -> dict:
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def test_signatures_are_standard_webhooks_ones():
    by_hand = hmac.new(
        base64.b64decode(VECTOR_SECRET.removeprefix("whsec_")),
        f"{VECTOR_ID}.{VECTOR_TIME}.".encode() + VECTOR_BODY,
        hashlib.sha256,
    ).digest()
    assert base64.b64encode(by_hand).decode() == "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    signature = webhook_signing.sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIME, VECTOR_BODY)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    headers = vector_headers(signature)
    assert webhook_signing.signature_valid(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TIME)
    # Several signatures, space-separated (a rotation): any one of them, by this secret, will do.
    other = webhook_signing.sign(webhook_signing.secret_new(), VECTOR_ID, VECTOR_TIME, VECTOR_BODY)
    both = vector_headers(f"{other} {signature}")
    assert webhook_signing.signature_valid(VECTOR_SECRET, both, VECTOR_BODY, now=VECTOR_TIME)
    assert not webhook_signing.signature_valid(
        VECTOR_SECRET, vector_headers(other), VECTOR_BODY, now=VECTOR_TIME
    )
    # The id and the timestamp are signed too.
    moved = vector_headers(signature, message_id="msg_other")
    assert not webhook_signing.signature_valid(VECTOR_SECRET, moved, VECTOR_BODY, now=VECTOR_TIME)
    later = vector_headers(signature, timestamp=VECTOR_TIME + 1)
    assert not webhook_signing.signature_valid(VECTOR_SECRET, later, VECTOR_BODY, now=VECTOR_TIME)


def test_a_stale_or_replayed_message_is_refused():
    headers = vector_headers(webhook_signing.sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIME, VECTOR_BODY))
    assert webhook_signing.signature_valid(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TIME + 300)
    assert not webhook_signing.signature_valid(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TIME + 301)
    assert not webhook_signing.signature_valid(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TIME - 301)
    seen: set[str] = set()
    assert webhook_signing.signature_valid(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TIME, seen=seen)
    assert seen == {VECTOR_ID}
    assert not webhook_signing.signature_valid(
        VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TIME, seen=seen
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TIME)},
        vector_headers("v1,"),
        vector_headers("v1,not base64 at all!"),
        vector_headers("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),  # no version
        vector_headers("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
        vector_headers("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", timestamp="soon"),
        {"webhook-id": VECTOR_ID, "webhook-timestamp": None, "webhook-signature": None},
        vector_headers("v1,\u00e9\u0000"),
    ],
)
def test_a_malformed_header_is_refused_without_raising(headers):
    assert webhook_signing.signature_valid(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TIME) is False


def test_a_malformed_secret_or_headers_object_is_refused_without_raising():
    headers = vector_headers(webhook_signing.sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIME, VECTOR_BODY))
    assert (
        webhook_signing.signature_valid("whsec_not-base64!", headers, VECTOR_BODY, now=VECTOR_TIME) is False
    )
    assert webhook_signing.signature_valid(VECTOR_SECRET, None, VECTOR_BODY, now=VECTOR_TIME) is False
    assert (
        webhook_signing.signature_valid(VECTOR_SECRET, "webhook-id: x", VECTOR_BODY, now=VECTOR_TIME) is False
    )


def test_a_rotated_secret_signs_next_to_the_new_one_until_its_grace_ends(
    api, endpoint, entitlement, settings
):
    settings.WEBHOOK_SECRET_GRACE = 3600
    rotated = api.post(f"/api/v1/webhooks/{endpoint['id']}/rotate-secret/")
    assert rotated.status_code == 200
    new, old = rotated.json()["secret"], endpoint["secret"]
    assert new.startswith("whsec_") and new != old
    assert api.get(f"/api/v1/webhooks/{endpoint['id']}/").json()["secret"] is None  # shown once
    grace_ends = WebhookEndpoint.objects.get(pk=endpoint["id"]).previous_secret_expires_at
    assert timedelta(minutes=59) < grace_ends - timezone.now() <= timedelta(hours=1)
    assert rotated.json()["previous_secret_expires_at"] is not None

    binding_services.entitlement_revoke(entitlement=entitlement, actor_user=entitlement.user, reason="x")
    delivery = WebhookDelivery.objects.get(event_type="entitlement.revoked")

    def send() -> tuple[dict, bytes]:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.PENDING, next_attempt_at=timezone.now()
        )
        with responses.RequestsMock() as hook:
            hook.post(HOOK)
            assert webhooks.delivery_send(delivery.pk) == "delivered"
            return hook.calls[0].request.headers, hook.calls[0].request.body

    headers, body = send()
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert webhook_signing.signature_valid(new, headers, body) and webhook_signing.signature_valid(
        old, headers, body
    )
    # After the grace period, only the new secret signs.
    WebhookEndpoint.objects.filter(pk=endpoint["id"]).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    headers, body = send()
    assert len(headers["webhook-signature"].split(" ")) == 1
    assert webhook_signing.signature_valid(new, headers, body) and not webhook_signing.signature_valid(
        old, headers, body
    )
    # Another client cannot rotate it.
    assert (
        client_with_key("Other").post(f"/api/v1/webhooks/{endpoint['id']}/rotate-secret/").status_code == 404
    )


def test_the_readme_receiver_verifies_refuses_replays_and_stale_messages():
    """README's example receiver, run as printed there."""
    from pathlib import Path

    from django.conf import settings as django_settings

    readme = (Path(django_settings.BASE_DIR) / "README.md").read_text()
    example = next(block for block in readme.split("```python\n")[1:] if "def verify(" in block)
    receiver: dict = {}
    exec(example.split("```", 1)[0], receiver)  # noqa: S102 - our own README's code
    receiver["SECRET"] = VECTOR_SECRET
    now = int(time.time())
    headers = vector_headers(webhook_signing.sign(VECTOR_SECRET, VECTOR_ID, now, VECTOR_BODY), timestamp=now)
    assert receiver["verify"](headers, VECTOR_BODY) is True
    assert receiver["verify"](headers, VECTOR_BODY) is False  # the same id again: a replay
    stale = vector_headers(
        webhook_signing.sign(VECTOR_SECRET, "msg_2", VECTOR_TIME, VECTOR_BODY), message_id="msg_2"
    )
    assert receiver["verify"](stale, VECTOR_BODY) is False
    assert receiver["verify"]({"webhook-id": "x"}, VECTOR_BODY) is False


def test_a_failing_endpoint_is_retried_with_backoff_then_given_up_and_can_be_resent(
    api, endpoint, entitlement, queued_tasks, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    binding_services.entitlement_revoke(entitlement=entitlement, actor_user=entitlement.user, reason="x")
    delivery = WebhookDelivery.objects.get(event_type="entitlement.revoked")

    def when_due():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())

    with responses.RequestsMock() as hook:
        hook.post(HOOK, status=503, body="down")
        assert webhooks.delivery_send(delivery.pk) == "retry"
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.PENDING and delivery.response_status == 503
        wait = delivery.next_attempt_at - timezone.now()
        assert timedelta(seconds=25) < wait <= timedelta(seconds=30)
        # A second copy of the message (the queue may deliver one twice) finds it not due: nothing is sent.
        assert webhooks.delivery_send(delivery.pk) == "not-due" and len(hook.calls) == 1
        when_due()
        assert webhooks.delivery_send(delivery.pk) == "retry"
        delivery.refresh_from_db()
        assert timedelta(seconds=55) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=60)
        when_due()
        assert webhooks.delivery_send(delivery.pk) == "given-up"
    delivery.refresh_from_db()
    assert (
        delivery.state == DeliveryState.FAILED and delivery.attempts == 3 and delivery.response_body == "down"
    )
    webhooks.delivery_resend(delivery)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 0


def test_the_sweep_finds_deliveries_the_queue_lost(api, endpoint, entitlement, queued_tasks):
    binding_services.entitlement_revoke(entitlement=entitlement, actor_user=entitlement.user, reason="x")
    queued_tasks.clear()  # the message is lost
    delivery = WebhookDelivery.objects.get(event_type="entitlement.revoked")
    WebhookDelivery.objects.exclude(pk=delivery.pk).update(state=DeliveryState.DELIVERED)
    assert webhooks.deliveries_sweep() == 1 and queued_tasks.ids(WEBHOOK_DELIVER) == [delivery.pk]
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=1)
    )
    assert webhooks.deliveries_sweep() == 0  # waiting for its backoff


def test_registration_bound_is_sent_and_shop_customers_send_nothing(api, endpoint, check_asset):
    register(api)
    bound = WebhookDelivery.objects.get(event_type="registration.bound")
    assert (
        bound.payload["data"]["state"] == "bound" and bound.payload["data"]["device"]["name"] == "Living room"
    )
    shopper = get_user_model().objects.create_user("shopper")
    cookie = binding_services.registration_create(user=shopper, user_agent="Chrome")
    binding_services.device_bind(cookie=cookie, device_id="ee" * 16)
    assert WebhookDelivery.objects.count() == 1
    other = client_with_key("Other")
    assert other.get(f"/api/v1/webhooks/{endpoint['id']}/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://192.168.1.1/",
        "https://[::1]/hook",
        "http://shop.example/hook",
        "ftp://shop.example/hook",
    ],
)
def test_webhooks_never_go_to_private_networks_or_plain_http(api, url, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = False
    refused = api.post("/api/v1/webhooks/", {"url": url}, format="json")
    assert refused.status_code == 400, url


def test_a_name_that_resolves_inside_the_network_is_refused_when_sending(api, endpoint, entitlement, dns):
    binding_services.entitlement_revoke(entitlement=entitlement, actor_user=entitlement.user, reason="x")
    delivery = WebhookDelivery.objects.get(event_type="entitlement.revoked")
    dns["shop.example"] = ["10.1.2.3"]
    with responses.RequestsMock() as hook:
        assert webhooks.delivery_send(delivery.pk) == "retry"
        assert len(hook.calls) == 0
    delivery.refresh_from_db()
    assert "private network" in delivery.error


def test_a_client_may_register_at_most_webhook_max_endpoints(api, settings):
    assert settings.WEBHOOK_MAX_ENDPOINTS == 10
    settings.WEBHOOK_MAX_ENDPOINTS = 3
    for n in range(3):
        assert api.post("/api/v1/webhooks/", {"url": f"{HOOK}/{n}"}, format="json").status_code == 201
    refused = api.post("/api/v1/webhooks/", {"url": f"{HOOK}/3"}, format="json")
    assert refused.status_code == 400 and refused["Content-Type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"].endswith("/too-many-endpoints") and problem["status"] == 400
    assert problem["detail"] == (
        "You have 3 webhook endpoints, as many as a client may have: remove one first."
    )
    assert len(api.get("/api/v1/webhooks/").json()) == 3
    assert client_with_key("Other").post("/api/v1/webhooks/", {"url": HOOK}, format="json").status_code == 201


def test_a_deactivated_endpoints_pending_delivery_is_not_sent_nor_sent_on_reactivation(
    api, endpoint, entitlement, queued_tasks
):
    binding_services.entitlement_revoke(entitlement=entitlement, actor_user=entitlement.user, reason="x")
    delivery = WebhookDelivery.objects.get(event_type="entitlement.revoked")
    WebhookDelivery.objects.exclude(pk=delivery.pk).update(state=DeliveryState.DELIVERED)
    # Deactivated by whatever means after the delivery was queued: the send finds it so, and sends nothing.
    WebhookEndpoint.objects.filter(pk=endpoint["id"]).update(active=False)
    with responses.RequestsMock() as hook:
        assert webhooks.delivery_send(delivery.pk) == "cancelled"
        assert len(hook.calls) == 0
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.CANCELLED and "inactive" in delivery.error
    # Active again: nothing stale floods it, until an operator resends.
    WebhookEndpoint.objects.filter(pk=endpoint["id"]).update(active=True)
    queued_tasks.clear()
    assert webhooks.deliveries_sweep() == 0 and queued_tasks.ids(WEBHOOK_DELIVER) == []
    webhooks.delivery_resend(delivery)
    with responses.RequestsMock() as hook:
        hook.post(HOOK, body="ok")
        assert webhooks.delivery_send(delivery.pk) == "delivered"


def test_deactivating_cancels_what_is_pending_and_the_sweep_skips_inactive_endpoints(
    api, endpoint, entitlement, queued_tasks
):
    from api import services

    binding_services.entitlement_revoke(entitlement=entitlement, actor_user=entitlement.user, reason="x")
    pending = WebhookDelivery.objects.filter(state=DeliveryState.PENDING)
    count = pending.count()
    assert count > 0
    row = WebhookEndpoint.objects.get(pk=endpoint["id"])
    assert services.webhook_endpoint_deactivate(endpoint=row) == count
    assert not pending.exists() and WebhookEndpoint.objects.get(pk=row.pk).active is False
    # A pending delivery of an endpoint made inactive some other way: the sweep cancels it, queues nothing.
    WebhookDelivery.objects.filter(endpoint=row).update(state=DeliveryState.PENDING)
    queued_tasks.clear()
    assert webhooks.deliveries_sweep() == 0 and queued_tasks.ids(WEBHOOK_DELIVER) == []
    assert not pending.exists()


def test_support_sees_delivery_payloads_with_token_urls_hidden(client, api, endpoint):
    from django.contrib.auth.models import Group
    from django.urls import reverse

    token_url = "https://expressplay.example/hms/pr/rightsmanager.asmx?ExpressPlayToken=SECRET-TOKEN-123"
    delivery = WebhookDelivery.objects.create(
        endpoint=WebhookEndpoint.objects.get(pk=endpoint["id"]),
        event_id=uuid.uuid4(),
        event_type="entitlement.ready",
        payload={"type": "entitlement.ready", "data": {"id": 7, "state": "ready", "token_url": token_url}},
    )
    page = reverse("admin:api_webhookdelivery_change", args=[delivery.pk])
    for username, group, shows_token in [("sam", "Support", False), ("olga", "Operations", True)]:
        user = get_user_model().objects.create_user(username, password="x", is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        client.force_login(user)
        answer = client.get(page)
        assert answer.status_code == 200
        html = answer.content.decode()
        assert "entitlement.ready" in html and "ready" in html
        assert ("SECRET-TOKEN-123" in html) is shows_token, group
        assert ("(hidden)" in html) is not shows_token, group


def test_operations_rotate_a_secret_and_deactivate_an_endpoint_from_admin(client, api, endpoint, entitlement):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
    from django.contrib.auth.models import Group
    from django.urls import reverse

    binding_services.entitlement_revoke(entitlement=entitlement, actor_user=entitlement.user, reason="x")
    user = get_user_model().objects.create_user("olga", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Operations"))
    client.force_login(user)
    changelist = reverse("admin:api_webhookendpoint_changelist")

    def act(action):
        data = {"action": action, ACTION_CHECKBOX_NAME: [endpoint["id"]]}
        return client.post(changelist, data, follow=True).content.decode()

    page = act("rotate_secret")
    row = WebhookEndpoint.objects.get(pk=endpoint["id"])
    assert row.secret != endpoint["secret"] and row.previous_secret == endpoint["secret"]
    assert row.secret in page and row.previous_secret_expires_at > timezone.now()
    pending = WebhookDelivery.objects.filter(endpoint=row, state=DeliveryState.PENDING).count()
    assert pending > 0
    page = act("deactivate")
    assert f"{pending} pending deliveries were cancelled" in page
    assert not WebhookEndpoint.objects.get(pk=row.pk).active
    assert not WebhookDelivery.objects.filter(endpoint=row, state=DeliveryState.PENDING).exists()
