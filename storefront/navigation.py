"""The shop's pages, named for the device check's "Back to …" link (binding.navigation)."""

from __future__ import annotations

from django.urls import ResolverMatch
from django.utils.translation import gettext as _

from binding.navigation import back_label_register

from .models import Offer, Title


def _title_name(match: ResolverMatch, user) -> str | None:
    if "slug" in match.kwargs:
        title = Title.objects.filter(slug=match.kwargs["slug"]).values_list("name", flat=True).first()
    elif "offer_id" in match.kwargs:
        title = (
            Offer.objects.filter(pk=match.kwargs["offer_id"]).values_list("title__name", flat=True).first()
        )
    elif "entitlement_id" in match.kwargs:
        title = (
            Title.objects.filter(orders__entitlement_id=match.kwargs["entitlement_id"], orders__user=user)
            .values_list("name", flat=True)
            .first()
        )
    else:
        title = None
    return _("Back to “%(title)s”") % {"title": title} if title else None


def back_labels_register() -> None:
    """Name the shop's pages that send a customer to register this browser."""
    for view_name in ("storefront:title", "storefront:checkout", "storefront:play"):
        back_label_register(view_name, _title_name)
    back_label_register("storefront:library", lambda match, user: _("Back to my library"))
    back_label_register("storefront:order", lambda match, user: _("Back to your order"))
