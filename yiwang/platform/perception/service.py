"""Public facade of the perception platform (感知平台): the device registry, ingestion of
readings, their series and roll-ups, device health, alarm rules and alarms.

Writes go through the verb-named functions here; each changes the registry token so every
ingesting process reloads its snapshot (``registry.py``). Readings arrive through
:func:`ingest_readings` — from the HTTP API, the MQTT bridge (``yiwang perception mqtt``)
or the simulator — and are described in ``ingest.py``; alarms in ``alarms.py``.

Who sees what: an official sees the devices, gateways and alarms of the departments they
belong to and those departments' internal units (:func:`department_scope`); a superuser
sees all. The API and workbench apply that scope; the functions here take it as an
argument.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.platform.orgs import service as orgs
from yiwang.platform.perception import alarms, registry
from yiwang.platform.perception.alarms import register_handler, unregister_handler
from yiwang.platform.perception.cameras import (
    camera_snapshot,
    keep_snapshot,
    list_cameras,
    register_camera,
    snapshot_due,
)
from yiwang.platform.perception.common import check_department as _check_department
from yiwang.platform.perception.common import field_error as _error
from yiwang.platform.perception.ingest import (
    HOUR_MS,
    Busy,
    IngestResult,
    Rejection,
    ingest,
    parse_ts,
)
from yiwang.platform.perception.models import (
    SEVERITY_RANK,
    Alarm,
    Camera,
    Device,
    DeviceType,
    Gateway,
    Operator,
    Period,
    Reading,
    Rollup,
    Rule,
    RuleKind,
    Severity,
)
from yiwang.platform.perception.rollups import prune, roll_up
from yiwang.platform.regions import service as regions

__all__ = [
    "SEVERITY_RANK",
    "Alarm",
    "Busy",
    "Camera",
    "Device",
    "DeviceType",
    "Gateway",
    "IngestResult",
    "Operator",
    "Rejection",
    "Rule",
    "RuleKind",
    "Severity",
    "acknowledge_alarm",
    "authenticate",
    "camera_snapshot",
    "check_absence",
    "clear_alarm",
    "create_device_type",
    "create_rule",
    "deliver_alarm",
    "department_scope",
    "device_health",
    "get_alarm",
    "get_device",
    "ingest_readings",
    "issue_token",
    "keep_snapshot",
    "list_alarms",
    "list_cameras",
    "list_devices",
    "parse_ts",
    "prune",
    "region_summary",
    "register_camera",
    "register_device",
    "register_gateway",
    "register_handler",
    "roll_up",
    "rules_for",
    "series",
    "snapshot_due",
    "unregister_handler",
    "update_device",
]

DEVICE_TOKEN_PREFIX = "ywd_"  # noqa: S105 - a prefix, not a secret
GATEWAY_TOKEN_PREFIX = "ywg_"  # noqa: S105
RAW_POINTS_MAX = 10_000
DAY_MS = 86_400_000


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- scope ------------------------------------------------------------------------------

def department_scope(user: Any) -> list[str] | None:
    """The department codes whose devices and alarms ``user`` sees: their own departments
    and those departments' internal units; None for a superuser (everything)."""
    if getattr(user, "is_superuser", False):
        return None
    return orgs.unit_codes_of(user)


def _scoped(queryset: QuerySet[Any], scope: list[str] | None) -> QuerySet[Any]:
    return queryset if scope is None else queryset.filter(department_code__in=scope)


# --- registry writes --------------------------------------------------------------------

