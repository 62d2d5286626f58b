"""The shop's pages: checkout needs this browser's device, one order per checkout, pages with fixed query
counts."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from binding import services as binding_services
from binding.exceptions import BindingError
from binding.models import Entitlement, EntitlementKind, EntitlementState
from storefront import services
from storefront.models import Offer, Order, Title
from tests.toolkit import factories
from tests.toolkit.broker import ENTITLEMENT_ISSUE
from tests.toolkit.factories import title_create, title_offer, titles_bulk_create

# Every test collects what is queued (`queued_tasks`, tests/toolkit): none reaches a broker.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued_tasks")]


def test_the_title_page_offers_the_failed_orders_page_instead_of_renting_again(
    browser, user, title, registered
):
    rental = services.order_place(user=user, offer=title_offer(title, "rent"), browser_cookie=registered)
    factories.order_fail(rental)
    page = browser.get(reverse("storefront:title", args=[title.slug])).content.decode()
    assert f"Your order {rental.number} has not gone through yet:" in page
    assert "The licence service refused to issue your licence." in page
    assert reverse("storefront:order", args=[rental.number]) in page
    assert reverse("storefront:checkout", args=[title_offer(title, "rent").pk]) not in page
    assert (
        reverse("storefront:checkout", args=[title_offer(title, "buy").pk]) in page
    )  # buying is another purchase
    page = browser.get(
        reverse("storefront:title", args=[title.slug]), HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert f"Tu pedido {rental.number} aún no se ha completado:" in page


def test_a_refusal_that_is_not_about_the_device_reaches_the_customer_as_itself(browser, title, monkeypatch):
    # One exception family: checkout no longer turns every binding refusal into "register this browser".
    def refuse(**kwargs):
        raise BindingError("Refused for a reason of its own.")

    monkeypatch.setattr(binding_services, "entitlement_create", refuse)
    checkout = reverse("storefront:checkout", args=[title_offer(title, "rent").pk])
    response = browser.post(checkout, {"cardholder": "Jo", "card_number": "4242424242424242"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("storefront:title", args=[title.slug])
    assert [str(m) for m in response.context["messages"]] == ["Refused for a reason of its own."]
    assert not Order.objects.exists()


def test_checkout_of_a_failed_order_goes_to_that_order_and_takes_no_second_payment(
    browser, user, title, registered, queued_tasks
):
    rental = services.order_place(user=user, offer=title_offer(title, "rent"), browser_cookie=registered)
    factories.order_fail(rental)
    checkout = reverse("storefront:checkout", args=[title_offer(title, "rent").pk])
    order_page = reverse("storefront:order", args=[rental.number])
    assert browser.get(checkout)["Location"] == order_page
    response = browser.post(checkout, {"cardholder": "Jo", "card_number": "4242424242424242"}, follow=True)
    assert response.redirect_chain == [(order_page, 302)]
    page = response.content.decode()
    assert (
        f"Your order {rental.number} of this title has not gone through yet, so we take no second payment."
        in page
    )
    assert "our support team has been told" in page  # what happens next, and true (the admin flags it)
    assert list(Order.objects.all()) == [rental]


# --- pages ---------------------------------------------------------------------------------------------------------


def test_catalogue_and_title_page_show_offers(client, title):
    home = client.get("/").content.decode()
    assert "Title 1" in home and "4.99 €" in home and "1.99 €" in home
    page = client.get(reverse("storefront:title", args=[title.slug])).content.decode()
    assert "Watch within 48 hours." in page and "you have 3 hours to finish" in page


def test_checkout_without_registered_device_redirects_to_registration_and_back(client, user, title):
    client.force_login(user)
    checkout = reverse("storefront:checkout", args=[title_offer(title, "rent").pk])
    response = client.get(checkout)
    assert response.status_code == 302
    assert (
        response["Location"]
        == f"{reverse('binding:register')}?next=%2Fcheckout%2F{title_offer(title, 'rent').pk}%2F"
    )


def test_checkout_shows_the_demo_payment_and_the_device(browser, title):
    page = browser.get(reverse("storefront:checkout", args=[title_offer(title, "buy").pk])).content.decode()
    assert "Demo payment" in page and "4242 4242 4242 4242" in page
    assert "Will play on: Chrome on Linux (this browser)" in page


def test_checkout_refuses_a_real_looking_card_and_places_nothing(browser, title):
    response = browser.post(
        reverse("storefront:checkout", args=[title_offer(title, "buy").pk]),
        {"cardholder": "Jo", "card_number": "5555 4444 3333 1111"},
    )
    assert "takes no real cards" in response.content.decode()
    assert not Order.objects.exists()


def test_checkout_places_one_order_and_goes_to_its_page(browser, title, queued_tasks):
    response = browser.post(
        reverse("storefront:checkout", args=[title_offer(title, "buy").pk]),
        {"cardholder": "Jo", "card_number": "4242424242424242"},
    )
    order = Order.objects.get()
    assert response["Location"] == reverse("storefront:order", args=[order.number])
    page = browser.get(response["Location"]).content.decode()
    assert "Looking up your device" in page and "Issuing your licence" in page
    assert order.entitlement.asset.key not in page


def test_checkout_needs_csrf(user, title, registered):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(
        reverse("storefront:checkout", args=[title_offer(title, "buy").pk]), {"cardholder": "x"}
    )
    assert response.status_code in (302, 403)
    assert not Order.objects.exists()


def test_status_json_reports_progress_and_failure_in_words(browser, user, title, registered):
    order = services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie=registered)
    url = reverse("storefront:entitlement-status", args=[order.entitlement_id])
    assert browser.get(url).json()["message"] == "Your order is confirmed. Preparing your licence…"
    Entitlement.objects.filter(pk=order.entitlement_id).update(
        state="failed", error_code=-2018, error_detail="x"
    )
    failed = browser.get(url).json()
    assert failed["done"] and not failed["ok"]
    assert failed["message"] == "The licence service refused to issue your licence."
    assert "support team" in failed["next"]
    assert "-2018" not in str(failed)  # the code is for operators
    assert "licenseUrl" not in failed


def test_another_users_order_and_player_are_not_found(browser, title):
    other = get_user_model().objects.create_user("kim", password="x")
    cookie = binding_services.registration_create(user=other)
    binding_services.device_bind(cookie=cookie, device_id="d4" * 16)
    order = services.order_place(user=other, offer=title_offer(title, "buy"), browser_cookie=cookie.value)
    for url in (
        reverse("storefront:order", args=[order.number]),
        reverse("storefront:play", args=[order.entitlement_id]),
        reverse("storefront:entitlement-status", args=[order.entitlement_id]),
    ):
        assert browser.get(url).status_code == 404


def test_play_renews_an_expired_purchase_token(
    browser, user, title, registered, queued_tasks, django_capture_on_commit_callbacks
):
    order = services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie=registered)
    queued_tasks.clear()
    Entitlement.objects.filter(pk=order.entitlement_id).update(
        state="ready",
        tokens_issued=1,
        token_expires_at=timezone.now() - timedelta(hours=1),
        license_url="http://x/old",
        device=user.devices.get(),
    )
    page = browser.get(reverse("storefront:play", args=[order.entitlement_id]))
    assert page.status_code == 200
    assert 'data-renew="true"' in page.content.decode()
    assert (
        queued_tasks == []
        and Entitlement.objects.get(pk=order.entitlement_id).state == EntitlementState.READY
    )
    assert "http://x/old" not in page.content.decode()
    # The page asks for the renewal with a POST; the GET changed nothing.
    with django_capture_on_commit_callbacks(execute=True):
        status = browser.post(reverse("storefront:renew", args=[order.entitlement_id])).json()
    assert status["state"] == "pending" and status["renew"] is False
    assert queued_tasks.ids(ENTITLEMENT_ISSUE) == [order.entitlement_id]
    assert Entitlement.objects.get(pk=order.entitlement_id).state == EntitlementState.PENDING


def test_expired_rental_shows_as_ended_and_does_not_play(browser, user, title, registered):
    order = services.order_place(user=user, offer=title_offer(title, "rent"), browser_cookie=registered)
    Entitlement.objects.filter(pk=order.entitlement_id).update(
        state="ready",
        tokens_issued=1,
        license_url="http://x/la",
        rental_ends_at=timezone.now() - timedelta(minutes=1),
        token_expires_at=timezone.now() - timedelta(minutes=1),
    )
    library = browser.get(reverse("storefront:library")).content.decode()
    assert "Rental ended" in library and "Rent again" in library
    status = browser.get(reverse("storefront:entitlement-status", args=[order.entitlement_id])).json()
    assert status["state"] == "expired" and status["message"] == "This rental has ended."
    assert "licenseUrl" not in status


def test_the_player_says_how_much_viewing_time_is_left_once_play_has_started(
    browser, user, title, registered
):
    order = services.order_place(user=user, offer=title_offer(title, "rent"), browser_cookie=registered)
    Entitlement.objects.filter(pk=order.entitlement_id).update(
        state="ready",
        tokens_issued=1,
        license_url="http://x/la",
        token_expires_at=timezone.now() + timedelta(hours=1),
        first_played_at=timezone.now() - timedelta(hours=1),
        play_duration=3 * 3600,
        device=Entitlement.objects.get(pk=order.entitlement_id).cookie.device,
    )
    page = browser.get(reverse("storefront:play", args=[order.entitlement_id])).content.decode()
    assert "Rental ends in" in page and "1 h 59 min of viewing time left." in page
    Entitlement.objects.filter(pk=order.entitlement_id).update(
        first_played_at=timezone.now() - timedelta(hours=4)
    )
    page = browser.get(reverse("storefront:play", args=[order.entitlement_id])).content.decode()
    assert "Viewing time used up." in page


def test_library_in_spanish(browser, user, title, registered):
    services.order_place(user=user, offer=title_offer(title, "rent"), browser_cookie=registered)
    page = browser.get(reverse("storefront:library"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Mi biblioteca" in page and "Alquiler" in page


# --- query counts ----------------------------------------------------------------------------------------------


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("page", ["catalogue", "library", "order"])
def test_pages_need_the_same_number_of_queries_for_10_and_200_rows(browser, user, registered, page):
    counts = []
    for total in (10, 200):
        for number in range(Title.objects.count(), total):
            title = title_create(number + 1)
            if page != "catalogue":
                entitlement = Entitlement.objects.create(
                    user=user, asset=title.asset, kind=EntitlementKind.BUY, state="ready"
                )
                Order.objects.create(
                    user=user,
                    title=title,
                    offer=title_offer(title, "buy"),
                    kind="buy",
                    price=1,
                    currency="EUR",
                    payment_reference="DEMO",
                    entitlement=entitlement,
                )
        url = {
            "catalogue": "/",
            "library": reverse("storefront:library"),
            "order": reverse("storefront:order", args=[Order.objects.order_by("?").first().number])
            if page == "order"
            else "",
        }[page]
        counts.append(queries_for(browser, url))
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("page", ["catalogue", "library"])
def test_catalogue_and_library_cost_the_same_for_10_and_10000_rows_and_show_one_page(browser, user, page):
    counts, shown = [], []
    for total in (10, 10_000):
        titles = titles_bulk_create(10**6 + Title.objects.count(), total - Title.objects.count())
        if page == "library":
            entitlements = Entitlement.objects.bulk_create(
                Entitlement(user=user, asset=t.asset, kind=EntitlementKind.BUY, state="ready") for t in titles
            )
            offers = {o.title_id: o for o in Offer.objects.filter(title__in=titles)}
            Order.objects.bulk_create(
                Order(
                    user=user,
                    title=t,
                    offer=offers[t.pk],
                    kind="buy",
                    price=1,
                    currency="EUR",
                    payment_reference="DEMO",
                    entitlement=e,
                    number=f"BULK{e.pk:08d}",
                )
                for t, e in zip(titles, entitlements, strict=True)
            )
        url = "/" if page == "catalogue" else reverse("storefront:library")
        counts.append(queries_for(browser, url + "?page=2"))
        body = browser.get(url + "?page=2").content.decode()
        shown.append(body.count('class="tile"') + body.count('data-testid="entry"'))
    assert counts[0] == counts[1], counts
    per_page = 24 if page == "catalogue" else 20
    assert shown == [10, per_page]  # 10 rows fit on one page; of 10 000, page 2 shows one page's worth


@pytest.mark.parametrize(("sent", "kept"), [("-4905", -4905), ("4905", None), ("-4905\n", None), ("x", None)])
def test_the_player_reports_a_refusal_which_goes_on_record(browser, user, title, registered, sent, kept):
    from binding.models import BindingEvent, EventKind

    order = services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie=registered)
    url = reverse("storefront:refused", args=[order.entitlement_id])
    assert browser.get(url).status_code == 405
    answer = browser.post(url, {"code": sent})
    assert answer.status_code == 200 and answer.json() == {"reissuing": False}  # pending: nothing to look up
    event = BindingEvent.objects.get(kind=EventKind.LICENCE_REFUSED)
    assert event.expressplay_code == kept and event.actor_user == user
    assert event.reporting_device.device_id == "c3" * 16  # the device this browser registered as


def test_a_refusal_cannot_be_reported_for_someone_elses_title(browser, title):
    other = get_user_model().objects.create_user("mo")
    cookie = binding_services.registration_create(user=other, user_agent="Firefox")
    binding_services.device_bind(cookie=cookie, device_id="d4" * 16)
    order = services.order_place(user=other, offer=title_offer(title, "buy"), browser_cookie=cookie.value)
    assert (
        browser.post(
            reverse("storefront:refused", args=[order.entitlement_id]), {"code": "-4905"}
        ).status_code
        == 404
    )


def test_the_play_page_words_the_refusal_for_what_the_customer_can_do(browser, user, title, registered):
    from binding.models import Device

    order = services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie=registered)
    bound = Device.objects.get(user=user)
    Entitlement.objects.filter(pk=order.entitlement_id).update(state="ready", device=bound)
    url = reverse("storefront:play", args=[order.entitlement_id])
    # This browser is the bound device itself: nothing to move; register again.
    page = browser.get(url)
    assert page.context["move"]["allowed"] is False
    assert "Register this browser again" in page.context["player_messages"]["-4905"]
    # Another registered browser of the customer: the move is offered, with the changes left.
    other = binding_services.registration_create(user=user, user_agent="Firefox/140 (Windows NT 10.0)")
    binding_services.device_bind(cookie=other, device_id="f6" * 16)
    from django.core.signing import get_cookie_signer

    browser.cookies[settings.BINDING_BROWSER_COOKIE] = get_cookie_signer(
        salt=settings.BINDING_BROWSER_COOKIE
    ).sign(other.value)
    page = browser.get(url)
    assert page.context["move"]["allowed"] is True and 'data-testid="move-here"' in page.content.decode()
    assert f"stops playing on “{bound.label}”" in page.context["move"]["message"]


def test_an_entitlement_is_named_by_its_title_wherever_binding_shows_it(user, title, registered):
    order = services.order_place(user=user, offer=title_offer(title, "rent"), browser_cookie=registered)
    assert str(order.entitlement) == "Rent Title 1 (jo)"  # not the media's code
    title.name = "Renamed"
    title.save()
    assert str(Entitlement.objects.get(pk=order.entitlement_id)) == "Rent Renamed (jo)"
