"""Issuing device-bound tokens: the task's service, its idempotency, retries, failures and renewals."""

import threading
from datetime import timedelta

import pytest
import responses
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from binding import services, tasks
from binding.exceptions import RecordNotYetAvailable
from binding.expressplay import ExpressPlayTransportError
from binding.models import (
    BindingEvent,
    Entitlement,
    EntitlementKind,
    EntitlementState,
    EventKind,
    IssueProgress,
)
from tests.toolkit.expressplay import (
    DEVICE,
    RECORDS_URL,
    TOKEN_URL,
    stub_expressplay,
    token_form,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings")]


@pytest.fixture
def rental(user, asset, cookie):
    return services.entitlement_create(
        user=user,
        asset=asset,
        kind=EntitlementKind.RENT,
        cookie=cookie,
        rental_period=timedelta(hours=48),
        play_duration=7200,
    )


@pytest.fixture
def purchase(user, asset, cookie):
    return services.entitlement_create(user=user, asset=asset, kind=EntitlementKind.BUY, cookie=cookie)


@responses.activate
def test_rental_token_is_bound_to_the_recorded_device_with_the_rental_policy(rental, cookie):
    stub_expressplay()
    entitlement = services.entitlement_issue(entitlement_id=rental.pk, task_id="t1")
    assert entitlement.state == EntitlementState.READY
    assert entitlement.progress == IssueProgress.DONE
    assert entitlement.device == cookie.device
    assert entitlement.tokens_issued == 1
    assert (
        entitlement.license_url == "http://127.0.0.1:8000/sandbox/pr?ExpressPlayToken=TOKEN123456789012345678"
    )
    form = token_form()
    assert form["deviceid"] == DEVICE
    assert form["cookie"] == cookie.value
    assert form["rightsType"] == "Rental"
    assert form["rental.periodEndTime"] == rental.rental_ends_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert form["rental.playDuration"] == "7200"
    assert form["kid"] == "33" * 16 and form["contentKey"] == "44" * 16
    assert int(form["expirationTime"][1:]) <= 24 * 3600  # short-lived, never past the rental end
    event = BindingEvent.objects.get(kind=EventKind.TOKEN_ISSUED)
    assert (
        "TOKEN123456789012345678" not in event.detail
    )  # only the shortened token is kept in the audit trail


@responses.activate
def test_buy_to_own_token_lifetime_comes_from_the_setting(purchase, settings):
    settings.ENTITLEMENT_TOKEN_LIFETIME = 3600
    stub_expressplay()
    services.entitlement_issue(entitlement_id=purchase.pk, task_id="t1")
    assert token_form()["rightsType"] == "BuyToOwn"
    assert token_form()["expirationTime"] == "+3600"
    entitlement = Entitlement.objects.get(pk=purchase.pk)
    assert timedelta(minutes=59) < entitlement.token_expires_at - timezone.now() <= timedelta(hours=1)


@responses.activate
def test_running_the_task_twice_gives_one_token(purchase):
    stub_expressplay()
    services.entitlement_issue(entitlement_id=purchase.pk, task_id="t1")
    services.entitlement_issue(entitlement_id=purchase.pk, task_id="t2")
    assert len([c for c in responses.calls if c.request.url == TOKEN_URL]) == 1
    assert Entitlement.objects.get(pk=purchase.pk).tokens_issued == 1


@responses.activate
def test_a_second_worker_cannot_take_an_issue_that_is_under_way(purchase):
    stub_expressplay()
    assert services._claim(purchase.pk, "worker-1")
    untouched = services.entitlement_issue(entitlement_id=purchase.pk, task_id="worker-2")
    assert untouched.state == EntitlementState.PENDING
    assert len(responses.calls) == 0
    # The first worker's retry (same task id) may go on, and so may anyone once the claim is stale.
    assert (
        services.entitlement_issue(entitlement_id=purchase.pk, task_id="worker-1").state
        == EntitlementState.READY
    )


@responses.activate
def test_a_claim_left_by_a_dead_worker_is_taken_over_when_stale(purchase, settings):
    stub_expressplay()
    assert services._claim(purchase.pk, "dead-worker")
    Entitlement.objects.filter(pk=purchase.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert (
        services.entitlement_issue(entitlement_id=purchase.pk, task_id="new").state == EntitlementState.READY
    )


@pytest.mark.django_db(transaction=True)
@responses.activate
def test_two_workers_at_once_issue_one_token(user, asset, cookie):
    purchase = services.entitlement_create(user=user, asset=asset, kind=EntitlementKind.BUY, cookie=cookie)
    stub_expressplay()
    barrier = threading.Barrier(2)
    results = []

    def worker(task_id):
        barrier.wait()
        try:
            results.append(services.entitlement_issue(entitlement_id=purchase.pk, task_id=task_id).state)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Entitlement.objects.get(pk=purchase.pk).tokens_issued == 1
    assert len([c for c in responses.calls if c.request.url == TOKEN_URL]) == 1
    assert Entitlement.objects.count() == 1


@responses.activate
def test_missing_record_and_transport_errors_are_left_to_the_task_to_retry(purchase):
    responses.get(RECORDS_URL, json=[])
    with pytest.raises(RecordNotYetAvailable):
        services.entitlement_issue(entitlement_id=purchase.pk, task_id="t1")
    responses.replace(responses.GET, RECORDS_URL, status=503)
    with pytest.raises(ExpressPlayTransportError):
        services.entitlement_issue(entitlement_id=purchase.pk, task_id="t1")
    assert Entitlement.objects.get(pk=purchase.pk).state == EntitlementState.PENDING


@responses.activate
def test_expressplay_rejection_is_final_and_keeps_code_and_meaning(purchase):
    responses.get(RECORDS_URL, json={"device_id": DEVICE})
    responses.post(TOKEN_URL, status=400, json={"errorCode": -5004, "errorMessage": "bad device"})
    entitlement = services.entitlement_issue(entitlement_id=purchase.pk, task_id="t1")
    assert entitlement.state == EntitlementState.FAILED
    assert entitlement.error_code == -5004
    assert "32 hexadecimal" in entitlement.error_detail
    event = BindingEvent.objects.get(kind=EventKind.TOKEN_FAILED)
    assert event.expressplay_code == -5004
    # An operator's retry puts it back in the queue, and it can then succeed.
    operator = get_user_model().objects.create_user("op", is_staff=True)
    assert services.entitlement_retry(entitlement=entitlement, actor_user=operator)
    responses.replace(responses.POST, TOKEN_URL, json={"licenseAcquisitionUrl": "http://x/la", "token": "T"})
    assert (
        services.entitlement_issue(entitlement_id=purchase.pk, task_id="t2").state == EntitlementState.READY
    )
    assert BindingEvent.objects.filter(kind=EventKind.ENTITLEMENT_RETRIED, actor="operator").exists()


@responses.activate
def test_renewal_issues_a_new_token_for_the_same_device_without_a_record_lookup(purchase):
    stub_expressplay()
    first = services.entitlement_issue(entitlement_id=purchase.pk, task_id="t1")
    assert not services.entitlement_renew(entitlement=first)  # still valid: nothing to do
    Entitlement.objects.filter(pk=purchase.pk).update(token_expires_at=timezone.now() - timedelta(minutes=1))
    assert services.entitlement_renew(entitlement=first)
    responses.calls.reset()
    renewed = services.entitlement_issue(entitlement_id=purchase.pk, task_id="t2")
    assert renewed.state == EntitlementState.READY and renewed.tokens_issued == 2
    assert [c.request.url for c in responses.calls] == [TOKEN_URL]
    assert token_form()["deviceid"] == DEVICE
    assert renewed.token_expires_at > timezone.now()


def test_a_rental_past_its_end_expires_and_is_not_renewed(rental):
    Entitlement.objects.filter(pk=rental.pk).update(
        state=EntitlementState.READY, rental_ends_at=timezone.now() - timedelta(seconds=1)
    )
    rental.refresh_from_db()
    assert not services.entitlement_renew(entitlement=rental)
    rental.refresh_from_db()
    assert rental.state == EntitlementState.EXPIRED
    assert BindingEvent.objects.filter(kind=EventKind.ENTITLEMENT_EXPIRED).count() == 1


def test_entitlement_needs_a_bound_registration_of_the_same_user(user, asset):
    stranger = get_user_model().objects.create_user("ivan", password="x")
    foreign = services.registration_create(user=stranger)
    services.device_bind(cookie=foreign, device_id=DEVICE)
    with pytest.raises(services.BindingError):
        services.entitlement_create(user=user, asset=asset, kind=EntitlementKind.BUY, cookie=foreign)
    unbound = services.registration_create(user=user)
    with pytest.raises(services.BindingError):
        services.entitlement_create(user=user, asset=asset, kind=EntitlementKind.BUY, cookie=unbound)


@responses.activate
def test_task_retries_transient_failures_then_succeeds(purchase, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    responses.get(RECORDS_URL, body=ExpressPlayTransportError("boom"))
    responses.get(RECORDS_URL, json={"device_id": DEVICE})
    responses.post(TOKEN_URL, status=500)
    responses.post(TOKEN_URL, json={"licenseAcquisitionUrl": "http://x/la", "token": "T"})
    assert tasks.entitlement_issue.apply(args=[purchase.pk]).get() == EntitlementState.READY
    assert Entitlement.objects.get(pk=purchase.pk).tokens_issued == 1


@responses.activate
def test_task_fails_the_order_only_once_the_outage_outlasts_its_patience(purchase, settings):
    settings.BINDING_OUTAGE_PATIENCE = 0
    responses.get(RECORDS_URL, status=503)
    assert tasks.entitlement_issue.apply(args=[purchase.pk]).get() == "gave-up"
    entitlement = Entitlement.objects.get(pk=purchase.pk)
    assert entitlement.state == EntitlementState.FAILED and entitlement.error_code is None
    assert "could not be reached for 0 minutes" in entitlement.error_detail
    assert entitlement.retry_at is not None  # and the sweep still tries again on its own
    assert entitlement.issuing_task == ""
