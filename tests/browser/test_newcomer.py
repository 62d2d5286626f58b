"""A newcomer's first visit in Chromium: sign up, register this browser, and rent; the new-device notice and
the receipt arrive in the presenter's Outbox, sent by the Celery worker through Django's e-mail framework."""

import pytest
from django.contrib.auth import get_user_model

from accounts.models import MailState, OutgoingMail
from storefront.demo_data import demo_users_load, titles_load

from .conftest import sign_in, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.worker_mail]


def test_a_newcomer_signs_up_registers_rents_and_the_mails_reach_the_outbox(
    bindery, browser_profile, live_server, settings
):
    settings.BINDERY_PUBLIC_URL = live_server.url
    titles_load()
    users = {user.username: user for user in demo_users_load()}
    page = browser_profile("newcomer").new_page()
    page.goto("/titles/life/")
    page.get_by_role("link", name="Sign up").first.click()
    page.fill("#id_username", "nadia")
    page.fill("#id_email", "nadia@example.com")
    page.fill("#id_password1", "kite-Orchard-47-lantern")
    page.fill("#id_password2", "kite-Orchard-47-lantern")
    page.select_option("#id_language", "en")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url("**/devices/register/**")
    assert "Welcome to Bindery" in page.inner_text("body")
    page.get_by_test_id("start-check").click()
    page.wait_for_selector("#check[data-registration=bound]", timeout=30000)
    page.click("#continue")
    page.wait_for_url("**/titles/life/**")

    page.get_by_test_id("offer-rent").get_by_role("link").click()
    page.fill("#id_cardholder", "Nadia Newcomer")  # no name on the account yet: she types the card's
    page.get_by_test_id("pay").click()
    page.wait_for_selector("#order[data-state=ready]", timeout=30000)
    nadia = get_user_model().objects.get(username="nadia")
    mails = OutgoingMail.objects.filter(user=nadia)

    # The presenter sees both mails arrive.
    presenter = browser_profile("presenter")
    sign_in(presenter, users["operator"], live_server)
    outbox = presenter.new_page()
    outbox.goto("/presenter/")
    wait_until(
        outbox,
        "document.getElementById('outbox').innerText.includes('Your receipt for')"
        " && document.getElementById('outbox').innerText.includes('A new device was registered')",
        timeout=20,
    )
    text = outbox.inner_text("#outbox")
    assert "nadia@example.com" in text
    assert sorted(mails.values_list("kind", "state")) == [
        ("new_device", MailState.SENT),
        ("receipt", MailState.SENT),
    ]
    outbox.get_by_text("Your receipt for").first.click()  # open it: its text is there
    assert "Rental for 48 hours" in outbox.inner_text("#outbox")
