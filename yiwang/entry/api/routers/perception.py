"""Internal API of the perception platform: /api/v1/perception on the internal listener.

Two kinds of caller:

- devices and gateways post readings to ``POST /telemetry`` with their credential
  (``Authorization: Bearer ywd_…`` or ``ywg_…``); no session, no CSRF. A bad credential
  answers 401 (and counts against the address: too many → 429); a body that is not JSON or
  too large a batch 400; readings are checked one by one (200 with the rejected ones and
  why); a busy database 503 with ``Retry-After`` — nothing of that batch was stored;
- officials (the internal session) read the devices, series and alarms of their
  departments and their units, register devices and act on alarms. A device or alarm of
  another department answers 404, as one that does not exist.

Thin: each endpoint calls ``yiwang.platform.perception.service``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer

from yiwang.core import ratelimit
from yiwang.platform.perception import service as perception

internal_router = Router(tags=["perception"])

FAILURES_PER_MINUTE = 30


class Message(Schema):
    detail: str = Field(description="错误说明")


def _messages(exc: ValidationError) -> str:
    return "；".join(exc.messages)


# --- telemetry --------------------------------------------------------------------------

class DeviceCredential(HttpBearer):
    """``Authorization: Bearer <device or gateway token>``."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = perception.authenticate(token.strip())
        if found is None and ratelimit.exceeded("perception.bad_token", request,
                                                per_minute=FAILURES_PER_MINUTE):
            raise HttpError(429, gettext("凭证校验失败次数过多，请一分钟后再试"))
        return found


class Rejected(Schema):
    index: int = Field(description="读数在请求中的序号（从0起）")
    device: str = Field(description="设备编码")
    code: str = Field(description="拒收原因代码：malformed, unknown_device, not_allowed, "
                                  "inactive, bad_timestamp, future, too_old, unknown_metric, "
                                  "bad_value, out_of_range, bad_location, outside_city, "
                                  "duplicate, out_of_order")
    detail: str = Field(description="拒收原因说明")
    metric: str | None = Field(None, description="相关指标")


class TelemetryOut(Schema):
    accepted: int = Field(description="已入库的读数（数据点）数")
    rejected: list[Rejected] = Field(description="被拒收的读数及原因")
    alarms_raised: int = Field(description="本批触发的新告警数")
    alarms_cleared: int = Field(description="本批恢复的告警数")


TELEMETRY_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["readings"], "properties": {"readings": {
            "type": "array", "items": {"type": "object", "required": ["ts", "values"],
                                       "properties": {
                "device": {"type": "string", "description": "设备编码（设备凭证可省略）"},
                "ts": {"description": "毫秒时间戳（UTC）或带时区的 ISO 8601 时间",
                       "oneOf": [{"type": "integer"}, {"type": "string"}]},
                "values": {"type": "object", "additionalProperties": {"type": "number"},
                           "description": "指标 → 数值，如 {\"level\": 1.25}"},
                "lon": {"type": "number"}, "lat": {"type": "number"}}}}}}}}},
}


@internal_router.post(
    "/telemetry", auth=DeviceCredential(),
    response={200: TelemetryOut, 400: Message, 401: Message, 413: Message, 503: Message},
    summary="Post readings (a device or gateway credential)", openapi_extra=TELEMETRY_BODY)
def post_telemetry(request: HttpRequest) -> Any:
    limit = int(settings.YIWANG_PERCEPTION_MAX_BATCH) * 2048
    if len(request.body) > limit:
        return Status(413, {"detail": gettext("请求过大，请分批上报")})
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return Status(400, {"detail": gettext("请求体须为 JSON：{\"readings\": [...]}")})
    items = body.get("readings") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return Status(400, {"detail": gettext("请求体须为 JSON：{\"readings\": [...]}")})
    try:
        result = perception.ingest_readings(items, credential=request.auth, source="http")
    except ValidationError as exc:
        return Status(400, {"detail": _messages(exc)})
    except perception.Busy:
        response = JsonResponse({"detail": gettext("系统繁忙，本批读数未入库，请稍后重发")},
                                status=503)
        response["Retry-After"] = "1"
        return response
    return result.as_dict()


