"""SEES is served by a bounded number of threads per process, waits included: the rest are answered "send
again" at once, before any work, so a burst of SEES calls never holds every thread of the web server."""

import pytest
from rest_framework.test import APIClient

from api import sees
from api.models import Client, ClientAPIKey, Customer
from api.services import title_register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_slots(monkeypatch, settings):
    settings.SEES_MAX_CONCURRENT = 2
    monkeypatch.setattr(sees, "_slots", None)


@pytest.fixture
def api():
    client = Client.objects.create(name="SEES")
    title_register(
        client=client, content_id="t1", name="T", kid="ab" * 16, key="cd" * 16, manifest="https://x/m"
    )
    _key, secret = ClientAPIKey.objects.create_key(name="test", client=client)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return api


def ask(api, **fields):
    body = {"messageID": "m-1", "version": 1, "contentID": "t1", "requestType": 3, "customerCookie": "c1"}
    return api.post("/api/sees/entitlement", {**body, **fields}, format="json").json()


def test_with_a_free_slot_the_request_is_served(api):
    assert ask(api)["error"] == sees.NOT_REGISTERED
    assert Customer.objects.filter(external_id="sees.c1").exists()


def test_with_every_slot_taken_the_request_is_answered_send_again_before_any_work(api):
    slots = sees._slots_of_this_process()
    assert slots.acquire(blocking=False) and slots.acquire(blocking=False)  # two requests being served
    try:
        busy = ask(api, messageID="busy {1}")
    finally:
        slots.release()
        slots.release()
    assert busy["error"] == sees.PENDING and busy["messageID"] == "busy {1}" and "busy" in busy["errorText"]
    assert not Customer.objects.exists()  # nothing was done for it
    assert ask(api)["error"] == sees.NOT_REGISTERED  # slots given back: served again


def test_a_slot_is_given_back_when_the_request_fails(api, monkeypatch):
    def broken(self, request):
        raise RuntimeError("a bug")

    monkeypatch.setattr(sees.SeesEntitlementView, "_answer_request", broken)
    quiet = APIClient(raise_request_exception=False)
    quiet.credentials(**api._credentials)
    for _ in range(3):
        quiet.post("/api/sees/entitlement", {"messageID": "m"}, format="json")
    slots = sees._slots_of_this_process()
    assert slots.acquire(blocking=False) and slots.acquire(blocking=False)
