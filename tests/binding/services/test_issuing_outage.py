"""An outage delays a paid order; it does not fail it: retried with capped backoff for as long as
BINDING_OUTAGE_PATIENCE allows, ready by itself when ExpressPlay answers, a rental's time given back."""

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from binding import services, tasks
from binding.expressplay import ExpressPlayRejected, ExpressPlayTransportError
from binding.models import BindingEvent, Entitlement, EntitlementKind, EntitlementState, EventKind
from binding.selectors import entitlement_status, expressplay_outage
from tests.toolkit.expressplay import RECORDS_URL, TOKEN_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings")]

DEVICE = "a1" * 16


def record(cookie):
    return {"event_id": 1, "cookie": cookie.value, "device_id": DEVICE, "result": 0}


@pytest.fixture
def purchase(user, asset, cookie):
    return services.entitlement_create(user=user, asset=asset, kind=EntitlementKind.BUY, cookie=cookie)


@responses.activate
def test_an_outage_keeps_the_order_pending_and_delayed_then_ready_by_itself(purchase, cookie, settings):
    settings.BINDING_RETRY_CAP = 0.01
    for _ in range(5):  # refused connections, 5xx, a proxy's 429 page: all an outage, none a refusal
        responses.get(RECORDS_URL, status=503)
    responses.get(RECORDS_URL, status=429, body="<html>Too Many Requests</html>")
    responses.get(RECORDS_URL, json=[record(cookie)])
    responses.post(
        TOKEN_URL, json={"licenseAcquisitionUrl": "http://127.0.0.1:8000/sandbox/pr", "token": "T"}
    )
    assert tasks.entitlement_issue.apply(args=[purchase.pk]).get() == EntitlementState.READY
    ready = Entitlement.objects.get(pk=purchase.pk)
    assert ready.tokens_issued == 1 and ready.delayed_since is None and ready.delay_reason == ""
    assert not BindingEvent.objects.filter(kind=EventKind.TOKEN_FAILED).exists()  # no operator needed


def test_a_delayed_order_says_so_in_words_and_operators_see_the_outage(purchase):
    since = timezone.now() - timedelta(minutes=7)
    Entitlement.objects.filter(pk=purchase.pk).update(
        delayed_since=since, delay_reason="ExpressPlay could not be reached: GET /getrecord/: HTTP 503"
    )
    purchase.refresh_from_db()
    status = entitlement_status(purchase)
    assert status["delayed"] is True and status["done"] is False
    assert "delayed" in status["message"] and "Nothing needs doing" in status["next"]
    outage = expressplay_outage()
    assert (outage.delayed, outage.since) == (1, since) and "HTTP 503" in outage.reason


def test_the_admin_list_shows_the_outage_banner(purchase, admin_client):
    Entitlement.objects.filter(pk=purchase.pk).update(delayed_since=timezone.now(), delay_reason="down")
    page = admin_client.get("/admin/binding/entitlement/").content.decode()
    assert 'data-testid="outage"' in page and "1 paid order is delayed" in page


@responses.activate
def test_a_rentals_time_does_not_run_while_its_first_licence_is_delayed(user, asset, cookie):
    rental = services.entitlement_create(
        user=user, asset=asset, kind=EntitlementKind.RENT, cookie=cookie, rental_period=timedelta(hours=48)
    )
    hour_ago = timezone.now() - timedelta(hours=1)
    nominal_end = rental.rental_ends_at - timedelta(hours=1)
    Entitlement.objects.filter(pk=rental.pk).update(
        created_at=hour_ago, rental_ends_at=nominal_end, delayed_since=hour_ago
    )
    responses.get(RECORDS_URL, json=[record(cookie)])
    responses.post(
        TOKEN_URL, json={"licenseAcquisitionUrl": "http://127.0.0.1:8000/sandbox/pr", "token": "T"}
    )
    ready = services.entitlement_issue(entitlement_id=rental.pk, task_id="t1")
    assert ready.state == EntitlementState.READY
    assert ready.rental_ends_at - nominal_end >= timedelta(minutes=59)  # the hour given back
    assert abs(ready.rental_ends_at - (timezone.now() + timedelta(hours=48))) < timedelta(minutes=1)


def test_a_delayed_rental_is_not_expired_by_the_sweep_while_it_waits(user, asset, cookie):
    rental = services.entitlement_create(
        user=user, asset=asset, kind=EntitlementKind.RENT, cookie=cookie, rental_period=timedelta(hours=1)
    )
    Entitlement.objects.filter(pk=rental.pk).update(
        rental_ends_at=timezone.now() - timedelta(minutes=1),
        delayed_since=timezone.now() - timedelta(hours=2),
    )
    assert services.entitlements_expire_ended() == 0
    assert Entitlement.objects.get(pk=rental.pk).state == EntitlementState.PENDING


@responses.activate
def test_a_4xx_without_an_expressplay_code_is_an_outage_and_one_with_a_code_a_refusal(sandbox_client_stub):
    responses.get(RECORDS_URL, status=429, body="slow down")
    with pytest.raises(ExpressPlayTransportError):
        sandbox_client_stub.get_records(cookie="abc")
    responses.get(RECORDS_URL, status=401, json={"errorCode": -2018, "errorMessage": "bad"})
    with pytest.raises(ExpressPlayRejected):
        sandbox_client_stub.get_records(cookie="abc")


@pytest.fixture
def sandbox_client_stub():
    from binding.expressplay import client_from_settings

    return client_from_settings()
