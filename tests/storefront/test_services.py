"""Placing an order: it needs this browser's device, one order per purchase, queued after commit; an order
that failed is not paid again."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from binding import services as binding_services
from binding.exceptions import AlreadyEntitled, DeviceNotRegistered
from binding.models import Entitlement, EntitlementState
from storefront import services
from storefront.exceptions import EarlierOrderFailed, OfferUnavailable
from storefront.models import Offer, Order
from tests.toolkit import factories
from tests.toolkit.broker import ENTITLEMENT_ISSUE
from tests.toolkit.factories import title_offer

# Every test collects what is queued (`queued_tasks`, tests/toolkit): none reaches a broker.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued_tasks")]


def test_order_place_creates_one_order_and_pending_entitlement_and_queues_after_commit(
    user, title, registered, queued_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_place(user=user, offer=title_offer(title, "rent"), browser_cookie=registered)
    assert order.number.startswith("BND-") and order.payment_reference.startswith("DEMO-")
    assert (order.kind, order.price, order.status) == ("rent", Decimal("1.99"), "pending")
    entitlement = order.entitlement
    assert (entitlement.state, entitlement.kind, entitlement.play_duration) == ("pending", "rent", 3 * 3600)
    assert (
        timedelta(hours=47, minutes=59) < entitlement.rental_ends_at - timezone.now() <= timedelta(hours=48)
    )
    assert entitlement.cookie.value == registered
    assert queued_tasks.ids(ENTITLEMENT_ISSUE) == [entitlement.pk]


def test_nothing_is_queued_when_the_order_rolls_back(
    user, title, registered, queued_tasks, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie=registered)
        raise RuntimeError
    assert queued_tasks == [] and not Order.objects.exists()


def test_order_needs_this_browsers_registered_device(user, title):
    with pytest.raises(DeviceNotRegistered):
        services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie=None)
    with pytest.raises(DeviceNotRegistered):
        services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie="forged-value")
    assert not Order.objects.exists() and not Entitlement.objects.exists()


def test_a_removed_device_no_longer_counts_for_checkout(user, title, registered):
    binding_services.device_remove(device=user.devices.get(), actor_user=user)
    with pytest.raises(DeviceNotRegistered):
        services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie=registered)


def test_owned_title_cannot_be_bought_or_rented_again(user, title, registered):
    services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie=registered)
    for kind in ("buy", "rent"):
        with pytest.raises(AlreadyEntitled):
            services.order_place(user=user, offer=title_offer(title, kind), browser_cookie=registered)


def test_active_rental_can_be_upgraded_to_a_purchase_and_an_ended_one_rented_again(user, title, registered):
    rental = services.order_place(user=user, offer=title_offer(title, "rent"), browser_cookie=registered)
    with pytest.raises(AlreadyEntitled):
        services.order_place(user=user, offer=title_offer(title, "rent"), browser_cookie=registered)
    Entitlement.objects.filter(pk=rental.entitlement_id).update(state=EntitlementState.EXPIRED)
    assert services.order_place(user=user, offer=title_offer(title, "rent"), browser_cookie=registered)
    assert services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie=registered)


def test_a_failed_order_is_not_paid_again_while_it_is_to_be_retried(user, title, registered, queued_tasks):
    rental = services.order_place(user=user, offer=title_offer(title, "rent"), browser_cookie=registered)
    factories.order_fail(rental)
    with pytest.raises(EarlierOrderFailed) as refused:
        services.order_place(user=user, offer=title_offer(title, "rent"), browser_cookie=registered)
    assert refused.value.order == rental
    assert rental.number in str(refused.value.message) and "no second payment" in str(refused.value.message)
    assert list(Order.objects.all()) == [rental] and Entitlement.objects.count() == 1
    # Another kind is another purchase: buying the title is still offered.
    assert (
        services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie=registered).kind
        == "buy"
    )


@pytest.mark.parametrize(
    "over",
    [
        {"state": EntitlementState.REVOKED},
        {"state": EntitlementState.EXPIRED},
        {"rental_ends_at": timezone.now() - timedelta(minutes=1)},  # failed, and its rental period is over
    ],
)
def test_an_order_that_can_no_longer_be_retried_does_not_stop_a_new_one(user, title, registered, over):
    rental = services.order_place(user=user, offer=title_offer(title, "rent"), browser_cookie=registered)
    factories.order_fail(rental, **over)
    assert (
        services.order_place(user=user, offer=title_offer(title, "rent"), browser_cookie=registered) != rental
    )


def test_off_sale_offer_is_refused(user, title, registered):
    buy = title_offer(title, "buy")
    Offer.objects.filter(pk=buy.pk).update(active=False)
    with pytest.raises(OfferUnavailable):
        services.order_place(user=user, offer=buy, browser_cookie=registered)
