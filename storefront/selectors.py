"""Reads for the shop's pages, each a fixed number of queries whatever the number of rows."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from binding import selectors as binding_selectors
from binding.models import Entitlement, EntitlementState

from .models import Offer, Order, SpentSignInLink, Title


def _active_offers() -> Prefetch:
    return Prefetch("offers", queryset=Offer.objects.active().order_by("kind"), to_attr="active_offers")


CATALOGUE_PAGE = 24
LIBRARY_PAGE = 20


SEARCH_WORDS = 8  # more words than this in a query are ignored: each costs a condition


def search_words(query: str) -> list[str]:
    """The words of a catalogue search, as it is matched: at most SEARCH_WORDS, case kept (matching ignores it)."""
    return query.split()[:SEARCH_WORDS]


def catalogue(page: str | int | None = 1, query: str = "") -> Page:
    """Return one page of titles with their on-sale offers (three queries: count, titles, offers), whatever
    the size of the catalogue; with `query`, only titles whose name or synopsis holds every one of its words
    (case ignored). A page number out of range gives the nearest page."""
    titles = Title.objects.select_related("asset").prefetch_related(_active_offers()).order_by("name", "pk")
    for word in search_words(query):
        titles = titles.filter(Q(name__icontains=word) | Q(synopsis__icontains=word))
    return Paginator(titles, CATALOGUE_PAGE).get_page(page)


def title_detail(slug: str) -> Title:
    return Title.objects.select_related("asset").prefetch_related(_active_offers()).get(slug=slug)


def _orders() -> QuerySet[Order]:
    return Order.objects.select_related("title__asset", "offer", "entitlement__device", "entitlement__asset")


def _with_truth(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Orders with what their entitlement's status needs besides its row (its revocation, its device's
    removal), in two more queries whatever their number."""
    return orders.prefetch_related(*binding_selectors.entitlement_truth_prefetches("entitlement__"))


def orders_for_title(user, title: Title) -> list[Order]:
    """Return the user's orders of `title` that still let them watch it, newest first (a ready one may be
    bound to a device removed since: its status says so)."""
    if not user.is_authenticated:
        return []
    return list(
        _with_truth(
            _orders().filter(user=user, title=title, entitlement__state__in=Entitlement.WATCHABLE_STATES)
        )
    )


def revoked_orders_for_title(user, title: Title) -> list[Order]:
    """Return the user's orders of `title` that support revoked, newest first, with the revocation (three
    queries), so that the title page says what happened to them."""
    if not user.is_authenticated:
        return []
    revoked = _orders().filter(user=user, title=title, entitlement__state=EntitlementState.REVOKED)
    return list(_with_truth(revoked)[:5])


def failed_orders_for_title(user, title: Title) -> dict[str, Order]:
    """Return the user's newest failed order of `title` for each kind ({"rent": order, ...}) whose entitlement
    still stands: not revoked, not expired, not a rental past its end. Such an order is retried (by support, by
    the sweep, or by itself after a fresh device check), so the shop sends the customer to its page instead of
    taking a second payment. The one rule for the title page, the checkout page and `order_place`; one query.
    """
    if not user.is_authenticated:
        return {}
    failed = _orders().filter(
        Q(entitlement__rental_ends_at__isnull=True) | Q(entitlement__rental_ends_at__gt=timezone.now()),
        user=user,
        title=title,
        entitlement__state=EntitlementState.FAILED,
    )
    orders: dict[str, Order] = {}
    for order in failed.order_by("-created_at", "-pk"):
        orders.setdefault(order.kind, order)
    return orders


def failed_order_for_offer(user, offer: Offer) -> Order | None:
    """Return the user's failed order of the same title and kind as `offer` that still stands, if any
    (failed_orders_for_title's rule)."""
    return failed_orders_for_title(user, offer.title).get(offer.kind)


def library_for_user(user, page: str | int | None = 1) -> Page:
    """Return one page of the user's orders, newest first, with entitlement, device, title, revocation and
    device removal (four queries: count, rows, revocations, removals), however many the customer has."""
    orders = _with_truth(_orders().filter(user=user).order_by("-created_at", "-pk"))
    return Paginator(orders, LIBRARY_PAGE).get_page(page)


ORDERS_PAGE = 20


def orders_for_user(user, page: str | int | None = 1) -> Page:
    """One page of the customer's order history, newest first (two queries, however many orders)."""
    return Paginator(_orders().filter(user=user).order_by("-created_at", "-pk"), ORDERS_PAGE).get_page(page)


def order_for_user(user, number: str) -> Order:
    return _orders().get(user=user, number=number)


def entitlement_order_for_user(user, entitlement_id: int) -> Order:
    return _orders().get(user=user, entitlement_id=entitlement_id)


def sign_in_link_spent(nonce: str) -> bool:
    """Return whether the presenter's sign-in link that carries `nonce` has signed a browser in already."""
    return SpentSignInLink.objects.filter(nonce=nonce).exists()
