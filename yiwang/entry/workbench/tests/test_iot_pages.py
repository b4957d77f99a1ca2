"""The perception pages of the workbench as officials use them: a department sees its own
devices with their health and rejected readings, acknowledges and clears its alarms, looks
at its cameras' latest stills and confirms or dismisses what video inspection was unsure
of; nobody sees another department's devices, alarms, cameras or detections."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.enablement.ai import service as ai
from yiwang.industry.city import service as city
from yiwang.industry.city.testing import jpeg, make_city, official
from yiwang.platform.perception import service as perception
from yiwang.platform.perception.testing import make_device, now_ms
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db
VIEW = "perception.view_device"


def _jpeg(colour: tuple[int, int, int] = (200, 60, 30)) -> bytes:
    return jpeg(colour=colour).getvalue()

@pytest.fixture
def world() -> dict[str, Any]:
    people = make_city()
    make_device("WL-001")  # the water bureau's
    make_device("WL-CG", department="cgj", lon=120.015, lat=30.015)
    perception.create_rule("积水超警戒", kind="threshold", metric="level", type_code="water_level",
                           value=20.0, clear_value=10.0, severity="critical")
    t = now_ms() - 60_000
    perception.ingest_readings([
        {"device": "WL-001", "ts": t, "values": {"level": 5.0, "battery": 90}},
        {"device": "WL-001", "ts": t + 1000, "values": {"level": 25.0}},
        {"device": "WL-001", "ts": t + 2000, "values": {"level": "deep"}},  # rejected
        {"device": "WL-CG", "ts": t, "values": {"level": 30.0}},
    ])
    return {
        **people,
        "water": official("swj.watcher", "swj", VIEW, "perception.change_alarm"),
        "water_viewer": official("swj.viewer", "swj", VIEW),
        "urban": official("cgj.watcher", "cgj", VIEW, "perception.change_alarm",
                          "ai.change_detection"),
        "plain": official("swj.clerk", "swj"),
    }


def _text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_a_department_sees_its_devices_with_their_health(internal_client: Any,
                                                         world: Any) -> None:
    sign_in_client(internal_client, world["water"])
    page = _text(internal_client.get("/iot/devices/"))
    assert "WL-001" in page and "WL-CG" not in page
    assert 'data-status-count="online">1<' in page and 'data-status-count="silent">0<' in page
    assert "WL-001" not in _text(internal_client.get("/iot/devices/?status=never"))
    assert "WL-001" in _text(internal_client.get("/iot/devices/?status=online&q=wl-0"))
    detail = _text(internal_client.get("/iot/devices/WL-001/?range=7d"))
    assert 'data-testid="rejected">1' in detail and "<code>bad_value</code>" in detail
    assert 'data-metric="level"' in detail and "积水超警戒" in detail
    assert "/api/v1/perception/devices/WL-001/series" in detail
    # the chart's data: what the page's script reads, with the same session
    end = now_ms() + 60_000
    series = internal_client.get(f"/api/v1/perception/devices/WL-001/series?metric=level"
                                 f"&start={end - 86_400_000}&end={end}").json()
    assert [p["value"] for p in series["points"]] == [5.0, 25.0]
    # another department's device is not there at all
    assert internal_client.get("/iot/devices/WL-CG/").status_code == 404


def test_the_pages_need_the_permission(internal_client: Any, world: Any) -> None:
    sign_in_client(internal_client, world["plain"])
    for url in ("/iot/devices/", "/iot/alarms/", "/iot/cameras/", "/iot/detections/",
                "/iot/devices/WL-001/"):
        assert internal_client.get(url).status_code == 403, url
    home = _text(internal_client.get("/"))
    assert "/iot/devices/" not in home
    sign_in_client(internal_client, world["water"])
    assert "/iot/devices/" in _text(internal_client.get("/"))


def test_alarms_are_acknowledged_and_cleared_by_their_department(internal_client: Any,
                                                                 world: Any) -> None:
    alarm = perception.Alarm.objects.get(device__code="WL-001")
    other = perception.Alarm.objects.get(device__code="WL-CG")
    sign_in_client(internal_client, world["water_viewer"])
    page = _text(internal_client.get("/iot/alarms/"))
    assert f'data-alarm="{alarm.pk}"' in page and f'data-alarm="{other.pk}"' not in page
    assert 'data-testid="acknowledge"' not in page  # may look, may not act
    assert internal_client.post(f"/iot/alarms/{alarm.pk}/acknowledge/").status_code == 403

    sign_in_client(internal_client, world["water"])
    assert internal_client.post(f"/iot/alarms/{other.pk}/acknowledge/").status_code == 404
    response = internal_client.post(f"/iot/alarms/{alarm.pk}/acknowledge/",
                                    {"next": "/iot/alarms/?severity=critical"})
    assert response.status_code == 302 and response["Location"] == "/iot/alarms/?severity=critical"
    alarm.refresh_from_db()
    assert alarm.acknowledged_by == world["water"] and alarm.cleared_at is None
    assert f'data-alarm="{alarm.pk}"' not in _text(
        internal_client.get("/iot/alarms/?state=unacknowledged"))
    # an outside "next" is not followed
    response = internal_client.post(f"/iot/alarms/{alarm.pk}/clear/",
                                    {"next": "https://evil.example/"})
    assert response["Location"] == "/iot/alarms/"
    alarm.refresh_from_db()
    assert alarm.cleared_by == world["water"]
    assert f'data-alarm="{alarm.pk}"' in _text(internal_client.get("/iot/alarms/?state=cleared"))
    assert "没有告警" in _text(internal_client.get("/iot/alarms/"))
    other.refresh_from_db()
    assert other.acknowledged_at is None and other.cleared_at is None


@pytest.fixture
def camera(world: Any) -> Any:
    return perception.register_camera(
        "CAM-001", "湖畔路口", department_code="cgj", lon=120.005, lat=30.005,
        stream_url="rtsp://camera.invalid/live",
        zones=[{"name": "人行道", "polygon": [[0, 24], [64, 24], [64, 48]],
                "detect": "static_object", "category_code": "city.e.street_order.vending"}])


def _detection(camera: Any, confidence: float = 0.6) -> Any:
    from yiwang.core.uploads import service as uploads

    stored = uploads.accept_upload(_jpeg(), filename="d.jpg", owner_key="camera:CAM-001",
                                   purpose="perception.snapshot", accept=("image/jpeg",))
    uploads.claim_upload(stored, "camera:CAM-001")
    return ai.VideoDetection.objects.create(
        camera=camera, kind="static_object", zone="人行道", confidence=confidence,
        dwell_seconds=75, boxes=[[10, 30, 20, 10]], snapshot=stored.token,
        category_code="city.e.street_order.vending", department_code="cgj",
        status=ai.DetectionStatus.REVIEW, detected_at=timezone.now())


def test_cameras_show_their_latest_still_to_their_department(internal_client: Any,
                                                              world: Any, camera: Any) -> None:
    sign_in_client(internal_client, world["urban"])
    assert "尚无画面" in _text(internal_client.get("/iot/cameras/"))
    assert internal_client.get("/iot/cameras/CAM-001/snapshot.jpg").status_code == 404
    perception.keep_snapshot(camera, _jpeg(), timezone.now())
    _detection(camera)
    page = _text(internal_client.get("/iot/cameras/"))
    assert "/iot/cameras/CAM-001/snapshot.jpg" in page and "1 条识别待复核" in page
    still = internal_client.get("/iot/cameras/CAM-001/snapshot.jpg")
    assert still.status_code == 200 and still["Content-Type"] == "image/jpeg"
    assert b"".join(still.streaming_content if still.streaming else [still.content])[:2] \
        == b"\xff\xd8"
    assert audit.search(audit.AuditFilter(action="uploads.read",
                                          actor=str(world["urban"].pk))).exists()
    sign_in_client(internal_client, world["water"])
    assert "CAM-001" not in _text(internal_client.get("/iot/cameras/"))
    assert internal_client.get("/iot/cameras/CAM-001/snapshot.jpg").status_code == 404


def test_an_unsure_detection_is_confirmed_into_a_case(internal_client: Any, world: Any,
                                                       camera: Any) -> None:
    detection = _detection(camera)
    dismissed = _detection(camera, 0.4)
    sign_in_client(internal_client, world["water"])  # another department: nothing to see
    assert "没有待复核" in _text(internal_client.get("/iot/detections/"))
    assert internal_client.get(f"/iot/detections/{detection.pk}/snapshot.jpg").status_code == 404
    assert internal_client.post(f"/iot/detections/{detection.pk}/confirm/").status_code == 403

    sign_in_client(internal_client, world["urban"])
    page = _text(internal_client.get("/iot/detections/"))
    assert f'data-detection="{detection.pk}"' in page and 'data-testid="confirm"' in page
    assert internal_client.get(f"/iot/detections/{detection.pk}/snapshot.jpg").status_code == 200
    response = internal_client.post(f"/iot/detections/{detection.pk}/confirm/", follow=True)
    case = city.Case.objects.get(source="ai")
    assert case.number in response.content.decode()
    assert case.department_code == "cgj" and case.state == "dispatched"
    internal_client.post(f"/iot/detections/{dismissed.pk}/dismiss/")
    dismissed.refresh_from_db()
    assert dismissed.status == "dismissed" and dismissed.reviewed_by == world["urban"]
    assert city.Case.objects.count() == 1
    # a second click on a reviewed one is told plainly, and changes nothing
    again = internal_client.post(f"/iot/detections/{detection.pk}/dismiss/", follow=True)
    assert "该识别结果已处理" in again.content.decode()
    detection.refresh_from_db()
    assert detection.status == "confirmed"
    confirmed = _text(internal_client.get("/iot/detections/?status=confirmed"))
    assert f'data-detection="{detection.pk}"' in confirmed and case.number in confirmed
