"""Video inspection on synthetic frames: a stall that appears in the no-stall zone and stays
is reported once after the dwell time, with an annotated snapshot; people walking by, a
stall outside the zone and one that leaves early are not; HOG counts drawn people and
raises crowding once."""

from __future__ import annotations

import cv2
import numpy as np

from yiwang.enablement.ai.inspection import PeopleCounter, StaticObjectDetector, Zone

W, H = 320, 240
ZONE = Zone("人行道", ((0, 120), (320, 120), (320, 240), (0, 240)))


def _street(seed: int) -> np.ndarray:
    """A street scene: textured road and pavement, with a little sensor noise each frame."""
    rng = np.random.default_rng(seed)
    frame = np.full((H, W, 3), (120, 120, 120), np.uint8)
    frame[120:] = (150, 155, 160)
    for x in range(0, W, 40):
        cv2.line(frame, (x, 120), (x, H), (140, 140, 140), 1)
    noise = rng.normal(0, 2, frame.shape)
    return np.clip(frame + noise, 0, 255).astype(np.uint8)


def _stall(frame: np.ndarray, x: int, y: int) -> None:
    cv2.rectangle(frame, (x, y), (x + 60, y + 40), (30, 60, 200), -1)  # a red awning
    cv2.rectangle(frame, (x + 5, y + 40), (x + 55, y + 60), (20, 20, 20), -1)  # the cart


def _run(detector: StaticObjectDetector, seconds: int, draw: object) -> list:
    found = []
    for t in range(seconds):
        frame = _street(t)
        draw(frame, t)  # type: ignore[operator]
        found += detector.feed(frame, float(t))
    return found


def test_a_stall_that_stays_is_reported_once_after_the_dwell_time() -> None:
    detector = StaticObjectDetector([ZONE], dwell_seconds=30)

    def scene(frame: np.ndarray, t: int) -> None:
        if t >= 10:
            _stall(frame, 120, 150)

    found = _run(detector, 90, scene)
    assert len(found) == 1
    detection = found[0]
    assert detection.kind == "static_object" and detection.zone == "人行道"
    x, y, w, h = detection.boxes[0]
    assert 100 <= x <= 140 and 140 <= y <= 170 and 40 <= w <= 90 and 40 <= h <= 80
    assert 40 <= detection.at <= 70 and detection.dwell_seconds >= 30
    assert 0.5 <= detection.confidence <= 1.0
    picture = cv2.imdecode(np.frombuffer(detection.snapshot, np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape == (H, W, 3)


def test_passers_by_a_stall_outside_the_zone_and_a_short_stop_are_not_reported() -> None:
    detector = StaticObjectDetector([ZONE], dwell_seconds=30)

    def scene(frame: np.ndarray, t: int) -> None:
        _stall(frame, 120, 20)  # on the road, outside the zone, from the start
        x = (t * 25) % W  # someone walking along the pavement
        cv2.rectangle(frame, (x, 160), (x + 20, 220), (10, 10, 10), -1)
        if 20 <= t < 40:
            _stall(frame, 200, 150)  # stops for 20 s, then leaves

    assert _run(detector, 90, scene) == []


def _person(frame: np.ndarray, x: int, y: int, s: float = 1.2) -> None:
    c = (40, 40, 40)
    cv2.circle(frame, (x, int(y + 12 * s)), int(10 * s), c, -1)
    cv2.rectangle(frame, (int(x - 14 * s), int(y + 24 * s)), (int(x + 14 * s), int(y + 70 * s)),
                  c, -1)
    for dx in (-22, 14):
        cv2.rectangle(frame, (int(x + dx * s), int(y + 26 * s)),
                      (int(x + (dx + 8) * s), int(y + 62 * s)), c, -1)
    for dx in (-12, 3):
        cv2.rectangle(frame, (int(x + dx * s), int(y + 70 * s)),
                      (int(x + (dx + 9) * s), int(y + 115 * s)), c, -1)


def test_people_are_counted_in_the_zone_and_crowding_is_raised_once() -> None:
    square = Zone("广场", ((0, 0), (640, 0), (640, 480), (0, 480)))
    counter = PeopleCounter(square, threshold=4, consecutive=2)
    crowd = np.full((480, 640, 3), 200, np.uint8)
    for x in (100, 220, 340, 460):
        _person(crowd, x, 150)
    few = np.full((480, 640, 3), 200, np.uint8)
    _person(few, 300, 150)
    assert len(counter.people(crowd)) == 4
    assert len(counter.people(few)) == 1
    assert counter.feed(crowd, 0.0) is None  # once is not yet a crowd
    raised = counter.feed(crowd, 1.0)
    assert raised is not None and raised.kind == "crowding" and raised.count == 4
    assert counter.feed(crowd, 2.0) is None  # raised once while it lasts
    assert counter.feed(few, 3.0) is None
    assert counter.feed(crowd, 4.0) is None and counter.feed(crowd, 5.0) is not None


def test_people_outside_the_zone_do_not_count() -> None:
    left = Zone("左侧", ((0, 0), (280, 0), (280, 480), (0, 480)))
    counter = PeopleCounter(left, threshold=2)
    crowd = np.full((480, 640, 3), 200, np.uint8)
    for x in (100, 220, 340, 460):
        _person(crowd, x, 150)
    assert len(counter.people(crowd)) == 2


def test_a_stall_that_leaves_after_the_camera_started_leaves_no_ghost() -> None:
    detector = StaticObjectDetector([ZONE], dwell_seconds=20)

    def scene(frame: np.ndarray, t: int) -> None:
        if t < 10:
            _stall(frame, 120, 150)  # there when the model starts, then gone

    assert _run(detector, 60, scene) == []
