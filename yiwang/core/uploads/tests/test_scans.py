"""Page images of scanned PDFs (``uploads.page_images``), extracted with pypdf."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from PIL import Image
from pypdf import PdfWriter

from yiwang.core.uploads import service


def _pdf_of(*pictures: Image.Image, dpi: float = 150) -> bytes:
    out = io.BytesIO()
    first, *rest = pictures
    first.save(out, "PDF", resolution=dpi, save_all=True, append_images=rest)
    return out.getvalue()


def _scan(size: tuple[int, int] = (1240, 1754)) -> Image.Image:
    picture = Image.new("RGB", size, (250, 250, 250))
    picture.paste((30, 30, 30), (100, 100, 400, 160))
    return picture


def test_the_page_picture_comes_out_at_full_size() -> None:
    images = service.page_images(_pdf_of(_scan(), _scan((1000, 700))), max_pages=2)
    assert [image.size for image in images] == [(1240, 1754), (1000, 700)]
    assert images[0].convert("L").getpixel((200, 130)) < 80  # the dark bar, where drawn


def test_only_the_pages_asked_for_are_decoded() -> None:
    images = service.page_images(_pdf_of(_scan(), _scan()))
    assert len(images) == 1


def test_a_page_without_a_picture_is_not_a_scan() -> None:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(ValidationError) as refused:
        service.page_images(out.getvalue())
    assert refused.value.code == "pdf_no_image"
    assert "第 1 页不是扫描件" in refused.value.messages[0]


def test_a_small_logo_is_not_a_scan() -> None:
    with pytest.raises(ValidationError) as refused:
        service.page_images(_pdf_of(Image.new("RGB", (120, 80), (200, 0, 0))))
    assert refused.value.code == "pdf_no_image"


@pytest.mark.parametrize("content", [b"%PDF-1.7\nnot really", b"%PDF-" + b"\x00" * 200])
def test_a_broken_pdf_is_refused_plainly(content: bytes) -> None:
    with pytest.raises(ValidationError) as refused:
        service.page_images(content)
    assert refused.value.code == "pdf_malformed"


@pytest.mark.django_db
def test_a_scan_survives_the_upload_checks(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path
    stored = service.accept_upload(_pdf_of(_scan()), filename="scan.pdf", owner_key="user:1",
                                   purpose="test")
    assert stored.content_type == "application/pdf"
    images = service.page_images(service.read_upload(stored.token, purpose="test"))
    assert images[0].size == (1240, 1754)


def test_pypdf_limits_and_unexpected_errors_are_refusals(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Review M3 (session 2): pypdf's LimitReachedError (a PyPdfError, not a PdfReadError)
    and any new exception become the plain refusal, never a 500."""
    from pypdf.errors import LimitReachedError

    def over_limit(*args: object, **kwargs: object) -> None:
        raise LimitReachedError("Reached maximum array element count.")

    monkeypatch.setattr("pypdf.PdfReader", over_limit)
    with pytest.raises(ValidationError) as caught:
        service.page_images(_pdf_of(_scan()))
    assert caught.value.code == "pdf_malformed"

    def surprise(*args: object, **kwargs: object) -> None:
        raise LookupError("a new pypdf exception")

    monkeypatch.setattr("pypdf.PdfReader", surprise)
    with pytest.raises(ValidationError) as caught:
        service.page_images(_pdf_of(_scan()))
    assert caught.value.code == "pdf_malformed"


def test_a_picture_larger_than_it_declares_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The declared /Width and /Height may lie: the decoded size is checked as well."""
    from yiwang.core.uploads import scans

    content = _pdf_of(_scan())
    monkeypatch.setattr(scans, "MAX_SCAN_PIXELS", 1240 * 1754 - 1)
    monkeypatch.setattr(scans, "_image_xobjects",
                        lambda page: [(scans.MIN_SCAN_PIXELS, name) for name in
                                      list(page.images.keys())[:1]] or [])
    with pytest.raises(ValidationError) as caught:
        service.page_images(content)
    assert caught.value.code == "pdf_image_too_large"
