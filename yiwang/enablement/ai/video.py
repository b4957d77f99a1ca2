"""Video inspection of the perception platform's cameras (视频智能巡检): frames analysed by
the detectors of ``inspection.py`` (a new static object
in a no-stall zone, people counted in a crowding zone); detections stored with their
annotated snapshot. A confident detection (``YIWANG_AI_CONFIDENT``) is handed at once to the
registered handlers (the city side opens a case); the others wait in a review queue for a
person to confirm (then handed over) or dismiss.

Frames come from ``yiwang perception-video``, which reads each active camera's stream with
OpenCV (RTSP, HTTP MJPEG or a file) at ``--fps`` frames per second, or from
:func:`analyse_frame` directly. Detector state lives in the process that reads the camera:
run one reader per camera set.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.enablement.ai import inspection
from yiwang.enablement.ai.models import Detection, DetectionStatus
from yiwang.platform.perception import service as perception

logger = logging.getLogger("yiwang.perception.video")

DetectionHandler = Callable[[Detection], "str | None"]
_handlers: dict[str, DetectionHandler] = {}
_detectors: dict[int, tuple[str, list[Any]]] = {}
KINDS = ("static_object", "crowding")
LIVE_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")


def register_detection_handler(name: str, handler: DetectionHandler) -> None:
    """Call ``handler(detection)`` for every confident or confirmed detection; it returns a
    reference to what it made of it (``"case:…"``) or None. Must be idempotent."""
    _handlers[name] = handler


def _detectors_for(camera: perception.Camera) -> list[Any]:
    signature = json.dumps([camera.created_at.isoformat() if camera.created_at else "",
                            camera.zones], sort_keys=True)
    kept = _detectors.get(camera.pk)
    if kept is not None and kept[0] == signature:
        return kept[1]
    made: list[Any] = []
    for zone in camera.zones:
        area = inspection.Zone(zone["name"], tuple((int(x), int(y)) for x, y in zone["polygon"]))
        if zone["detect"] == "static_object":
            made.append(inspection.StaticObjectDetector([area], dwell_seconds=zone["dwell_seconds"],
                                                min_area=zone["min_area"]))
        else:
            made.append(inspection.PeopleCounter(area, threshold=zone["threshold"]))
    _detectors[camera.pk] = (signature, made)
    return made


def _snapshot(camera: perception.Camera, content: bytes) -> str:
    from yiwang.core.uploads import service as uploads

    owner = f"camera:{camera.code}"
    stored = uploads.accept_upload(content, filename="snapshot.jpg", owner_key=owner,
                                   purpose="perception.snapshot", accept=("image/jpeg",),
                                   personal=True, actor=None)
    uploads.claim_upload(stored, owner)
    return stored.token


def _hand_over(detection: Detection) -> None:
    refs = [r for r in detection.handled_ref.split(",") if r]
    for name, handler in list(_handlers.items()):
        try:
            with transaction.atomic():
                ref = handler(detection)
        except Exception:  # a handler's failure must not lose the detection
            logger.exception("detection handler %s failed on detection %s", name, detection.pk)
            continue
        if ref and ref not in refs:
            refs.append(ref)
    detection.handled_ref = ",".join(refs)[:64]
    Detection.objects.filter(pk=detection.pk).update(handled_ref=detection.handled_ref)


def analyse_frame(camera: perception.Camera, frame: Any, at: datetime) -> list[Detection]:
    """Feed one frame (a BGR array) taken at ``at`` to the camera's detectors; store what
    they found (confident ones handed over at once)."""
    found: list[Detection] = []
    seconds = at.timestamp()
    for detector, zone in zip(_detectors_for(camera), camera.zones, strict=True):
        results = detector.feed(frame, seconds)
        if results is None:
            continue
        for result in results if isinstance(results, list) else [results]:
            found.append(_record(camera, zone, result, at))
    perception.Camera.objects.filter(pk=camera.pk).update(last_frame_at=at,
                                                          frames=camera.frames + 1)
    camera.frames += 1
    if perception.snapshot_due(camera, at):
        _keep_still(camera, frame, at)
    return found


def _keep_still(camera: perception.Camera, frame: Any, at: datetime) -> None:
    """Keep the frame as the camera's latest still (a failure is logged, never fatal)."""
    import cv2

    ok, encoded = cv2.imencode(".jpg", frame, [int(cv2.IMWRITE_JPEG_QUALITY), 80])
    if not ok:
        return
    try:
        perception.keep_snapshot(camera, encoded.tobytes(), at)
    except ValidationError:
        logger.warning("camera %s: its still could not be kept", camera.code, exc_info=True)


