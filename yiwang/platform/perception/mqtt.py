"""The MQTT 5 bridge (``yiwang perception-mqtt``): subscribes to device and gateway telemetry
on the broker (Mosquitto) and stores it through the same ingestion as the HTTP API.

Topics (``YIWANG_MQTT_TOPIC_PREFIX``, default ``yiwang/v1``):

- ``<prefix>/devices/<device code>/telemetry`` — a device's own readings;
- ``<prefix>/gateways/<gateway code>/telemetry`` — readings of the gateway's devices (each
  reading names its ``device``);
- ``<prefix>/devices/<code>/telemetry/errors`` and ``…/gateways/<code>/telemetry/errors`` —
  where the bridge publishes (QoS 0) what it rejected and why.

Payload: one reading ``{"ts": …, "values": {…}}``, a list of readings, or
``{"readings": [...]}`` — the same reading format as the HTTP API. The broker
authenticates publishers and its ACL lets each device publish only to its own topic (see
docs/perception.md); the bridge trusts the topic's code as the credential.

Nothing acknowledged is lost: messages arrive at QoS 1 with manual acknowledgement, are
stored in batches, and PUBACK goes back only after the batch committed. When the database
is busy the bridge waits and tries the same batch again; the broker keeps the unacknowledged
messages (and, with the persistent session, everything published while the bridge is
down), and MQTT 5's receive maximum bounds how many are in flight (backpressure).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import close_old_connections, connections

from yiwang.platform.perception import registry
from yiwang.platform.perception.ingest import Busy
from yiwang.platform.perception.service import ingest_readings

logger = logging.getLogger("yiwang.perception.mqtt")

BATCH_MESSAGES = 500
BATCH_WAIT = 0.05
RECEIVE_MAXIMUM = 2000
POISON_ATTEMPTS = 3


@dataclass
class BridgeStats:
    messages: int = 0
    stored: int = 0
    rejected: int = 0
    unknown_topics: int = 0
    busy_retries: int = 0
    batches: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def parse_url(url: str) -> dict[str, Any]:
    """Host, port, username, password and TLS from ``mqtt://user:pass@host:1883`` (or
    ``mqtts://`` for TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"YIWANG_MQTT_URL must look like mqtt://user:password@host:1883, "
                         f"not {url!r}")
    return {"host": parts.hostname, "port": parts.port or (8883 if parts.scheme == "mqtts"
                                                          else 1883),
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "tls": parts.scheme == "mqtts"}


def _readings(payload: bytes) -> list[Any] | None:
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(body, dict) and isinstance(body.get("readings"), list):
        return list(body["readings"])
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        return [body]
    return None


