"""The OCR engine: one rapidocr-onnxruntime instance per process, made on first use.

The PP-OCR models come from inside the rapidocr wheel (nothing is downloaded). onnxruntime
is limited to ``YIWANG_AI_OCR_THREADS`` intra-op threads (and one inter-op thread), and runs
are serialised by a lock: OCR happens inside web requests on a small machine, so one
request must not take every core, and rapidocr keeps per-call settings on the instance.
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
                _engine["ocr"] = engine
                logger.info("OCR engine loaded (rapidocr-onnxruntime, %d thread(s))", count)
    return engine


def decode(image: bytes) -> Any:
    """The image as a BGR array for the engine, or a ``ValidationError``."""
    import numpy as np
    from PIL import Image, ImageOps

    bad = ValidationError(_("无法识别的图片：请上传 JPEG 或 PNG 格式的照片或扫描件。"),
                          code="invalid_image")
    if not isinstance(image, (bytes, bytearray)) or not image:
        raise bad
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture: Any = Image.open(io.BytesIO(image), formats=["JPEG", "PNG"])
            if picture.size[0] * picture.size[1] > MAX_PIXELS:
                raise bad
            picture.load()
            picture = ImageOps.exif_transpose(picture).convert("RGB")
    except ValidationError:
        raise
    except Exception:
        raise bad from None
    if max(picture.size) > MAX_SIDE:
        picture.thumbnail((MAX_SIDE, MAX_SIDE))
    return np.ascontiguousarray(np.asarray(picture)[:, :, ::-1])


def ocr_lines(image: bytes) -> list[OcrLine]:
    """Run OCR on ``image``; lines sorted top to bottom, then left to right."""
    array = decode(image)
    engine = get_engine()
    with _run_lock:
        result, _elapsed = engine(array)
    lines: list[OcrLine] = []
    for box, text, score in result or []:
        points = tuple((float(p[0]), float(p[1])) for p in box)
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        lines.append(OcrLine(text=str(text), confidence=float(score),
                             box=(min(xs), min(ys), max(xs), max(ys)), points=points))
    lines.sort(key=lambda line: (round(line.centre_y / 8), line.box[0]))
    return lines
