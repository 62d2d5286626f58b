"""Shop operations: placing an order (simulated payment) and handing it to the binding worker; adding a title;
spending the presenter's sign-in link; admitting a password-reset mail."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.text import slugify

from accounts.mail import link, mail_queue
from accounts.models import MailKind
from binding import packaging
from binding import selectors as binding_selectors
from binding import services as binding_services
from binding.exceptions import DeviceNotRegistered
from binding.models import EntitlementKind, MediaAsset

from . import selectors
from .exceptions import EarlierOrderFailed, OfferUnavailable, SignInLinkUsed
from .models import Offer, Order, PasswordResetRequest, SpentSignInLink, Title
from .validators import TITLE_SLUG_MAX_LENGTH, validate_poster_image, validate_title_slug


@transaction.atomic
def order_place(*, user, offer: Offer, browser_cookie: str | None) -> Order:
    """Place one order for `offer`, bound to the device this browser registered; its token is issued after commit.

    Raises (binding/exceptions.py, the one family) DeviceNotRegistered when this browser is not one of the
    user's devices, AlreadyEntitled when the user can already watch the title that way, DrmNotSold when titles
    are not sold to this browser's DRM (its binding mode is `refuse`), EarlierOrderFailed when an order of the
    same title and kind failed and is still to be retried, OfferUnavailable when the offer is off sale, and
    any other BindingError as binding raised it. Nothing is kept when it raises: the order, its payment and its
    entitlement are one transaction.
    """
    # The caller read the offer for its page; the order is made from the offer as it is now, locked, so that
    # an operator taking it off sale or changing its price either waits for this order or is seen by it.
    current = (
        Offer.objects.select_for_update(of=("self",))
        .select_related("title__asset")
        .filter(pk=offer.pk, active=True)
        .first()
    )
    if current is None:
        raise OfferUnavailable()
    offer = current
    cookie = binding_selectors.registration_for_browser(user, browser_cookie)
    if cookie is None:
        raise DeviceNotRegistered()
    entitlement = binding_services.entitlement_create(
        user=user,
        asset=offer.title.asset,
        kind=offer.kind,
        cookie=cookie,
        rental_period=timedelta(hours=offer.rental_hours) if offer.rental_hours else None,
        play_duration=offer.play_hours * 3600 if offer.play_hours else None,
    )
    # Asked after entitlement_create, in the same transaction: an earlier order that the worker fails meanwhile
    # is then either still pending there (AlreadyEntitled) or failed here. Asked before, it could be neither.
    earlier = selectors.failed_order_for_offer(user, offer)
    if earlier is not None:
        raise EarlierOrderFailed(earlier)
    order = Order.objects.create(
        user=user,
        title=offer.title,
        offer=offer,
        kind=offer.kind,
        price=offer.price,
        currency=offer.currency,
        payment_reference=f"DEMO-{secrets.token_hex(6).upper()}",
        entitlement=entitlement,
    )
    mail_queue(
        user=user,
        kind=MailKind.RECEIPT,
        key=f"receipt:{order.number}",
        context={
            "name": user.get_full_name() or user.get_username(),
            "order_number": order.number,
            "title": offer.title.name,
            "kind": offer.kind,
            "rental_hours": offer.rental_hours or 0,
            "price": str(order.price),
            "currency": order.currency,
            "paid_at": order.created_at.isoformat(),
            "order_url": link(reverse("storefront:order", args=[order.number])),
        },
    )
    return order


@transaction.atomic
def sign_in_link_spend(*, nonce: str, max_age: int) -> None:
    """Spend the presenter's sign-in link that carries `nonce`, so that it signs a browser in once only.

    Raises SignInLinkUsed when it was spent before; of two requests at the same moment, the unique nonce lets
    one through. Spent links older than `max_age` seconds are deleted on the way: their signature has
    expired, so they are refused before their nonce is ever looked at.
    """
    now = timezone.now()
    SpentSignInLink.objects.filter(spent_at__lt=now - timedelta(seconds=max_age)).delete()
    try:
        with transaction.atomic():
            SpentSignInLink.objects.create(nonce=nonce, spent_at=now)
    except IntegrityError as exc:
        raise SignInLinkUsed() from exc


def _digest(kind: str, value: str) -> str:
    return salted_hmac(f"bindery.password-reset.{kind}", value, algorithm="sha256").hexdigest()


@transaction.atomic
def password_reset_admit(*, email: str, client_ip: str) -> bool:
    """Return whether a password-reset mail may go to `email` for a request from `client_ip`, and count it
    when it may.

    At most PASSWORD_RESET_PER_ADDRESS mails to one address and PASSWORD_RESET_PER_CLIENT requests let
    through from one client in PASSWORD_RESET_PERIOD_MINUTES, whether the address has an account or not (so the limit says
    nothing about accounts). A refused request writes nothing, so a flood costs two counts each. Requests
    older than the period are deleted on the way. The database, not the cache: with Redis away the
    throttle still holds.
    """
    now = timezone.now()
    since = now - timedelta(minutes=settings.PASSWORD_RESET_PERIOD_MINUTES)
    PasswordResetRequest.objects.filter(requested_at__lt=since).delete()
    address = _digest("address", email.strip().casefold())
    client = _digest("client", client_ip)
    recent = PasswordResetRequest.objects.filter(requested_at__gte=since)
    if (
        recent.filter(address_digest=address).count() >= settings.PASSWORD_RESET_PER_ADDRESS
        or recent.filter(client_digest=client).count() >= settings.PASSWORD_RESET_PER_CLIENT
    ):
        return False
    PasswordResetRequest.objects.create(address_digest=address, client_digest=client, requested_at=now)
    return True


@dataclass(frozen=True)
class NewTitle:
    name: str
    synopsis: str = ""
    year: int | None = None
    slug: str = ""
    buy: Decimal | None = Decimal("4.99")
    rent: Decimal | None = Decimal("1.99")
    rental_hours: int = 48
    play_hours: int = 3
    poster_at: float | None = None  # seconds into the clip; a third of the way in when None


def title_add(source: Path, new: NewTitle, *, progress: Callable[[str], None] | None = None) -> Title:
    """A person's own clip into the catalogue: transcoded, encrypted with a key of its own (Shaka Packager),
    a poster from one of its frames, and a buy and a rent offer. Raises packaging.PackagingError for a file
    that is not a usable video, ValueError for a slug that is not one or is taken; nothing is kept when any
    of these happens."""
    slug = new.slug or slugify(new.name)[:TITLE_SLUG_MAX_LENGTH] or "title"
    try:
        validate_title_slug(slug)
    except ValidationError as exc:
        raise ValueError(exc.messages[0]) from exc
    if Title.objects.filter(slug=slug).exists() or MediaAsset.objects.filter(slug=slug).exists():
        raise ValueError(f"a title with the slug {slug!r} exists already")
    with tempfile.TemporaryDirectory(prefix="bindery-title-") as work:
        clear = packaging.transcode(Path(source), Path(work) / "clear.mp4")
        poster = packaging.poster_extract(clear, Path(work) / f"{slug}.jpg", at=new.poster_at)
        with poster.open("rb") as image:
            try:
                validate_poster_image(File(image, name=poster.name))
            except ValidationError as exc:
                raise packaging.PackagingError(
                    f"the poster frame is not an image: {exc.messages[0]}"
                ) from exc
        with transaction.atomic():
            asset = binding_services.media_asset_package(
                slug,
                clear,
                name=new.name,
                progress=progress and (lambda what: progress(f"Packaging for {what}…")),
            )
            title = Title(
                slug=slug,
                name=new.name,
                synopsis=new.synopsis,
                year=new.year or timezone.now().year,
                asset=asset,
            )
            with poster.open("rb") as image:
                title.poster_image.save(poster.name, File(image), save=False)
            title.save()
            if new.buy is not None:
                Offer.objects.create(title=title, kind=EntitlementKind.BUY, price=new.buy)
            if new.rent is not None:
                Offer.objects.create(
                    title=title,
                    kind=EntitlementKind.RENT,
                    price=new.rent,
                    rental_hours=new.rental_hours,
                    play_hours=new.play_hours,
                )
    return title
