"""Mail from the outbox: queued with the change it tells of, sent after commit, once, in the customer's
language, in plain text and HTML; a mail server that refuses delays it, the sweep sends it."""

import smtplib
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import transaction

from accounts import mail as outbox
from accounts.models import MailKind, MailState, OutgoingMail, Profile
from binding import services as binding_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", "alice@example.com", "x", first_name="Alice")


def queue(user, key="receipt:BND-1", **context):
    return outbox.mail_queue(
        user=user,
        kind=MailKind.RECEIPT,
        key=key,
        context={
            "name": "Alice",
            "order_number": "BND-1",
            "title": "Rent A Life in Green",
            "kind": "rent",
            "rental_hours": 48,
            "price": "2.99",
            "currency": "EUR",
            "paid_at": "2026-12-03T09:30:00+00:00",
            "order_url": "http://127.0.0.1:8000/orders/BND-1/",
            **context,
        },
    )


def test_a_mail_is_sent_after_commit_in_text_and_html(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue(alice)
        assert mail.outbox == []  # not before the change commits
    [sent] = mail.outbox
    assert sent.to == ["alice@example.com"] and sent.subject == "Your receipt for Rent A Life in Green"
    assert "BND-1" in sent.body and "Rental for 48 hours" in sent.body and "2.99 EUR" in sent.body
    html, media_type = sent.alternatives[0]
    assert media_type == "text/html" and "<table" in html and "Rent A Life in Green" in html
    row = OutgoingMail.objects.get()
    assert row.state == MailState.SENT and row.sent_at and row.subject == sent.subject and row.attempts == 1


def test_a_rolled_back_change_sends_nothing(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        queue(alice)
        raise RuntimeError("the order failed")
    assert mail.outbox == [] and not OutgoingMail.objects.exists()


def test_one_event_makes_one_mail_however_often_it_is_recorded_or_sent(
    alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = queue(alice)
        assert queue(alice) is None  # the same event again
    assert outbox.mail_send(first.pk) == "not-due"  # a second copy of the message
    assert len(mail.outbox) == 1 and OutgoingMail.objects.count() == 1


def test_the_mail_is_in_the_customers_language(alice, django_capture_on_commit_callbacks):
    Profile.objects.create(user=alice, language="es")
    with django_capture_on_commit_callbacks(execute=True):
        queue(alice)
    [sent] = mail.outbox
    assert sent.subject == "Su recibo de Rent A Life in Green"
    assert "Alquiler durante 48 horas" in sent.body


def test_a_customer_without_an_address_gets_no_mail():
    nobody = get_user_model().objects.create_user("api-1-abc")
    assert queue(nobody) is None and not OutgoingMail.objects.exists()


def test_a_refusing_mail_server_delays_the_mail_and_the_sweep_sends_it(
    alice, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        queue(alice)
    row = OutgoingMail.objects.get()
    assert row.state == MailState.PENDING and "SMTPServerDisconnected" in row.error and mail.outbox == []
    monkeypatch.undo()  # the mail server is back
    from accounts import tasks

    monkeypatch.setattr(tasks.mail_send, "apply_async", lambda args, **options: outbox.mail_send(args[0]))
    assert outbox.mails_sweep() == 0  # not due yet: its backoff
    OutgoingMail.objects.update(next_attempt_at=row.next_attempt_at - timedelta(minutes=5))
    assert outbox.mails_sweep() == 1
    assert len(mail.outbox) == 1 and OutgoingMail.objects.get().state == MailState.SENT


def test_after_the_last_attempt_the_mail_is_given_up_and_kept(alice, monkeypatch, settings):
    settings.MAIL_MAX_ATTEMPTS = 1
    monkeypatch.setattr(
        "django.core.mail.EmailMessage.send", lambda *a, **k: (_ for _ in ()).throw(OSError("refused"))
    )
    row = queue(alice)
    assert outbox.mail_send(row.pk) == "given-up"
    assert OutgoingMail.objects.get().state == MailState.FAILED


def test_a_new_device_on_the_account_is_told_with_a_link_to_remove_it(
    alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        cookie = binding_services.registration_create(
            user=alice, user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/156"
        )
        binding_services.device_bind(cookie=cookie, device_id="ab" * 16)
    [sent] = mail.outbox
    assert sent.subject.startswith("A new device was registered on your account: ")
    assert "/devices/" in sent.body and "remove the device" in sent.body
    # The same device registered again from another browser profile: not new to the account, no second mail.
    with django_capture_on_commit_callbacks(execute=True):
        again = binding_services.registration_create(user=alice, user_agent="Chrome")
        binding_services.device_bind(cookie=again, device_id="ab" * 16)
    assert len(mail.outbox) == 1


def test_the_reset_mails_link_is_a_credential_that_is_not_kept_once_sent(
    alice, client, settings, django_capture_on_commit_callbacks
):
    settings.BINDERY_PUBLIC_URL = "http://bindery.test"
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            "/accounts/password_reset/", {"email": "alice@example.com"}, HTTP_HOST="localhost"
        )
    assert answer.status_code == 302
    [sent] = mail.outbox
    # The link is Bindery's own address, never the Host the request came with.
    assert "http://bindery.test/accounts/reset/" in sent.body and "localhost" not in sent.body
    row = OutgoingMail.objects.get(kind=MailKind.PASSWORD_RESET)
    assert row.state == MailState.SENT and row.context == {}


def test_a_reset_link_that_could_not_be_sent_is_not_kept_either(alice, monkeypatch, settings):
    settings.MAIL_MAX_ATTEMPTS = 1
    monkeypatch.setattr(
        "django.core.mail.EmailMessage.send", lambda *a, **k: (_ for _ in ()).throw(OSError("x"))
    )
    row = outbox.mail_queue(
        user=alice,
        kind=MailKind.PASSWORD_RESET,
        key="password_reset:1",
        context={
            "name": "Alice",
            "username": "alice",
            "reset_url": "http://127.0.0.1:8000/accounts/reset/x/y/",
        },
    )
    assert outbox.mail_send(row.pk) == "given-up"
    given_up = OutgoingMail.objects.get()
    assert given_up.state == MailState.FAILED and given_up.context == {}
