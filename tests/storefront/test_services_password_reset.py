"""Password-reset mails are throttled per address and per client; a throttled request gets the same answer
as one let through, and no mail."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from storefront.models import PasswordResetRequest

pytestmark = pytest.mark.django_db

RESET = "/accounts/password_reset/"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.PASSWORD_RESET_PER_ADDRESS = 3
    settings.PASSWORD_RESET_PER_CLIENT = 5
    settings.PASSWORD_RESET_PERIOD_MINUTES = 60
    return settings


def ask(client, email: str, ip: str = "198.51.100.1"):
    with TestCase.captureOnCommitCallbacks(execute=True):  # the mail leaves the outbox once the page commits
        return client.post(RESET, {"email": email}, REMOTE_ADDR=ip)


def test_the_reset_page_is_ours_and_still_mails_a_link(client):
    get_user_model().objects.create_user("alice", "alice@example.com", "x")
    assert reverse("password_reset") == RESET and client.get(RESET).status_code == 200
    answer = ask(client, "alice@example.com")
    assert answer.status_code == 302 and answer["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.com"]


def test_one_address_gets_at_most_the_limit_of_mails_whatever_the_clients(client):
    get_user_model().objects.create_user("alice", "alice@example.com", "x")
    answers = [
        ask(client, email, ip=f"198.51.100.{n}")
        for n, email in enumerate(["alice@example.com"] * 3 + ["ALICE@example.com "] * 3)
    ]
    assert len(mail.outbox) == 3
    # Throttled or not, the same answer: it says nothing of the throttle.
    assert {(answer.status_code, answer["Location"]) for answer in answers} == {
        (302, reverse("password_reset_done"))
    }


def test_one_client_gets_at_most_the_limit_of_requests_whatever_the_addresses(client):
    for n in range(8):
        get_user_model().objects.create_user(f"user{n}", f"user{n}@example.com", "x")
    for n in range(8):
        ask(client, f"user{n}@example.com", ip="203.0.113.9")
    assert len(mail.outbox) == 5
    ask(client, "user7@example.com", ip="203.0.113.10")  # another client is not held back
    assert len(mail.outbox) == 6


def test_addresses_without_an_account_count_too_so_the_limit_tells_nothing(client):
    get_user_model().objects.create_user("alice", "alice@example.com", "x")
    for n in range(5):
        ask(client, f"nobody{n}@example.com", ip="203.0.113.9")
    assert len(mail.outbox) == 0
    ask(client, "alice@example.com", ip="203.0.113.9")
    assert len(mail.outbox) == 0


def test_after_the_period_mails_go_again_and_old_requests_are_gone(client):
    get_user_model().objects.create_user("alice", "alice@example.com", "x")
    for _ in range(4):
        ask(client, "alice@example.com")
    assert len(mail.outbox) == 3
    PasswordResetRequest.objects.update(
        requested_at=PasswordResetRequest.objects.first().requested_at - timedelta(minutes=61)
    )
    ask(client, "alice@example.com")
    assert len(mail.outbox) == 4 and PasswordResetRequest.objects.count() == 1


def test_nothing_of_the_address_or_the_client_is_kept_in_the_clear(client):
    get_user_model().objects.create_user("alice", "alice@example.com", "x")
    ask(client, "alice@example.com", ip="198.51.100.77")
    row = PasswordResetRequest.objects.get()
    assert "alice" not in row.address_digest and "198.51" not in row.client_digest


def test_behind_the_proxy_the_client_is_the_proxys_last_address(client, settings):
    settings.BEHIND_HTTPS_PROXY = True
    for n in range(6):
        get_user_model().objects.create_user(f"user{n}", f"user{n}@example.com", "x")
    with TestCase.captureOnCommitCallbacks(execute=True):
        for n in range(5):
            client.post(
                RESET,
                {"email": f"user{n}@example.com"},
                REMOTE_ADDR="10.0.0.1",
                HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.66",
            )
    assert len(mail.outbox) == 5
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(
            RESET,
            {"email": "user5@example.com"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.66",
        )
    assert len(mail.outbox) == 5  # a forged first hop is not a new client
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(
            RESET, {"email": "user5@example.com"}, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7"
        )
    assert len(mail.outbox) == 6
