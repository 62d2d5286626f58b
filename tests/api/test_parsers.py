"""Hostile bodies: nested too deep or too large, each is answered with problem details, never a 500."""

import json

import pytest
from rest_framework.test import APIClient

from api.models import Client, ClientAPIKey
from api.parsers import nesting_depth

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/registrations/", "/api/v1/entitlements/", "/api/v1/titles/", "/api/sees/entitlement"]


@pytest.fixture
def api():
    client = Client.objects.create(name="Hostile")
    _key, secret = ClientAPIKey.objects.create_key(name="test", client=client)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return api


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"1", 0),
        (b'{"a": [1, {"b": 2}]}', 3),
        (b'{"a": "[[[[{{{{"}', 1),
        (b'["\\"[[[", []]', 2),
        (b"[" * 50 + b"]" * 50, 50),
    ],
)
def test_nesting_is_measured_outside_strings(body, depth):
    assert nesting_depth(body) == depth


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_body_nested_a_thousand_deep_is_a_400_problem(api, path):
    body = "[" * 1000 + "]" * 1000
    answer = api.post(path, body, content_type="application/json")
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"
    assert "nested deeper than 32" in answer.json()["detail"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_body_nested_as_deep_as_allowed_is_parsed(api, path, settings):
    settings.API_MAX_JSON_DEPTH = 40
    body = {"messageID": "m", "customer": "c1"}
    nest = body
    for _ in range(38):
        nest["x"] = {}
        nest = nest["x"]
    answer = api.post(path, json.dumps(body), content_type="application/json")
    assert answer.status_code != 500
    assert "nested deeper" not in answer.content.decode()


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_three_megabyte_body_is_a_413_problem(api, path):
    body = json.dumps({"customer": "c" * (3 * 1024 * 1024)})
    answer = api.post(path, body, content_type="application/json")
    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["status"] == 413
    assert "too large" in answer.json()["detail"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_body_over_the_api_limit_is_a_413_problem_that_says_the_limit(api, path):
    body = json.dumps({"customer": "c" * (300 * 1024)})
    answer = api.post(path, body, content_type="application/json")
    assert answer.status_code == 413
    assert "larger than 262144 bytes" in answer.json()["detail"]
