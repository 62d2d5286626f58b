"""The embedded Redis is a real Valkey server answering over TCP, to Bindery's clients only."""

import os
import secrets
import socket
import stat
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from bindery.celery import app as celery_app
from bindery.processes.redis_server import EmbeddedRedis, EmbeddedRedisError, url_redacted


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raw_reply(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(command)
        return conn.recv(256)


def needs_embedded_redis():
    if not settings.REDIS_EMBEDDED:
        pytest.skip("REDIS_URL is set: this run uses that server, not the embedded one")


def test_embedded_or_configured_redis_answers(redis_url):
    connection = redis.Redis.from_url(redis_url)
    assert connection.ping()
    connection.set("bindery:test", "ok", ex=5)
    assert connection.get("bindery:test") == b"ok"


def test_the_embedded_server_is_valkey_and_refuses_a_client_without_the_password(redis_url):
    needs_embedded_redis()
    port = settings.BINDERY_REDIS_PORT
    assert raw_reply(port, b"PING\r\n").startswith(b"-NOAUTH")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port).get("bindery:test")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port, password="not-the-password").ping()
    server = redis.Redis.from_url(redis_url).info("server")
    assert server["server_name"] == "valkey"
    assert int(server["valkey_version"].split(".")[0]) >= 9


def test_bindery_cache_broker_and_result_backend_use_the_configured_server(redis_url):
    key = f"bindery:test:{secrets.token_hex(4)}"
    cache.set(key, "cached", timeout=5)
    assert cache.get(key) == "cached"
    with celery_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        with connection.channel() as channel:
            assert channel.client.ping()
    assert celery_app.backend.client.ping()


def test_the_embedded_redis_url_carries_the_install_password_from_var(redis_url):
    needs_embedded_redis()
    password_file = settings.VAR_DIR / "redis" / "password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    url = urlsplit(settings.REDIS_URL)
    assert (url.hostname, url.port) == ("127.0.0.1", settings.BINDERY_REDIS_PORT)
    assert url.password == password_file.read_text().strip()
    assert len(url.password) >= 32
    assert settings.CELERY_BROKER_URL == settings.CELERY_RESULT_BACKEND == settings.REDIS_URL
    assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL


# What an entry point does before the settings load (manage.py, bindery.wsgi, bindery.celery).
PREPARED = "from bindery.local_files import prepare; prepare()"


def redis_url_in(var_dir, **env) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    environment |= {"BINDERY_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "bindery.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", f"{PREPARED}; from django.conf import settings; print(settings.REDIS_URL)"],
        env=environment, cwd=settings.BASE_DIR, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip  # the command, then how it runs


def test_each_install_makes_its_password_once_and_keeps_it(tmp_path):
    first = redis_url_in(tmp_path / "one")
    assert redis_url_in(tmp_path / "one") == first
    assert urlsplit(first).password == (tmp_path / "one" / "redis" / "password").read_text()
    assert urlsplit(redis_url_in(tmp_path / "two")).password != urlsplit(first).password
    assert redis_url_in(tmp_path / "three", REDIS_URL="redis://10.0.0.9:6379/2") == "redis://10.0.0.9:6379/2"
    assert not (tmp_path / "three" / "redis" / "password").exists()


def test_a_server_with_a_password_takes_it_from_stdin_not_the_command_line(tmp_path):
    password = secrets.token_urlsafe(24)
    server = EmbeddedRedis(port=free_port(), data_dir=tmp_path, persistent=False, password=password).start()
    try:
        assert password not in " ".join(server.process.args)
        assert password not in repr(server)
        assert raw_reply(server.port, b"PING\r\n").startswith(b"-NOAUTH")
        assert redis.Redis.from_url(server.url).ping()
        assert not any(password in path.read_text() for path in tmp_path.iterdir() if path.is_file())
    finally:
        server.stop()


def test_start_reuses_a_server_with_the_same_password_and_refuses_one_with_another(tmp_path):
    port = free_port()
    server = EmbeddedRedis(port=port, data_dir=tmp_path, persistent=False, password="first-password").start()
    try:
        again = EmbeddedRedis(
            port=port, data_dir=tmp_path, persistent=False, password="first-password"
        ).start()
        assert again.process is None  # already answering: nothing started
        with pytest.raises(EmbeddedRedisError, match=f"Port {port} is taken") as refused:
            EmbeddedRedis(port=port, data_dir=tmp_path, persistent=False, password="other-password").start()
        assert "other-password" not in str(refused.value)
        with pytest.raises(EmbeddedRedisError, match="NOAUTH"):
            EmbeddedRedis(port=port, data_dir=tmp_path, persistent=False).start()
    finally:
        server.stop()


def test_url_redacted_hides_only_the_password():
    assert url_redacted("redis://:s3cr3t-_x@127.0.0.1:6390/0") == "redis://:********@127.0.0.1:6390/0"
    assert (
        url_redacted("on rediss://user:pa55@host:6380/1 now") == "on rediss://user:********@host:6380/1 now"
    )
    assert url_redacted("redis://127.0.0.1:6390/0") == "redis://127.0.0.1:6390/0"
    assert url_redacted("http://127.0.0.1:8000/sandbox") == "http://127.0.0.1:8000/sandbox"


def debug_page_for_a_redis_error(request, url: str) -> str:
    from django.views.debug import technical_500_response

    def connect(url):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    try:
        connect(url)
    except redis.ConnectionError:
        return technical_500_response(request, *sys.exc_info()).content.decode()


def test_the_debug_page_shows_redis_urls_without_their_password(rf, settings):
    embedded_password = urlsplit(settings.REDIS_URL).password  # None when REDIS_URL is set without one
    secret_url = "redis://:debug-page-secret@127.0.0.1:6390/0"
    settings.DEBUG = True
    settings.REDIS_URL = settings.CELERY_BROKER_URL = secret_url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"fallback": [secret_url]}
    page = debug_page_for_a_redis_error(rf.get("/"), secret_url)
    assert "REDIS_URL" in page
    assert "redis://:********@127.0.0.1:6390/0" in page
    assert "debug-page-secret" not in page  # settings, nested settings and the frames' variables
    if embedded_password:
        assert embedded_password not in page  # the cache's LOCATION and the result backend
