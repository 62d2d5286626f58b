"""The catalogue's cached HTML: rendered once per language and page, new as soon as the catalogue changes,
and never a reason for the shop to fail when Redis is away."""

from decimal import Decimal

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from redis.exceptions import ConnectionError as RedisConnectionError

from storefront import catalogue_cache
from storefront.models import Offer
from tests.toolkit.factories import title_create, titles_bulk_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def get(client, url="/", **headers):
    """Return the catalogue part of the page and the number of queries the page took."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200
    body = response.content.decode()
    return body[body.index('<h2 id="catalogue">') : body.index('<section class="cards">')], len(queries)


def test_the_catalogue_is_rendered_once_then_served_without_a_query(client):
    title_create(1)
    first, first_queries = get(client)
    again, again_queries = get(client)
    assert "Title 1" in first and again == first
    assert first_queries == 3 and again_queries == 0  # count, titles, offers; then the cache


def test_a_changed_title_or_offer_shows_on_the_next_visit(client):
    title = title_create(1)
    get(client)
    title.name = "Renamed"
    title.save()
    assert "Renamed" in get(client)[0]
    Offer.objects.filter(title=title, kind="rent").get().delete()
    assert "Rent" not in get(client)[0]
    titles_bulk_create(100, 30)  # bulk_create sends no signal: whoever bulk-loads says so
    catalogue_cache.catalogue_changed()
    assert get(client)[0].count('class="tile"') == 24


def test_each_language_has_its_own_page(client):
    title_create(1)
    english, _ = get(client)
    spanish, _ = get(client, HTTP_ACCEPT_LANGUAGE="es")
    assert "Rent" in english and "Alquilar" in spanish


def test_with_redis_away_the_catalogue_is_rendered_on_every_visit(client, monkeypatch):
    title_create(1)

    def refuse(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(LocMemCache, "get", refuse)
    monkeypatch.setattr(LocMemCache, "set", refuse)
    body, queries = get(client)
    assert "Title 1" in body and queries == 3
    catalogue_cache.catalogue_changed()  # an edit while Redis is away does not fail either


@pytest.mark.parametrize("page", ["51", "99999999999999999999", "-1", "x", "\uff11"])
def test_made_up_and_deep_pages_are_rendered_not_cached(client, page, monkeypatch):
    title_create(1)
    kept = []
    monkeypatch.setattr(LocMemCache, "set", lambda self, key, *args, **kwargs: kept.append(key))
    body, _ = get(client, f"/?page={page}")
    assert "Title 1" in body and kept == []


def test_prices_are_the_offers_own(client):
    title = title_create(1)
    get(client)
    Offer.objects.filter(title=title, kind="buy").update(active=False)  # an update() sends no signal ...
    offer = Offer.objects.get(title=title, kind="buy")
    offer.price, offer.active = Decimal("9.99"), True
    offer.save()  # ... the next save does
    assert "9.99" in get(client)[0]
