"""Nothing lost, unit by unit: queueing that survives the broker, the sweep, claims as leases, every token
request on record. (tests/integration/test_nothing_lost.py runs the same with real processes.)"""

import contextlib
import json
from datetime import timedelta

import pytest
import requests
import responses
from django.utils import timezone
from kombu.exceptions import OperationalError

from binding import selectors, services, tasks
from binding.expressplay import ExpressPlayTransportError
from binding.models import (
    BindingEvent,
    Entitlement,
    EntitlementKind,
    EntitlementState,
    EventKind,
    MediaAsset,
    Registration,
    RegistrationState,
    TokenRequest,
    TokenRequestOutcome,
)
from tests.toolkit.expressplay import DEVICE, RECORDS_URL, TOKEN_URL, stub_expressplay

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings")]


@pytest.fixture(autouse=True)
def empty_queue(monkeypatch):
    """The sweep reads the ExpressPlay queue's length from the broker; here it is empty unless a test says
    otherwise, whatever a shared Redis holds."""
    from binding.services import sweep

    monkeypatch.setattr(sweep, "queue_backlog", lambda queue: 0)


@pytest.fixture
def broker_down(queued_tasks):
    queued_tasks.refuse(OperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused."))


def purchase_for(user, asset, cookie):
    """A purchase of `asset`, or of another title like it once the user owns that one (a title is owned once)."""
    if Entitlement.objects.filter(user=user, asset=asset).exists():
        n = MediaAsset.objects.count()
        asset = MediaAsset.objects.create(
            slug=f"film-{n}", kid=f"{n:032x}", key=asset.key, manifest=asset.manifest, duration=asset.duration
        )
    return services.entitlement_create(user=user, asset=asset, kind=EntitlementKind.BUY, cookie=cookie)


# --- queueing after commit ---------------------------------------------------------------------------------


def test_a_new_entitlement_is_queued_once_after_commit(
    user, asset, cookie, queued_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entitlement = purchase_for(user, asset, cookie)
        assert queued_tasks == []  # not before the commit
    assert queued_tasks == [("binding.entitlement_issue", entitlement.pk)] and queued_tasks.queues() == [
        "expressplay"
    ]
    assert entitlement.queued_at is not None


def test_with_the_broker_down_the_entitlement_is_kept_and_marked_not_queued(
    user, asset, cookie, broker_down, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        entitlement = purchase_for(user, asset, cookie)  # no exception reaches the caller
    entitlement.refresh_from_db()
    assert (entitlement.state, entitlement.queued_at) == (EntitlementState.PENDING, None)
    assert "the sweep will queue it once the broker is back" in caplog.text


def test_renew_retry_reissue_and_move_all_queue_through_the_same_place(
    user, asset, cookie, queued_tasks, django_capture_on_commit_callbacks
):
    entitlement = purchase_for(user, asset, cookie)
    Entitlement.objects.filter(pk=entitlement.pk).update(state=EntitlementState.READY, device=cookie.device)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.entitlement_renew(entitlement=entitlement, actor_user=user)
    Entitlement.objects.filter(pk=entitlement.pk).update(state=EntitlementState.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.entitlement_retry(entitlement=entitlement, actor_user=None, reason="test")
    Entitlement.objects.filter(pk=entitlement.pk).update(state=EntitlementState.READY)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.entitlement_reissue(entitlement=entitlement, actor_user=None, reason="test")
    assert queued_tasks == [("binding.entitlement_issue", entitlement.pk)] * 3


def test_licence_seen_queues_the_lookup_and_marks_it_queued(
    user, queued_tasks, django_capture_on_commit_callbacks
):
    cookie = services.registration_create(user=user)
    cookie.check_started_at = timezone.now()  # the page started the check (the token was handed out)
    cookie.save(update_fields=["check_started_at"])
    with django_capture_on_commit_callbacks(execute=True):
        assert services.registration_licence_seen(cookie=cookie)
    cookie.refresh_from_db()
    assert cookie.state == RegistrationState.LICENCE_SEEN and cookie.queued_at is not None
    assert queued_tasks == [("binding.device_confirm", cookie.pk)]


# --- the sweep ----------------------------------------------------------------------------------------------


def test_sweep_queues_what_was_never_queued_or_waits_too_long_and_leaves_live_claims(
    user, asset, cookie, queued_tasks, settings, django_capture_on_commit_callbacks
):
    now = timezone.now()
    never = purchase_for(user, asset, cookie)
    stale = purchase_for(user, asset, cookie)
    fresh = purchase_for(user, asset, cookie)
    claimed = purchase_for(user, asset, cookie)
    dead_claim = purchase_for(user, asset, cookie)
    old = now - timedelta(seconds=settings.BINDING_REQUEUE_AFTER + 1)
    Entitlement.objects.filter(pk=never.pk).update(queued_at=None)
    Entitlement.objects.filter(pk=stale.pk).update(queued_at=old)
    Entitlement.objects.filter(pk=claimed.pk).update(
        queued_at=old, issuing_task="alive", claimed_until=now + timedelta(seconds=20)
    )
    Entitlement.objects.filter(pk=dead_claim.pk).update(
        queued_at=old, issuing_task="dead", claimed_until=now - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = services.work_sweep(now=now)
    assert report.entitlements_requeued == 3
    assert sorted(pk for _, pk in queued_tasks) == sorted([never.pk, stale.pk, dead_claim.pk])
    assert fresh.pk not in [pk for _, pk in queued_tasks]
    # Marked as queued now: the next sweep leaves them alone.
    queued_tasks.clear()
    assert services.work_sweep(now=now).entitlements_requeued == 0 and queued_tasks == []


def test_sweep_queues_stranded_lookups_and_expires_stale_registrations_and_ended_rentals(
    user, asset, cookie, queued_tasks, settings, django_capture_on_commit_callbacks
):
    now = timezone.now()
    waiting = services.registration_create(user=user)
    Registration.objects.filter(pk=waiting.pk).update(state=RegistrationState.LICENCE_SEEN, queued_at=None)
    stale = services.registration_create(user=user)
    Registration.objects.filter(pk=stale.pk).update(expires_at=now - timedelta(seconds=1))
    rental = services.entitlement_create(
        user=user, asset=asset, kind=EntitlementKind.RENT, cookie=cookie, rental_period=timedelta(hours=1)
    )
    Entitlement.objects.filter(pk=rental.pk).update(
        state=EntitlementState.READY, rental_ends_at=now - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = services.work_sweep(now=now)
    assert (report.lookups_requeued, report.registrations_expired, report.rentals_expired) == (1, 1, 1)
    assert ("binding.device_confirm", waiting.pk) in queued_tasks
    assert Registration.objects.get(pk=stale.pk).state == RegistrationState.EXPIRED
    assert Entitlement.objects.get(pk=rental.pk).state == EntitlementState.EXPIRED


def test_a_retry_keeps_its_claim_through_its_wait_and_a_redelivered_copy_cannot_share_it(user, asset, cookie):
    entitlement = purchase_for(user, asset, cookie)
    assert services._claim(entitlement.pk, "msg:0")
    services.entitlement_retry_later(
        entitlement_id=entitlement.pk, task_id="msg:0", next_task_id="msg:1", countdown=25
    )
    entitlement.refresh_from_db()
    assert entitlement.claimed_until > timezone.now() + timedelta(seconds=25)
    assert not services._claim(entitlement.pk, "other:0")  # another message waits its turn
    assert not services._claim(entitlement.pk, "msg:0")  # a redelivered copy of the first run, too
    assert services.work_sweep().entitlements_requeued == 0
    assert services._claim(entitlement.pk, "msg:1")  # the retry itself goes on


@responses.activate
def test_a_move_while_a_token_is_being_issued_wins_over_the_run_in_flight(user, asset, cookie):
    from binding.models import Device

    entitlement = purchase_for(user, asset, cookie)
    Entitlement.objects.filter(pk=entitlement.pk).update(state=EntitlementState.READY, device=cookie.device)
    new = Device.objects.create(user=user, device_id="b2" * 16, label="Tablet")
    services.entitlement_reissue(entitlement=entitlement, actor_user=None, reason="renew")  # pending, queued

    def move_during_the_call(request):
        services.entitlement_move(entitlement=entitlement, device=new, actor_user=None, reason="operator")
        return (200, {}, '{"licenseAcquisitionUrl": "http://x/pr", "token": "OLDDEVICETOKEN0000000000"}')

    responses.add_callback(responses.POST, TOKEN_URL, callback=move_during_the_call)
    services.entitlement_issue(entitlement_id=entitlement.pk, task_id="run:0")
    entitlement.refresh_from_db()
    # The run in flight lost its claim to the move: its token (for the old device) is on record, not kept.
    assert (entitlement.state, entitlement.device_id) == (EntitlementState.PENDING, new.pk)
    attempt = entitlement.token_requests.get()
    assert attempt.outcome == "issued" and entitlement.token_short != attempt.token_short  # made, never kept


@responses.activate
def test_a_run_whose_lease_ran_out_during_the_lookup_does_not_send(user, asset, cookie):
    entitlement = purchase_for(user, asset, cookie)

    def slow_lookup(request):  # the lookup outlives the lease (the sweep may hand the issue on meanwhile)
        Entitlement.objects.filter(pk=entitlement.pk).update(
            claimed_until=timezone.now() - timedelta(seconds=1)
        )
        return (200, {}, json.dumps([{"event_id": 1, "device_id": DEVICE, "result": 0}]))

    responses.add_callback(responses.GET, RECORDS_URL, callback=slow_lookup)
    result = services.entitlement_issue(entitlement_id=entitlement.pk, task_id="slow:0")
    assert result.state == EntitlementState.PENDING
    assert [call.request.method for call in responses.calls] == ["GET"]  # no token request left
    assert not TokenRequest.objects.filter(entitlement=entitlement).exists()  # rolled back with the check


# --- every token request on record ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "outcome", "code"),
    [
        (
            {"json": {"licenseAcquisitionUrl": "http://x/pr", "token": "T" * 30}},
            TokenRequestOutcome.ISSUED,
            None,
        ),
        (
            {"json": {"errorCode": -2019, "errorMessage": "Insufficient tokens"}, "status": 400},
            "refused",
            -2019,
        ),
        ({"status": 503}, TokenRequestOutcome.SERVER_ERROR, None),
        ({"body": requests.ReadTimeout("read timed out")}, TokenRequestOutcome.LOST, None),
        ({"body": requests.ConnectionError("Connection aborted.")}, TokenRequestOutcome.LOST, None),
    ],
)
@responses.activate
def test_every_token_request_is_recorded_before_it_is_sent_with_its_outcome(
    user, asset, cookie, answer, outcome, code
):
    entitlement = purchase_for(user, asset, cookie)
    Entitlement.objects.filter(pk=entitlement.pk).update(device=cookie.device)
    responses.post(TOKEN_URL, **answer)
    # Transport errors are the task's to retry (they raise); the record is what is checked here.
    with contextlib.suppress(ExpressPlayTransportError):
        services.entitlement_issue(entitlement_id=entitlement.pk, task_id="t")
    attempt = TokenRequest.objects.get(entitlement=entitlement)
    assert (attempt.outcome, attempt.expressplay_code, attempt.device_id) == (outcome, code, DEVICE)
    assert attempt.answered_at is not None and attempt.expires_at > timezone.now()
    assert attempt.may_have_made_a_token == (outcome in ("issued", "lost"))


@responses.activate
def test_a_request_that_never_left_is_recorded_as_not_sent(user, asset, cookie, settings):
    settings.EXPRESSPLAY_SANDBOX_URL = "http://127.0.0.1:9/sandbox"  # nothing listens on port 9
    responses.add_passthru("http://127.0.0.1:9")
    entitlement = purchase_for(user, asset, cookie)
    Entitlement.objects.filter(pk=entitlement.pk).update(device=cookie.device)
    with pytest.raises(
        services.ExpressPlayTransportError if hasattr(services, "ExpressPlayTransportError") else Exception
    ):
        services.entitlement_issue(entitlement_id=entitlement.pk, task_id="t")
    assert TokenRequest.objects.get(entitlement=entitlement).outcome == TokenRequestOutcome.NOT_SENT


@responses.activate
def test_the_device_check_token_is_on_record_too(user, media_asset_for_check):
    stub_expressplay()
    cookie = services.registration_create(user=user)
    services.dummy_token_issue(cookie=cookie)
    attempt = TokenRequest.objects.get(cookie=cookie)
    assert (attempt.purpose, attempt.outcome, attempt.entitlement) == ("device_check", "issued", None)


@pytest.fixture
def media_asset_for_check(settings):
    return MediaAsset.objects.create(
        slug=settings.BINDING_DEVICE_CHECK_ASSET, kid="66" * 16, key="77" * 16, manifest="c/m.mpd"
    )


# --- failures that were only ExpressPlay being unreachable heal on their own ----------------------------------


def test_an_unreachable_failure_is_retried_by_the_sweep_a_few_times_then_left_to_support(
    user, asset, cookie, queued_tasks, settings, django_capture_on_commit_callbacks
):
    settings.BINDING_AUTO_RETRIES, settings.BINDING_AUTO_RETRY_AFTER = 2, 60
    entitlement = purchase_for(user, asset, cookie)
    for attempt in range(3):
        assert services._claim(entitlement.pk, f"task-{attempt}")
        services.entitlement_give_up(
            entitlement_id=entitlement.pk, task_id=f"task-{attempt}", reason="unreachable"
        )
        entitlement.refresh_from_db()
        assert entitlement.state == EntitlementState.FAILED
        if attempt == 2:
            break
        wait = 60 * 2**attempt
        assert timedelta(seconds=wait - 5) < entitlement.retry_at - timezone.now() <= timedelta(seconds=wait)
        status = selectors.entitlement_status(entitlement)
        assert "we try again on our own at" in status["next"]
        with django_capture_on_commit_callbacks(execute=True):
            assert services.work_sweep().failures_retried == 0  # not due yet
            Entitlement.objects.filter(pk=entitlement.pk).update(
                retry_at=timezone.now() - timedelta(seconds=1)
            )
            assert services.work_sweep().failures_retried == 1
        entitlement.refresh_from_db()
        assert (entitlement.state, entitlement.auto_retries, entitlement.retry_at) == (
            "pending",
            attempt + 1,
            None,
        )
    assert entitlement.retry_at is None  # two automatic retries used: support takes it from here
    assert "support team" in selectors.entitlement_status(entitlement)["next"]
    assert [pk for _, pk in queued_tasks].count(entitlement.pk) == 2


def test_a_refusal_is_not_retried_automatically(user, asset, cookie):
    entitlement = purchase_for(user, asset, cookie)
    services._claim(entitlement.pk, "t")
    services.issuing._entitlement_fail(entitlement, "t", code=-2019, detail="Insufficient tokens")
    entitlement.refresh_from_db()
    assert entitlement.state == EntitlementState.FAILED and entitlement.retry_at is None


# --- when the device id is looked up ---------------------------------------------------------------------------


@responses.activate
def test_every_purchase_mode_asks_the_records_at_each_purchase(user, asset, cookie):
    stub_expressplay()
    services.entitlement_issue(entitlement_id=purchase_for(user, asset, cookie).pk, task_id="t")
    assert [c.request.method for c in responses.calls] == ["GET", "POST"]  # getrecord, then the token


@responses.activate
def test_registration_mode_trusts_a_recent_registration_and_asks_again_once_it_is_old(
    user, asset, cookie, settings
):
    settings.BINDING_DEVICE_LOOKUP = "registration"
    stub_expressplay()
    entitlement = services.entitlement_issue(entitlement_id=purchase_for(user, asset, cookie).pk, task_id="t")
    assert entitlement.state == EntitlementState.READY and entitlement.token_device_id == DEVICE
    assert [c.request.method for c in responses.calls] == ["POST"]  # the token only
    Registration.objects.filter(pk=cookie.pk).update(
        updated_at=timezone.now() - timedelta(days=settings.BINDING_REGISTRATION_TRUST_DAYS + 1)
    )
    responses.calls.reset()
    services.entitlement_issue(entitlement_id=purchase_for(user, asset, cookie).pk, task_id="t2")
    assert [c.request.method for c in responses.calls] == ["GET", "POST"]


def test_during_a_backlog_the_sweep_queues_only_what_is_known_lost(
    user, asset, cookie, queued_tasks, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from binding.services import sweep

    now = timezone.now()
    old = now - timedelta(seconds=settings.BINDING_REQUEUE_AFTER + 1)
    waiting, never, dead = (purchase_for(user, asset, cookie) for _ in range(3))
    Entitlement.objects.filter(pk=waiting.pk).update(queued_at=old)  # most likely still in the queue
    Entitlement.objects.filter(pk=never.pk).update(queued_at=None)  # the broker refused it
    Entitlement.objects.filter(pk=dead.pk).update(
        queued_at=old, issuing_task="dead", claimed_until=now - timedelta(seconds=1)
    )
    monkeypatch.setattr(sweep, "queue_backlog", lambda queue: 5_000)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.work_sweep(now=now).entitlements_requeued == 2
    assert sorted(pk for _, pk in queued_tasks) == sorted([never.pk, dead.pk])
    monkeypatch.setattr(sweep, "queue_backlog", lambda queue: 0)  # drained: the waiting one is lost after all
    queued_tasks.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            services.work_sweep(
                now=now + timedelta(seconds=settings.BINDING_REQUEUE_AFTER + 1)
            ).entitlements_requeued
            >= 1
        )
    assert waiting.pk in [pk for _, pk in queued_tasks]


@responses.activate
def test_registration_mode_looks_the_device_up_again_once_when_the_registered_browser_is_refused(
    user, asset, cookie, settings, queued_tasks, django_capture_on_commit_callbacks
):
    settings.BINDING_DEVICE_LOOKUP = "registration"
    stub_expressplay()
    entitlement = services.entitlement_issue(entitlement_id=purchase_for(user, asset, cookie).pk, task_id="t")
    assert [c.request.method for c in responses.calls] == ["POST"]  # trusted: the token only

    with django_capture_on_commit_callbacks(execute=True):
        reissuing = services.entitlement_refusal_report(
            entitlement=entitlement, code=-4905, browser_cookie=cookie.value, actor_user=user
        )
    assert reissuing and (tasks.entitlement_issue.name, entitlement.pk) in queued_tasks
    entitlement.refresh_from_db()
    assert entitlement.state == EntitlementState.PENDING and entitlement.device is None
    responses.calls.reset()
    services.entitlement_issue(entitlement_id=entitlement.pk, task_id="t2")
    assert [c.request.method for c in responses.calls] == ["GET", "POST"]  # the records, then the token
    # Later purchases from this browser ask the records too: its registration is trusted no more.
    responses.calls.reset()
    services.entitlement_issue(entitlement_id=purchase_for(user, asset, cookie).pk, task_id="t3")
    assert [c.request.method for c in responses.calls] == ["GET", "POST"]

    # Refused again with a token that already came from the records: on record, nothing more to ask.
    BindingEvent.objects.filter(kind=EventKind.LICENCE_REFUSED).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert not services.entitlement_refusal_report(
        entitlement=entitlement, code=-4905, browser_cookie=cookie.value, actor_user=user
    )
    assert BindingEvent.objects.filter(kind=EventKind.LICENCE_REFUSED, entitlement=entitlement).count() == 2


@responses.activate
@pytest.mark.parametrize(
    ("mode", "code", "own_browser"),
    [
        ("registration", -4905, False),  # another browser refused: the binding working
        ("registration", -4902, True),  # the rental ended: no device question
        ("every_purchase", -4905, True),  # the records were asked at purchase already
    ],
)
def test_a_refusal_is_only_recorded_when_looking_again_cannot_help(
    user, asset, cookie, settings, queued_tasks, mode, code, own_browser
):
    settings.BINDING_DEVICE_LOOKUP = mode
    stub_expressplay()
    entitlement = services.entitlement_issue(entitlement_id=purchase_for(user, asset, cookie).pk, task_id="t")
    assert not services.entitlement_refusal_report(
        entitlement=entitlement,
        code=code,
        browser_cookie=cookie.value if own_browser else "another-browser",
        actor_user=user,
    )
    entitlement.refresh_from_db()
    assert entitlement.state == EntitlementState.READY and not queued_tasks
    event = BindingEvent.objects.get(kind=EventKind.LICENCE_REFUSED)
    assert event.expressplay_code == code and event.entitlement == entitlement
    # One report a minute: a page reloading in a loop does not flood the audit trail.
    services.entitlement_refusal_report(
        entitlement=entitlement, code=code, browser_cookie="x", actor_user=user
    )
    assert BindingEvent.objects.filter(kind=EventKind.LICENCE_REFUSED).count() == 1


@responses.activate
def test_a_ready_title_says_how_long_each_step_took(user, asset, cookie):
    stub_expressplay()
    entitlement = purchase_for(user, asset, cookie)
    assert selectors.entitlement_status(entitlement)["timing"] == ""  # pending: nothing to say yet
    entitlement = services.entitlement_issue(entitlement_id=entitlement.pk, task_id="t")
    request = TokenRequest.objects.get(entitlement=entitlement)
    TokenRequest.objects.filter(pk=request.pk).update(
        requested_at=entitlement.created_at + timedelta(milliseconds=40),
        answered_at=entitlement.created_at + timedelta(milliseconds=152),
    )
    assert selectors.entitlement_status(entitlement)["timing"] == (
        "Ready 152 ms after you asked: device looked up in 40 ms, licence issued by ExpressPlay in 112 ms."
    )
