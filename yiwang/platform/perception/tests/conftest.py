"""A real Mosquitto broker for the MQTT tests: password file and the ACL of
docs/perception.md, on a free port in a temporary folder."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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
        subprocess.run(["mosquitto_passwd", "-b", str(self.folder / "passwords"), username,
                        password], check=True, capture_output=True)
        os.kill(self.pid, 1)  # Mosquitto reloads its password file on SIGHUP
        time.sleep(0.3)

    def url(self, username: str = BRIDGE_USER, password: str = BRIDGE_PASSWORD) -> str:
        return f"mqtt://{username}:{password}@{self.host}:{self.port}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto"
                                           if Path("/usr/sbin/mosquitto").exists() else None)
    if binary is None or shutil.which("mosquitto_passwd") is None:
        message = "no Mosquitto: install the Debian package mosquitto"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("mosquitto")
    port = _free_port()
    (folder / "passwords").write_text("")
    subprocess.run(["mosquitto_passwd", "-b", str(folder / "passwords"), BRIDGE_USER,
                    BRIDGE_PASSWORD], check=True, capture_output=True)
    (folder / "acl").write_text(ACL.format(bridge=BRIDGE_USER))
    (folder / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\n"
        f"password_file {folder / 'passwords'}\nacl_file {folder / 'acl'}\n"
        "persistence false\nmax_inflight_messages 0\n"
        # started as root, Mosquitto would drop to the mosquitto user, who cannot read a
        # test's private temporary folder: keep the user that started it
        + ("user root\n" if os.geteuid() == 0 else ""))
    log = (folder / "mosquitto.log").open("wb")
    proc = subprocess.Popen([binary, "-c", str(folder / "mosquitto.conf")], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mosquitto did not start: {(folder / 'mosquitto.log').read_text()}")
            time.sleep(0.05)
        yield Broker("127.0.0.1", port, folder, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