# --- devices ----------------------------------------------------------------------------

class MetricOut(Schema):
    key: str
    name: str
    name_en: str
    unit: str
    min: float | None
    max: float | None


class DeviceTypeOut(Schema):
    code: str = Field(description="类型编码")
    name: str = Field(description="名称")
    name_en: str = Field(description="英文名称")
    interval_seconds: int = Field(description="上报间隔（秒）")
    metrics: list[MetricOut] = Field(description="指标")


class HealthOut(Schema):
    status: str = Field(description="online 在线, silent 静默（超过若干上报间隔无数据）, "
                                    "never 从未上报, inactive 已停用")
    last_seen_at: datetime | None = Field(description="最近上报时间")
    last_ts: int | None = Field(description="最新读数时间（毫秒）")
    accepted: int = Field(description="累计接收读数")
    rejected: int = Field(description="累计拒收读数")
    rejections: dict[str, int] = Field(description="拒收原因统计")
    last_rejection: str = Field(description="最近拒收原因")
    interval_seconds: int = Field(description="应上报间隔（秒）")


class DeviceOut(Schema):
    code: str = Field(description="设备编码")
    name: str = Field(description="名称")
    type_code: str = Field(description="设备类型")
    department_code: str = Field(description="权属部门")
    lon: float
    lat: float
    grid_code: str = Field(description="所在网格")
    street_code: str
    district_code: str
    address: str
    gateway_code: str | None
    active: bool
    has_credential: bool = Field(description="是否已签发接入凭证")
    health: HealthOut
    latest: dict[str, Any] = Field(description="各指标最新读数 [时间, 值]")


class DevicePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[DeviceOut]


class DeviceQuery(Schema):
    q: str = Field("", max_length=48, description="按编码或名称搜索")
    type: str = Field("", max_length=48, description="设备类型")
    district: str = Field("", max_length=12, description="区县代码")
    grid: str = Field("", max_length=15, description="网格编码")
    department: str = Field("", max_length=64, description="权属部门")
    status: str = Field("", pattern=r"^(|online|silent|never|inactive)$",
                        description="健康状态")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000_000)


class DeviceIn(Schema):
    code: str = Field(max_length=48)
    name: str = Field(max_length=64)
    type_code: str = Field(max_length=48)
    department_code: str = Field(max_length=64)
    lon: float
    lat: float
    address: str = Field("", max_length=128)
    gateway_code: str | None = Field(None, max_length=48)
    interval_seconds: int | None = Field(None, ge=1, le=86400 * 7)


class DevicePatch(Schema):
    name: str | None = Field(None, max_length=64)
    address: str | None = Field(None, max_length=128)
    lon: float | None = None
    lat: float | None = None
    active: bool | None = None
    interval_seconds: int | None = Field(None, ge=1, le=86400 * 7)


class TokenOut(Schema):
    token: str = Field(description="接入凭证（只显示这一次，请妥善保存）")


def _device_out(device: perception.Device) -> dict[str, Any]:
    return {
        "code": device.code, "name": device.name, "type_code": device.type.code,
        "department_code": device.department_code, "lon": device.lon, "lat": device.lat,
        "grid_code": device.grid_code, "street_code": device.street_code,
        "district_code": device.district_code, "address": device.address,
        "gateway_code": device.gateway.code if device.gateway_id and device.gateway else None,
        "active": device.active, "has_credential": bool(device.token_hash),
        "health": perception.device_health(device), "latest": device.latest or {},
    }


def _scope(request: HttpRequest) -> list[str] | None:
    return perception.department_scope(request.auth)


def _visible_device(request: HttpRequest, code: str) -> perception.Device | None:
    try:
        device = perception.get_device(code)
    except perception.Device.DoesNotExist:
        return None
    scope = _scope(request)
    if scope is not None and device.department_code not in scope:
        return None
    return device


