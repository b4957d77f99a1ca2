"""The in-process snapshot of the device registry that ingestion reads: devices, their types'
metrics, gateways, credentials and rules, as plain objects.

Ingestion looks up every reading's device and rules; asking the database each time would
cost more than storing the reading. The snapshot is rebuilt when the registry's token
(:class:`~yiwang.platform.perception.models.RegistryVersion`) changes — every write through
the service changes it — checked at most every ``RECHECK`` seconds outside transactions and
on every call inside one (so a test or a rolled-back registration never leaves stale data).
What changes with every reading (last timestamp, counts) is not here: it is read from the
database inside the ingesting transaction.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from yiwang.platform.perception.models import Device, Gateway, RegistryVersion, Rule

_KEY = "registry"
RECHECK = 2.0


@dataclass(frozen=True)
class RuleSpec:
    id: int
    name: str
    kind: str
    metric: str
    operator: str
    value: float | None
    clear_value: float | None
    seconds: int | None
    severity: str
    category_code: str


@dataclass(frozen=True)
class DeviceSpec:
    id: int
    code: str
    name: str
    type_code: str
    department_code: str
    gateway_id: int | None
    active: bool
    grid_code: str
    district_code: str
    # metric -> (min, max) physical range
    metrics: dict[str, tuple[float | None, float | None]]
    rules: tuple[RuleSpec, ...] = ()
    # metric -> (name, unit), for messages people read
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)

    def rules_for(self, metric: str) -> list[RuleSpec]:
        """The threshold and rate rules on ``metric``."""
        return [r for r in self.rules if r.metric == metric and r.kind != "absence"]

    @property
    def absence_rules(self) -> list[RuleSpec]:
        return [r for r in self.rules if r.kind == "absence"]


@dataclass
class Snapshot:
    token: str
    devices: dict[str, DeviceSpec] = field(default_factory=dict)
    by_id: dict[int, DeviceSpec] = field(default_factory=dict)
    # token hash -> ("device" | "gateway", id)
    credentials: dict[str, tuple[str, int]] = field(default_factory=dict)
    gateways_active: dict[int, bool] = field(default_factory=dict)


_lock = threading.Lock()
_current: Snapshot | None = None
_checked_at = 0.0


def changed() -> None:
    """Mark the registry changed (call inside the writing transaction)."""
    token = secrets.token_hex(16)
    updated = RegistryVersion.objects.filter(key=_KEY).update(token=token)
    if not updated:
        RegistryVersion.objects.create(key=_KEY, token=token)


def _token() -> str:
    row = RegistryVersion.objects.filter(key=_KEY).values_list("token", flat=True).first()
    return row or ""


def _rule(rule: Rule) -> RuleSpec:
    return RuleSpec(rule.pk, rule.name, rule.kind, rule.metric, rule.operator, rule.value,
                    rule.clear_value, rule.seconds, rule.severity, rule.category_code)


def _build(token: str) -> Snapshot:
    snapshot = Snapshot(token)
    by_type: dict[int, list[RuleSpec]] = {}
    by_device: dict[int, list[RuleSpec]] = {}
    for rule in Rule.objects.filter(active=True).order_by("id"):
        if rule.device_id is not None:
            by_device.setdefault(rule.device_id, []).append(_rule(rule))
        elif rule.device_type_id is not None:
            by_type.setdefault(rule.device_type_id, []).append(_rule(rule))
    for gateway in Gateway.objects.all():
        snapshot.gateways_active[gateway.pk] = gateway.active
        if gateway.token_hash:
            snapshot.credentials[gateway.token_hash] = ("gateway", gateway.pk)
    for device in Device.objects.select_related("type"):
        metrics = {str(m["key"]): (m.get("min"), m.get("max")) for m in device.type.metrics}
        spec = DeviceSpec(
            device.pk, device.code, device.name, device.type.code, device.department_code,
            device.gateway_id, device.active, device.grid_code, device.district_code, metrics,
            tuple(by_type.get(device.type_id, []) + by_device.get(device.pk, [])),
            {str(m["key"]): (str(m.get("name") or m["key"]), str(m.get("unit") or ""))
             for m in device.type.metrics})
        snapshot.devices[device.code] = spec
        snapshot.by_id[device.pk] = spec
        if device.token_hash:
            snapshot.credentials[device.token_hash] = ("device", device.pk)
    return snapshot


def current() -> Snapshot:
    """The registry as of now (rebuilt if another process or this one changed it)."""
    global _current, _checked_at
    now = time.monotonic()
    snapshot = _current
    in_transaction = connection.in_atomic_block
    if snapshot is not None and not in_transaction and now - _checked_at < RECHECK:
        return snapshot
    token = _token()
    if snapshot is not None and snapshot.token == token:
        if not in_transaction:
            _checked_at = now
        return snapshot
    with _lock:
        built = _build(token)
        if not in_transaction:  # never keep what a transaction might still roll back
            _current, _checked_at = built, now
        return built


def forget() -> None:
    """Drop the snapshot (the next call rebuilds it)."""
    global _current, _checked_at
    _current, _checked_at = None, 0.0


def describe(snapshot: Snapshot) -> dict[str, Any]:
    return {"devices": len(snapshot.devices), "credentials": len(snapshot.credentials)}
