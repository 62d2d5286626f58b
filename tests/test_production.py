"""How production runs the web tier: plain `gunicorn bindery.wsgi` picks up gunicorn.conf.py (the sizing
docs/capacity.md assumes), and collected static files are served by WhiteNoise under content-hashed names,
compressed and cacheable forever."""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_plain_gunicorn_reads_the_repositorys_config():
    printed = subprocess.run(
        [sys.executable, "-m", "gunicorn", "bindery.wsgi", "--print-config"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    config = dict(re.findall(r"^(\w+)\s*=\s*(.*)$", printed, re.M))
    assert config["workers"] == "2" and config["threads"] == "8" and config["worker_class"] == "gthread"
    assert config["timeout"] == "60" and config["graceful_timeout"] == "30"


def test_in_the_demo_static_files_need_no_collectstatic():
    assert settings.WHITENOISE_USE_FINDERS
    assert settings.STORAGES["staticfiles"]["BACKEND"].endswith(".StaticFilesStorage")


def production_static_storage(tmp_path) -> str:
    """Return the static files storage that settings choose with production's WHITENOISE_USE_FINDERS=false."""
    env = {**os.environ, "WHITENOISE_USE_FINDERS": "false", "BINDERY_VAR_DIR": str(tmp_path / "var")}
    script = (
        "from bindery.local_files import prepare; prepare(); "
        "from django.conf import settings; print(settings.STORAGES['staticfiles']['BACKEND'])"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "bindery.settings"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()


def test_collected_static_files_are_hashed_compressed_and_cached_forever(tmp_path):
    backend = production_static_storage(tmp_path)
    assert backend == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    static_root = tmp_path / "static"
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": backend}}
    # The shop's own files and the admin's: the player's and Swagger UI's builds (most of the minute a full
    # collectstatic takes) go through the same storage.
    own = [settings.BASE_DIR / "static"]
    with override_settings(
        STORAGES=storages, STATIC_ROOT=static_root, STATICFILES_DIRS=own, WHITENOISE_USE_FINDERS=False
    ):
        call_command(
            "collectstatic",
            interactive=False,
            verbosity=0,
            ignore_patterns=["vendor", "drf_spectacular_sidecar", "rest_framework"],
        )
        browser = Client()  # a new handler: WhiteNoise reads the collected files when it starts
        page = browser.get("/").content.decode()
        stylesheet = re.search(r'href="(/static/css/bindery\.[0-9a-f]{12}\.css)"', page)
        assert stylesheet, "the page links the hashed stylesheet"
        served = browser.get(stylesheet[1], HTTP_ACCEPT_ENCODING="gzip")
        assert served.status_code == 200 and served["Content-Encoding"] == "gzip"
        assert "immutable" in served["Cache-Control"] and "max-age=315360000" in served["Cache-Control"]
        # The unhashed name still answers (the drop-in script is linked by other sites under it), briefly cached.
        plain = browser.get("/static/js/bindery-check.js")
        assert plain.status_code == 200 and "immutable" not in plain["Cache-Control"]
