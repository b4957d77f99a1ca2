"""Test helpers other apps' tests may use: a small city with a department, a water-level
sensor type, devices on its grids and a threshold rule."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yiwang.platform.orgs import service as orgs
from yiwang.platform.perception import service
from yiwang.platform.regions import service as regions
from yiwang.platform.regions import testing as region_testing

WATER = "water_level"
DEPARTMENT = "swj"  # 水务局
OTHER_DEPARTMENT = "cgj"  # 城管局


@dataclass
class City:
    regions: dict[str, Any]
    department: Any
    other_department: Any
    device_type: Any


def make_city() -> City:
    """Province → community with 4 × 4 grids (lon 120.00–120.04, lat 30.00–30.04), the
    water bureau and the city-management bureau, and a water-level sensor type."""
    chain = region_testing.make_chain()
    regions.load_grids(region_testing.tile_grids(region_testing.COMMUNITY, 4, 4))
    water = orgs.create_department(DEPARTMENT, "示例市水务局", region_code=region_testing.CITY)
    other = orgs.create_department(OTHER_DEPARTMENT, "示例市城市管理局",
                                   region_code=region_testing.CITY)
    device_type = service.create_device_type(
        WATER, "水位计", [{"key": "level", "name": "水位", "unit": "m", "min": -5, "max": 50},
                       {"key": "battery", "name": "电量", "unit": "%", "min": 0, "max": 100}],
        name_en="Water level gauge", interval_seconds=60)
    return City(chain, water, other, device_type)


def make_device(code: str = "WL-001", *, lon: float = 120.005, lat: float = 30.005,
                department: str = DEPARTMENT, **extra: Any) -> Any:
    return service.register_device(code, f"水位计{code}", type_code=WATER,
                                   department_code=department, lon=lon, lat=lat, **extra)


def now_ms() -> int:
    return int(time.time() * 1000)


BRIDGE_USER, BRIDGE_PASSWORD = "yiwang-bridge", "bridge-secret-for-tests"
ACL = """\
# the bridge reads all telemetry and answers on the errors topics
user {bridge}
topic read yiwang/v1/devices/+/telemetry
topic read yiwang/v1/gateways/+/telemetry
topic write yiwang/v1/devices/+/telemetry/errors
topic write yiwang/v1/gateways/+/telemetry/errors

# every other user is a device (user name = device code) or a gateway (its code)
pattern write yiwang/v1/devices/%u/telemetry
pattern read yiwang/v1/devices/%u/telemetry/errors
pattern write yiwang/v1/gateways/%u/telemetry
pattern read yiwang/v1/gateways/%u/telemetry/errors
"""


@dataclass
class Broker:
    host: str
    port: int
    folder: Path
    pid: int

    def add_user(self, username: str, password: str) -> None:
        _passwd(self.folder / "passwords", username, password)
        os.kill(self.pid, 1)  # Mosquitto reloads its password file on SIGHUP
        time.sleep(0.3)

    def url(self, username: str = BRIDGE_USER, password: str = BRIDGE_PASSWORD) -> str:
        return f"mqtt://{username}:{password}@{self.host}:{self.port}"


def _passwd(path: Path, username: str, password: str) -> None:
    """Add a user to a Mosquitto password file (test brokers only)."""
    subprocess.run(["mosquitto_passwd", "-b", str(path), username, password],  # noqa: S603,S607
                   check=True, capture_output=True)


def mosquitto_binary() -> str | None:
    """Debian's Mosquitto, or None when it (or mosquitto_passwd) is not installed."""
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto"
                                           if Path("/usr/sbin/mosquitto").exists() else None)
    return binary if binary and shutil.which("mosquitto_passwd") else None


@contextmanager
def mosquitto(folder: Path) -> Iterator[Broker]:
    """A real Mosquitto broker in ``folder`` on a free port, with a password file and the
    ACL of docs/perception.md; stopped afterwards."""
    binary = mosquitto_binary()
    if binary is None:
        raise RuntimeError("no Mosquitto: install the Debian package mosquitto")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    (folder / "passwords").write_text("")
    _passwd(folder / "passwords", BRIDGE_USER, BRIDGE_PASSWORD)
    (folder / "acl").write_text(ACL.format(bridge=BRIDGE_USER))
    (folder / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\n"
        f"password_file {folder / 'passwords'}\nacl_file {folder / 'acl'}\n"
        "persistence false\nmax_inflight_messages 0\n"
        # started as root, Mosquitto would drop to the mosquitto user, who cannot read a
        # test's private temporary folder: keep the user that started it
        + ("user root\n" if os.geteuid() == 0 else ""))
    log = (folder / "mosquitto.log").open("wb")
    proc = subprocess.Popen([binary, "-c", str(folder / "mosquitto.conf")],  # noqa: S603
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("mosquitto did not start: "
                                   + (folder / "mosquitto.log").read_text())
            time.sleep(0.05)
        yield Broker("127.0.0.1", port, folder, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def running_bridge(url: str) -> Iterator[Any]:
    """The MQTT bridge subscribed to ``url`` in a thread, stopped afterwards."""
    import threading

    from yiwang.platform.perception.mqtt import Bridge

    bridge = Bridge(url, client_id=f"test-bridge-{time.monotonic_ns()}")
    thread = threading.Thread(target=bridge.run, daemon=True)
    thread.start()
    if not bridge.connected.wait(10):
        raise RuntimeError("the bridge did not connect")
    time.sleep(0.2)  # the subscription is in place
    try:
        yield bridge
    finally:
        bridge.stop()
        thread.join(10)
