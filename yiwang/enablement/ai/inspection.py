"""Video inspection (视频智能巡检) with OpenCV: a new static object in a no-stall zone of a
camera view (占道经营, 乱堆物料), and the number of people in a zone (crowding).

**Static objects — dual background modelling.** Two running averages of the (blurred, grey)
picture follow the scene at different speeds: a short-term background that takes in
whatever has stood still for a few seconds, and a long-term one that takes in only what has
stood for many minutes. A pixel that differs from the long-term background but agrees with
the short-term one belongs to something that arrived and then stopped: a stall, a pile of
materials — while people and cars passing by never agree with the short-term background,
and lighting that changes slowly moves both. The learning rates are set in seconds (time
constants), so the result does not depend on the frame rate. Blobs inside a region of
interest, larger than ``min_area`` (a fraction of the picture), are tracked from frame to
frame by overlap; a blob that stays for ``dwell_seconds`` is reported once, with its
confidence and an annotated snapshot.

**People — OpenCV's HOG people detector** (``HOGDescriptor_getDefaultPeopleDetector``, the
Dalal–Triggs pedestrian model that ships inside OpenCV: nothing is downloaded). People whose
foot point lies in the zone are counted; a count at or above ``threshold`` for
``consecutive`` frames raises one crowding detection, then the zone must fall below the
threshold before it can raise another.

Frames are BGR ``numpy`` arrays (as ``cv2.imdecode`` gives them); timestamps are seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

Point = tuple[int, int]
Box = tuple[int, int, int, int]  # x, y, width, height

_RED = (40, 40, 220)
_YELLOW = (0, 200, 255)


@dataclass(frozen=True)
class Zone:
    """A region of interest of a camera view: a polygon in image pixels."""

    name: str
    polygon: tuple[Point, ...]

    def mask(self, shape: tuple[int, ...]) -> np.ndarray:
        out = np.zeros(shape[:2], np.uint8)
        cv2.fillPoly(out, [np.array(self.polygon, np.int32)], 255)
        return out

    def contains(self, point: tuple[float, float]) -> bool:
        contour = np.array(self.polygon, np.int32)
        return cv2.pointPolygonTest(contour, (float(point[0]), float(point[1])), False) >= 0


@dataclass
class Detection:
    """What a detector found: ``static_object`` (with the blob's box and how long it has
    stood) or ``crowding`` (with the people's boxes and their count)."""

    kind: str
    zone: str
    confidence: float
    at: float
    boxes: list[Box]
    dwell_seconds: float = 0.0
    count: int = 0
    snapshot: bytes = b""  # JPEG, annotated

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "zone": self.zone, "confidence": round(self.confidence, 3),
                "at": self.at, "boxes": [list(b) for b in self.boxes],
                "dwell_seconds": round(self.dwell_seconds, 1), "count": self.count}


@dataclass
class _Track:
    box: Box
    first_seen: float
    last_seen: float
    frames: int = 1
    reported: bool = False
    contrast: float = 0.0


def _iou(a: Box, b: Box) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    w = max(0, min(ax2, bx2) - max(a[0], b[0]))
    h = max(0, min(ay2, by2) - max(a[1], b[1]))
    inter = w * h
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0


def annotate(frame: np.ndarray, zones: list[Zone], boxes: list[Box], label: str) -> bytes:
    """A JPEG of ``frame`` with the zones outlined and ``boxes`` drawn."""
    picture = frame.copy()
    for zone in zones:
        cv2.polylines(picture, [np.array(zone.polygon, np.int32)], True, _YELLOW, 2)
    for x, y, w, h in boxes:
        cv2.rectangle(picture, (x, y), (x + w, y + h), _RED, 2)
    cv2.putText(picture, label, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, _RED, 2)
    ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return encoded.tobytes() if ok else b""


