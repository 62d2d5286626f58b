"""The database going away: a 503 with Retry-After and a page (or, under /api/, a problem), one warning in the
log, never a 500. The outage is simulated on the connection, so these run alike on SQLite and PostgreSQL."""

import logging

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.urls import reverse

from binding.models import Entitlement
from storefront import selectors
from storefront.middleware import RETRY_AFTER
from storefront.models import Order
from tests.toolkit.factories import title_create, title_offer

pytestmark = pytest.mark.django_db

PAYMENT = {"cardholder": "Jo", "card_number": "4242424242424242"}


@pytest.fixture
def database_away(monkeypatch):
    """Call it to make every use of the database fail from then on, as when its server is stopped: a kept
    connection or a new one alike (every query goes through ensure_connection). Undone before the test
    database is torn down."""

    def away(error=OperationalError):
        def refuse():
            raise error('connection to server at "db.internal", port 5432 failed: Connection refused')

        monkeypatch.setattr(connection, "ensure_connection", refuse)

    return away


def logged(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_a_checkout_while_the_database_is_away_answers_503_with_a_page(
    browser, database_away, caplog, queued_tasks
):
    title = title_create(1)
    checkout = reverse("storefront:checkout", args=[title_offer(title, "rent").pk])
    caplog.clear()  # the setup's own lines (the test has no Redis for the catalogue cache, say)
    database_away()
    response = browser.post(checkout, PAYMENT)
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER)
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "The shop is briefly unavailable." in page
    assert f"Please try again in {RETRY_AFTER} seconds." in page
    assert "an order is recorded together with its payment, or not at all" in page
    assert "Traceback" not in page and "Connection refused" not in page
    [warning] = logged(caplog)
    assert warning.levelname == "WARNING" and warning.name == "django.request"
    assert warning.exc_info[0] is OperationalError
    assert queued_tasks == []


def test_the_page_is_in_the_customers_language(browser, database_away):
    title = title_create(1)
    database_away()
    response = browser.get(reverse("storefront:title", args=[title.slug]), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 503
    assert "La tienda no está disponible por unos instantes." in response.content.decode()


def test_the_database_going_away_mid_checkout_leaves_no_order_and_no_payment(
    browser, monkeypatch, caplog, queued_tasks, django_capture_on_commit_callbacks
):
    """What the page says: an order is recorded with its payment, or not at all (order_place is one
    transaction). Here the connection dies after the entitlement was written, as the order is."""
    title = title_create(1)

    def lost(**fields):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(Order.objects, "create", lost)
    caplog.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(reverse("storefront:checkout", args=[title_offer(title, "buy").pk]), PAYMENT)
    assert response.status_code == 503
    assert not Entitlement.objects.exists() and queued_tasks == []
    monkeypatch.undo()
    assert not Order.objects.exists()
    assert len(logged(caplog)) == 1


def test_an_api_call_while_the_database_is_away_answers_a_503_problem(client, database_away, caplog):
    database_away(InterfaceError)  # a kept connection found closed
    response = client.get("/api/v1/titles/", HTTP_AUTHORIZATION="Api-Key abcdefgh.0123456789")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == str(RETRY_AFTER)
    assert response.json() == {
        "type": "https://bindery.example/problems/database-unavailable",
        "title": "Service unavailable",
        "status": 503,
        "detail": "Bindery is briefly unavailable. Please try again shortly.",
    }
    [warning] = logged(caplog)
    assert warning.levelname == "WARNING" and warning.exc_info[0] is InterfaceError


def test_any_other_error_is_still_a_500(client, monkeypatch, caplog):
    def broken(slug):
        raise ValueError("a bug")

    monkeypatch.setattr(selectors, "title_detail", broken)
    client.raise_request_exception = False
    response = client.get(reverse("storefront:title", args=["any"]))
    assert response.status_code == 500
    assert [record.levelname for record in logged(caplog)] == ["ERROR"]
