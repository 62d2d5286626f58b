"""The operators' dashboard: orders per hour ready, waited, still waiting or failed, and pay-to-ready p50/p95,
in two queries at any number of orders; staff only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from binding.models import Entitlement, MediaAsset, TokenRequest
from storefront.dashboard import shop_health
from storefront.models import Offer, Order, Title

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer():
    asset = MediaAsset.objects.create(slug="d", kid="d1" * 16, key="55" * 16, manifest="m.mpd")
    title = Title.objects.create(slug="d", name="D", synopsis="-", year=2020, poster="-", asset=asset)
    return Offer.objects.create(title=title, kind="buy", price=Decimal("4.99"))


def order(offer, *, ago: timedelta, ready_after: float | None, state="ready", n=[0]):  # noqa: B006 - a counter
    n[0] += 1
    user = get_user_model().objects.create_user(f"d{n[0]}")
    placed = timezone.now() - ago
    entitlement = Entitlement.objects.create(
        user=user, asset=offer.title.asset, kind="buy", state=state, created_at=placed
    )
    Order.objects.create(
        user=user,
        title=offer.title,
        offer=offer,
        kind="buy",
        price=offer.price,
        currency="EUR",
        payment_reference="D",
        entitlement=entitlement,
        created_at=placed,
    )
    if ready_after is not None:
        TokenRequest.objects.create(
            purpose="entitlement",
            entitlement=entitlement,
            outcome="issued",
            requested_at=placed,
            answered_at=placed + timedelta(seconds=ready_after),
        )


def test_the_figures_count_each_order_once_by_what_became_of_it(offer):
    order(offer, ago=timedelta(minutes=5), ready_after=0.4)
    order(offer, ago=timedelta(minutes=6), ready_after=0.6)
    order(offer, ago=timedelta(hours=3), ready_after=720)  # an outage: ready after 12 minutes
    order(offer, ago=timedelta(hours=3), ready_after=None, state="failed")
    order(offer, ago=timedelta(minutes=1), ready_after=None, state="pending")
    order(offer, ago=timedelta(hours=30), ready_after=0.5)  # older than a day: not shown
    health = shop_health()
    assert (health["orders"], health["waited"], health["failed"], health["pending"]) == (5, 1, 1, 1)
    assert health["p50"] == pytest.approx(0.6) and health["p95"] == pytest.approx(720)
    assert sum(hour.ready for hour in health["hours"]) == 2
    # Each order is counted in the hour it was placed in.
    placed = timezone.now() - timedelta(hours=3)
    [hour] = [h for h in health["hours"] if h.start <= placed < h.start + timedelta(hours=1)]
    assert (hour.waited, hour.failed) == (1, 1)


def test_the_page_is_staff_only_and_its_queries_do_not_grow_with_the_orders(offer, client, admin_client):
    assert client.get("/admin/dashboard/").status_code == 302  # to the sign-in
    order(offer, ago=timedelta(minutes=5), ready_after=0.4)
    with CaptureQueriesContext(connection) as few:
        page = admin_client.get("/admin/dashboard/")
    assert page.status_code == 200 and "<svg" in page.content.decode()
    for minutes in range(40):
        order(offer, ago=timedelta(minutes=minutes * 20), ready_after=1.0 + minutes)
    with CaptureQueriesContext(connection) as many:
        page = admin_client.get("/admin/dashboard/")
    assert len(many) == len(few)
    text = page.content.decode()
    assert 'data-testid="health-orders">41<' in text and "<rect" in text
    assert 'data-testid="health-p50">20.0 s<' in text  # the median of 0.4 s and 1 … 40 s


def test_waits_read_in_the_unit_that_suits_them():
    from storefront.dashboard import pay_to_ready

    assert (pay_to_ready(0.057), pay_to_ready(42.0), pay_to_ready(720.0), pay_to_ready(None)) == (
        "57 ms",
        "42.0 s",
        "12.0 min",
        "\u2013",
    )
