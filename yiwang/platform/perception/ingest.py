"""Ingestion of readings (数据接入): validate every message, store what is valid in one
transaction, evaluate the rules, raise and clear alarms.

A message is ``{"device": "<code>", "ts": <ms since the epoch, UTC> | "<ISO 8601 with
offset>", "values": {"<metric>": <number>, …}, "lon": …, "lat": …}`` (``device`` may be left
out when the device posts for itself; ``lon``/``lat`` only from devices that move). Each
reading is checked on its own and rejected with a code and a sentence a person can act on:

============== ==========================================================================
malformed      not a JSON object, or ``values`` not an object of metrics
unknown_device no device with that code
not_allowed    the credential may not post for that device (another device, or a device
               not attached to the gateway)
inactive       the device is disabled in the registry
bad_timestamp  missing, not a number of milliseconds or an ISO 8601 time with an offset
future         later than now plus ``YIWANG_PERCEPTION_CLOCK_SKEW`` seconds
too_old        older than raw readings are kept (``YIWANG_PERCEPTION_RAW_DAYS``)
unknown_metric the device's type does not measure it
bad_value      not a finite number
out_of_range   outside the sensor's physical range (a faulty reading, not an event)
bad_location   coordinates that are not numbers or not WGS84
outside_city   coordinates in no grid of the city
duplicate      the same device, metric and millisecond as a stored reading
out_of_order   older than the device's latest reading of that metric
============== ==========================================================================

Rejections count in the device's health (per code) when the device is known. Readings of a
batch are sorted by time per device first, so a gateway's batch may come in any order; what
is checked against stored data is that time only moves forward per device and metric.

Nothing is acknowledged before it is committed: when the database stays busy after the
retries, :class:`Busy` is raised and the caller answers 503 (HTTP) or leaves the MQTT
message unacknowledged, so the sender retries and nothing acknowledged is lost.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.platform.perception import alarms, registry
from yiwang.platform.perception.registry import DeviceSpec, Snapshot
from yiwang.platform.regions import service as regions

logger = logging.getLogger("yiwang.perception")

HOUR_MS = 3_600_000
ROLLUP_KEY = "readings"
RETRIES = (0.05, 0.2, 0.5, 1.0)


class Busy(Exception):
    """The database stayed busy: nothing of the batch was stored; send it again later."""


@dataclass(frozen=True)
class Rejection:
    index: int
    device: str
    code: str
    detail: str
    metric: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = {"index": self.index, "device": self.device, "code": self.code,
               "detail": self.detail}
        if self.metric:
            out["metric"] = self.metric
        return out


@dataclass
class IngestResult:
    """What happened to a batch: readings stored, messages rejected (with reasons), alarms."""

    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    raised: list[int] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "rejected": [r.as_dict() for r in self.rejected],
                "alarms_raised": len(self.raised), "alarms_cleared": len(self.cleared)}


@dataclass
class _Message:
    index: int
    spec: DeviceSpec
    ts: int
    values: list[tuple[str, float]]
    position: tuple[float, float, str] | None


def _rejection(index: int, device: str, code: str, detail: str, metric: str = "") -> Rejection:
    return Rejection(index, device, code, detail, metric)


def parse_ts(raw: Any) -> int | None:
    """Milliseconds since the epoch from an integer (or integral float) of milliseconds or
    an ISO 8601 string with an offset; None if it is neither."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and math.isfinite(raw) and raw == int(raw):
        return int(raw)
    if isinstance(raw, str) and 10 <= len(raw) <= 40:
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            return None
        return int(parsed.timestamp() * 1000)
    return None


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


