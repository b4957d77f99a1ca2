"""Sealed licence PDFs: the department's 证照专用章 signs them (PAdES), the verifier accepts
the issued file and names an edited one."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.support.licences import service as licences
from yiwang.support.licences.tests.conftest import RECORD_FIELDS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("level", ["B-B", "B-LT"])
def test_a_sealed_pdf_verifies_and_an_edit_is_named(citizen: Any, police: Any,
                                                    settings: Any, level: str) -> None:
    settings.YIWANG_LICENCES_SEAL_LEVEL = level
    licence = licences.issue_licence("no_criminal_record", holder=citizen,
                                     fields=RECORD_FIELDS, department_code="gaj", actor=police)
    assert licence.sealed
    pdf = licences.pdf_bytes(licence)
    assert b"/ByteRange" in pdf
    outcome = licences.verify_presented(kind="pdf", payload=pdf)
    assert outcome.valid, outcome.errors
    assert outcome.licence == licence  # the use is recorded for the holder
    assert licence.uses.filter(kind="verify_page").count() == 1
    flipped = bytearray(pdf)
    at = pdf.index(b"WenQuanYiZenHei") + 40
    flipped[at] ^= 0x01
    broken = licences.verify_presented(kind="pdf", payload=bytes(flipped))
    assert not broken.valid and broken.errors
    appended = licences.verify_presented(kind="pdf", payload=edited(pdf))
    assert not appended.valid and appended.errors


def edited(pdf: bytes) -> bytes:
    """``pdf`` with an unsigned incremental update drawing over the licence's page."""
    import io

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page_ref = writer.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    stream = generic.StreamObject(stream_data=b"0 0 0 rg 100 600 200 40 re f")
    contents = page["/Contents"]
    items = list(contents) if isinstance(contents, generic.ArrayObject) else [contents]
    page["/Contents"] = generic.ArrayObject([*items, writer.add_object(stream)])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
