"""The shop under hostile input and in production: ids of any size are a 404, sign-in is throttled, every page
carries a Content-Security-Policy, files are owner-only, and production needs nothing but variables."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bindery.processes.redis_server import EmbeddedRedis

pytestmark = pytest.mark.django_db

ID_ROUTES = [
    "/checkout/{}/",
    "/library/{}/play/",
    "/library/{}/status/",
    "/library/{}/renew/",
    "/library/{}/played/",
    "/library/{}/move-here/",
    "/devices/{}/rename/",
    "/devices/{}/remove/",
]


@pytest.fixture
def signed_in(client):
    client.force_login(get_user_model().objects.create_user("mallory", password="x"))
    return client


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    route=st.sampled_from(ID_ROUTES),
    number=st.one_of(st.integers(min_value=0, max_value=10**40), st.just(2**63), st.just(2**64)),
    method=st.sampled_from(["get", "post"]),
)
def test_an_id_of_any_size_is_a_404_never_a_server_error(signed_in, route, number, method):
    response = getattr(signed_in, method)(route.format(number))
    assert response.status_code in (404, 405), (route, number, response.status_code)


def test_sign_in_is_throttled_after_repeated_failures(client, settings):
    get_user_model().objects.create_user("victim", password="right-password")
    login = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        page = client.post(login, {"username": "victim", "password": "wrong"})
        assert page.status_code == 200 and "do not match" in page.content.decode()
    assert client.post(login, {"username": "victim", "password": "wrong"}).status_code == 429
    # Locked out now, even with the right password.
    locked = client.post(login, {"username": "victim", "password": "right-password"})
    assert locked.status_code in (403, 429)
    assert "Signing in failed too many times" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_every_page_carries_a_content_security_policy(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert "blob:" in directives["media-src"]  # the player's MediaSource
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


def test_the_files_bindery_creates_are_its_owners_only(tmp_path):
    assert stat.S_IMODE(Path(settings.VAR_DIR).stat().st_mode) == 0o700
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        database = Path(connection.settings_dict["NAME"])
        assert stat.S_IMODE(database.stat().st_mode) == 0o600
    redis = EmbeddedRedis(port=_free_port(), data_dir=tmp_path / "redis").start()
    try:
        files = [path for path in (tmp_path / "redis").rglob("*") if path.is_file()]
        assert files  # the log and the append-only file
        assert all(stat.S_IMODE(path.stat().st_mode) & 0o077 == 0 for path in files), files
    finally:
        redis.stop()


def test_production_is_configured_by_variables_alone_and_check_deploy_is_silent(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "k" * 20 + "-production-secret-key-" + "9" * 30,
        "ALLOWED_HOSTS": "shop.example.com",
        "EXPRESSPLAY_ENV": "production",
        "EXPRESSPLAY_CUSTOMER_AUTHENTICATOR": "123456,abcdefabcdefabcdefabcdefabcdefab",
        "BINDERY_DATA_KEYS": Fernet.generate_key().decode(),
        "BEHIND_HTTPS_PROXY": "1",
        "BINDERY_VAR_DIR": str(tmp_path),
        "BINDERY_PUBLIC_URL": "https://shop.example.com",
        # README's live settings: FairPlay's certificate, and Bindery binding where ExpressPlay documents it will not.
        "EXPRESSPLAY_FAIRPLAY_CERTIFICATE_URL": "https://shop.example.com/fairplay.cer",
        "EXPRESSPLAY_BINDING": "pr=expressplay,wv=bindery,fp=bindery",
    }
    env.pop(
        "DJANGO_ALLOW_ASYNC_UNSAFE", None
    )  # the browser tests' Playwright needs it; production never sets it
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_demo_defaults_stay_on_plain_http(settings):
    # The offline demo runs on http://127.0.0.1: none of the HTTPS-only settings may lock it out.
    assert settings.EXPRESSPLAY_ENV == "sandbox"
    assert not settings.SECURE_SSL_REDIRECT and not settings.SESSION_COOKIE_SECURE


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_media_name_the_file_system_refuses_is_a_404(client):
    assert client.get("/media/" + "x" * 300).status_code == 404


def test_behind_the_proxy_lockouts_follow_the_client_not_the_proxy(client, settings):
    settings.BEHIND_HTTPS_PROXY = True
    get_user_model().objects.create_user("alice2", password="right-password")
    login = reverse("login")
    attacker = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.66"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(login, {"username": "alice2", "password": "wrong"}, **attacker)
    # Alice signs in from her own address through the same proxy: not locked out by the attacker.
    alice = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    assert (
        client.post(login, {"username": "alice2", "password": "right-password"}, **alice).status_code == 302
    )
    # A forged first hop does not get the attacker a fresh count: the proxy's own entry is the last one.
    forged = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.66"}
    assert (
        client.post(login, {"username": "alice2", "password": "right-password"}, **forged).status_code == 429
    )


def test_live_csp_allows_exactly_the_licence_hosts_of_the_drms_offered(tmp_path):
    env = {
        **os.environ,
        "EXPRESSPLAY_ENV": "production",
        "EXPRESSPLAY_DRMS": "pr,wv",
        "BINDERY_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "bindery.settings",
    }
    script = "from django.conf import settings; print(' '.join(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['connect-src']))"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from bindery.local_files import prepare; prepare(); import django; django.setup(); {script}",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    sources = result.stdout.split()
    assert "https://pr.service.expressplay.com" in sources
    assert "https://wv.service.expressplay.com" in sources
    assert not [s for s in sources if "fp." in s or "*" in s or s.startswith("http:")]