def _check_metrics(metrics: Any) -> list[dict[str, Any]]:
    if not isinstance(metrics, list) or not metrics:
        raise _error(_("设备类型须至少声明一个指标"), "no_metrics", "metrics")
    seen: set[str] = set()
    out = []
    for item in metrics:
        if not isinstance(item, dict):
            raise _error(_("指标须为对象"), "bad_metric", "metrics")
        key = str(item.get("key", ""))
        try:
            from yiwang.platform.perception.models import validate_metric

            validate_metric(key)
        except ValidationError as exc:
            raise ValidationError({"metrics": exc.error_list}) from None
        if key in seen:
            raise _error(_("指标 %(key)s 重复") % {"key": key}, "duplicate_metric", "metrics")
        seen.add(key)
        low, high = item.get("min"), item.get("max")
        for bound in (low, high):
            if bound is not None and (isinstance(bound, bool)
                                      or not isinstance(bound, (int, float))):
                raise _error(_("指标 %(key)s 的量程须为数字") % {"key": key}, "bad_range",
                             "metrics")
        if low is not None and high is not None and low >= high:
            raise _error(_("指标 %(key)s 的量程下限须小于上限") % {"key": key}, "bad_range",
                         "metrics")
        out.append({"key": key, "name": str(item.get("name") or key)[:32],
                    "name_en": str(item.get("name_en") or "")[:64],
                    "unit": str(item.get("unit") or "")[:16], "min": low, "max": high})
    return out


@transaction.atomic
def create_device_type(code: str, name: str, metrics: list[dict[str, Any]], *,
                       name_en: str = "", interval_seconds: int = 60) -> DeviceType:
    """Declare a kind of sensor: its metrics (key, name, unit, physical range) and how often
    it reports."""
    device_type = DeviceType(code=code, name=name, name_en=name_en,
                             metrics=_check_metrics(metrics), interval_seconds=interval_seconds)
    device_type.full_clean()
    device_type.save()
    registry.changed()
    audit.record("perception.device_type_created", device_type, detail={"code": code})
    return device_type


def _place(device: Device, lon: float, lat: float) -> None:
    try:
        grid = regions.grid_at(lon, lat)
    except ValidationError as exc:
        raise ValidationError({"lon": exc.error_list}) from None
    if grid is None:
        raise _error(_("坐标 (%(lon)s, %(lat)s) 不在本市任何网格内") % {"lon": lon, "lat": lat},
                     "outside_city", "lon")
    device.lon, device.lat = lon, lat
    device.grid_code = grid.code
    device.community_code = grid.community_id
    device.street_code = grid.street_code
    device.district_code = grid.district_code


@transaction.atomic
def register_device(code: str, name: str, *, type_code: str, department_code: str,
                    lon: float, lat: float, address: str = "", gateway_code: str | None = None,
                    interval_seconds: int | None = None, active: bool = True) -> Device:
    """Register a sensor at a place (its grid, street and district found from the point);
    returns the device (no credential yet: see :func:`issue_token`)."""
    device_type = DeviceType.objects.filter(code=type_code).first()
    if device_type is None:
        raise _error(_("设备类型 %(code)s 不存在") % {"code": type_code}, "no_type", "type_code")
    _check_department(department_code)
    gateway = None
    if gateway_code:
        gateway = Gateway.objects.filter(code=gateway_code).first()
        if gateway is None:
            raise _error(_("网关 %(code)s 不存在") % {"code": gateway_code}, "no_gateway",
                         "gateway_code")
    device = Device(code=code, name=name, type=device_type, department_code=department_code,
                    address=address, gateway=gateway, interval_seconds=interval_seconds,
                    active=active)
    _place(device, lon, lat)
    device.full_clean(exclude=["token_hash"])
    device.save()
    registry.changed()
    audit.record("perception.device_registered", device,
                 detail={"code": code, "type": type_code, "grid": device.grid_code})
    return device


@transaction.atomic
def update_device(code: str, **changes: Any) -> Device:
    """Change a device's name, address, place (``lon`` and ``lat`` together), owner,
    gateway, reporting interval or whether it is active."""
    device = get_device(code)
    allowed = {"name", "address", "lon", "lat", "department_code", "gateway_code",
               "interval_seconds", "active"}
    unknown = set(changes) - allowed
    if unknown:
        raise _error(_("不能修改的字段：%(fields)s") % {"fields": ", ".join(sorted(unknown))},
                     "bad_field")
    if "lon" in changes or "lat" in changes:
        _place(device, float(changes.pop("lon", device.lon)),
               float(changes.pop("lat", device.lat)))
    if "department_code" in changes:
        _check_department(changes["department_code"])
    if "gateway_code" in changes:
        gateway_code = changes.pop("gateway_code")
        device.gateway = Gateway.objects.filter(code=gateway_code).first() if gateway_code \
            else None
        if gateway_code and device.gateway is None:
            raise _error(_("网关 %(code)s 不存在") % {"code": gateway_code}, "no_gateway",
                         "gateway_code")
    for name, value in changes.items():
        setattr(device, name, value)
    device.full_clean(exclude=["token_hash"])
    device.save()
    registry.changed()
    audit.record("perception.device_updated", device, detail={"fields": sorted(changes)})
    return device


@transaction.atomic
def register_gateway(code: str, name: str, *, department_code: str) -> Gateway:
    """Register a gateway that posts readings for the devices attached to it."""
    _check_department(department_code)
    gateway = Gateway(code=code, name=name, department_code=department_code)
    gateway.full_clean(exclude=["token_hash"])
    gateway.save()
    registry.changed()
    audit.record("perception.gateway_registered", gateway, detail={"code": code})
    return gateway


@transaction.atomic
def issue_token(target: Device | Gateway) -> str:
    """A new credential for a device or gateway (the old one stops working at once). Only
    its hash is stored: the token is shown once, to the caller."""
    prefix = DEVICE_TOKEN_PREFIX if isinstance(target, Device) else GATEWAY_TOKEN_PREFIX
    token = prefix + secrets.token_urlsafe(32)
    target.token_hash = _hash(token)
    target.token_hint = token[-4:]
    target.save(update_fields=["token_hash", "token_hint"])
    registry.changed()
    audit.record("perception.token_issued", target, detail={"hint": target.token_hint})
    return token


def authenticate(token: str) -> tuple[str, int] | None:
    """``("device" | "gateway", id)`` for a valid credential of an active device or
    gateway, else None."""
    if not token or len(token) > 100 or not token.startswith(
            (DEVICE_TOKEN_PREFIX, GATEWAY_TOKEN_PREFIX)):
        return None
    snapshot = registry.current()
    found = snapshot.credentials.get(_hash(token))
    if found is None:
        return None
    kind, pk = found
    if kind == "gateway" and not snapshot.gateways_active.get(pk, False):
        return None
    if kind == "device":
        spec = snapshot.by_id.get(pk)
        if spec is None or not spec.active:
            return None
    return found


@transaction.atomic
def create_rule(name: str, *, kind: str, metric: str = "", device_code: str | None = None,
                type_code: str | None = None, operator: str = Operator.GT,
                value: float | None = None, clear_value: float | None = None,
                seconds: int | None = None, severity: str = Severity.MAJOR,
                category_code: str = "") -> Rule:
    """An alarm rule on one device or every device of a type (see :class:`Rule`)."""
    device = get_device(device_code) if device_code else None
    device_type = DeviceType.objects.filter(code=type_code).first() if type_code else None
    if type_code and device_type is None:
        raise _error(_("设备类型 %(code)s 不存在") % {"code": type_code}, "no_type", "type_code")
    if (device is None) == (device_type is None):
        raise _error(_("规则须且只能针对一台设备或一种设备类型"), "one_target")
    declared = (device.type if device is not None else device_type)
    assert declared is not None
    if kind in (RuleKind.THRESHOLD, RuleKind.RATE):
        if declared.metric(metric) is None:
            raise _error(_("设备类型 %(type)s 没有指标 %(metric)s")
                         % {"type": declared.code, "metric": metric}, "unknown_metric", "metric")
        if value is None:
            raise _error(_("须填写阈值"), "no_value", "value")
    if kind in (RuleKind.ABSENCE, RuleKind.RATE) and not seconds:
        raise _error(_("须填写时间窗（秒）"), "no_seconds", "seconds")
    if kind == RuleKind.ABSENCE:
        metric, value = "", None
    if category_code and orgs.get_category(category_code) is None:
        raise _error(_("事项类别 %(code)s 不存在") % {"code": category_code}, "no_category",
                     "category_code")
    rule = Rule(name=name, kind=kind, metric=metric, device=device, device_type=device_type,
                operator=operator, value=value, clear_value=clear_value, seconds=seconds,
                severity=severity, category_code=category_code)
    rule.full_clean()
    rule.save()
    registry.changed()
    audit.record("perception.rule_created", rule, detail={"kind": kind, "metric": metric})
    return rule


