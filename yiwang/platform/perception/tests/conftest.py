"""A real Mosquitto broker for the MQTT tests (``testing.mosquitto``): password file and the
ACL of docs/perception.md, on a free port in a temporary folder."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from yiwang.platform.perception.testing import Broker, mosquitto_binary
from yiwang.platform.perception.testing import mosquitto as run_mosquitto


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    if mosquitto_binary() is None:
        message = "no Mosquitto: install the Debian package mosquitto"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with run_mosquitto(tmp_path_factory.mktemp("mosquitto")) as broker:
        yield broker