class _Parser:
    def __init__(self, snapshot: Snapshot, *, device_id: int | None, gateway_id: int | None,
                 now_ms: int, device_code: str | None = None) -> None:
        self.snapshot = snapshot
        self.own = snapshot.by_id.get(device_id) if device_id is not None else None
        self.credential_lost = device_id is not None and self.own is None
        self.unknown_own = ""
        if device_code is not None:  # the broker authenticated the device by its code
            self.own = snapshot.devices.get(device_code)
            self.unknown_own = device_code if self.own is None else ""
        self.gateway_id = gateway_id
        self.latest_ms = now_ms + int(settings.YIWANG_PERCEPTION_CLOCK_SKEW) * 1000
        self.oldest_ms = now_ms - int(settings.YIWANG_PERCEPTION_RAW_DAYS) * 86_400_000

    def device(self, index: int, item: dict[str, Any]) -> DeviceSpec | Rejection:
        code = item.get("device")
        if self.unknown_own:
            return _rejection(index, self.unknown_own[:48], "unknown_device",
                              _("设备 %(code)s 未登记，请先在设备台账中登记")
                              % {"code": self.unknown_own[:48]})
        if self.credential_lost:
            return _rejection(index, str(code or "")[:48], "not_allowed",
                              _("设备凭证已失效（设备已删除），请重新签发"))
        if self.own is not None:
            if code is None or code == self.own.code:
                return self.own
            return _rejection(index, str(code)[:48], "not_allowed",
                              _("设备凭证只能上报本设备（%(own)s）的读数") % {"own": self.own.code})
        if not isinstance(code, str) or not code:
            return _rejection(index, "", "malformed", _("缺少设备编码 device"))
        spec = self.snapshot.devices.get(code)
        if spec is None:
            return _rejection(index, code[:48], "unknown_device",
                              _("设备 %(code)s 未登记，请先在设备台账中登记") % {"code": code[:48]})
        if self.gateway_id is not None and spec.gateway_id != self.gateway_id:
            return _rejection(index, code, "not_allowed",
                              _("设备 %(code)s 不属于本网关") % {"code": code})
        return spec

    def message(self, index: int, item: Any) -> _Message | Rejection:
        if not isinstance(item, dict):
            return _rejection(index, "", "malformed", _("每条读数须为 JSON 对象"))
        spec = self.device(index, item)
        if isinstance(spec, Rejection):
            return spec
        if not spec.active:
            return _rejection(index, spec.code, "inactive", _("设备已停用，读数不予接收"))
        ts = parse_ts(item.get("ts"))
        if ts is None:
            return _rejection(index, spec.code, "bad_timestamp",
                              _("时间戳 ts 须为毫秒数（UTC）或带时区的 ISO 8601 时间"))
        if ts > self.latest_ms:
            return _rejection(index, spec.code, "future",
                              _("时间戳晚于当前时间，请校准设备时钟"))
        if ts < self.oldest_ms:
            return _rejection(index, spec.code, "too_old",
                              _("时间戳早于原始读数保存期（%(days)s 天）")
                              % {"days": settings.YIWANG_PERCEPTION_RAW_DAYS})
        raw_values = item.get("values")
        if not isinstance(raw_values, dict) or not raw_values:
            return _rejection(index, spec.code, "malformed",
                              _("values 须为非空对象，如 {\"level\": 1.2}"))
        values: list[tuple[str, float]] = []
        for metric, raw in raw_values.items():
            if metric not in spec.metrics:
                return _rejection(index, spec.code, "unknown_metric",
                                  _("设备类型 %(type)s 没有指标 %(metric)s")
                                  % {"type": spec.type_code, "metric": str(metric)[:32]},
                                  str(metric)[:32])
            value = _number(raw)
            if value is None:
                return _rejection(index, spec.code, "bad_value",
                                  _("指标 %(metric)s 的值须为有限数字") % {"metric": metric},
                                  metric)
            low, high = spec.metrics[metric]
            if (low is not None and value < low) or (high is not None and value > high):
                return _rejection(index, spec.code, "out_of_range",
                                  _("指标 %(metric)s 的值 %(value)s 超出量程 [%(low)s, %(high)s]，"
                                    "请检查设备") % {"metric": metric, "value": value,
                                                 "low": low, "high": high}, metric)
            values.append((metric, value))
        position = None
        if "lon" in item or "lat" in item:
            lon, lat = _number(item.get("lon")), _number(item.get("lat"))
            if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
                return _rejection(index, spec.code, "bad_location",
                                  _("坐标 lon/lat 须为 WGS84 经纬度数字"))
            grid = regions.grid_at(lon, lat)
            if grid is None:
                return _rejection(index, spec.code, "outside_city",
                                  _("坐标 (%(lon)s, %(lat)s) 不在本市任何网格内")
                                  % {"lon": lon, "lat": lat})
            position = (lon, lat, grid.code)
        return _Message(index, spec, ts, values, position)


class _StaleRegistry(Exception):
    """The in-process registry named a device the database no longer has."""


