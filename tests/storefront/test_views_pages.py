"""The home page, sign-in, language switch and admin access."""

import pytest
from django.urls import reverse

from storefront.demo_data import DEMO_PASSWORD, DEMO_USERS, demo_users_load

pytestmark = pytest.mark.django_db


def test_home_page_says_what_bindery_is_and_links_everywhere(client):
    response = client.get("/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "plays on your own device" in text
    for link in (reverse("admin:index"), reverse("sandbox:status"), reverse("login")):
        assert f'href="{link}' in text
    assert "offline ExpressPlay sandbox" in text


def test_home_page_in_spanish(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="es")
    text = response.content.decode()
    assert '<html lang="es">' in text
    assert "se reproduce en tu propio dispositivo" in text
    assert "plays on your own device" not in text


def test_language_switcher_remembers_the_choice(client):
    response = client.post(reverse("set_language"), {"language": "es", "next": "/"})
    assert response.status_code == 302
    assert "Iniciar sesión" in client.get("/").content.decode()


def test_demo_logins_sign_in_and_only_staff_reach_admin(client):
    demo_users_load()
    demo_users_load()  # idempotent
    for demo in DEMO_USERS:
        client.logout()
        signed_in = client.post(reverse("login"), {"username": demo.username, "password": DEMO_PASSWORD})
        assert signed_in.status_code == 302
        admin = client.get(reverse("admin:index"))
        assert (admin.status_code == 200) is demo.is_staff


def test_sign_in_page_shows_a_clear_error(client):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert "do not match" in response.content.decode()


def test_anonymous_admin_access_redirects_to_login(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302


def test_unknown_pages_get_a_friendly_translated_404(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 404
    assert "No encontramos esa página." in response.content.decode()