def _may_manage(request: HttpRequest) -> bool:
    """Registering and changing devices takes the ``perception.change_device`` permission
    (a device administrator of the department), besides the department scope."""
    return bool(request.auth.has_perm("perception.change_device"))


def _no_device(code: str) -> Any:
    return Status(404, {"detail": gettext("设备 %(code)s 不存在") % {"code": code[:48]}})


@internal_router.get("/device-types", response=list[DeviceTypeOut],
                     summary="Kinds of sensors and their metrics")
def list_device_types(request: HttpRequest) -> Any:
    return [{"code": t.code, "name": t.name, "name_en": t.name_en,
             "interval_seconds": t.interval_seconds, "metrics": t.metrics}
            for t in perception.DeviceType.objects.order_by("code")]


@internal_router.get("/devices", response=DevicePage,
                     summary="Devices of my departments, with their health")
def list_devices(request: HttpRequest, params: Query[DeviceQuery]) -> Any:
    rows = perception.list_devices(
        _scope(request), q=params.q, type_code=params.type, district_code=params.district,
        grid_code=params.grid, status=params.status, department_code=params.department)
    count = rows.count()
    page = rows.select_related("gateway")[params.offset:params.offset + params.limit]
    return {"count": count, "limit": params.limit, "offset": params.offset,
            "items": [_device_out(d) for d in page]}


@internal_router.post("/devices", response={201: DeviceOut, 400: Message, 403: Message},
                      summary="Register a device for one of my departments")
def register_device(request: HttpRequest, payload: DeviceIn) -> Any:
    scope = _scope(request)
    if not _may_manage(request):
        return Status(403, {"detail": gettext("只有设备管理员可以登记或修改设备")})
    if scope is not None and payload.department_code not in scope:
        return Status(403, {"detail": gettext("只能为本部门登记设备")})
    try:
        device = perception.register_device(
            payload.code, payload.name, type_code=payload.type_code,
            department_code=payload.department_code, lon=payload.lon, lat=payload.lat,
            address=payload.address, gateway_code=payload.gateway_code,
            interval_seconds=payload.interval_seconds)
    except ValidationError as exc:
        return Status(400, {"detail": _messages(exc)})
    return Status(201, _device_out(perception.get_device(device.code)))


@internal_router.get("/devices/{code}", response={200: DeviceOut, 404: Message},
                     summary="One device and its health")
def get_device(request: HttpRequest, code: str) -> Any:
    device = _visible_device(request, code)
    return _device_out(device) if device is not None else _no_device(code)


@internal_router.patch("/devices/{code}", response={200: DeviceOut, 400: Message, 403: Message,
                                                    404: Message},
                       summary="Change a device (name, place, interval, enabled)")
def update_device(request: HttpRequest, code: str, payload: DevicePatch) -> Any:
    if _visible_device(request, code) is None:
        return _no_device(code)
    if not _may_manage(request):
        return Status(403, {"detail": gettext("只有设备管理员可以登记或修改设备")})
    changes = payload.dict(exclude_unset=True)
    try:
        device = perception.update_device(code, **changes)
    except ValidationError as exc:
        return Status(400, {"detail": _messages(exc)})
    return _device_out(perception.get_device(device.code))


@internal_router.post("/devices/{code}/token", response={200: TokenOut, 403: Message,
                                                       404: Message},
                      summary="Issue a new credential (the old one stops working)")
def issue_device_token(request: HttpRequest, code: str) -> Any:
    device = _visible_device(request, code)
    if device is None:
        return _no_device(code)
    if not _may_manage(request):
        return Status(403, {"detail": gettext("只有设备管理员可以登记或修改设备")})
    return {"token": perception.issue_token(device)}


class SeriesQuery(Schema):
    metric: str = Field(max_length=32, description="指标")
    start: int = Field(ge=0, description="开始时间（毫秒）")
    end: int = Field(ge=0, description="结束时间（毫秒，不含）")
    resolution: str = Field("auto", pattern=r"^(auto|raw|h|d)$",
                            description="auto 自动, raw 原始, h 小时汇总, d 日汇总")


