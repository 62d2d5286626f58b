"""SEES compatibility: an integration written for Adobe's SEES registers a device and gets a device-bound
token from Bindery, over real HTTP, with the worker and the sandbox doing the lookup and the token."""

import pytest
import requests

from api.models import Client, ClientAPIKey, ClientTitle

from .test_client_against_sandbox import play

pytestmark = pytest.mark.integration


@pytest.fixture
def sees(bindery, media, live_server):
    client = Client.objects.create(name="SEES integration")
    _key, secret = ClientAPIKey.objects.create_key(name="sees", client=client)
    ClientTitle.objects.create(client=client, content_id="urn:content:life", asset=media["life"])
    session = requests.Session()
    session.headers["Authorization"] = f"Api-Key {secret}"

    def ask(**fields):
        body = {"messageID": "m-1", "version": 1, **fields}
        answer = session.post(f"{live_server.url}/api/sees/entitlement", json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()

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
    assert sees(requestType=2, customerCookie="bad cookie with spaces")["error"] == 1


def test_a_failed_registration_gives_way_to_a_new_one_and_clients_never_share_cookies(sees, live_server):
    from binding.models import Cookie, CookieState

    first = sees(messageID="r-1", requestType=2, customerCookie="shared-cookie")
    Cookie.objects.update(state=CookieState.FAILED)  # its device check never completed
    again = sees(messageID="r-2", requestType=2, customerCookie="shared-cookie")
    assert again["isAllowed"] is True and again["epTokenURL"] != first["epTokenURL"]

    other = Client.objects.create(name="Another SEES integration")
    _key, secret = ClientAPIKey.objects.create_key(name="sees", client=other)
    theirs = requests.post(
        f"{live_server.url}/api/sees/entitlement",
        json={"messageID": "x", "version": 1, "requestType": 2, "customerCookie": "shared-cookie"},
        headers={"Authorization": f"Api-Key {secret}"},
        timeout=30,
    ).json()
    assert theirs["isAllowed"] is True and theirs["epTokenURL"] not in (
        first["epTokenURL"],
        again["epTokenURL"],
    )
