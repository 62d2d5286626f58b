"""The entitlement API as a shop calls it: a client with its own key, a device registered through the API."""

import responses
from rest_framework.test import APIClient

from api.models import Client, ClientAPIKey, Customer
from binding import services as binding_services

from .expressplay import TOKEN_URL


def client_with_key(name):
    client = Client.objects.create(name=name)
    _key, secret = ClientAPIKey.objects.create_key(name="test", client=client)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    api.bindery_client = client
    return api


def register(api, customer="cust-1", device_id="d1" * 16):
    """Start a device check through the API and bind it as the dummy playback would."""
    started = api.post(
        "/api/v1/registrations/", {"customer": customer, "device_name": "Living room"}, format="json"
    )
    assert started.status_code == 201, started.json()
    registration = started.json()
    with responses.RequestsMock() as stub:
        stub.post(
            TOKEN_URL, json={"licenseAcquisitionUrl": "http://127.0.0.1:8000/sandbox/la?t=1", "token": "T"}
        )
        check = APIClient().post(f"/api/v1/check/{registration['reference']}/start/")
    assert check.status_code == 200 and check.json()["licenseUrl"].startswith(
        "http://127.0.0.1:8000/sandbox/la"
    )
    cookie = (
        Customer.objects.get(external_id=customer, client=api.bindery_client)
        .registrations.order_by("-pk")
        .first()
        .cookie
    )
    binding_services.device_bind(cookie=cookie, device_id=device_id)
    return registration
