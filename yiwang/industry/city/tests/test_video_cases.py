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
from yiwang.enablement.ai.testing import street_video
from yiwang.industry.city import service as city
from yiwang.industry.city.testing import make_city
from yiwang.platform.perception import service as perception

pytestmark = pytest.mark.django_db
W, H = 320, 240
ZONES = [{"name": "人行道", "polygon": [[0, 120], [320, 120], [320, 240], [0, 240]],
          "detect": "static_object", "dwell_seconds": 20,
          "category_code": "city.e.street_order.vending"}]


def _video(path: Path) -> str:
    # a stall arrives at 10 s and stays; people walk past on the pavement
    return street_video(str(path), seconds=60, objects=((10, (120, 150, 60, 40), (30, 60, 200)),),
                        walkers=2)


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


def test_the_reader_keeps_the_latest_still_of_each_camera(camera: Any) -> None:
    from yiwang.core.uploads import service as uploads

    with override_settings(YIWANG_CAMERA_SNAPSHOT_SECONDS=20):
        ai.read_stream(camera, fps=1)
    camera.refresh_from_db()
    # a 60 s video, a still every 20 s of video: the last one kept is from 40 s on
    assert camera.snapshot and 0 < (camera.last_frame_at - camera.snapshot_at
                                    ).total_seconds() < 20
    kept = uploads.StoredUpload.objects.filter(purpose="perception.camera_snapshot")
    assert list(kept.values_list("token", flat=True)) == [camera.snapshot]  # older deleted
    content, kind, _name = perception.camera_snapshot("CAM-001", ["cgj"])
    assert kind == "image/jpeg" and content[:2] == b"\xff\xd8"
    image = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (H, W, 3)
    # the stall is in the still (its red box at 120–180 × 150–190)
    assert image[170, 150, 2] > 150 and image[170, 150, 0] < 100
    with pytest.raises(perception.Camera.DoesNotExist):
        perception.camera_snapshot("CAM-001", ["swj"])


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

