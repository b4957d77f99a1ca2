"""Cameras (视频源) of the perception platform: registered at a place with their stream and
the zones of their view to inspect (video inspection itself is the AI app's). Reached through
``service.py``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.platform.orgs import service as orgs
from yiwang.platform.perception.common import check_department as _check_department
from yiwang.platform.perception.common import field_error as _error
from yiwang.platform.perception.models import Camera
from yiwang.platform.regions import service as regions

CAMERA_KINDS = ("static_object", "crowding")


def _check_zones(zones: Any) -> list[dict[str, Any]]:
    if not isinstance(zones, list) or not zones:
        raise _error(_("至少要设置一个识别区域"), "no_zones", "zones")
    out = []
    for zone in zones:
        polygon = zone.get("polygon") if isinstance(zone, dict) else None
        if (not isinstance(polygon, list) or len(polygon) < 3 or not all(
                isinstance(p, list | tuple) and len(p) == 2
                and all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
                        for v in p) for p in polygon)):
            raise _error(_("识别区域须为至少三个像素坐标点 [x, y] 的多边形"), "bad_zone", "zones")
        if zone.get("detect") not in CAMERA_KINDS:
            raise _error(_("识别类型须为 static_object（占道、堆物）或 crowding（人员聚集）"),
                         "bad_zone", "zones")
        category = str(zone.get("category_code") or "")
        if category and orgs.get_category(category) is None:
            raise _error(_("事项类别 %(code)s 不存在") % {"code": category}, "no_category",
                         "zones")
        out.append({"name": str(zone.get("name") or _("识别区域"))[:64],
                    "polygon": [[int(x), int(y)] for x, y in polygon],
                    "detect": zone["detect"],
                    "dwell_seconds": float(zone.get("dwell_seconds", 60)),
                    "min_area": float(zone.get("min_area", 0.002)),
                    "threshold": int(zone.get("threshold", 10)),
                    "category_code": category})
    return out


@transaction.atomic
def register_camera(code: str, name: str, *, department_code: str, lon: float, lat: float,
                    stream_url: str, zones: list[dict[str, Any]]) -> Camera:
    """Register (or update) a camera at a place, with the zones of its view to inspect:
    ``[{"name", "polygon": [[x, y], …], "detect": "static_object" | "crowding",
    "dwell_seconds", "min_area", "threshold", "category_code"}]``."""
    _check_department(department_code)
    grid = regions.grid_at(lon, lat)
    if grid is None:
        raise _error(_("坐标 (%(lon)s, %(lat)s) 不在本市任何网格内") % {"lon": lon, "lat": lat},
                     "outside_city", "lon")
    camera = Camera.objects.filter(code=code).first() or Camera(code=code)
    camera.name, camera.department_code, camera.stream_url = name, department_code, stream_url
    camera.lon, camera.lat, camera.grid_code = lon, lat, grid.code
    camera.district_code = grid.district_code
    camera.zones = _check_zones(zones)
    camera.full_clean()
    camera.save()
    audit.record("perception.camera_registered", camera, detail={"code": code})
    return camera


def list_cameras(scope: list[str] | None, *, active_only: bool = False) -> QuerySet[Camera]:
    rows = Camera.objects.all()
    if scope is not None:
        rows = rows.filter(department_code__in=scope)
    return rows.filter(active=True) if active_only else rows


def snapshot_due(camera: Camera, at: datetime) -> bool:
    """Whether the camera's latest still is older than ``YIWANG_CAMERA_SNAPSHOT_SECONDS``
    at ``at`` (or missing)."""
    every = timedelta(seconds=float(settings.YIWANG_CAMERA_SNAPSHOT_SECONDS))
    return camera.snapshot_at is None or at - camera.snapshot_at >= every \
        or at < camera.snapshot_at


@transaction.atomic
def keep_snapshot(camera: Camera, content: bytes, at: datetime) -> str:
    """Keep ``content`` (a JPEG still of the view taken at ``at``) as the camera's latest
    snapshot, encrypted like every image that may show people; the previous one is deleted.
    Returns its upload token."""
    from yiwang.core.uploads import service as uploads

    owner = f"camera:{camera.code}"
    stored = uploads.accept_upload(content, filename=f"{camera.code}.jpg", owner_key=owner,
                                   purpose="perception.camera_snapshot",
                                   accept=("image/jpeg",), personal=True, actor=None)
    uploads.claim_upload(stored, owner)
    previous = camera.snapshot
    Camera.objects.filter(pk=camera.pk).update(snapshot=stored.token, snapshot_at=at)
    camera.snapshot, camera.snapshot_at = stored.token, at
    if previous:
        uploads.delete_upload(previous)
    return stored.token


def camera_snapshot(code: str, scope: list[str] | None, *,
                    actor: Any = None) -> tuple[bytes, str, str]:
    """``(bytes, content type, file name)`` of a camera's latest still for someone whose
    ``scope`` covers it (the read is audited); Camera.DoesNotExist otherwise."""
    from yiwang.core.uploads import service as uploads

    camera = list_cameras(scope).filter(code=code).first()
    if camera is None or not camera.snapshot:
        raise Camera.DoesNotExist(code)
    content = uploads.read_upload(camera.snapshot, actor=actor,
                                  purpose="perception.camera_snapshot")
    return content, "image/jpeg", f"{camera.code}.jpg"
