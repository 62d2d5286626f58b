"""Pages that tell the truth after an operator or the system acts: revoked, bound to a removed device, delayed,
failed, and step timings that charge each step its own time."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.signing import get_cookie_signer
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from binding import selectors as binding_selectors
from binding import services as binding_services
from binding.models import (
    BindingEvent,
    BindingMode,
    Entitlement,
    EntitlementState,
    EventKind,
    TokenRequest,
    TokenRequestOutcome,
    TokenRequestPurpose,
)
from storefront import services
from storefront.models import Order
from tests.toolkit.factories import title_create, title_offer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued_tasks")]

REASON = "Paid with a card reported stolen"


@pytest.fixture
def operator():
    return get_user_model().objects.create_user("op", password="x", is_staff=True)


def ready_order(user, title, registered, kind="rent") -> Order:
    order = services.order_place(user=user, offer=title_offer(title, kind), browser_cookie=registered)
    entitlement = order.entitlement
    device = entitlement.cookie.device
    Entitlement.objects.filter(pk=entitlement.pk).update(
        state=EntitlementState.READY,
        device=device,
        tokens_issued=1,
        bound_by=BindingMode.EXPRESSPLAY,
        token_expires_at=timezone.now() + timedelta(hours=20),
    )
    BindingEvent.objects.create(
        kind=EventKind.TOKEN_ISSUED, user=user, entitlement=entitlement, device=device
    )
    order.entitlement.refresh_from_db()
    return order


def status_of(browser, order) -> dict:
    return browser.get(reverse("storefront:entitlement-status", args=[order.entitlement_id])).json()


# --- revoked -----------------------------------------------------------------------------------------------------


def test_a_revoked_rental_says_revoked_with_the_reason_and_whom_to_write_to_on_every_page(
    browser, user, title, registered, operator
):
    order = ready_order(user, title, registered, "rent")
    binding_services.entitlement_revoke(entitlement=order.entitlement, actor_user=operator, reason=REASON)

    status = status_of(browser, order)
    assert status["state"] == "revoked" and status["label"] == "Revoked" and not status["ok"]
    assert REASON in status["message"] and status["message"].startswith("Revoked on ")
    assert status["contact"] == "support@bindery.example"
    assert status["steps"] is False  # no "✗ Looking up your device" for a title nobody is looking up

    library = browser.get(reverse("storefront:library")).content.decode()
    assert REASON in library and 'href="mailto:support@bindery.example"' in library
    assert "Rental ends in" not in library  # no countdown for a rental that cannot be watched
    assert "Ready to play" not in library

    page = browser.get(reverse("storefront:title", args=[title.slug])).content.decode()
    assert f"Your order {order.number} of this title was revoked." in page and REASON in page
    assert "You can already watch this title." not in page

    play = browser.get(reverse("storefront:play", args=[order.entitlement_id])).content.decode()
    assert "Rental ends in" not in play and REASON in play
    assert 'id="progress" aria-live="polite" hidden' in play

    order_page = browser.get(reverse("storefront:order", args=[order.number])).content.decode()
    assert "State: Revoked" in order_page
    history = order_page[order_page.index('data-testid="history"') :]
    paid, ready, revoked = (
        history.index("Paid (demo payment"),
        history.index("Ready to play"),
        history.index(f"Revoked by our support team: “{REASON}”"),
    )
    assert paid < ready < revoked  # paid → ready → revoked, each with its time
    assert history.count("<time datetime=") >= 3
    order.refresh_from_db()
    assert order.status == "revoked"  # no longer "fulfilled"


def test_a_revoked_order_speaks_spanish_too(browser, user, title, registered, operator):
    order = ready_order(user, title, registered, "buy")
    binding_services.entitlement_revoke(entitlement=order.entitlement, actor_user=operator, reason=REASON)
    page = browser.get(reverse("storefront:library"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Revocado" in page and REASON in page


def test_the_library_reads_revocations_and_removals_in_constant_queries(browser, user, registered, operator):
    counts = []
    for total in (3, 12):
        for number in range(Order.objects.count(), total):
            order = ready_order(user, title_create(number + 1), registered, "buy")
            binding_services.entitlement_revoke(
                entitlement=order.entitlement, actor_user=operator, reason="x"
            )
        with CaptureQueriesContext(connection) as captured:
            assert browser.get(reverse("storefront:library")).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


# --- a removed device --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("by_support", "words"), [(True, "which our support team removed"), (False, "which you removed")]
)
def test_a_title_bound_to_a_removed_device_says_who_removed_it_when_and_what_to_do(
    browser, user, title, registered, operator, by_support, words
):
    order = ready_order(user, title, registered, "buy")
    device = order.entitlement.device
    binding_services.device_remove(device=device, actor_user=operator if by_support else user, reason="lost")
    status = status_of(browser, order)
    assert not status["ok"] and status["removed_device"] and not status["steps"]
    assert f"bound to “{device.label}”, {words} from your devices" in status["message"]
    assert "Move to this device" in status["next"]
    assert bool(status["contact"]) is by_support  # removed by support: say whom to ask
    assert "a device you removed" not in status["message"]
    library = browser.get(reverse("storefront:library")).content.decode()
    assert words in library and "Ready to play" not in library
    assert 'data-testid="play"' not in library  # no Play that the licence server refuses
    page = browser.get(reverse("storefront:title", args=[title.slug])).content.decode()
    assert words in page and "You can already watch this title." not in page
    history = browser.get(reverse("storefront:order", args=[order.number])).content.decode()
    assert "removed from your devices by our support team" in history if by_support else "by you" in history


# --- delayed and failed ------------------------------------------------------------------------------------------


def test_a_delayed_order_says_when_it_is_tried_next(browser, user, title, registered):
    order = services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie=registered)
    due = timezone.now() + timedelta(minutes=3)
    Entitlement.objects.filter(pk=order.entitlement_id).update(
        delayed_since=timezone.now() - timedelta(minutes=1), queued_at=due, delay_reason="unreachable"
    )
    status = status_of(browser, order)
    assert status["delayed"] and status["label"] == "Delayed"
    assert "not answering" in status["message"]  # the reason
    assert f"we try again at {due:%-I:%M}" in status["next"]  # and when it happens next


def test_a_refused_order_says_support_was_told_and_never_that_it_retries_by_itself(
    browser, user, title, registered
):
    order = services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie=registered)
    Entitlement.objects.filter(pk=order.entitlement_id).update(
        state="failed", error_code=-2018, retry_at=None
    )
    status = status_of(browser, order)
    assert status["message"] == "The licence service refused to issue your licence."
    assert "not tried again automatically" in status["next"] and "has been told" in status["next"]
    assert status["contact"] == "support@bindery.example"
    # ... and it is true: the order is on the operators' list of those that wait for them.
    assert list(Entitlement.objects.needs_support()) == [order.entitlement]


def test_a_failed_outage_says_when_it_is_tried_again_or_that_support_was_told(
    browser, user, title, registered
):
    order = services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie=registered)
    at = timezone.now() + timedelta(minutes=10)
    Entitlement.objects.filter(pk=order.entitlement_id).update(state="failed", error_code=None, retry_at=at)
    status = status_of(browser, order)
    # Django's TIME_FORMAT ("P"): "2:30 p.m.", and on the hour "2 p.m." (a fixed "%-I:%M" failed at :00).
    said = date_format(timezone.localtime(at), "TIME_FORMAT")
    assert f"we try again on our own at {said}" in status["next"] and not status["contact"]
    assert not Entitlement.objects.needs_support().exists()
    Entitlement.objects.filter(pk=order.entitlement_id).update(retry_at=None)  # out of automatic retries
    status = status_of(browser, order)
    assert "stopped trying on our own" in status["next"] and status["contact"]
    assert Entitlement.objects.needs_support().count() == 1


# --- step timings ------------------------------------------------------------------------------------------------


def test_step_timings_after_a_retry_do_not_charge_the_wait_to_the_lookup(user, title, registered, operator):
    order = services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie=registered)
    entitlement = order.entitlement
    Entitlement.objects.filter(pk=entitlement.pk).update(
        state="failed", error_code=-2018, created_at=timezone.now() - timedelta(seconds=46)
    )
    entitlement.refresh_from_db()
    assert binding_services.entitlement_retry(
        entitlement=entitlement, actor_user=operator, reason="try again"
    )
    retried = BindingEvent.objects.get(kind=EventKind.ENTITLEMENT_RETRIED).created_at
    TokenRequest.objects.create(
        purpose=TokenRequestPurpose.ENTITLEMENT,
        entitlement=entitlement,
        outcome=TokenRequestOutcome.ISSUED,
        requested_at=retried + timedelta(milliseconds=40),
        answered_at=retried + timedelta(milliseconds=152),
    )
    Entitlement.objects.filter(pk=entitlement.pk).update(
        state="ready", tokens_issued=1, bound_by=BindingMode.EXPRESSPLAY, device=entitlement.cookie.device
    )
    entitlement.refresh_from_db()
    assert binding_selectors.entitlement_status(entitlement)["timing"] == (
        "Ready 152 ms after it was tried again: device looked up in 40 ms, licence issued by ExpressPlay in "
        "112 ms."
    )


def test_the_player_of_a_title_bound_to_a_removed_device_offers_the_move_at_once(
    client, user, title, registered
):
    order = ready_order(user, title, registered, "buy")
    binding_services.device_remove(device=order.entitlement.device, actor_user=user)
    other = binding_services.registration_create(user=user, user_agent="Firefox/128")
    binding_services.device_bind(cookie=other, device_id="d9" * 16)
    client.force_login(user)
    client.cookies[settings.BINDING_BROWSER_COOKIE] = get_cookie_signer(
        salt=settings.BINDING_BROWSER_COOKIE
    ).sign(other.value)
    page = client.get(reverse("storefront:play", args=[order.entitlement_id])).content.decode()
    assert 'id="move-here" >' in page  # shown at once, not only after the licence server refuses
    assert "which you removed from your devices" in page