def _ingest_once(items: list[Any], snapshot: Snapshot, device_id: int | None,
                 gateway_id: int | None, device_code: str | None, *,
                 strict: bool) -> IngestResult:
    now_ms = int(time.time() * 1000)
    parser = _Parser(snapshot, device_id=device_id, gateway_id=gateway_id, now_ms=now_ms,
                     device_code=device_code)
    result = IngestResult()
    by_device: dict[int, list[_Message]] = defaultdict(list)
    early_rejections: list[tuple[int, Rejection]] = []
    for index, item in enumerate(items):
        parsed = parser.message(index, item)
        if isinstance(parsed, Rejection):
            result.rejected.append(parsed)
            spec = snapshot.devices.get(parsed.device)
            if spec is not None:
                early_rejections.append((spec.id, parsed))
        else:
            by_device[parsed.spec.id].append(parsed)
    for attempt, pause in enumerate((*RETRIES, None)):
        try:
            _store(snapshot, by_device, early_rejections, result, now_ms, strict=strict)
            break
        except OperationalError as exc:
            if pause is None or connection.in_atomic_block:
                logger.warning("perception: database busy, batch of %d not stored (%s)",
                               len(items), exc)
                raise Busy(str(exc)) from exc
            logger.info("perception: database busy (attempt %d), retrying", attempt + 1)
            time.sleep(pause)
    return result


def ingest(items: list[Any], *, device_id: int | None = None, gateway_id: int | None = None,
           device_code: str | None = None, source: str = "http") -> IngestResult:
    """Validate and store a batch of messages posted with a device's credential
    (``device_id``), a gateway's (``gateway_id``), as the device ``device_code`` (the MQTT
    broker authenticated it), or by the platform itself (none of them).

    Returns what was stored and what was rejected; raises :class:`Busy` when the database
    stayed busy (nothing stored)."""
    snapshot = registry.current()
    try:
        result = _ingest_once(items, snapshot, device_id, gateway_id, device_code, strict=True)
    except _StaleRegistry:
        # a device of the batch is gone from the database (or was replaced) since this
        # process last loaded the registry: load it again and check the batch anew
        registry.forget()
        snapshot = registry.current()
        result = _ingest_once(items, snapshot, device_id, gateway_id, device_code,
                              strict=False)
    if gateway_id is not None:
        from yiwang.platform.perception.models import Gateway

        Gateway.objects.filter(pk=gateway_id).update(
            last_seen_at=timezone.now(),
            rejected_count=_plus("rejected_count", sum(
                1 for r in result.rejected if r.device not in snapshot.devices)))
    logger.debug("perception %s: %d stored, %d rejected", source, result.accepted,
                 len(result.rejected))
    return result


def _plus(column: str, amount: int) -> Any:
    from django.db.models import F

    return F(column) + amount


def _store(snapshot: Snapshot, by_device: dict[int, list[_Message]],
           early: list[tuple[int, Rejection]], result: IngestResult, now_ms: int, *,
           strict: bool) -> None:
    stored = 0
    late: list[Rejection] = []
    with transaction.atomic():
        ids = sorted(set(by_device) | {device_id for device_id, _r in early})
        if not ids:
            return
        state = _lock_devices(ids)
        missing = set(ids) - set(state)
        if missing:
            if strict:
                raise _StaleRegistry(sorted(missing))
            for device_id in missing:  # deleted meanwhile: as if never registered
                for message in by_device.pop(device_id, ()):
                    late.append(_rejection(message.index, message.spec.code, "unknown_device",
                                           _("设备 %(code)s 未登记，请先在设备台账中登记")
                                           % {"code": message.spec.code}))
            early = [(d, r) for d, r in early if d not in missing]
            ids = [d for d in ids if d not in missing]
        points: list[tuple[int, str, int, float]] = []
        updates: list[tuple[Any, ...]] = []
        earliest_hour: int | None = None
        evaluations: list[tuple[DeviceSpec, _Message, str, float, tuple[int, float] | None]] = []
        rejected_by_device: dict[int, list[Rejection]] = defaultdict(list)
        for device_id, rejection in early:
            rejected_by_device[device_id].append(rejection)
        now = timezone.now()
        for device_id in ids:
            latest, last_ts = state.get(device_id, ({}, None))
            accepted = 0
            for message in sorted(by_device.get(device_id, ()), key=lambda m: m.ts):
                kept = 0
                for metric, value in message.values:
                    previous = latest.get(metric)
                    if previous is not None and message.ts <= previous[0]:
                        code = "duplicate" if message.ts == previous[0] else "out_of_order"
                        detail = (_("该时刻的读数已接收（重复上报）") if code == "duplicate" else
                                  _("时间戳早于该指标已接收的最新读数（乱序）"))
                        rejection = _rejection(message.index, message.spec.code, code, detail,
                                               metric)
                        late.append(rejection)
                        rejected_by_device[device_id].append(rejection)
                        continue
                    points.append((device_id, metric, message.ts, value))
                    evaluations.append((message.spec, message, metric, value,
                                        (previous[0], previous[1]) if previous else None))
                    latest[metric] = [message.ts, value]
                    kept += 1
                if kept:
                    accepted += kept
                    hour = message.ts - message.ts % HOUR_MS
                    earliest_hour = hour if earliest_hour is None else min(earliest_hour, hour)
                    last_ts = message.ts if last_ts is None else max(last_ts, message.ts)
                    if message.position is not None:
                        latest["@position"] = [message.ts, *message.position]
            rejections = rejected_by_device.get(device_id, [])
            if not accepted and not rejections:
                continue
            stored += accepted
            counts: dict[str, int] = defaultdict(int)
            for rejection in rejections:
                counts[rejection.code] += 1
            updates.append((device_id, accepted, rejections, dict(counts), latest, last_ts))
        _insert_points(points)
        _update_devices(updates, now)
        if earliest_hour is not None:
            _mark_dirty(earliest_hour)
        outcome = alarms.evaluate(snapshot, evaluations, now)
        result.raised.extend(outcome.raised)
        result.cleared.extend(outcome.cleared)
    result.accepted += stored
    result.rejected.extend(late)
    result.rejected.sort(key=lambda r: (r.index, r.metric))


