"""What the customer is told by mail about a title: ready after a delay, or failed and why (in their
language); nothing for an order that was ready at once, nor for a failure that is retried on its own."""

from datetime import timedelta

import pytest
import responses
from django.core import mail
from django.utils import timezone

from accounts.models import Profile
from binding import services
from binding.models import Entitlement, EntitlementKind, EntitlementState
from tests.toolkit.expressplay import RECORDS_URL, TOKEN_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings")]

DEVICE = "a1" * 16


@pytest.fixture
def rental(user, asset, cookie):
    user.email = "hana@example.com"
    user.save()
    mail.outbox.clear()  # the new-device notice of the fixture's registration
    return services.entitlement_create(
        user=user, asset=asset, kind=EntitlementKind.RENT, cookie=cookie, rental_period=timedelta(hours=48)
    )


def stub_expressplay(cookie, *, token_status=200, token_json=None):
    responses.get(
        RECORDS_URL, json=[{"event_id": 1, "cookie": cookie.value, "device_id": DEVICE, "result": 0}]
    )
    responses.post(
        TOKEN_URL,
        status=token_status,
        json=token_json or {"licenseAcquisitionUrl": "http://127.0.0.1:8000/sandbox/pr", "token": "T"},
    )


@responses.activate
def test_a_title_ready_after_a_delay_is_told_with_a_link_to_watch(
    rental, cookie, django_capture_on_commit_callbacks
):
    Entitlement.objects.filter(pk=rental.pk).update(delayed_since=timezone.now() - timedelta(minutes=12))
    stub_expressplay(cookie)
    with django_capture_on_commit_callbacks(execute=True):
        ready = services.entitlement_issue(entitlement_id=rental.pk, task_id="t1")
    assert ready.state == EntitlementState.READY
    [sent] = mail.outbox
    assert sent.subject.endswith("is ready to watch") and f"/library/{rental.pk}/play/" in sent.body
    assert "your rental ends" in sent.body


@responses.activate
def test_a_title_ready_at_once_sends_no_ready_mail(rental, cookie, django_capture_on_commit_callbacks):
    stub_expressplay(cookie)
    with django_capture_on_commit_callbacks(execute=True):
        services.entitlement_issue(entitlement_id=rental.pk, task_id="t1")
    assert mail.outbox == []


@responses.activate
def test_a_refused_order_is_told_why_in_the_customers_language(
    rental, cookie, user, django_capture_on_commit_callbacks
):
    Profile.objects.create(user=user, language="es")
    stub_expressplay(cookie, token_status=400, token_json={"errorCode": -2004, "errorMessage": "bad key"})
    with django_capture_on_commit_callbacks(execute=True):
        failed = services.entitlement_issue(entitlement_id=rental.pk, task_id="t1")
    assert failed.state == EntitlementState.FAILED
    [sent] = mail.outbox
    assert sent.subject.startswith("No hemos podido preparar") and "Por qué" in sent.body
    assert "El servicio de licencias" in sent.body  # the order page's own words, in Spanish
