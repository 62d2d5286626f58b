"""Reads for the shop's pages, each a fixed number of queries whatever the number of rows."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from binding.models import EntitlementState

from .models import Offer, Order, Title


def _active_offers() -> Prefetch:
    return Prefetch("offers", queryset=Offer.objects.active().order_by("kind"), to_attr="active_offers")


def catalogue() -> list[Title]:
    """Return every title with its on-sale offers (two queries)."""
    return list(Title.objects.select_related("asset").prefetch_related(_active_offers()).order_by("name"))


def title_detail(slug: str) -> Title:
    return Title.objects.select_related("asset").prefetch_related(_active_offers()).get(slug=slug)


def _orders() -> QuerySet[Order]:
    return Order.objects.select_related("title__asset", "offer", "entitlement__device", "entitlement__asset")


def orders_for_title(user, title: Title) -> list[Order]:
    """Return the user's orders of `title` that still let them watch it, newest first."""
    if not user.is_authenticated:
        return []
    watchable = [EntitlementState.PENDING, EntitlementState.READY]
    return list(_orders().filter(user=user, title=title, entitlement__state__in=watchable))


def library_for_user(user) -> list[Order]:
    """Return every order of the user with its entitlement, device and title (one query)."""
    return list(_orders().filter(user=user).order_by("-created_at"))


def order_for_user(user, number: str) -> Order:
    return _orders().get(user=user, number=number)


def entitlement_order_for_user(user, entitlement_id: int) -> Order:
    return _orders().get(user=user, entitlement_id=entitlement_id)