def _lock_devices(ids: list[int]) -> dict[int, tuple[dict[str, Any], int | None]]:
    """The latest readings and timestamp of the devices, locked for this transaction
    (``FOR UPDATE`` on PostgreSQL; SQLite's write transaction already excludes others)."""
    from yiwang.platform.perception.models import Device

    rows = Device.objects.filter(pk__in=ids).order_by("pk")
    if connection.features.has_select_for_update:
        rows = rows.select_for_update()
    return {pk: (latest or {}, last_ts) for pk, latest, last_ts
            in rows.values_list("pk", "latest", "last_ts")}


def _insert_points(points: list[tuple[int, str, int, float]]) -> None:
    if not points:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO perception_reading (device_id, metric, ts, value) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (device_id, metric, ts) DO NOTHING", points)


def _update_devices(updates: list[tuple[Any, ...]], now: datetime) -> None:
    if not updates:
        return
    from yiwang.platform.perception.models import Device

    seen = connection.ops.adapt_datetimefield_value(now)
    plain: list[tuple[Any, ...]] = []
    for device_id, accepted, rejections, counts, latest, last_ts in updates:
        if rejections:
            # rare: the per-code tally is merged in Python, on the locked row
            device = Device.objects.only("rejections").get(pk=device_id)
            tally = dict(device.rejections or {})
            for code, n in counts.items():
                tally[code] = int(tally.get(code, 0)) + n
            Device.objects.filter(pk=device_id).update(
                rejections=tally, rejected_count=_plus("rejected_count", len(rejections)),
                last_rejection=f"{rejections[-1].code}: {rejections[-1].detail}"[:200],
                last_rejected_at=now)
        if accepted:
            plain.append((json.dumps(latest, separators=(",", ":")), last_ts, seen, accepted,
                          device_id))
    if plain:
        cast = "" if connection.vendor == "sqlite" else "::jsonb"
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE perception_device SET latest = %s{cast}, last_ts = %s, "  # noqa: S608
                "last_seen_at = %s, accepted_count = accepted_count + %s WHERE id = %s", plain)


def _mark_dirty(hour: int) -> None:
    """Remember the earliest hour bucket that received readings, for the roll-up job."""
    from yiwang.platform.perception.models import RollupMark

    function = "MIN" if connection.vendor == "sqlite" else "LEAST"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE perception_rollupmark SET dirty_from = COALESCE({function}("  # noqa: S608
            "dirty_from, %s), %s) WHERE key = %s", [hour, hour, ROLLUP_KEY])
        if cursor.rowcount == 0:
            RollupMark.objects.get_or_create(key=ROLLUP_KEY, defaults={"dirty_from": hour})
