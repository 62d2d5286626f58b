"""SEES compatibility: an integration written for Adobe's SEES registers a device and gets a device-bound
token from Bindery, over real HTTP, with the worker and the sandbox doing the lookup and the token."""

import pytest
import requests

from api.models import Client, ClientAPIKey, ClientTitle
from tests.toolkit.sandbox import play

pytestmark = pytest.mark.integration


@pytest.fixture
def sees(bindery, media, live_server):
    client = Client.objects.create(name="SEES integration")
    _key, secret = ClientAPIKey.objects.create_key(name="sees", client=client)
    ClientTitle.objects.create(client=client, content_id="urn:content:life", asset=media["life"])
    session = requests.Session()
    session.headers["Authorization"] = f"Api-Key {secret}"

    def ask(path="/api/sees/entitlement", **fields):
        body = {"messageID": "m-1", "version": 1, "contentID": "urn:content:life", **fields}
        answer = session.post(f"{live_server.url}{path}", json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()

    ask.headers = dict(session.headers)
    return ask


def test_a_sees_client_registers_a_device_then_gets_a_token_only_that_device_can_use(
    sees, media, device, other_device
):
    registration = sees(messageID="r-1", requestType=2, customerCookie="sees-cookie-0001")
    assert registration["isAllowed"] is True and registration["error"] == 0
    assert registration["messageID"] == "r-1" and registration["version"] == 1
    # The device plays the registration (dummy) token: ExpressPlay logs its id next to the cookie.
    assert play(registration["epTokenURL"], media["device-check"].kid, device).status_code == 200

    rental = sees(
        messageID="e-1",
        requestType=3,
        contentID="urn:content:life",
        customerCookie="sees-cookie-0001",
        rentalDuration=7200,
    )
    assert rental["isAllowed"] is True and rental["error"] == 0 and rental["expirationTime"]
    assert play(rental["epTokenURL"], media["life"].kid, device).status_code == 200
    refused = play(rental["epTokenURL"], media["life"].kid, other_device)
    assert refused.status_code == 403 and refused.json()["errorCode"] == -4905
    # Asked again (a retry): the same token, no second entitlement.
    again = sees(
        messageID="e-1",
        requestType=3,
        contentID="urn:content:life",
        customerCookie="sees-cookie-0001",
        rentalDuration=7200,
    )
    assert again["epTokenURL"] == rental["epTokenURL"]


def test_sees_errors_are_answered_in_sees_form(sees):
    assert sees(requestType=9, customerCookie="x")["error"] == 1
    assert sees(requestType=3, contentID="nope", customerCookie="c1")["error"] == 2
    unregistered = sees(requestType=3, contentID="urn:content:life", customerCookie="never-registered")
    assert (
        unregistered["error"] == 3
        and unregistered["isAllowed"] is False
        and "requestType 2" in unregistered["errorText"]
    )
    assert sees(requestType=2, customerCookie="c" * 33)["error"] == 1  # "up to 32 characters"
    assert sees(requestType=3)["error"] == 1 and "customerCookie" in sees(requestType=3)["errorText"]


@pytest.mark.parametrize("missing", ["messageID", "version", "contentID"])
def test_each_field_sees_requires_is_required(sees, missing, live_server):
    body = {"messageID": "m-9", "version": 1, "contentID": "urn:content:life"}
    del body[missing]
    answer = requests.post(
        f"{live_server.url}/api/sees/entitlement", json=body, headers=sees.headers, timeout=30
    ).json()
    assert answer["error"] == 1 and missing in answer["errorText"] and answer["isAllowed"] is False


def test_any_cookie_up_to_32_characters_names_a_customer_of_its_own(sees):
    from api.models import Customer

    cookies = ["with spaces in it", "YmFzZTY0Lz0rPT0=", "{braces}", "a:b", "x~y", "plain-cookie.1"]
    for cookie in cookies:
        answer = sees(requestType=2, customerCookie=cookie)
        assert answer["isAllowed"] is True and answer["error"] == 0, (cookie, answer)
    ids = set(Customer.objects.values_list("external_id", flat=True))
    assert len(ids) == len(cookies)
    assert "sees.plain-cookie.1" in ids  # plain cookies keep the id they always had
    assert all(i.startswith(("sees.", "sees:")) and " " not in i and "{" not in i for i in ids)
    # The same cookie again is the same customer.
    sees(requestType=2, customerCookie="with spaces in it")
    assert Customer.objects.count() == len(cookies)


def test_a_time_based_request_is_bound_in_time_only_and_plays_on_any_device(
    sees, media, device, other_device
):
    from binding.models import Entitlement, TokenRequest, TokenRequestPurpose

    answer = sees(messageID="t-1")  # no requestType, no cookie: SEES's time-based default
    assert answer["isAllowed"] is True and answer["error"] == 0
    assert answer["expirationTime"].endswith("Z")
    assert play(answer["epTokenURL"], media["life"].kid, device).status_code == 200
    assert play(answer["epTokenURL"], media["life"].kid, other_device).status_code == 200
    assert Entitlement.objects.count() == 0
    made = TokenRequest.objects.get()
    assert (
        made.purpose == TokenRequestPurpose.TIME_BASED and made.device_id == "" and made.outcome == "issued"
    )


def test_time_based_tokens_can_be_switched_off(sees, settings):
    settings.SEES_TIME_BASED_TOKENS = False
    answer = sees(requestType=1, customerCookie="c1")
    assert answer["isAllowed"] is False and answer["error"] == 4 and "requestType 2" in answer["errorText"]


def test_a_device_bound_request_without_a_rental_duration_is_a_purchase(sees, media, device):
    from binding.models import Entitlement, EntitlementKind

    registration = sees(requestType=2, customerCookie="buyer")
    assert play(registration["epTokenURL"], media["device-check"].kid, device).status_code == 200
    bought = sees(requestType=3, customerCookie="buyer", rentalDuration=0)
    assert bought["isAllowed"] is True, bought
    assert Entitlement.objects.get().kind == EntitlementKind.BUY


def test_a_held_title_whose_token_expired_is_answered_with_a_new_live_token(sees, media, device):
    from django.utils import timezone

    from binding.models import Entitlement

    registration = sees(requestType=2, customerCookie="renter")
    assert play(registration["epTokenURL"], media["device-check"].kid, device).status_code == 200
    rental = sees(requestType=3, customerCookie="renter", rentalDuration=48 * 3600)
    assert rental["isAllowed"] is True, rental
    # A day on: the token has expired, the 48 h rental has not.
    Entitlement.objects.update(token_expires_at=timezone.now() - timezone.timedelta(minutes=1))
    again = sees(requestType=3, customerCookie="renter", rentalDuration=48 * 3600)
    assert again["isAllowed"] is True and again["epTokenURL"] != rental["epTokenURL"]
    assert again["expirationTime"] > timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert play(again["epTokenURL"], media["life"].kid, device).status_code == 200
    assert Entitlement.objects.get().tokens_issued == 2


def test_the_message_id_is_echoed_exactly_or_refused(sees):
    exact = " a GUID-like id, with spaces and {braces} " + "x" * 150
    assert sees(messageID=exact, requestType=3, customerCookie="none")["messageID"] == exact
    too_long = "y" * 300
    refused = sees(messageID=too_long)
    assert refused["messageID"] == too_long and refused["error"] == 1 and "messageID" in refused["errorText"]


def test_the_address_with_a_slash_is_sees_too_and_others_are_problem_404s(sees, live_server):
    assert sees(path="/api/sees/entitlement/", requestType=3, customerCookie="c")["error"] == 3
    for method in ("get", "post", "put", "delete"):
        answer = requests.request(method, f"{live_server.url}/api/nowhere/", json={}, timeout=10)
        assert answer.status_code == 404, (method, answer.status_code)
        assert answer.headers["Content-Type"] == "application/problem+json"


def test_a_failed_registration_gives_way_to_a_new_one_and_clients_never_share_cookies(sees, live_server):
    from binding.models import Registration, RegistrationState

    first = sees(messageID="r-1", requestType=2, customerCookie="shared-cookie")
    Registration.objects.update(state=RegistrationState.FAILED)  # its device check never completed
    again = sees(messageID="r-2", requestType=2, customerCookie="shared-cookie")
    assert again["isAllowed"] is True and again["epTokenURL"] != first["epTokenURL"]

    other = Client.objects.create(name="Another SEES integration")
    _key, secret = ClientAPIKey.objects.create_key(name="sees", client=other)
    theirs = requests.post(
        f"{live_server.url}/api/sees/entitlement",
        json={
            "messageID": "x",
            "version": 1,
            "contentID": "urn:content:life",
            "requestType": 2,
            "customerCookie": "shared-cookie",
        },
        headers={"Authorization": f"Api-Key {secret}"},
        timeout=30,
    ).json()
    assert theirs["isAllowed"] is True and theirs["epTokenURL"] not in (
        first["epTokenURL"],
        again["epTokenURL"],
    )


def test_a_fairplay_device_gets_its_tokens_from_fairplay_where_expressplay_binds_it(
    sees, media, device, other_device, settings
):
    settings.SANDBOX_DEVICE_BINDING_DRMS = ["pr", "fp"]
    registration = sees(requestType=2, customerCookie="iphone", drm="fp")
    assert "/hms/fp/rights/" in registration["epTokenURL"], registration
    assert play(registration["epTokenURL"], media["device-check"].kid, device).status_code == 200
    rental = sees(requestType=3, customerCookie="iphone", rentalDuration=3600)
    assert rental["isAllowed"] is True and "/hms/fp/rights/" in rental["epTokenURL"], rental
    assert play(rental["epTokenURL"], media["life"].kid, device).status_code == 200
    assert play(rental["epTokenURL"], media["life"].kid, other_device).status_code == 403


def test_where_expressplay_will_not_bind_fairplay_a_sees_client_is_told_in_words(sees, media, device):
    registration = sees(requestType=2, customerCookie="iphone", drm="fp")
    assert play(registration["epTokenURL"], media["device-check"].kid, device).status_code == 200
    refused = sees(requestType=3, customerCookie="iphone")
    assert refused["isAllowed"] is False and refused["error"] == 4 and refused["epTokenURL"] == ""
    assert "does not bind FairPlay devices" in refused["errorText"], refused
    # Known now: the next one is refused before any entitlement is made.
    again = sees(messageID="m-2", requestType=3, contentID="urn:content:life", customerCookie="iphone")
    assert again["error"] == 4 and "does not bind FairPlay devices" in again["errorText"]
