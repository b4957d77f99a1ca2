"""Reading ID cards and business licences from OCR lines (filled in below)."""

from __future__ import annotations

import unicodedata

from yiwang.enablement.ai.types import CardReading, Mismatch


def normalise(value: str) -> str:
    text = unicodedata.normalize("NFKC", str(value or ""))
    return "".join(text.split()).upper()


def read_id_card(image: bytes) -> CardReading:
    raise NotImplementedError


def read_business_licence(image: bytes) -> CardReading:
    raise NotImplementedError


def compare(reading: CardReading, expected: dict[str, str]) -> list[Mismatch]:
    raise NotImplementedError
