"""Video inspection end to end: a camera's stream (a generated video file, read by OpenCV)
shows a stall that stays in the no-stall zone; the detection opens a dispatched case with
the annotated snapshot; an unsure one waits for a person, who confirms or dismisses it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from yiwang.enablement.ai import service as ai
from yiwang.industry.city import service as city
from yiwang.industry.city.testing import make_city
from yiwang.platform.perception import service as perception

pytestmark = pytest.mark.django_db
W, H = 320, 240
ZONES = [{"name": "人行道", "polygon": [[0, 120], [320, 120], [320, 240], [0, 240]],
          "detect": "static_object", "dwell_seconds": 20,
          "category_code": "city.e.street_order.vending"}]


def _video(path: Path, seconds: int = 60, fps: int = 2) -> str:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (W, H))
    rng = np.random.default_rng(1)
    for n in range(seconds * fps):
        frame = np.full((H, W, 3), (120, 120, 120), np.uint8)
        frame[120:] = (150, 155, 160)
        if n >= 10 * fps:  # a stall arrives at 10 s and stays
            cv2.rectangle(frame, (120, 150), (180, 190), (30, 60, 200), -1)
            cv2.rectangle(frame, (125, 190), (175, 210), (20, 20, 20), -1)
        noise = rng.normal(0, 2, frame.shape)
        writer.write(np.clip(frame + noise, 0, 255).astype(np.uint8))
    writer.release()
    return str(path)


@pytest.fixture
def camera(tmp_path: Path) -> Any:
    make_city()
    return perception.register_camera("CAM-001", "湖畔路口", department_code="cgj",
                                      lon=120.005, lat=30.005,
                                      stream_url=_video(tmp_path / "cam.avi"), zones=ZONES)


def test_a_stall_on_camera_opens_a_dispatched_case_with_its_snapshot(camera: Any) -> None:
    with override_settings(YIWANG_AI_CONFIDENT=0.5):
        found = ai.read_stream(camera, fps=1)
    assert len(found) == 1
    detection = found[0]
    assert detection.status == "automatic" and detection.snapshot
    case = city.Case.objects.get(external_ref=f"detection:{detection.pk}")
    assert detection.handled_ref == f"case:{case.number}"
    assert case.source == "ai" and case.state == "dispatched" and case.department_code == "cgj"
    assert case.events.get(action="report").photos == [detection.snapshot]
    camera.refresh_from_db()
    assert camera.frames >= 55 and camera.last_frame_at is not None


def test_an_unsure_detection_waits_for_a_person(camera: Any) -> None:
    people_scope = ["cgj"]
    with override_settings(YIWANG_AI_CONFIDENT=0.99):
        found = ai.read_stream(camera, fps=1)
    detection = found[0]
    assert detection.status == "review" and not city.Case.objects.exists()
    from yiwang.industry.city.testing import official

    reviewer = official("cgj.reviewer", "cgj")
    ai.review_detection(detection.pk, reviewer, people_scope, confirm=True)
    assert city.Case.objects.filter(source="ai").count() == 1
    with pytest.raises(ValidationError):
        ai.review_detection(detection.pk, reviewer, people_scope, confirm=False)
    with pytest.raises(ai.VideoDetection.DoesNotExist):
        ai.review_detection(detection.pk, reviewer, ["swj"], confirm=True)


def test_camera_zones_are_checked(camera: Any) -> None:
    for zones in ([], [{"polygon": [[0, 0], [1, 1]], "detect": "static_object"}],
                  [{"polygon": [[0, 0], [9, 0], [9, 9]], "detect": "faces"}],
                  [{"polygon": [[0, 0], [9, 0], [9, 9]], "detect": "crowding",
                    "category_code": "no.such"}]):
        with pytest.raises(ValidationError):
            perception.register_camera("CAM-X", "x", department_code="cgj", lon=120.005,
                                       lat=30.005, stream_url="rtsp://x", zones=zones)
    with pytest.raises(ValidationError):
        ai.read_stream(perception.register_camera(
            "CAM-Y", "y", department_code="cgj", lon=120.005, lat=30.005,
            stream_url="/nonexistent.avi", zones=ZONES))