@dataclass
class StaticObjectDetector:
    """New static objects in ``zones`` (see the module's description)."""

    zones: list[Zone]
    dwell_seconds: float = 60.0
    min_area: float = 0.002
    short_seconds: float = 8.0
    long_seconds: float = 900.0
    threshold: float = 25.0
    forget_seconds: float = 10.0
    _long: np.ndarray | None = field(default=None, repr=False)
    _short: np.ndarray | None = field(default=None, repr=False)
    _mask: np.ndarray | None = field(default=None, repr=False)
    _last: float | None = field(default=None, repr=False)
    _tracks: list[_Track] = field(default_factory=list, repr=False)

    def _grey(self, frame: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        return cv2.GaussianBlur(grey, (5, 5), 0).astype(np.float32)

    def feed(self, frame: np.ndarray, at: float) -> list[Detection]:
        """Take one frame taken at ``at`` (seconds); the detections it completes."""
        grey = self._grey(frame)
        if self._long is None or self._short is None or self._mask is None or \
                self._long.shape != grey.shape:
            self._long, self._short = grey.copy(), grey.copy()
            mask: Any = np.zeros(grey.shape, np.uint8)
            for zone in self.zones:
                mask = cv2.bitwise_or(mask, zone.mask(grey.shape))
            self._mask, self._last, self._tracks = mask, at, []
            return []
        dt = max(0.0, at - (self._last if self._last is not None else at))
        self._last = at
        short_rate = 1.0 - math.exp(-dt / self.short_seconds) if dt else 0.0
        long_rate = 1.0 - math.exp(-dt / self.long_seconds) if dt else 0.0
        away_long = cv2.absdiff(grey, self._long)
        away_short = cv2.absdiff(grey, self._short)
        static = ((away_long > self.threshold) & (away_short < self.threshold / 2))
        static_mask = cv2.bitwise_and(static.astype(np.uint8) * 255, self._mask)
        kernel = np.ones((5, 5), np.uint8)
        static_mask = cv2.morphologyEx(static_mask, cv2.MORPH_OPEN, kernel)
        static_mask = cv2.morphologyEx(static_mask, cv2.MORPH_CLOSE, kernel)
        cv2.accumulateWeighted(grey, self._short, short_rate)
        # the long-term background does not learn where something new stands still
        learn = (static_mask == 0).astype(np.uint8)
        cv2.accumulateWeighted(grey, self._long, long_rate, mask=learn)
        count, labels, stats, _centroids = cv2.connectedComponentsWithStats(static_mask)
        smallest = self.min_area * grey.shape[0] * grey.shape[1]
        blobs: list[tuple[Box, float]] = []
        for i in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[i])
            if area < smallest:
                continue
            blob = labels == i
            if self._ghost(grey, blob):
                # something that was there when the model started and has left: heal the
                # long-term background instead of reporting the hole it left
                self._long[blob] = grey[blob]
                continue
            region = away_long[y:y + h, x:x + w]
            blobs.append(((x, y, w, h), float(region.mean())))
        return self._track(blobs, frame, at)

    def _ghost(self, grey: np.ndarray, blob: np.ndarray) -> bool:
        """Whether a blob is a ghost (an object gone from the long-term background) rather
        than a new object: a real object's outline has edges in the current picture; a
        ghost's outline has them only in the background."""
        assert self._long is not None
        ring = cv2.morphologyEx(blob.astype(np.uint8), cv2.MORPH_GRADIENT,
                                np.ones((3, 3), np.uint8)).astype(bool)
        if not ring.any():
            return False

        def edges(picture: np.ndarray) -> float:
            gx = cv2.Sobel(picture, cv2.CV_32F, 1, 0, ksize=3)
            gy = cv2.Sobel(picture, cv2.CV_32F, 0, 1, ksize=3)
            return float(cv2.magnitude(gx, gy)[ring].mean())

        return edges(grey) < edges(self._long)

    def _track(self, blobs: list[tuple[Box, float]], frame: np.ndarray,
               at: float) -> list[Detection]:
        out: list[Detection] = []
        for box, contrast in blobs:
            match = max(self._tracks, key=lambda t: _iou(t.box, box), default=None)
            if match is not None and _iou(match.box, box) > 0.3:
                match.box, match.last_seen, match.contrast = box, at, contrast
                match.frames += 1
            else:
                self._tracks.append(_Track(box, at, at, contrast=contrast))
        self._tracks = [t for t in self._tracks if at - t.last_seen <= self.forget_seconds]
        for track in self._tracks:
            dwell = track.last_seen - track.first_seen
            if track.reported or dwell < self.dwell_seconds or track.last_seen != at:
                continue
            track.reported = True
            zone = next((z.name for z in self.zones if z.contains(
                (track.box[0] + track.box[2] / 2, track.box[1] + track.box[3] / 2))),
                self.zones[0].name if self.zones else "")
            confidence = self._confidence(track, frame.shape)
            label = f"static object {dwell:.0f}s conf {confidence:.2f}"
            out.append(Detection("static_object", zone, confidence, at, [track.box],
                                 dwell_seconds=dwell,
                                 snapshot=annotate(frame, self.zones, [track.box], label)))
        return out

    def _confidence(self, track: _Track, shape: tuple[int, ...]) -> float:
        """0–1 from how clearly it stands out, how big it is and how steadily it was seen."""
        contrast = min(1.0, track.contrast / (3 * self.threshold))
        area = track.box[2] * track.box[3] / (shape[0] * shape[1])
        size = min(1.0, area / (10 * self.min_area))
        span = max(1e-6, track.last_seen - track.first_seen)
        steady = min(1.0, track.frames / max(1.0, span * self._fps_hint()))
        return round(0.5 * contrast + 0.3 * size + 0.2 * steady, 3)

    def _fps_hint(self) -> float:
        return 1.0  # frames are expected about once a second or more often


@dataclass
class PeopleCounter:
    """People in ``zone`` with OpenCV's HOG pedestrian detector; crowding once the count is
    at or above ``threshold`` for ``consecutive`` frames."""

    zone: Zone
    threshold: int = 10
    consecutive: int = 3
    scale: float = 1.05
    min_weight: float = 0.3
    _hog: Any = field(default=None, repr=False)
    _streak: int = field(default=0, repr=False)
    _raised: bool = field(default=False, repr=False)

    def people(self, frame: np.ndarray) -> list[Box]:
        """The boxes of the people whose feet are in the zone."""
        if self._hog is None:
            self._hog = cv2.HOGDescriptor()
            self._hog.setSVMDetector(
                cv2.HOGDescriptor_getDefaultPeopleDetector())  # type: ignore[attr-defined]
        rects, weights = self._hog.detectMultiScale(frame, winStride=(8, 8), padding=(8, 8),
                                                    scale=self.scale)
        boxes = [tuple(int(v) for v in r) for r, w in zip(rects, np.ravel(weights), strict=False)
                 if float(w) >= self.min_weight]
        return [b for b in boxes if self.zone.contains((b[0] + b[2] / 2, b[1] + b[3]))]  # type: ignore[misc]

    def feed(self, frame: np.ndarray, at: float) -> Detection | None:
        boxes = self.people(frame)
        if len(boxes) >= self.threshold:
            self._streak += 1
        else:
            self._streak, self._raised = 0, False
        if self._streak < self.consecutive or self._raised:
            return None
        self._raised = True
        confidence = min(1.0, 0.6 + 0.1 * (len(boxes) - self.threshold))
        label = f"{len(boxes)} people (limit {self.threshold})"
        return Detection("crowding", self.zone.name, confidence, at, boxes, count=len(boxes),
                         snapshot=annotate(frame, [self.zone], boxes, label))
