"""A real yiwang, started the way `make demo` starts it: migrate, load the demo city, serve.

The server runs on the embedded default (SQLite in a temporary data folder) whatever the
suite's own database is, on free ports, and is stopped with SIGTERM at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    public: str
    internal: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[str]
    demo_output: str
    example_rp_url: str = ""
    broker: Any = None  # the Mosquitto broker its MQTT bridge subscribes to (or None)

    def get(
        self, url: str, *, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode()

    def json(self, url: str) -> tuple[int, dict[str, object]]:
        status, _headers, body = self.get(url)
        return status, json.loads(body)


def yiwang(*args: str, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yiwang", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def instance_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of an instance on SQLite in ``data_dir``, on free loopback ports."""
    public_port, internal_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(
        ("YIWANG_", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS", "PYTEST_XDIST"))}
    env.update({
        "YIWANG_ENV": "demo",
        "YIWANG_DATA_DIR": str(data_dir),
        "YIWANG_PUBLIC_PORT": str(public_port),
        "YIWANG_INTERNAL_PORT": str(internal_port),
        "YIWANG_PUBLIC_URL": f"http://127.0.0.1:{public_port}",
        "YIWANG_INTERNAL_URL": f"http://127.0.0.1:{internal_port}",
        "YIWANG_WEB_WORKERS": "1",
        "YIWANG_WEB_THREADS": "4",
        "YIWANG_LOG_LEVEL": "WARNING",
        "YIWANG_WORKER_POLL": "0.2",
        **extra,
    })
    return env


def wait_until_healthy(srv: Server, seconds: float = 60) -> None:
    """Until the internal listener's /healthz answers 200; RuntimeError if ``yiwang serve``
    exits or stays silent for ``seconds``."""
    deadline = time.time() + seconds
    while True:
        if srv.process.poll() is not None:
            raise RuntimeError(f"yiwang serve exited: {srv.process.stdout.read()}")  # type: ignore[union-attr]
        try:
            if srv.get(srv.internal + "/healthz")[0] == 200:
                return
        except OSError:
            pass
        if time.time() > deadline:
            raise RuntimeError(f"yiwang serve did not answer within {seconds:.0f} s")
        time.sleep(0.3)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Mosquitto broker for the demo server's MQTT bridge (None where Mosquitto is not
    installed: the server then runs without the bridge; CI installs it)."""
    from yiwang.platform.perception.testing import mosquitto, mosquitto_binary

    if mosquitto_binary() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Mosquitto is needed: apt-get install mosquitto")
        yield None
        return
    with mosquitto(tmp_path_factory.mktemp("mosquitto")) as running:
        yield running


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, broker: Any) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("yiwang-e2e")
    example_rp_url = f"http://127.0.0.1:{free_port()}"
    env = instance_env(data_dir, YIWANG_DEMO_EXAMPLE_RP_URL=example_rp_url,
                       **({"YIWANG_MQTT_URL": broker.url()} if broker else {}))
    yiwang("migrate", "--noinput", env=env)
    demo = yiwang("demo", env=env)
    process = subprocess.Popen(
        [sys.executable, "-m", "yiwang", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    srv = Server(env["YIWANG_PUBLIC_URL"], env["YIWANG_INTERNAL_URL"], data_dir, env, process,
                 demo.stdout, example_rp_url, broker)
    try:
        wait_until_healthy(srv)
    except RuntimeError:
        process.kill()
        raise
    yield srv
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium with its own profile (so its own cookies), closed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not shutil.which(CHROMIUM) or not shutil.which(CHROMEDRIVER):
        message = "Chromium and chromedriver are needed: apt-get install chromium chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="yiwang-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver
