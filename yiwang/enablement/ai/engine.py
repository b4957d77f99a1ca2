"""The OCR engine: one rapidocr-onnxruntime instance per process, made on first use.

The PP-OCR models come from inside the rapidocr wheel (nothing is downloaded). onnxruntime
is limited to ``YIWANG_AI_OCR_THREADS`` intra-op threads (and one inter-op thread), and runs
are serialised by a lock: OCR happens inside web requests on a small machine, so one
request must not take every core, and rapidocr keeps per-call settings on the instance.

rapidocr's own pipeline is not called as a whole; its stages are, with choices that cost
less CPU for the same readings on documents (measured by ``benchmarks/ocr.py``):

- the detector sees the picture scaled to :data:`DET_SIDE` pixels on its longer side
  (rapidocr scales the *shorter* side up to 736, which made a 856×540 card 1168×736);
  text lines are cut from the full-resolution picture, so recognition loses nothing;
- boxes too small to hold a character are not recognised;
- each line is recognised on its own (batches pad every line to the widest one of the
  batch: on one core that padding cost more than batching saved);
- the angle classifier is skipped: documents are photographed about upright. When the
  lines read badly, the classifier is asked whether they are upside down, and if most are,
  the picture is turned 180° and read again.

A PDF (a scan: one picture per page) is read through its first page's picture.
"""

from __future__ import annotations

import io
import logging
import threading
import warnings
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from yiwang.enablement.ai.types import OcrLine

logger = logging.getLogger(__name__)

#: Images are scaled down to this many pixels on their longer side before OCR.
MAX_SIDE = 1280
MAX_PIXELS = 40_000_000
#: The detector's input, on the longer side (a multiple of 32). Text of a card or licence
#: photographed to fill the frame stays well above the ~8 px the detector needs.
DET_SIDE = 736
#: Boxes lower than this (pixels of the picture) hold no readable character.
MIN_BOX_HEIGHT = 8
#: Lines read with less confidence than this are dropped (rapidocr's own default).
MIN_SCORE = 0.5
#: Below this median confidence the picture may be upside down: ask the angle classifier.
DOUBTFUL_SCORE = 0.8
#: Lines are padded to at least this width (pixels at the recogniser's height of 48) —
#: rapidocr pads to 320, which made a two-character line cost as much as a long one.
REC_MIN_WIDTH = 160

_engine: dict[str, Any] = {}
_create_lock = threading.Lock()
_run_lock = threading.Lock()


def threads() -> int:
    return max(1, int(getattr(settings, "YIWANG_AI_OCR_THREADS", 1)))


def get_engine() -> Any:
    """The process's engine, created once (thread-safe)."""
    engine = _engine.get("ocr")
    if engine is None:
        with _create_lock:
            engine = _engine.get("ocr")
            if engine is None:
                from rapidocr_onnxruntime import RapidOCR

                count = threads()
                engine = RapidOCR(intra_op_num_threads=count, inter_op_num_threads=1)
                engine.text_rec.rec_batch_num = 1  # no padding to a batch's widest line
                channels, height, _width = engine.text_rec.rec_image_shape
                engine.text_rec.rec_image_shape = [channels, height, REC_MIN_WIDTH]
                _engine["ocr"] = engine
                logger.info("OCR engine loaded (rapidocr-onnxruntime, %d thread(s))", count)
    return engine


