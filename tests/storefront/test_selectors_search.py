"""Searching the catalogue: every word, in the name or the synopsis, case ignored; cached per query like the
catalogue; the pager keeps the search."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from binding.models import MediaAsset
from storefront import catalogue_cache
from storefront.models import Offer, Title

pytestmark = pytest.mark.django_db


def title(n: int, name: str, synopsis: str = "A film.") -> Title:
    asset = MediaAsset.objects.create(slug=f"s-{n}", kid=f"{n:032x}", key="55" * 16, manifest="m.mpd")
    made = Title.objects.create(
        slug=f"s-{n}", name=name, synopsis=synopsis, year=2020, poster="-", asset=asset
    )
    Offer.objects.create(title=made, kind="buy", price=Decimal("4.99"))
    return made


@pytest.fixture
def catalogue():
    return [
        title(1, "Rent A Life in Green", "A gardener's year in a city that forgot how to grow."),
        title(2, "Mandelbrot", "Zooming into the set, forever."),
        title(3, "Green Mountain", "Climbing with friends."),
    ]


def names(page: str) -> list[str]:
    return [
        name
        for name in ("Rent A Life in Green", "Mandelbrot", "Green Mountain")
        if f"<strong>{name}</strong>" in page
    ]


def test_a_search_matches_names_and_synopses_with_every_word_case_ignored(client, catalogue):
    assert names(client.get("/?q=green").content.decode()) == ["Rent A Life in Green", "Green Mountain"]
    assert names(client.get("/?q=GARDENER").content.decode()) == ["Rent A Life in Green"]
    assert names(client.get("/?q=green+friends").content.decode()) == ["Green Mountain"]
    page = client.get("/?q=green").content.decode()
    assert "2 titles match “green”." in page and 'value="green"' in page


def test_a_search_that_matches_nothing_says_so_and_offers_the_whole_catalogue(client, catalogue):
    page = client.get("/?q=submarine").content.decode()
    assert "0 titles match “submarine”." in page and "Whole catalogue" in page and names(page) == []


def test_the_search_is_escaped(client, catalogue):
    page = client.get("/?q=<script>alert(1)</script>").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_a_search_is_cached_per_query_and_a_change_to_the_catalogue_shows(client, catalogue, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    client.get("/?q=green")
    with CaptureQueriesContext(connection) as cached:
        again = client.get("/?q=green").content.decode()
    assert not [q for q in cached.captured_queries if "storefront_title" in q["sql"]]
    assert names(again) == ["Rent A Life in Green", "Green Mountain"]
    assert names(client.get("/?q=mandelbrot").content.decode()) == [
        "Mandelbrot"
    ]  # another query, another page
    title(4, "Green Screen")
    catalogue_cache.catalogue_changed()
    assert "3 titles match “green”." in client.get("/?q=green").content.decode()


def test_the_pager_keeps_the_search(client):
    for n in range(30):
        title(100 + n, f"Green {n:02d}")
    page = client.get("/?q=green").content.decode()
    assert 'href="?q=green&amp;page=2"' in page and "30 titles match" in page
    second = client.get("/?q=green&page=2").content.decode()
    assert second.count("<strong>Green ") == 6
