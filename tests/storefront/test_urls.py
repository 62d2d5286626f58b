"""What is mounted: the sandbox only when Bindery runs on it; against the real ExpressPlay its URLs do not
exist, and no page links to them."""

import contextlib
import importlib

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import clear_url_caches

pytestmark = pytest.mark.django_db

SANDBOX_PATHS = ["/sandbox/", "/sandbox/faults/", "/sandbox/hms/pr/token", "/sandbox/cmiapi/getrecord/"]


def _rebuild_urls() -> None:
    importlib.reload(importlib.import_module(settings.ROOT_URLCONF))
    clear_url_caches()


@pytest.fixture
def urls_for():
    """Build the URLconf as a process started with EXPRESSPLAY_ENV=<env> would; the demo's comes back after."""
    with contextlib.ExitStack() as stack:

        def build(env: str) -> None:
            stack.enter_context(override_settings(EXPRESSPLAY_ENV=env))
            _rebuild_urls()

        yield build
    _rebuild_urls()


@pytest.mark.parametrize("env", ["test", "production"])
def test_against_a_real_expressplay_the_sandbox_is_not_served(client, urls_for, env):
    urls_for(env)
    for path in SANDBOX_PATHS:
        assert client.get(path, {"customerAuthenticator": "guess"}).status_code == 404, path
        assert client.post(path, {"customerAuthenticator": "guess"}).status_code == 404, path


def test_against_a_real_expressplay_no_page_links_to_the_sandbox(client, urls_for):
    urls_for("production")
    staff = get_user_model().objects.create_user("ops", password="x", is_staff=True)
    for who in (None, staff):
        if who:
            client.force_login(who)
        home = client.get("/")
        assert home.status_code == 200
        assert "/sandbox/" not in home.content.decode()


def test_in_the_demo_the_sandbox_answers_as_expressplay_does(client):
    assert settings.EXPRESSPLAY_ENV == "sandbox"
    answer = client.get("/sandbox/cmiapi/getrecord/", {"errorFormat": "json"})
    assert answer.status_code != 404 and answer.json()["errorCode"] == -2017
    assert 'href="/sandbox/"' in client.get("/").content.decode()
