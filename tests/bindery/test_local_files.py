"""The settings only read; bindery.local_files.prepare() makes the var folder and its generated files,
owner-only, once per install."""

import os
import stat
import subprocess
import sys

import pytest
from django.conf import settings

from bindery import local_files

IMPORT_SETTINGS = "import bindery.settings as s; print(s.SECRET_KEY, s.REDIS_URL)"


def import_settings(var_dir, **env) -> subprocess.CompletedProcess:
    """Import bindery.settings in a new process, prepare() not called, the var folder at `var_dir`."""
    environment = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [sys.executable, "-c", IMPORT_SETTINGS],
        env={**environment, "BINDERY_VAR_DIR": str(var_dir), **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_importing_the_settings_writes_nothing(tmp_path):
    var = tmp_path / "var"
    imported = import_settings(var, SECRET_KEY="s" * 50, REDIS_URL="redis://127.0.0.1:6379/0")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.split() == ["s" * 50, "redis://127.0.0.1:6379/0"]
    assert not var.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("env", "missing", "instead"),
    [
        ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, "secret_key", "SECRET_KEY"),
        ({"SECRET_KEY": "s" * 50}, "redis/password", "REDIS_URL"),
    ],
)
def test_settings_without_their_generated_files_say_how_to_make_them(tmp_path, env, missing, instead):
    imported = import_settings(tmp_path / "var", **env)
    assert imported.returncode != 0
    last = imported.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured:"), imported.stderr
    assert str(tmp_path / "var" / missing) in last
    assert "bindery.local_files.prepare()" in last and f"set {instead}" in last
    assert not (tmp_path / "var").exists()


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_prepare_makes_the_var_folder_and_its_secrets_owner_only_once(tmp_path, monkeypatch):
    var = tmp_path / "var"
    monkeypatch.setenv("BINDERY_VAR_DIR", str(var))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert local_files.prepare() == var
    assert mode(var) == mode(var / "redis") == 0o700
    key, password = var / "secret_key", var / "redis" / "password"
    assert mode(key) == mode(password) == 0o600
    assert len(key.read_text()) >= 50 and len(password.read_text()) >= 32
    assert key.read_text() != password.read_text()
    assert all((var / name).is_dir() for name in local_files.FOLDERS)
    first = key.read_text(), password.read_text()
    var.chmod(0o755)
    local_files.prepare()
    assert (key.read_text(), password.read_text()) == first
    assert mode(var) == 0o700
    assert sorted(path.name for path in var.iterdir() if path.is_file()) == [
        "secret_key"
    ]  # nothing left aside


def test_prepare_generates_nothing_the_environment_gives(tmp_path, monkeypatch):
    var = tmp_path / "var"
    monkeypatch.setenv("BINDERY_VAR_DIR", str(var))
    monkeypatch.setenv("SECRET_KEY", "s" * 50)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    local_files.prepare()
    assert mode(var) == 0o700
    assert not (var / "secret_key").exists() and not (var / "redis").exists()


def test_the_settings_read_what_prepare_made(tmp_path):
    var = tmp_path / "var"
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "REDIS_URL"}}
    prepared = subprocess.run(
        [sys.executable, "-c", f"from bindery.local_files import prepare; prepare(); {IMPORT_SETTINGS}"],
        env={**environment, "BINDERY_VAR_DIR": str(var)},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    secret_key, redis_url = prepared.stdout.split()
    assert secret_key == (var / "secret_key").read_text()
    assert f":{(var / 'redis' / 'password').read_text()}@127.0.0.1:" in redis_url