@transaction.atomic
def _record(camera: perception.Camera, zone: dict[str, Any], result: Any,
            at: datetime) -> Detection:
    confident = result.confidence >= float(settings.YIWANG_AI_CONFIDENT)
    detection = Detection.objects.create(
        camera=camera, kind=result.kind, zone=result.zone, confidence=result.confidence,
        count=result.count, dwell_seconds=result.dwell_seconds,
        boxes=[list(b) for b in result.boxes],
        snapshot=_snapshot(camera, result.snapshot) if result.snapshot else "",
        category_code=zone["category_code"], department_code=camera.department_code,
        status=DetectionStatus.AUTOMATIC if confident else DetectionStatus.REVIEW,
        detected_at=at)
    logger.info("detection %s on %s (%.2f, %s)", result.kind, camera.code, result.confidence,
                detection.status)
    if confident:
        _hand_over(detection)
    return detection


@transaction.atomic
def review_detection(detection_id: int, user: Any, scope: list[str] | None, *,
                     confirm: bool) -> Detection:
    """A person confirms (the detection is handed over: a case is opened) or dismisses a
    detection waiting for review."""
    rows = Detection.objects.select_for_update().filter(pk=detection_id)
    if scope is not None:
        rows = rows.filter(department_code__in=scope)
    detection = rows.first()
    if detection is None:
        raise Detection.DoesNotExist(_("识别结果 %(id)s 不存在") % {"id": detection_id})
    if detection.status != DetectionStatus.REVIEW:
        raise ValidationError(_("该识别结果已处理"), code="reviewed")
    detection.status = DetectionStatus.CONFIRMED if confirm else DetectionStatus.DISMISSED
    detection.reviewed_by, detection.reviewed_at = user, timezone.now()
    detection.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    audit.record("perception.detection_reviewed", detection, actor=user,
                 detail={"status": detection.status})
    if confirm:
        _hand_over(detection)
    return detection


def list_detections(scope: list[str] | None, *, status: str = "review",
                    camera_code: str = "") -> Any:
    """Detections of the cameras of ``scope`` (department codes; None: all), newest first:
    ``status`` one of :class:`DetectionStatus` or ``""`` for all."""
    rows = Detection.objects.select_related("camera", "reviewed_by")
    if scope is not None:
        rows = rows.filter(department_code__in=scope)
    if status:
        rows = rows.filter(status=status)
    if camera_code:
        rows = rows.filter(camera__code=camera_code)
    return rows.order_by("-detected_at", "-id")


def detection_snapshot(detection_id: int, scope: list[str] | None, *,
                       actor: Any = None) -> tuple[bytes, str, str]:
    """``(bytes, content type, file name)`` of a detection's annotated snapshot for someone
    whose ``scope`` covers its camera (the read is audited); Detection.DoesNotExist
    otherwise."""
    from yiwang.core.uploads import service as uploads

    detection = list_detections(scope, status="").filter(pk=detection_id).first()
    if detection is None or not detection.snapshot:
        raise Detection.DoesNotExist(detection_id)
    content = uploads.read_upload(detection.snapshot, actor=actor,
                                  purpose="perception.detection_snapshot")
    return content, "image/jpeg", f"detection-{detection.pk}.jpg"


def read_stream(camera: perception.Camera, *, fps: float = 1.0, started: datetime | None = None,
                max_seconds: float | None = None,
                should_stop: Callable[[], bool] | None = None) -> list[Detection]:
    """Read the camera's stream with OpenCV, analysing ``fps`` frames a second of video,
    until it ends, ``max_seconds`` of video have been read or ``should_stop()`` says so.
    Frame times are the stream's own (from ``started``, default now) for files, the clock
    for live streams."""
    import cv2

    _detectors.pop(camera.pk, None)  # a stream read anew starts its models anew
    capture = cv2.VideoCapture(camera.stream_url)
    if not capture.isOpened():
        raise ValidationError(_("无法打开视频流 %(url)s") % {"url": camera.stream_url[:100]})
    started = started or timezone.now()
    live = camera.stream_url.startswith(LIVE_SCHEMES)
    found: list[Detection] = []
    next_at = 0.0
    try:
        while True:
            if should_stop is not None and should_stop():
                break
            ok, frame = capture.read()
            if not ok:
                break
            video_seconds = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000
            if live:
                at = timezone.now()
                video_seconds = (at - started).total_seconds()
            else:
                at = started + timedelta(seconds=video_seconds)
            if max_seconds is not None and video_seconds > max_seconds:
                break
            if video_seconds + 1e-6 < next_at:
                continue
            next_at = video_seconds + 1.0 / fps
            found += analyse_frame(camera, frame, at.astimezone(UTC))
    finally:
        capture.release()
    return found
