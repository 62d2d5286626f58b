"""Shop operations: placing an order (simulated payment) and handing it to the binding worker."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from binding import selectors as binding_selectors
from binding import services as binding_services
from binding.exceptions import BindingError
from binding.models import EntitlementKind, EntitlementState

from .exceptions import AlreadyEntitled, DeviceNotRegistered, OfferUnavailable
from .models import Offer, Order


@transaction.atomic
def order_place(*, user, offer: Offer, browser_cookie: str | None) -> Order:
    """Place one order for `offer`, bound to the device this browser registered; its token is issued after commit.

    Raises DeviceNotRegistered when this browser is not one of the user's devices, AlreadyEntitled when the
    user can already watch the title that way, OfferUnavailable when the offer is off sale.
    """
    # What needs protecting is per customer (one rental of a title at a time): lock the customer's row, so
    # that checkouts of the same offer by different customers never wait in line for each other.
    get_user_model().objects.select_for_update().filter(pk=user.pk).exists()
    offer = Offer.objects.select_related("title__asset").get(pk=offer.pk)
    if not offer.active:
        raise OfferUnavailable()
    cookie = binding_selectors.cookie_for_browser(user, browser_cookie)
    if cookie is None:
        raise DeviceNotRegistered()
    owned = Order.objects.filter(user=user, title=offer.title, entitlement__state__in=[
        EntitlementState.PENDING, EntitlementState.READY])  # fmt: skip
    if owned.filter(kind=EntitlementKind.BUY).exists() or (
        offer.kind == EntitlementKind.RENT and owned.filter(kind=EntitlementKind.RENT).exists()
    ):
        raise AlreadyEntitled()
    try:
        entitlement = binding_services.entitlement_create(
            user=user,
            asset=offer.title.asset,
            kind=offer.kind,
            cookie=cookie,
            rental_period=timedelta(hours=offer.rental_hours) if offer.rental_hours else None,
            play_duration=offer.play_hours * 3600 if offer.play_hours else None,
        )
    except BindingError as exc:
        raise DeviceNotRegistered(exc.message) from exc
    order = Order.objects.create(
        user=user, title=offer.title, offer=offer, kind=offer.kind, price=offer.price, currency=offer.currency,
        payment_reference=f"DEMO-{secrets.token_hex(6).upper()}", entitlement=entitlement,
    )  # fmt: skip
    return order