# --- ingestion --------------------------------------------------------------------------

def ingest_readings(items: list[Any], *, credential: tuple[str, Any] | None = None,
                    source: str = "http") -> IngestResult:
    """Store a batch of readings posted with ``credential``: ``("device", id)`` or
    ``("gateway", id)`` from :func:`authenticate`, ``("device_code", code)`` for a device
    the MQTT broker authenticated; None for trusted platform input such as the simulator.
    See ``ingest.py``."""
    limit = int(settings.YIWANG_PERCEPTION_MAX_BATCH)
    if len(items) > limit:
        raise _error(_("一次最多上报 %(limit)s 条读数，请分批上报") % {"limit": limit},
                     "batch_too_large")
    kind, value = credential if credential else ("", None)
    return ingest(items, device_id=value if kind == "device" else None,
                  gateway_id=value if kind == "gateway" else None,
                  device_code=value if kind == "device_code" else None, source=source)


# --- reads ------------------------------------------------------------------------------

def get_device(code: str) -> Device:
    """The device with this code; raises Device.DoesNotExist."""
    try:
        return Device.objects.select_related("type", "gateway").get(code=code)
    except Device.DoesNotExist:
        raise Device.DoesNotExist(_("设备 %(code)s 不存在") % {"code": code}) from None


def health_status(device: Device, now: datetime | None = None) -> str:
    """``inactive``, ``never`` (no reading yet), ``silent`` (nothing for
    ``YIWANG_PERCEPTION_SILENT_FACTOR`` intervals) or ``online``."""
    if not device.active:
        return "inactive"
    if device.last_seen_at is None:
        return "never"
    limit = device.interval * float(settings.YIWANG_PERCEPTION_SILENT_FACTOR)
    if (now or timezone.now()) - device.last_seen_at > timedelta(seconds=limit):
        return "silent"
    return "online"


def _silent_before(now: datetime) -> Q:
    """A filter for devices silent at ``now`` (interval from the device or its type)."""
    from django.db.models.expressions import RawSQL

    factor = float(settings.YIWANG_PERCEPTION_SILENT_FACTOR)
    if connection.vendor == "sqlite":  # datetimes are text there: compare epoch seconds
        late = ("CAST(strftime('%%s', d.last_seen_at) AS REAL) + "
                "COALESCE(d.interval_seconds, t.interval_seconds) * %s < %s")
        params: tuple[Any, ...] = (factor, now.timestamp())
    else:
        late = ("d.last_seen_at + make_interval(secs => COALESCE(d.interval_seconds, "
                "t.interval_seconds) * %s) < %s")
        params = (factor, now)
    # ``late`` is one of the two constant fragments above; the values are parameters
    sql = ("SELECT d.id FROM perception_device d JOIN perception_devicetype t "  # noqa: S608
           f"ON t.id = d.type_id WHERE d.last_seen_at IS NOT NULL AND {late}")
    return Q(pk__in=RawSQL(sql, params))  # noqa: S611


def list_devices(scope: list[str] | None, *, q: str = "", type_code: str = "",
                 district_code: str = "", grid_code: str = "", status: str = "",
                 department_code: str = "") -> QuerySet[Device]:
    """Devices in ``scope`` (department codes; None: all), filtered."""
    rows = _scoped(Device.objects.select_related("type"), scope)
    if q:
        rows = rows.filter(Q(code__icontains=q) | Q(name__icontains=q))
    if type_code:
        rows = rows.filter(type__code=type_code)
    if district_code:
        rows = rows.filter(district_code=district_code)
    if grid_code:
        rows = rows.filter(grid_code=grid_code)
    if department_code:
        rows = rows.filter(department_code=department_code)
    now = timezone.now()
    if status == "inactive":
        rows = rows.filter(active=False)
    elif status == "never":
        rows = rows.filter(active=True, last_seen_at__isnull=True)
    elif status == "silent":
        rows = rows.filter(_silent_before(now), active=True)
    elif status == "online":
        rows = rows.filter(active=True, last_seen_at__isnull=False).exclude(
            _silent_before(now))
    return rows.order_by("code")


