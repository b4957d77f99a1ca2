"""Public facade of the ai app (人工智能): OCR of ID cards and business licences, and video
inspection (a new static object in a no-stall zone; people counted in a zone — see
``inspection.py``).

OCR runs on rapidocr-onnxruntime with the PP-OCR models shipped inside its wheel: nothing is
downloaded, at start or at run time. One engine is made per process on first use (guarded by
a lock) and limited to ``YIWANG_AI_OCR_THREADS`` onnxruntime threads.

Readings are advice for the official who checks the application, never a decision: a
:class:`CardReading` carries a confidence per field, and :func:`compare_fields` lists the
fields that differ from what the applicant typed.
"""

from __future__ import annotations

from yiwang.enablement.ai.inspection import (
    Detection,
    PeopleCounter,
    StaticObjectDetector,
    Zone,
    annotate,
)
from yiwang.enablement.ai.models import Detection as VideoDetection
from yiwang.enablement.ai.models import DetectionStatus
from yiwang.enablement.ai.types import CardReading, FieldValue, Mismatch, OcrLine
from yiwang.enablement.ai.video import (
    analyse_frame,
    detection_snapshot,
    list_detections,
    read_stream,
    register_detection_handler,
    review_detection,
)

__all__ = [
    "ID_CARD_FIELDS",
    "LICENCE_FIELDS",
    "CardReading",
    "Detection",
    "DetectionStatus",
    "FieldValue",
    "Mismatch",
    "OcrLine",
    "PeopleCounter",
    "StaticObjectDetector",
    "VideoDetection",
    "Zone",
    "analyse_frame",
    "annotate",
    "compare_fields",
    "detection_snapshot",
    "list_detections",
    "normalise",
    "ocr_text",
    "read_business_licence",
    "read_id_card",
    "read_stream",
    "register_detection_handler",
    "review_detection",
]

#: Fields of the front of a resident ID card (居民身份证), in reading order.
ID_CARD_FIELDS = ("name", "sex", "ethnicity", "birth", "address", "id_number")
#: Fields of a business licence (营业执照).
LICENCE_FIELDS = ("credit_code", "name", "kind", "legal_representative", "address",
                  "registered_on")


def ocr_text(image: bytes) -> list[OcrLine]:
    """The lines of text in an image (PNG or JPEG bytes), top to bottom.

    Raises ``ValidationError`` when the bytes are not a decodable image.
    """
    from yiwang.enablement.ai import engine

    return engine.ocr_lines(image)


def read_id_card(image: bytes) -> CardReading:
    """Read the front of a resident ID card: name, sex, ethnicity, birth (``YYYY-MM-DD``),
    address and id_number.

    The ID number is checked with GB 11643; a single OCR confusion (O/0, I/1…) is corrected
    only when the check character then verifies (the field is listed in ``corrected``).
    """
    from yiwang.enablement.ai import cards

    return cards.read_id_card(image)


def read_business_licence(image: bytes) -> CardReading:
    """Read a business licence: credit_code (checked with GB 32100), name, kind,
    legal_representative, address and registered_on (``YYYY-MM-DD``)."""
    from yiwang.enablement.ai import cards

    return cards.read_business_licence(image)


def normalise(value: str) -> str:
    """``value`` as compared: NFKC (full-width → half-width), no spaces, upper case."""
    from yiwang.enablement.ai import cards

    return cards.normalise(value)


def compare_fields(reading: CardReading, expected: dict[str, str]) -> list[Mismatch]:
    """The fields of ``expected`` whose value differs from the reading's (after
    :func:`normalise`); a field the reading lacks is a mismatch with ``read=""``.

    Dates compare by their digits (``2001年2月3日`` equals ``2001-02-03``).
    """
    from yiwang.enablement.ai import cards

    return cards.compare(reading, expected)
