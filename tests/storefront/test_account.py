"""The customer's account: sign-up, sign-in by address, the account page, the order history, the receipt, the
language that mail follows, and the presenter's Outbox."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import OutgoingMail, Profile
from storefront import services
from tests.toolkit import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued_tasks")]

STRONG = "kite-Orchard-47-lantern"


def sign_up(client, **fields):
    data = {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "password1": STRONG,
        "password2": STRONG,
        "language": "es",
        **fields,
    }
    return client.post("/accounts/signup/", data)


def test_a_newcomer_signs_up_is_signed_in_and_goes_on_to_register_this_browser(client):
    page = client.get("/accounts/signup/")
    assert page.status_code == 200 and b'name="password1"' in page.content
    answer = sign_up(client, next="/titles/life/")
    assert answer.status_code == 302 and answer["Location"] == "/devices/register/?next=%2Ftitles%2Flife%2F"
    user = get_user_model().objects.get(username="newcomer")
    assert user.email == "newcomer@example.com" and Profile.objects.get(user=user).language == "es"
    assert answer.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert client.get("/account/").status_code == 200  # signed in


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"password1": "password", "password2": "password"}, "too common"),
        ({"password2": "something-else-99"}, "didn"),
        ({"email": "not-an-address"}, "valid email"),
    ],
)
def test_sign_up_refuses_weak_passwords_and_bad_fields_in_words(client, fields, error):
    answer = sign_up(client, language="en", **fields)
    assert answer.status_code == 200 and error in answer.content.decode()
    assert not get_user_model().objects.filter(username="newcomer").exists()


def test_an_address_can_have_one_account(client):
    get_user_model().objects.create_user("first", "Newcomer@Example.com", "x")
    answer = sign_up(client, language="en")
    assert "exists already" in answer.content.decode()


def test_a_customer_signs_in_with_their_address_or_their_username(client):
    get_user_model().objects.create_user("kim", "kim@example.com", STRONG)

    def sign_in(username, password):
        client.post("/accounts/login/", {"username": username, "password": password})
        signed_in = client.get("/account/").status_code == 200
        client.post("/accounts/logout/")
        return signed_in

    assert (
        sign_in("kim@example.com", STRONG) and sign_in("KIM@example.com", STRONG) and sign_in("kim", STRONG)
    )
    assert not sign_in("kim@example.com", "wrong")


def test_sign_in_links_to_the_password_reset_and_to_sign_up(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password_reset/"' in page and 'href="/accounts/signup/' in page
    reset = client.get("/accounts/password_reset/").content.decode()
    assert "Django administration" not in reset and "Forgot your password?" in reset


def test_the_account_page_changes_the_address_and_the_language_mail_follows(browser, user):
    page = browser.get("/account/")
    assert (
        page.status_code == 200
        and f"1 of {settings.BINDING_DEVICE_LIMIT} devices registered" in page.content.decode()
    )
    browser.post("/account/", {"form": "email", "email": "jo@example.com"})
    user.refresh_from_db()
    assert user.email == "jo@example.com"
    answer = browser.post("/account/", {"form": "language", "language": "es"})
    assert answer.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert Profile.objects.get(user=user).language == "es"
    # The header's switch remembers the choice for mail too.
    browser.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert Profile.objects.get(user=user).language == "en"


def test_the_order_history_pages_with_constant_queries(browser, user, registered):
    titles = [factories.title_create(n) for n in range(25)]
    services.order_place(user=user, offer=titles[0].offers.get(kind="rent"), browser_cookie=registered)
    with CaptureQueriesContext(connection) as one:
        assert browser.get("/orders/").status_code == 200
    for title in titles[1:]:
        services.order_place(user=user, offer=title.offers.get(kind="buy"), browser_cookie=registered)
    with CaptureQueriesContext(connection) as many:
        first = browser.get("/orders/")
    assert len(many) == len(one)
    page = first.content.decode()
    assert page.count('href="/orders/BND-') == 20 and "Page 1 of 2" in page
    assert browser.get("/orders/?page=2").content.decode().count('href="/orders/BND-') == 5


def test_a_paid_order_sends_one_receipt_after_commit(user, registered, django_capture_on_commit_callbacks):
    user.email = "jo@example.com"
    user.save()
    title = factories.title_create(1)
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_place(
            user=user, offer=title.offers.get(kind="rent"), browser_cookie=registered
        )
    [receipt] = mail.outbox
    assert receipt.subject == "Your receipt for Title 1" and order.number in receipt.body
    assert "1.99" in receipt.body and "Rental for 48 hours" in receipt.body
    assert OutgoingMail.objects.get().key == f"receipt:{order.number}"


def test_the_presenter_outbox_shows_the_mails_sent(
    admin_client, user, registered, django_capture_on_commit_callbacks
):
    user.email = "jo@example.com"
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_place(
            user=user, offer=factories.title_create(1).offers.get(kind="buy"), browser_cookie=registered
        )
    page = admin_client.get("/presenter/").content.decode()
    assert "Outbox" in page and "Your receipt for Title 1" in page and "jo@example.com" in page
    polled = admin_client.get("/presenter/events/").json()
    assert polled["outbox"][0]["subject"] == "Your receipt for Title 1"
