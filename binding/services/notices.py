"""What the customer is told by mail about their devices and titles (accounts' outbox): a new device on the
account, a title ready after a delay, an order that failed and why. Each is queued in the transaction of the
change it tells of, once per event; the shop queues the receipt itself (storefront.services.order_place).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import translation

from accounts.mail import link, mail_queue, user_language
from accounts.models import MailKind

from ..models import BindingEvent, Device, Entitlement, EntitlementKind

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _name(user: User) -> str:
    name: str = user.get_full_name() or user.get_username()
    return name


def _title(entitlement: Entitlement) -> str:
    titles = getattr(entitlement.asset, "titles", None)
    title = titles.first() if titles is not None else None
    return title.name if title is not None else entitlement.asset.name or entitlement.asset.slug


def _order_url(entitlement: Entitlement) -> str:
    order = getattr(entitlement, "order", None)
    if order is None:
        return link(reverse("storefront:library"))
    return link(reverse("storefront:order", args=[order.number]))


def new_device(*, device: Device, event: BindingEvent) -> None:
    """A device was registered (or registered again) on the customer's account: the usual defence against a
    stolen login is that its owner hears of it, with a link to remove it."""
    mail_queue(
        user=device.user,
        kind=MailKind.NEW_DEVICE,
        key=f"new_device:{event.pk}",
        context={
            "name": _name(device.user),
            "device": device.label,
            "registered_at": event.created_at.isoformat(),
            "devices_url": link(reverse("binding:devices")),
        },
    )


def ready_after_delay(*, entitlement: Entitlement, device: Device) -> None:
    """The first token of an order that waited (an ExpressPlay outage): the customer may have left the page."""
    mail_queue(
        user=entitlement.user,
        kind=MailKind.READY,
        key=f"ready:{entitlement.pk}",
        context={
            "name": _name(entitlement.user),
            "title": _title(entitlement),
            "device": device.label,
            "watch_url": link(reverse("storefront:play", args=[entitlement.pk])),
            "rental": entitlement.kind == EntitlementKind.RENT,
            "rental_ends_at": entitlement.rental_ends_at.isoformat() if entitlement.rental_ends_at else "",
        },
    )


def failed(*, entitlement: Entitlement, event: BindingEvent) -> None:
    """An order failed and will not be retried on its own: why, and what happens next, in the customer's words
    (what their order page says), in their language."""
    from ..selectors import entitlement_status

    entitlement = Entitlement.objects.select_related("user", "asset", "device").get(pk=entitlement.pk)
    with translation.override(user_language(entitlement.user)):
        status = entitlement_status(entitlement)
    mail_queue(
        user=entitlement.user,
        kind=MailKind.FAILED,
        key=f"failed:{event.pk}",
        context={
            "name": _name(entitlement.user),
            "title": _title(entitlement),
            "reason": status["message"],
            "next": status["next"],
            "order_url": _order_url(entitlement),
        },
    )