def rules_for(device: Device) -> QuerySet[Rule]:
    """The alarm rules that watch ``device``: its own and its type's."""
    return Rule.objects.filter(Q(device=device) | Q(device_type_id=device.type_id)
                               ).order_by("name")


def device_health(device: Device, now: datetime | None = None) -> dict[str, Any]:
    """The device's health for people: status, last report, counts and rejection reasons."""
    return {"status": health_status(device, now), "last_seen_at": device.last_seen_at,
            "last_ts": device.last_ts, "accepted": device.accepted_count,
            "rejected": device.rejected_count, "rejections": dict(device.rejections or {}),
            "last_rejection": device.last_rejection, "last_rejected_at": device.last_rejected_at,
            "interval_seconds": device.interval}


def series(device: Device, metric: str, *, start_ms: int, end_ms: int,
           resolution: str = "auto") -> dict[str, Any]:
    """A metric's values between two times: raw readings, or hourly / daily roll-ups
    (``auto``: raw up to 2 days, hourly up to 60 days, daily beyond)."""
    if device.type.metric(metric) is None:
        raise _error(_("设备类型 %(type)s 没有指标 %(metric)s")
                     % {"type": device.type.code, "metric": metric}, "unknown_metric", "metric")
    if end_ms <= start_ms:
        raise _error(_("结束时间须晚于开始时间"), "bad_range")
    span = end_ms - start_ms
    if resolution == "auto":
        resolution = "raw" if span <= 2 * DAY_MS else ("h" if span <= 60 * DAY_MS else "d")
    if resolution == "raw":
        rows = list(Reading.objects.filter(device=device, metric=metric, ts__gte=start_ms,
                                           ts__lt=end_ms).order_by("ts")
                    .values_list("ts", "value")[:RAW_POINTS_MAX + 1])
        truncated = len(rows) > RAW_POINTS_MAX
        points = [{"ts": ts, "value": value} for ts, value in rows[:RAW_POINTS_MAX]]
        return {"resolution": "raw", "points": points, "truncated": truncated}
    if resolution not in (Period.HOUR, Period.DAY):
        raise _error(_("分辨率须为 auto、raw、h 或 d"), "bad_resolution", "resolution")
    rows_r = Rollup.objects.filter(device=device, metric=metric, period=resolution,
                                   bucket__gte=start_ms - DAY_MS, bucket__lt=end_ms
                                   ).order_by("bucket")
    points = [{"ts": r.bucket, "count": r.count, "mean": r.total / r.count, "min": r.minimum,
               "max": r.maximum, "last": r.last_value} for r in rows_r if r.count
              and r.bucket + (HOUR_MS if resolution == "h" else DAY_MS) > start_ms]
    return {"resolution": resolution, "points": points, "truncated": False}


# --- alarms -----------------------------------------------------------------------------

def _in_region(region_code: str) -> Q:
    return Q(grid_code__startswith=regions.code_prefix(region_code))


