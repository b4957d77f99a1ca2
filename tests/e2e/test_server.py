"""The platform as a newcomer meets it: `make demo`'s steps, then the two listeners."""

from __future__ import annotations

import re
import signal
import time

import pytest

pytestmark = pytest.mark.e2e


def test_demo_load_prints_the_urls_and_accounts(server):
    out = server.demo_output
    assert server.public in out
    assert server.internal in out
    assert re.search(r"账号 account: \S+", out)
    assert re.search(r"密码 password: \S{12,}", out)


def test_portal_and_workbench_answer_on_their_own_listeners(server):
    status, _h, body = server.get(server.public + "/")
    assert status == 200
    assert "示例市" in body
    status, _h, body = server.get(server.internal + "/login/")
    assert status == 200


@pytest.mark.parametrize("path", ["/login/", "/admin/", "/metrics", "/admin/login/"])
def test_internal_pages_are_refused_on_the_public_listener(server, path):
    assert server.get(server.public + path)[0] == 404


def test_a_forged_host_header_does_not_reach_the_internal_zone(server):
    port = server.internal.rsplit(":", 1)[1]
    status, _h, _b = server.get(server.public + "/metrics", headers={"Host": f"127.0.0.1:{port}"})
    assert status == 404


def test_readiness_includes_the_worker_started_by_serve(server):
    deadline = time.time() + 30
    status, body = server.json(server.public + "/readyz")
    while status != 200 and time.time() < deadline:
        time.sleep(0.5)
        status, body = server.json(server.public + "/readyz")
    assert status == 200, body
    assert body["checks"]["worker"]["ok"] is True


def test_metrics_count_requests_across_gunicorn_workers(server):
    for _ in range(3):
        server.get(server.public + "/healthz")
    status, _h, text = server.get(server.internal + "/metrics")
    assert status == 200
    counts = re.findall(r'yiwang_http_requests_total\{[^}]*zone="public"[^}]*\} ([\d.]+)', text)
    assert sum(float(c) for c in counts) >= 3


def test_public_api_serves_regions_of_the_demo_city(server):
    status, body = server.json(server.public + "/api/v1/regions")
    assert status == 200
    assert "示例" in str(body)
    status, doc = server.json(server.public + "/api/v1/openapi.json")
    assert status == 200
    assert doc["info"]["title"]


def test_serve_runs_the_mqtt_bridge_a_device_publishes_through_mosquitto(server):
    """`yiwang serve` started the bridge because YIWANG_MQTT_URL is set: a demo gauge that
    publishes over MQTT 5 has its reading stored."""
    import json
    import sqlite3

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    if server.broker is None:
        pytest.skip("no Mosquitto here")
    device, password = "WATER-LEVEL-002", "gauge-secret-for-tests"
    server.broker.add_user(device, password)
    database = server.data_dir / "yiwang.sqlite3"

    ts = int(time.time() * 1000) - 1000

    def stored() -> int:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(
                "SELECT count(*) FROM perception_reading r JOIN perception_device d "
                "ON d.id = r.device_id WHERE d.code = ? AND r.ts = ?", (device, ts)).fetchone()[0]

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"e2e-{time.time_ns()}",
                         protocol=mqtt.MQTTv5)
    client.username_pw_set(device, password)
    client.connect(server.broker.host, server.broker.port)
    client.loop_start()
    try:
        client.publish(f"yiwang/v1/devices/{device}/telemetry",
                       json.dumps({"ts": ts, "values": {"level": 2.5, "battery": 88}}),
                       qos=1).wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()
    deadline = time.time() + 30
    while stored() < 2 and time.time() < deadline:
        time.sleep(0.3)
    assert stored() == 2  # two values: level and battery


def _count(database, table: str) -> int:
    import sqlite3

    if not database.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
    except sqlite3.OperationalError:  # table not created yet, or locked for a moment
        return 0


def test_demo_load_is_idempotent_and_survives_sigkill(server, tmp_path):
    """Kill a second load of the city half-way, run it again: the city is complete."""
    import subprocess
    import sys

    from tests.e2e.conftest import ROOT, yiwang

    env = dict(server.env)
    env["YIWANG_DATA_DIR"] = str(tmp_path)
    yiwang("migrate", "--noinput", env=env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "yiwang", "demo"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Kill it as soon as the first grids are committed: regions are in, the rest is not.
    database = tmp_path / "yiwang.sqlite3"
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if _count(database, "regions_grid") > 0:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _count(database, "registry_enterprise") == 0, "killed too late to prove anything"
    incomplete = subprocess.run(
        [sys.executable, "-m", "yiwang", "demo", "--check"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert incomplete.returncode != 0
    assert "incomplete" in incomplete.stderr
    yiwang("demo", env=env)
    summary = yiwang("demo", "--check", env=env).stdout
    assert "complete" in summary
    counts = dict(re.findall(r"(\w+): (\d+)", summary))
    assert int(counts["districts"]) >= 4
    assert int(counts["streets"]) >= 12
    assert int(counts["communities"]) >= 40
    assert int(counts["grids"]) == 400  # no duplicates after the re-run
    assert int(counts["departments"]) >= 12
    assert int(counts["citizens"]) == 1000
    assert int(counts["enterprises"]) == 200
