"""Factories built on the real services: each makes its rows the way the product does, audit events and all.

A test that needs a customer with a device and an order calls these instead of writing the models by hand,
so that what it starts from is a state the product can reach.
"""

from __future__ import annotations

import re
from decimal import Decimal

import responses
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.signing import get_cookie_signer

from binding import services as binding_services
from binding.models import MediaAsset, Registration
from storefront import services as shop_services
from storefront.catalogue_cache import catalogue_changed
from storefront.models import Offer, Order, Title

CHROME_LINUX = "Chrome/156 (X11; Linux x86_64)"


def customer_create(username: str = "jo", **fields):
    """Return a new customer with password "pw" and no e-mail address (so that no mail is queued for them
    unless a test gives them one)."""
    fields.setdefault("password", "pw")
    fields.setdefault("first_name", username.capitalize())
    return get_user_model().objects.create_user(username, **fields)


def device_register(
    *, user, device_id: str, user_agent: str = CHROME_LINUX, device_name: str = "", check: bool = False
) -> Registration:
    """Register a browser of `user` as the device `device_id`; return its `Registration`, bound.

    By default the registration is bound as the record lookup binds it once ExpressPlay's records name the
    device (`registration_create`, then `device_bind`). With `check=True` the browser's whole device check runs
    through the services, as a browser and the worker would: the check starts (its token from the token API),
    the licence is seen, and the record lookup (`device_confirm`) reads the device from the records; the
    token API and the records are stubbed with `responses`. That needs the device-check clip (`check_asset`).
    """
    cookie = binding_services.registration_create(user=user, user_agent=user_agent, device_name=device_name)
    if not check:
        binding_services.device_bind(cookie=cookie, device_id=device_id)
    else:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as expressplay:
            expressplay.post(
                re.compile(r".*/hms/\w+/token$"),
                json={"licenseAcquisitionUrl": "http://127.0.0.1:8000/sandbox/la", "token": "CHECK"},
            )
            expressplay.get(
                re.compile(r".*/cmiapi/getrecord/.*"),
                json=[{"event_id": 1, "cookie": cookie.value, "device_id": device_id, "result": 0}],
            )
            binding_services.registration_check_start(cookie=cookie)
            binding_services.registration_licence_seen(cookie=cookie)
            binding_services.device_confirm(cookie_id=cookie.pk)
    cookie.refresh_from_db()
    return cookie


def browser_remembers(client, cookie_value: str):
    """Give the test client's browser the signed cookie a registration leaves; return the client."""
    client.cookies[settings.BINDING_BROWSER_COOKIE] = get_cookie_signer(
        salt=settings.BINDING_BROWSER_COOKIE
    ).sign(cookie_value)
    return client


def title_create(number: int = 1) -> Title:
    """Return a title on sale, bought at 4.99 or rented at 1.99 (48 hours, 3 hours of play)."""
    asset = MediaAsset.objects.create(
        slug=f"clip-{number}", kid=f"{number:032x}", key="55" * 16, manifest=f"c{number}/m.mpd", duration=6
    )
    title = Title.objects.create(
        slug=f"title-{number}",
        name=f"Title {number}",
        synopsis="…",
        year=2020,
        poster="img/posters/life.jpg",
        asset=asset,
    )
    Offer.objects.create(title=title, kind="buy", price=Decimal("4.99"))
    Offer.objects.create(title=title, kind="rent", price=Decimal("1.99"), rental_hours=48, play_hours=3)
    return title


def title_offer(title: Title, kind: str) -> Offer:
    """Return the title's offer of `kind` ("buy" or "rent")."""
    return title.offers.get(kind=kind)


def titles_bulk_create(start: int, count: int) -> list[Title]:
    """Return `count` titles on sale to buy, made at once (`bulk_create`) for tests of many rows; the
    catalogue is told, as whoever bulk-loads must tell it."""
    assets = MediaAsset.objects.bulk_create(
        MediaAsset(slug=f"bulk-{n}", kid=f"{n:032x}", key="55" * 16, manifest="b/m.mpd", duration=6)
        for n in range(start, start + count)
    )
    titles = Title.objects.bulk_create(
        Title(
            slug=f"bulk-{a.pk}",
            name=f"Bulk {a.pk:06d}",
            synopsis="…",
            year=2020,
            poster="img/posters/life.jpg",
            asset=a,
        )
        for a in assets
    )
    Offer.objects.bulk_create(Offer(title=t, kind="buy", price=Decimal("4.99")) for t in titles)
    catalogue_changed()  # bulk_create sends no post_save
    return titles


def order_fail(order: Order, **fields) -> None:
    """Leave `order` as the worker leaves one whose token ExpressPlay refused (-2019), for an operator to
    retry; `fields` change the entitlement's failure. Written to the row: reaching it through issuing would
    need a refusal stubbed for every test that only needs an order that failed."""
    from binding.models import Entitlement, EntitlementState

    fields = {"state": EntitlementState.FAILED, "error_code": -2019, "error_detail": "refused", **fields}
    Entitlement.objects.filter(pk=order.entitlement_id).update(**fields)


def order_place(*, user, title: Title, kind: str = "buy", registration: Registration | str) -> Order:
    """Place an order for `title` through checkout's service, from the browser of `registration`."""
    value = registration if isinstance(registration, str) else registration.value
    return shop_services.order_place(user=user, offer=title_offer(title, kind), browser_cookie=value)
