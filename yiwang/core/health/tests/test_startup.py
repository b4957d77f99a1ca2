"""Start-up behaviour of the ``yiwang`` command, run as a real process."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from yiwang.conf.env import reference_markdown

ROOT = Path(__file__).resolve().parents[4]


def run_yiwang(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("YIWANG_", "DATABASE_URL", "REDIS_URL", "SECRET_KEY",
                                  "DJANGO_SETTINGS_MODULE"))}
    clean.update({"YIWANG_DATA_DIR": str(tmp_path)}, **env)
    return subprocess.run([sys.executable, "-m", "yiwang", *args], env=clean, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_production_without_secret_key_refuses_with_one_clear_line(tmp_path):
    line = one_line_error(run_yiwang("check", env={}, tmp_path=tmp_path))
    assert line.startswith("yiwang: configuration error: SECRET_KEY: not set")
    assert "YIWANG_ENV=demo" in line


def test_demo_generates_and_keeps_its_own_secrets(tmp_path):
    first = run_yiwang("check", env={"YIWANG_ENV": "demo"}, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "secrets" / "secret_key"
    key = key_file.read_text()
    assert len(key) >= 50
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    run_yiwang("check", env={"YIWANG_ENV": "demo"}, tmp_path=tmp_path)
    assert key_file.read_text() == key


def test_malformed_database_url_names_the_variable(tmp_path):
    line = one_line_error(run_yiwang(
        "check", env={"YIWANG_ENV": "demo", "DATABASE_URL": "mysql://x@y/z"}, tmp_path=tmp_path))
    assert line.startswith("yiwang: configuration error: DATABASE_URL: unsupported database")


def test_unreachable_database_stops_the_start(tmp_path):
    url = f"postgres://yiwang:pw@127.0.0.1:{free_port()}/yiwang"
    line = one_line_error(run_yiwang(
        "migrate", env={"YIWANG_ENV": "demo", "DATABASE_URL": url}, tmp_path=tmp_path))
    assert line.startswith("yiwang: configuration error: DATABASE_URL: cannot connect")


def test_unreachable_redis_stops_the_start(tmp_path):
    line = one_line_error(run_yiwang(
        "migrate", env={"YIWANG_ENV": "demo", "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
        tmp_path=tmp_path))
    assert line.startswith("yiwang: configuration error: REDIS_URL: Redis is unreachable")


def test_bad_zone_value_is_refused(tmp_path):
    line = one_line_error(run_yiwang(
        "check", env={"YIWANG_ENV": "demo", "YIWANG_ZONE": "dmz"}, tmp_path=tmp_path))
    assert "YIWANG_ZONE: must be one of public, internal, all" in line


def test_debug_is_off_unless_asked(tmp_path):
    from django.conf import settings

    assert settings.DEBUG is False


def test_configuration_reference_matches_the_code():
    documented = (ROOT / "docs" / "configuration.md").read_text()
    assert documented.strip() == reference_markdown().strip(), (
        "docs/configuration.md is stale: run `make config-reference`"
    )


@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "YIWANG_ZONE",
                                  "YIWANG_DATA_KEYS", "DEBUG"])
def test_reference_documents_the_main_variables(name):
    assert f"`{name}`" in reference_markdown()


def test_malformed_data_keys_stop_the_start(tmp_path):
    line = one_line_error(run_yiwang(
        "migrate", env={"YIWANG_ENV": "demo", "YIWANG_DATA_KEYS": "k1:abc"}, tmp_path=tmp_path))
    assert line.startswith("yiwang: configuration error: YIWANG_DATA_KEYS")


def test_production_needs_the_key_master_and_the_index_key_too(tmp_path):
    keys = {"SECRET_KEY": "x" * 50, "YIWANG_DATA_KEYS": "k1:" + "A" * 43 + "="}
    line = one_line_error(run_yiwang("check", env=keys, tmp_path=tmp_path))
    assert line.startswith("yiwang: configuration error: YIWANG_KEY_MASTER: not set")
    line = one_line_error(run_yiwang(
        "check", env={**keys, "YIWANG_KEY_MASTER": "m1:" + "B" * 43 + "="}, tmp_path=tmp_path))
    assert line.startswith("yiwang: configuration error: YIWANG_INDEX_KEY: not set")
