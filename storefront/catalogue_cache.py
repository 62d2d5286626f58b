"""The catalogue's HTML, cached: the same for every visitor (per language and page), so a busy shop renders it
once a minute, not once a visit.

A change to a title, an offer or a media asset starts a new cache version, so the next visit renders afresh.
With Redis away the catalogue is rendered on every visit: a cache never takes the shop down.
"""

from __future__ import annotations

import hashlib
import logging
import secrets

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from redis.exceptions import RedisError

from api.cache_outage import CacheOutageLog

from . import selectors

logger = logging.getLogger(__name__)

VERSION_KEY = "storefront:catalogue:version"
TIMEOUT = 60  # seconds: also bounds how stale a page can be if a version change could not reach Redis
outage = CacheOutageLog(
    logger,
    f"The cache is unreachable; the catalogue is rendered without it, and may be up to {TIMEOUT} s old",
)
CACHED_PAGES = 50  # deeper pages (and made-up page numbers) are rendered, never cached


def _page_number(page: str | None) -> int | None:
    """Return the page asked for when it is one worth caching, else None."""
    if page is None or page == "":
        return 1
    if page.isascii() and page.isdigit() and 1 <= int(page) <= CACHED_PAGES:
        return int(page)
    return None


def catalogue_html(page: str | None, query: str = "") -> SafeString:
    """Return the HTML of catalogue page `page` (titles, prices, pager) in the active language; with `query`,
    of the titles that match it (cached the same way, per query, for TIMEOUT seconds)."""
    query = " ".join(selectors.search_words(query[:100]))

    def render() -> SafeString:
        return render_to_string(
            "storefront/_catalogue.html", {"titles": selectors.catalogue(page, query), "query": query}
        )

    number = _page_number(page)
    if number is None:
        return render()
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            version = secrets.token_hex(4)
            cache.add(VERSION_KEY, version, timeout=None)
            version = cache.get(VERSION_KEY, version)
        searched = hashlib.sha256(query.encode()).hexdigest()[:16] if query else "all"
        key = f"storefront:catalogue:{version}:{get_language()}:{searched}:{number}"
        html = cache.get(key)
        if html is None:
            html = render()
            cache.set(key, str(html), TIMEOUT)
    except RedisError:
        outage.unreachable()
        return render()
    outage.reachable()
    return SafeString(html)  # our own rendered template, escaped when it was rendered


def catalogue_changed(**kwargs) -> None:
    """post_save / post_delete receiver: start a new catalogue version (the old pages are never read again)."""
    try:
        cache.set(VERSION_KEY, secrets.token_hex(4), timeout=None)
    except RedisError:
        # Said once per outage, and only at INFO while the demo's Redis has not started: `load_demo` saves
        # dozens of rows before `rundemo` starts it.
        outage.unreachable()
    else:
        outage.reachable()
