"""``yiwang perception-video --wait``, the long-running reader ``yiwang serve`` runs."""

from __future__ import annotations

import threading

import pytest

from yiwang.enablement.ai.management.commands.perception_video import Command
from yiwang.platform.perception import service as perception
from yiwang.platform.perception.testing import OTHER_DEPARTMENT, make_city

pytestmark = pytest.mark.django_db(transaction=True)  # the reader's threads read the cameras
ZONES = [{"name": "人行道", "polygon": [[0, 120], [320, 120], [320, 240]],
          "detect": "static_object"}]


def _camera(code: str, url: str) -> None:
    perception.register_camera(code, code, department_code=OTHER_DEPARTMENT, lon=120.005,
                               lat=30.005, stream_url=url, zones=ZONES)


def test_the_long_running_reader_follows_the_live_cameras() -> None:
    """Live streams only; a camera registered later is picked up; a camera switched off
    stops being read."""
    make_city()
    _camera("CAM-FILE", "/srv/recordings/cam.avi")
    reader = Command()
    reader.options = {"camera": [], "wait": True, "once": False, "fps": 1.0, "retry": 0.05}
    reader.stopping, reader.threads, reader.wanted = threading.Event(), {}, {}
    assert reader._scan() == 0 and reader.threads == {}  # a recorded file is not live
    _camera("CAM-LIVE", "rtsp://127.0.0.1:9/live")
    assert reader._scan() == 1 and set(reader.threads) == {"CAM-LIVE"}
    watcher = reader.threads["CAM-LIVE"]
    assert watcher.is_alive()  # its stream cannot be opened: it retries
    # its owner changes: the reading stops and starts again with the new settings
    first = reader.wanted["CAM-LIVE"]
    perception.Camera.objects.filter(code="CAM-LIVE").update(department_code="swj")
    assert reader._scan() == 1 and reader.wanted["CAM-LIVE"] != first
    perception.Camera.objects.filter(code="CAM-LIVE").update(active=False)
    assert reader._scan() == 0
    watcher.join(10)
    assert not watcher.is_alive()
    reader.stopping.set()
