"""schemathesis against the generated OpenAPI schema, on the live test server: no 500, and every answer as the
schema says (status, content type, body)."""

import os

import pytest
import schemathesis
from django.core.cache.backends.locmem import LocMemCache
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from api.models import Client, ClientAPIKey
from api.services import customer_for, title_register
from api.throttling import ClientKeyThrottle
from binding import services as binding_services

pytestmark = pytest.mark.integration


@pytest.fixture
def api_key(transactional_db, monkeypatch, settings, queued_tasks):
    monkeypatch.setattr(ClientKeyThrottle, "cache", LocMemCache("fuzz", {}))
    settings.EXPRESSPLAY_ENV = "sandbox"
    settings.EXPRESSPLAY_SANDBOX_URL = "http://127.0.0.1:9/sandbox"  # device checks fail fast: a 422 problem
    settings.SEES_WAIT = 0.2  # no worker here: a SEES request that waits for one answers "pending" at once
    client = Client.objects.create(name="Fuzz")
    title_register(
        client=client, content_id="t1", name="T", kid="ab" * 16, key="cd" * 16, manifest="https://x/m.mpd"
    )
    customer = customer_for(client, "c1")
    cookie = binding_services.registration_create(user=customer.user, user_agent="Chrome")
    binding_services.device_bind(cookie=cookie, device_id="d1" * 16)
    _key, secret = ClientAPIKey.objects.create_key(name="fuzz", client=client)
    return secret


def test_the_api_never_answers_500_nor_outside_its_schema(live_server, api_key):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=int(os.environ.get("FUZZ_EXAMPLES", 25)),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def fuzz(case):
            case.call_and_validate(headers={"Authorization": f"Api-Key {api_key}"}, checks=checks)

        fuzz()


@pytest.mark.parametrize("hostile", ["deep", "large"])
def test_every_operation_with_a_body_refuses_hostile_bodies_with_problem_details(
    live_server, api_key, hostile
):
    """Each operation that takes a body, from the schema, sent JSON nested far deeper than API_MAX_JSON_DEPTH
    or 3 MB of it: a 400 or 413 problem, never a 500 or an HTML page."""
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    with_body = [op for op in operations if op.method.upper() in ("POST", "PUT", "PATCH") and op.body]
    assert len(with_body) >= 6
    body: object = {"customer": "c" * (3 * 1024 * 1024)}
    if hostile == "deep":
        body = {}
        for _ in range(100):
            body = {"x": body}
    from binding.models import Device, Entitlement, MediaAsset

    device = Device.objects.get()
    entitlement = Entitlement.objects.create(
        user=device.user, asset=MediaAsset.objects.get(), kind="buy", device=device, state="ready"
    )
    ids = {"devices": device.pk, "entitlements": entitlement.pk, "customers": "c1"}
    for operation in with_body:
        resource = operation.path.split("/")[3]  # /api/v1/<resource>/...
        case = operation.Case(
            path_parameters={
                parameter.name: str(ids.get(resource, 1)) for parameter in operation.path_parameters
            },
            body=body,
            media_type="application/json",
        )
        answer = case.call(headers={"Authorization": f"Api-Key {api_key}"})
        expected = 400 if hostile == "deep" else 413
        assert answer.status_code == expected, (operation.label, answer.status_code, answer.text[:200])
        assert answer.headers["content-type"] == ["application/problem+json"], (
            operation.label,
            answer.headers,
        )
