"""A newcomer's first visit in Chromium: sign up, register this browser, and rent; the new-device notice and
the receipt arrive in the presenter's Outbox, sent by the Celery worker through Django's e-mail framework."""

import pytest
from django.contrib.auth import get_user_model

from accounts.models import MailState, OutgoingMail
from storefront.demo_data import demo_users_load, titles_load
from tests.toolkit.browser import sign_in, wait_until

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


def test_sign_up_works_by_keyboard_alone_on_a_phone(bindery, browser_profile):
    """At 390 px, with the keyboard only: the first field has the focus, Tab reaches each field in order (past
    any link in the help texts), and Enter creates the account."""
    page = browser_profile("phone").new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/signup/")
    assert page.evaluate("document.activeElement.id") == "id_username"
    page.keyboard.type("kofi")

    def tab_to(field: str) -> None:
        for _ in range(8):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == field:
                return
        raise AssertionError(f"Tab never reached #{field}")

    for field, text in (
        ("id_email", "kofi@example.com"),
        ("id_password1", "kite-Orchard-47-lantern"),
        ("id_password2", "kite-Orchard-47-lantern"),
    ):
        tab_to(field)
        page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_url("**/devices/register/**")
    assert get_user_model().objects.filter(username="kofi", email="kofi@example.com").exists()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
