"""Sustained ingestion figure of issue 6: readings per second stored with their rules
evaluated, on SQLite (the embedded default) unless ``--database-url`` says otherwise.

Gateways post batches of readings (``POST /api/v1/perception/telemetry``, their own
credential) to ``yiwang serve``'s server (gunicorn, the default workers and threads), each
on its own connection and in order (a device's readings must arrive in time order); or,
with ``--transport mqtt``, publish them at QoS 1 to a Mosquitto broker that the MQTT bridge
(``yiwang perception-mqtt``) drains. Every device's type has two rules (a threshold and a
rate of change), so every reading is evaluated twice; the levels drift a little around
each device's own value, and one device in a hundred jumps above the threshold now and
then, so alarms are raised and cleared during the run. The request bodies are encoded
before the clock starts (in a real deployment the senders are other machines); the
figures count what the server does.

    .venv/bin/python benchmarks/ingestion.py [--readings 300000] [--batch 500]
        [--gateways 4] [--devices 2000] [--transport http|mqtt] [--database-url …]

Baselines: the goal (10,000 readings/s on 2 cores with SQLite) and ThingsBoard's published
figure (3,333 data points/s on 4 vCPU with PostgreSQL).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._server import Server, free_port, percentile, setup_django  # noqa: E402

GOAL = 10_000
THINGSBOARD = 3_333


def prepare(devices: int, gateways: int) -> list[tuple[str, str, list[str]]]:
    """The city, the device type and rules, ``devices`` devices over ``gateways`` gateways;
    returns (gateway code, token, device codes) per gateway."""
    from yiwang.platform.perception import service
    from yiwang.platform.perception.testing import make_city

    make_city()
    service.create_rule("水位超警戒", kind="threshold", metric="level", type_code="water_level",
                        operator="gt", value=45.0, clear_value=40.0, severity="critical")
    service.create_rule("水位猛涨", kind="rate", metric="level", type_code="water_level",
                        operator="gt", value=30.0, seconds=60, severity="major")
    out = []
    for g in range(gateways):
        gateway = service.register_gateway(f"GW-{g}", f"网关{g}", department_code="swj")
        codes = []
        for i in range(g, devices, gateways):
            code = f"WL-{i:05d}"
            service.register_device(code, f"水位计{i}", type_code="water_level",
                                    department_code="swj", gateway_code=gateway.code,
                                    lon=120.0005 + (i % 39) * 0.001,
                                    lat=30.0005 + (i // 39 % 39) * 0.001)
            codes.append(code)
        out.append((gateway.code, service.issue_token(gateway), codes))
    return out


def bodies(gateways: list[tuple[str, str, list[str]]], readings: int,
           batch: int) -> list[tuple[str, str, bytes]]:
    """(gateway, token, JSON body) of every batch, timestamps increasing per device."""
    rng = random.Random(6)
    start = int(time.time() * 1000) - 3_600_000
    out = []
    per_gateway = readings // len(gateways)
    for code, token, devices in gateways:
        levels = {device: rng.uniform(5, 25) for device in devices}
        # one device in a hundred rises above the threshold for a while, then falls back
        hot = set(devices[::100])
        sent = 0
        while sent < per_gateway:
            items = []
            for k in range(min(batch, per_gateway - sent)):
                index = sent + k
                device = devices[index % len(devices)]
                round_no = index // len(devices)
                level = levels[device] + rng.uniform(-0.05, 0.05)
                if device in hot and round_no % 40 >= 30:
                    level = 46 + rng.uniform(0, 1)
                items.append({"device": device, "ts": start + round_no * 1000,
                              "values": {"level": round(level, 3)}})
            sent += len(items)
            out.append((code, token, json.dumps({"readings": items}).encode()))
    return out


def run_http(port: int, work: list[tuple[str, str, bytes]]) -> tuple[list[float], int, int]:
    """Each gateway posts its batches in order on its own connection (as a gateway does: a
    device's readings must arrive in time order); latencies, readings accepted, rejected."""
    lock = threading.Lock()
    latencies: list[float] = []
    totals = [0, 0]
    by_gateway: dict[str, list[tuple[str, bytes]]] = {}
    for code, token, body in work:
        by_gateway.setdefault(code, []).append((token, body))

    def gateway(batches: list[tuple[str, bytes]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for token, body in batches:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                       "Host": f"127.0.0.1:{port}"}
            started = time.perf_counter()
            while True:
                conn.request("POST", "/api/v1/perception/telemetry", body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                if response.status != 503:
                    break
                time.sleep(float(response.getheader("Retry-After", "1")))
            if response.status != 200:
                raise SystemExit(f"telemetry: {response.status} {data[:300]!r}")
            answer = json.loads(data)
            with lock:
                latencies.append(time.perf_counter() - started)
                totals[0] += answer["accepted"]
                totals[1] += len(answer["rejected"])
        conn.close()

    threads = [threading.Thread(target=gateway, args=(batches,))
               for batches in by_gateway.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, totals[0], totals[1]


def start_broker(folder: Path, users: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    passwords = folder / "passwords"
    passwords.write_text("")
    for user, password in users.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwords), user, password], check=True)
    (folder / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\n"
        "persistence false\nmax_inflight_messages 0\nmax_queued_messages 0\n"
        + ("user root\n" if os.geteuid() == 0 else ""))
    proc = subprocess.Popen([binary, "-c", str(folder / "mosquitto.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, port


def run_mqtt(data_dir: str, database_url: str, work: list[tuple[str, str, bytes]],
             expected: int) -> tuple[list[float], float, float]:
    """Publish every body at QoS 1 through Mosquitto to the bridge; the publishing time,
    the time until every reading was stored, and the bridge's CPU seconds."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from yiwang.platform.perception.models import Reading

    folder = Path(data_dir) / "broker"
    folder.mkdir()
    users = {"bridge": "bridge-secret"}
    users.update({code: token for code, token, _b in work})
    broker, port = start_broker(folder, users)
    env = {**os.environ, "YIWANG_DATA_DIR": data_dir, "YIWANG_LOG_LEVEL": "WARNING",
           "YIWANG_MQTT_URL": f"mqtt://bridge:bridge-secret@127.0.0.1:{port}"}
    if database_url:
        env["DATABASE_URL"] = database_url
    bridge = subprocess.Popen([sys.executable, "-m", "yiwang", "perception-mqtt"], env=env,
                              cwd=ROOT, stdout=subprocess.DEVNULL)
    time.sleep(3)
    publishers: dict[str, Any] = {}
    try:
        for code, token, _b in work:
            if code not in publishers:
                client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{code}",
                                     protocol=mqtt.MQTTv5)
                client.username_pw_set(code, token)
                client.connect("127.0.0.1", port)
                client.loop_start()
                publishers[code] = client
        started = time.perf_counter()
        pending = []
        for code, _token, body in work:
            pending.append(publishers[code].publish(f"yiwang/v1/gateways/{code}/telemetry",
                                                    body, qos=1))
        for info in pending:
            info.wait_for_publish(300)
        published = time.perf_counter() - started
        while Reading.objects.count() < expected:
            if time.perf_counter() - started > 600:
                raise SystemExit("the bridge did not store every reading within 10 minutes")
            time.sleep(0.05)
        stored = time.perf_counter() - started
        cpu = _cpu(bridge.pid)
        return [published], stored, cpu
    finally:
        for client in publishers.values():
            client.loop_stop()
            client.disconnect()
        bridge.terminate()
        bridge.wait(30)
        broker.terminate()
        broker.wait(10)


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--gateways", type=int, default=4,
                        help="gateways, each posting its batches in order on one connection")
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--transport", choices=("http", "mqtt"), default="http")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yiwang-ingest-") as data_dir:
        setup_django(data_dir, args.database_url)
        from django.conf import settings
        from django.db import connection

        from yiwang.platform.perception.models import Alarm, Reading

        print(f"preparing {args.devices} devices over {args.gateways} gateways …", flush=True)
        gateways = prepare(args.devices, args.gateways)
        work = bodies(gateways, args.readings, args.batch)
        expected = sum(len(json.loads(b)["readings"]) for _c, _t, b in work)
        vendor = connection.vendor
        connection.close()
        if args.transport == "http":
            workers = args.workers or settings.YIWANG_WEB_WORKERS
            threads = args.threads or settings.YIWANG_WEB_THREADS
            port = free_port()
            server = Server(zone="internal", ports={"internal": port}, data_dir=data_dir,
                            database_url=args.database_url, workers=workers, threads=threads)
            try:
                cpu_before = server.cpu_seconds()
                started = time.perf_counter()
                latencies, accepted, rejected = run_http(port, work)
                elapsed = time.perf_counter() - started
                cpu = server.cpu_seconds() - cpu_before
            finally:
                server.stop()
            how = (f"HTTP, {args.gateways} gateways, gunicorn {workers} workers x {threads} "
                   "threads")
        else:
            latencies, elapsed, cpu = run_mqtt(data_dir, args.database_url, work, expected)
            accepted, rejected = Reading.objects.count(), 0
            how = "MQTT QoS 1 through Mosquitto, one bridge process"
        stored = Reading.objects.count()
        alarms = Alarm.objects.count()
        cleared = Alarm.objects.filter(cleared_at__isnull=False).count()
    rate = stored / elapsed
    print(f"sustained ingestion, rules evaluated: {stored:,} readings of {args.devices} devices "
          f"in {elapsed:.1f} s, batches of {args.batch}, {vendor}, {how}, "
          f"{os.cpu_count()} cores")
    print(f"  {rate:,.0f} readings/s (goal >= {GOAL:,}/s: ratio {rate / GOAL:.2f}; "
          f"ThingsBoard 3,333 data points/s on 4 vCPU: {rate / THINGSBOARD:.1f}x)")
    print(f"  server CPU {cpu / stored * 1e6:.0f} us per reading; at 100 % of 2 cores that is "
          f"at most {2 * stored / cpu:,.0f} readings/s")
    if args.transport == "http":
        print(f"  batch latency p50 {percentile(latencies, 50) * 1000:.0f} ms, "
              f"p99 {percentile(latencies, 99) * 1000:.0f} ms")
    print(f"  stored {stored:,} of {expected:,} sent (accepted {accepted:,}, rejected "
          f"{rejected}); alarms raised {alarms}, cleared {cleared}")
    if stored != expected:
        raise SystemExit("readings were lost")


if __name__ == "__main__":
    main()