def region_summary(region_code: str) -> dict[str, Any]:
    """For a cockpit: the open alarms in a region by severity (and the latest ten), and its
    devices by health (online, silent, never, inactive)."""
    from django.db.models import Count

    alarms_q = Alarm.objects.filter(_in_region(region_code), cleared_at__isnull=True)
    by_severity = dict(alarms_q.values_list("severity").annotate(n=Count("id")))
    latest = [{"id": a.pk, "severity": a.severity, "message": a.message,
               "started_at": a.started_at, "acknowledged": a.acknowledged_at is not None,
               "lon": a.device.lon, "lat": a.device.lat, "case": a.handled_ref}
              for a in alarms_q.select_related("device").order_by("-started_at")[:10]]
    silent = _silent_before(timezone.now())
    seen = Q(active=True, last_seen_at__isnull=False)
    health = {k: int(v or 0) for k, v in Device.objects.filter(_in_region(region_code)).aggregate(
        online=Count("id", filter=seen & ~silent), silent=Count("id", filter=seen & silent),
        never=Count("id", filter=Q(active=True, last_seen_at__isnull=True)),
        inactive=Count("id", filter=Q(active=False))).items()}
    return {"alarms": {s: int(by_severity.get(s, 0)) for s in Severity.values},
            "latest_alarms": latest, "devices": health}


def list_alarms(scope: list[str] | None, *, state: str = "open", severity: str = "",
                device_code: str = "", district_code: str = "") -> QuerySet[Alarm]:
    """Alarms in ``scope`` (department codes; None: all): ``open`` (not cleared),
    ``unacknowledged`` (open, nobody acknowledged), ``cleared`` or ``all``; newest first."""
    rows = _scoped(Alarm.objects.select_related("device"), scope)
    if state == "open":
        rows = rows.filter(cleared_at__isnull=True)
    elif state == "unacknowledged":
        rows = rows.filter(cleared_at__isnull=True, acknowledged_at__isnull=True)
    elif state == "cleared":
        rows = rows.filter(cleared_at__isnull=False)
    if severity:
        rows = rows.filter(severity=severity)
    if device_code:
        rows = rows.filter(device__code=device_code)
    if district_code:
        rows = rows.filter(district_code=district_code)
    return rows.order_by("-started_at", "-id")


def get_alarm(alarm_id: int, scope: list[str] | None) -> Alarm:
    """The alarm, if in ``scope``; raises Alarm.DoesNotExist otherwise (not-in-scope and
    absent look the same)."""
    try:
        return _scoped(Alarm.objects.select_related("device"), scope).get(pk=alarm_id)
    except Alarm.DoesNotExist:
        raise Alarm.DoesNotExist(_("告警 %(id)s 不存在") % {"id": alarm_id}) from None


@transaction.atomic
def acknowledge_alarm(alarm_id: int, user: Any, scope: list[str] | None) -> Alarm:
    """Record that ``user`` has seen the alarm (idempotent: the first acknowledgement
    stands)."""
    alarm = get_alarm(alarm_id, scope)
    if alarm.acknowledged_at is None:
        alarm.acknowledged_at, alarm.acknowledged_by = timezone.now(), user
        alarm.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit.record("perception.alarm_acknowledged", alarm, actor=user)
    return alarm


@transaction.atomic
def clear_alarm(alarm_id: int, user: Any, scope: list[str] | None) -> Alarm:
    """Clear an open alarm by hand (the condition was dealt with); idempotent."""
    alarm = get_alarm(alarm_id, scope)
    if alarm.cleared_at is None:
        alarm.cleared_at, alarm.cleared_by = timezone.now(), user
        if alarm.acknowledged_at is None:
            alarm.acknowledged_at, alarm.acknowledged_by = alarm.cleared_at, user
        alarm.save(update_fields=["cleared_at", "cleared_by", "acknowledged_at",
                                  "acknowledged_by"])
        audit.record("perception.alarm_cleared", alarm, actor=user)
    return alarm


def check_absence(now: datetime | None = None) -> dict[str, int]:
    """Raise absence alarms for silent devices (the periodic job)."""
    outcome = alarms.check_absence(registry.current(), now)
    return {"raised": len(outcome.raised)}


def deliver_alarm(alarm_id: int) -> bool:
    """Run the alarm handlers again on an alarm whose handling failed (the retry job)."""
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().filter(pk=alarm_id).first()
        if alarm is None or not alarm.handler_error:
            return True
        if not alarms.dispatch(alarm, retry_later=False):
            # the task runner retries with back-off (the note on the alarm rolls back too)
            raise RuntimeError(alarm.handler_error)
        return True