class Bridge:
    """Subscribes, batches, stores, acknowledges. ``run()`` blocks until ``stop()``."""

    def __init__(self, url: str | None = None, *, client_id: str = "yiwang-perception",
                 prefix: str | None = None) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        self.options = parse_url(url or settings.YIWANG_MQTT_URL)
        self.prefix = (prefix or settings.YIWANG_MQTT_TOPIC_PREFIX).rstrip("/")
        self.inbox: queue.Queue[Any] = queue.Queue()
        self.stats = BridgeStats()
        self.connected = threading.Event()
        self._stopping = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv5, manual_ack=True)
        if self.options["username"]:
            self.client.username_pw_set(self.options["username"], self.options["password"])
        if self.options["tls"]:
            self.client.tls_set()
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self._connect_properties = Properties(PacketTypes.CONNECT)
        self._connect_properties.SessionExpiryInterval = 7 * 86400  # keep QoS 1 backlog
        self._connect_properties.ReceiveMaximum = RECEIVE_MAXIMUM

    # paho's network thread ------------------------------------------------------------
    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            logger.error("MQTT connection refused: %s", reason)
            return
        client.subscribe([(f"{self.prefix}/devices/+/telemetry", 1),
                          (f"{self.prefix}/gateways/+/telemetry", 1)])
        logger.info("MQTT bridge connected to %s:%s", self.options["host"],
                    self.options["port"])
        self.connected.set()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        self.inbox.put(message)

    # the bridge's own thread ----------------------------------------------------------
    def start(self) -> None:
        self.client.connect(self.options["host"], self.options["port"], keepalive=30,
                            clean_start=False, properties=self._connect_properties)
        self.client.loop_start()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> BridgeStats:
        self.start()
        try:
            while not self._stopping.is_set():
                batch = self._take()
                if batch:
                    self._store_safely(batch)
        finally:
            self.client.loop_stop()
            self.client.disconnect()
            connections.close_all()  # this thread's database connection
        return self.stats

    def _take(self) -> list[Any]:
        try:
            first = self.inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + BATCH_WAIT
        while len(batch) < BATCH_MESSAGES:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self.inbox.get(timeout=left))
            except queue.Empty:
                break
        return batch

    def _store_safely(self, batch: list[Any]) -> None:
        """Store a batch; an unexpected error is retried (with the registry reloaded) a few
        times, then the batch is acknowledged and counted as failed, so that one message
        the platform cannot store does not stop every other device (its error is logged
        with the topics)."""
        for attempt in range(POISON_ATTEMPTS):
            try:
                self._store(batch)
                return
            except Exception as exc:  # the bridge must outlive any one bad batch
                logger.exception("MQTT batch failed (attempt %d): %s", attempt + 1, exc)
                self.stats.errors.append(str(exc)[:200])
                registry.forget()
                close_old_connections()
                time.sleep(0.2 * (attempt + 1))
        topics = sorted({m.topic for m in batch})
        logger.error("MQTT batch of %d dropped after %d attempts (topics %s)", len(batch),
                     POISON_ATTEMPTS, ", ".join(topics[:10]))
        for message in batch:
            self.client.ack(message.mid, message.qos)
        self.stats.failed += len(batch)

    def _credential(self, topic: str) -> tuple[str, str, tuple[str, Any] | None]:
        """(kind, code, credential) from a telemetry topic; credential None if unknown."""
        parts = topic[len(self.prefix) + 1:].split("/")
        if len(parts) != 3 or parts[2] != "telemetry" or parts[0] not in ("devices",
                                                                          "gateways"):
            return "", "", None
        kind, code = parts[0][:-1], parts[1]
        if kind == "device":  # resolved by code against the current registry at ingestion
            return kind, code, ("device_code", code)
        from yiwang.platform.perception.models import Gateway

        pk = Gateway.objects.filter(code=code, active=True).values_list("pk", flat=True).first()
        return kind, code, ("gateway", pk) if pk is not None else None

    def _store(self, batch: list[Any]) -> None:
        """Store one batch (grouped by topic), then acknowledge every message of it."""
        close_old_connections()
        groups: dict[str, list[Any]] = {}
        for message in batch:
            groups.setdefault(message.topic, []).append(message)
        for topic, messages in groups.items():
            kind, code, credential = self._credential(topic)
            items: list[Any] = []
            malformed = 0
            for message in messages:
                readings = _readings(message.payload)
                if readings is None:
                    malformed += 1
                else:
                    items.extend(readings)
            rejected: list[dict[str, Any]] = []
            if credential is None:
                self.stats.unknown_topics += len(messages)
                rejected.append({"code": "unknown_device", "detail":
                                 f"{kind or 'topic'} {code or topic} is not registered"})
            else:
                size = int(settings.YIWANG_PERCEPTION_MAX_BATCH)
                for start in range(0, len(items), size):
                    result = self._ingest(items[start:start + size], credential)
                    self.stats.stored += result.accepted
                    rejected.extend(r.as_dict() for r in result.rejected)
            if malformed:
                rejected.append({"code": "malformed", "detail": "payload is not JSON "
                                 "readings", "messages": malformed})
            self.stats.rejected += len(rejected)
            if rejected and code:
                self.client.publish(f"{topic}/errors", json.dumps(
                    {"rejected": rejected[:100]}, ensure_ascii=False), qos=0)
        for message in batch:  # only now: everything above is committed
            self.client.ack(message.mid, message.qos)
        self.stats.messages += len(batch)
        self.stats.batches += 1

    def _ingest(self, items: list[Any], credential: tuple[str, Any]) -> Any:
        delay = 0.5
        while True:
            try:
                return ingest_readings(items, credential=credential, source="mqtt")
            except Busy:
                self.stats.busy_retries += 1
                logger.warning("database busy: retrying a batch of %d in %.1fs", len(items),
                               delay)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
                close_old_connections()