@internal_router.get("/devices/{code}/series", response={200: dict[str, Any], 400: Message,
                                                          404: Message},
                     summary="A metric's readings or roll-ups over a time range")
def device_series(request: HttpRequest, code: str, params: Query[SeriesQuery]) -> Any:
    device = _visible_device(request, code)
    if device is None:
        return _no_device(code)
    try:
        return perception.series(device, params.metric, start_ms=params.start,
                                 end_ms=params.end, resolution=params.resolution)
    except ValidationError as exc:
        return Status(400, {"detail": _messages(exc)})


# --- alarms -----------------------------------------------------------------------------

class AlarmOut(Schema):
    id: int
    device_code: str
    device_name: str
    rule_name: str
    kind: str
    metric: str
    severity: str
    status: str = Field(description="active_unack, active_ack, cleared_unack, cleared_ack")
    message: str
    value: float | None
    last_value: float | None
    count: int
    department_code: str
    grid_code: str
    district_code: str
    started_at: datetime
    last_at: datetime
    acknowledged_at: datetime | None
    cleared_at: datetime | None
    handled_ref: str = Field(description="处置关联（如立案的案卷）")


class AlarmPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AlarmOut]


class AlarmQuery(Schema):
    state: str = Field("open", pattern=r"^(open|unacknowledged|cleared|all)$")
    severity: str = Field("", pattern=r"^(|critical|major|minor|warning)$")
    device: str = Field("", max_length=48)
    district: str = Field("", max_length=12)
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000_000)


def _alarm_out(alarm: perception.Alarm) -> dict[str, Any]:
    return {
        "id": alarm.pk, "device_code": alarm.device.code, "device_name": alarm.device.name,
        "rule_name": alarm.rule_name, "kind": alarm.kind, "metric": alarm.metric,
        "severity": alarm.severity, "status": alarm.status, "message": alarm.message,
        "value": alarm.value, "last_value": alarm.last_value, "count": alarm.count,
        "department_code": alarm.department_code, "grid_code": alarm.grid_code,
        "district_code": alarm.district_code, "started_at": alarm.started_at,
        "last_at": alarm.last_at, "acknowledged_at": alarm.acknowledged_at,
        "cleared_at": alarm.cleared_at, "handled_ref": alarm.handled_ref,
    }


@internal_router.get("/alarms", response=AlarmPage, summary="Alarms of my departments")
def list_alarms(request: HttpRequest, params: Query[AlarmQuery]) -> Any:
    rows = perception.list_alarms(_scope(request), state=params.state,
                                  severity=params.severity, device_code=params.device,
                                  district_code=params.district)
    count = rows.count()
    page = rows[params.offset:params.offset + params.limit]
    return {"count": count, "limit": params.limit, "offset": params.offset,
            "items": [_alarm_out(a) for a in page]}


def _alarm_action(request: HttpRequest, alarm_id: int, action: Any) -> Any:
    try:
        alarm = action(alarm_id, request.auth, _scope(request))
    except perception.Alarm.DoesNotExist:
        return Status(404, {"detail": gettext("告警 %(id)s 不存在") % {"id": alarm_id}})
    return _alarm_out(alarm)


@internal_router.post("/alarms/{alarm_id}/acknowledge", response={200: AlarmOut, 404: Message},
                      summary="Acknowledge an alarm")
def acknowledge_alarm(request: HttpRequest, alarm_id: int) -> Any:
    return _alarm_action(request, alarm_id, perception.acknowledge_alarm)


@internal_router.post("/alarms/{alarm_id}/clear", response={200: AlarmOut, 404: Message},
                      summary="Clear an alarm by hand")
def clear_alarm(request: HttpRequest, alarm_id: int) -> Any:
    return _alarm_action(request, alarm_id, perception.clear_alarm)

