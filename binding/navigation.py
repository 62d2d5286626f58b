"""Where a page of this app sends the customer back to: the words for a `next` address ("Back to “Title”").

The binding app does not know the shop's pages. An app that sends customers here to register a browser names
its own pages (`back_label_register`, from its AppConfig.ready), so the device check can say where it returns.
"""

from __future__ import annotations

from collections.abc import Callable

from django.urls import Resolver404, ResolverMatch, resolve

_LABELLERS: dict[str, Callable[[ResolverMatch, object], str | None]] = {}


def back_label_register(view_name: str, labeller: Callable[[ResolverMatch, object], str | None]) -> None:
    """Have `labeller(match, user)` name the page of URL `view_name` ("storefront:title") in "Back to …"
    links, for the signed-in `user` (who may see only their own orders' names)."""
    _LABELLERS[view_name] = labeller


def back_label(url: str, user: object) -> str:
    """Return the words of a link back to `url` (a safe, local address), or "" when no app names that page."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    try:
        match = resolve(path)
    except Resolver404:
        return ""
    labeller = _LABELLERS.get(match.view_name)
    return (labeller(match, user) or "") if labeller else ""