def decode(image: bytes) -> Any:
    """The image as a BGR array for the engine, or a ``ValidationError``. A PDF gives its
    first page's scanned picture (see ``uploads.page_images``)."""
    from PIL import Image, ImageOps

    bad = ValidationError(_("无法识别的图片：请上传 JPEG 或 PNG 格式的照片或扫描件。"),
                          code="invalid_image")
    if not isinstance(image, (bytes, bytearray)) or not image:
        raise bad
    if bytes(image[:5]) == b"%PDF-":
        return _array(_scan_of(bytes(image)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture: Any = Image.open(io.BytesIO(image), formats=["JPEG", "PNG"])
            if picture.size[0] * picture.size[1] > MAX_PIXELS:
                raise bad
            if picture.format == "JPEG":
                # A phone's 4000×3000 photo decodes at 1/2…1/8 scale for almost nothing.
                picture.draft("RGB", (MAX_SIDE, MAX_SIDE))
            picture.load()
            picture = ImageOps.exif_transpose(picture).convert("RGB")
    except ValidationError:
        raise
    except Exception:
        raise bad from None
    return _array(picture)


def _array(picture: Any) -> Any:
    import numpy as np

    picture = picture.convert("RGB")
    if max(picture.size) > MAX_SIDE:
        picture.thumbnail((MAX_SIDE, MAX_SIDE))
    return np.ascontiguousarray(np.asarray(picture)[:, :, ::-1])


def _scan_of(content: bytes) -> Any:
    """The first page's picture of a scanned PDF, its white margins trimmed (a card scanned
    on an A4 page fills a fifth of it)."""
    from PIL import ImageOps

    from yiwang.core.uploads import service as uploads

    picture = uploads.page_images(content, max_pages=1)[0]
    picture = ImageOps.exif_transpose(picture).convert("RGB")
    return trim_margins(picture)


def trim_margins(picture: Any, *, white: int = 235, pad: float = 0.02) -> Any:
    """``picture`` cropped to what is not near-white paper (with a small margin kept)."""
    step = max(1, max(picture.size) // 400)
    small = picture.convert("L").reduce(step)
    box = small.point(lambda v: 255 if v < white else 0).getbbox()
    if box is None:
        return picture
    left, top, right, bottom = (v * step for v in box)
    margin = int(pad * max(picture.size))
    box = (max(0, left - margin), max(0, top - margin),
           min(picture.size[0], right + margin), min(picture.size[1], bottom + margin))
    if (box[2] - box[0]) * (box[3] - box[1]) > 0.9 * picture.size[0] * picture.size[1]:
        return picture
    return picture.crop(box)


def _detect(engine: Any, array: Any) -> list[Any]:
    """Text boxes (4 corners each, in ``array``'s pixels), top to bottom."""
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    detector = engine.text_det
    prepare = DetPreProcess(DET_SIDE, "max", detector.mean, detector.std)
    tensor = prepare(array)
    if tensor is None:
        return []
    predictions = detector.infer(tensor)[0]
    boxes, _scores = detector.postprocess_op(predictions, array.shape[:2])
    boxes = detector.filter_tag_det_res(boxes, array.shape[:2])
    if boxes is None or len(boxes) == 0:
        return []
    return [box for box in engine.sorted_boxes(boxes) if _box_height(box) >= MIN_BOX_HEIGHT]


def _box_height(box: Any) -> float:
    import numpy as np

    return float(min(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2])))


def _recognise(engine: Any, crops: list[Any]) -> list[tuple[str, float]]:
    results, _elapsed = engine.text_rec(crops, False)
    return [(str(text), float(score)) for text, score, *_rest in results]


def _read(engine: Any, array: Any) -> tuple[list[Any], list[tuple[str, float]], list[Any]]:
    boxes = _detect(engine, array)
    crops = engine.get_crop_img_list(array, boxes) if boxes else []
    return boxes, _recognise(engine, crops) if crops else [], crops


def _upside_down(engine: Any, crops: list[Any]) -> bool:
    _turned, labels, _elapsed = engine.text_cls(list(crops))
    flipped = sum(1 for label, score in labels if label == "180" and score >= 0.9)
    return flipped * 2 > len(labels)


def ocr_lines(image: bytes) -> list[OcrLine]:
    """Run OCR on ``image``; lines sorted top to bottom, then left to right."""
    import statistics

    import numpy as np

    array = decode(image)
    engine = get_engine()
    with _run_lock:
        boxes, texts, crops = _read(engine, array)
        scores = [score for _text, score in texts]
        if crops and statistics.median(scores) < DOUBTFUL_SCORE \
                and _upside_down(engine, crops):
            array = np.ascontiguousarray(array[::-1, ::-1])
            boxes, texts, _crops = _read(engine, array)
    lines: list[OcrLine] = []
    for box, (text, score) in zip(boxes, texts, strict=True):
        if score < MIN_SCORE or not text.strip():
            continue
        points = tuple((float(p[0]), float(p[1])) for p in box)
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        lines.append(OcrLine(text=text, confidence=score,
                             box=(min(xs), min(ys), max(xs), max(ys)), points=points))
    lines.sort(key=lambda line: (round(line.centre_y / 8), line.box[0]))
    return lines
