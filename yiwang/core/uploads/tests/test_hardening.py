"""Uploads: the findings of review 2026-11-27 session 2 (M2, M11, L1, L14, M5)."""

from __future__ import annotations

import logging

import pytest

from yiwang.core.uploads import sanitise, service
from yiwang.core.uploads.models import StoredUpload
from yiwang.core.uploads.tests import factories as make
from yiwang.core.uploads.tests.factories import OWNER, accept, refused

pytestmark = pytest.mark.django_db


def pdf(catalog_extra: bytes = b"", objects: tuple[bytes, ...] = (), *,
        page_extra: bytes = b"", kids: bytes = b"3 0 R") -> bytes:
    """factories.raw_pdf with room in the page and the page tree: objects 4, 5, ...
    are ``objects``."""
    return make.raw_pdf(catalog_extra, objects, page_extra=page_extra, kids=kids)


def with_link(action: bytes, *extra: bytes) -> bytes:
    """A page with a link annotation whose /A is ``action`` (objects 5, ...: ``extra``)."""
    return pdf(b"", (b"<< /Type /Annot /Subtype /Link /Rect [0 0 200 200] /A " + action
                     + b" >>", *extra), page_extra=b"/Annots [4 0 R]")


# --- M2: actions whose /S is an indirect object; an allow-list of actions ------------------


def test_launch_on_opening_with_an_indirect_s_is_refused() -> None:
    content = pdf(b"/OpenAction 4 0 R", (
        b"<< /Type /Action /S 5 0 R /F (calc.exe) >>", b"/Launch"))
    refused(content, "pdf_active")


def test_uri_link_with_an_indirect_s_is_refused() -> None:
    refused(with_link(b"<< /S 5 0 R /URI (http://evil.example/) >>", b"/URI"), "pdf_active")
    accept(with_link(b"<< /S 5 0 R /D [3 0 R /Fit] >>", b"/GoTo"))


@pytest.mark.parametrize("action", [
    b"<< /S /Hide /T (x) >>", b"<< /S /Named /N /Print >>", b"<< /S /ResetForm >>",
    b"<< /S /GoTo /D [3 0 R /Fit] /Next << /S /Sound >> >>", b"<< /Type /Action >>",
])
def test_actions_other_than_goto_are_refused(action: bytes) -> None:
    refused(pdf(b"/OpenAction " + action), "pdf_active")
    refused(with_link(action), "pdf_active")


def test_goto_links_and_structure_attributes_are_accepted() -> None:
    accept(with_link(b"<< /S /GoTo /D [3 0 R /Fit] >>"))
    accept(with_link(b"5 0 R", b"<< /Type /Action /S /GoTo /D [3 0 R /Fit] >>"))
    # /A of a structure element holds attributes, not an action.
    accept(pdf(b"/StructTreeRoot 4 0 R", (
        b"<< /Type /StructTreeRoot /K 5 0 R >>",
        b"<< /Type /StructElem /S /P /P 4 0 R /A << /O /Layout /Placement /Block >> >>")))


# --- M11: every pypdf error is a refusal, never a 500 -------------------------------------


def test_pypdf_limit_reached_is_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from pypdf.generic import _data_structures
    small = dataclasses.replace(_data_structures.get_configuration(),
                                array_maximum_element_count=50)
    monkeypatch.setattr(_data_structures, "get_configuration", lambda: small)
    service.delete_upload(accept(pdf(kids=b"3 0 R " * 40)).token)
    content = pdf(kids=b"3 0 R " * 60)
    # the review's file has 1.5 million entries, past pypdf's default of 100,000
    refused(content, "malformed")


def test_an_unexpected_error_is_logged_and_refused(monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise LookupError("a new pypdf exception")
    monkeypatch.setattr("pypdf.PdfReader", broken)
    with caplog.at_level(logging.ERROR, logger="yiwang.core.uploads.sanitise"):
        refused(make.raw_pdf(), "malformed")
    assert "unexpected" in caplog.text


# --- L1: nothing after the last %%EOF is stored ---------------------------------------------


def test_data_after_the_end_of_a_pdf_is_not_stored() -> None:
    content = make.pdf()
    assert content.endswith(b"%%EOF\n")
    upload = accept(content + b"<html><script>alert(1)</script></html>")
    assert service.read_upload(upload.token) == content
    assert upload.size == len(content)
    assert sanitise._without_tail(b"x%%EOF\r\nPK\x03\x04") == b"x%%EOF\r\n"
    assert sanitise._without_tail(b"x%%EOF%%EOF") == b"x%%EOF%%EOF"


# --- M5: uploads per ten minutes, unclaimed bytes per owner, image sizes --------------------


def noise_png(side: int) -> bytes:
    import io
    import os

    from PIL import Image
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    return out.getvalue()


def test_uploads_per_ten_minutes_are_limited_per_owner(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YIWANG_UPLOADS_PER_10_MINUTES = 3
    for _ in range(3):
        accept(make.png())
    with pytest.raises(service.UploadRejected) as caught:
        accept(make.png())
    assert caught.value.code == "rate_limited"
    assert "10 分钟内最多上传 3 个" in caught.value.messages[0]
    service.accept_upload(make.png(), filename="a.png", owner_key="user:2", purpose="test")
    # Ten minutes later the owner may upload again.
    from django.utils import timezone
    StoredUpload.objects.filter(owner_key=OWNER).update(
        created_at=timezone.now() - timezone.timedelta(minutes=11))
    accept(make.png())


def test_unclaimed_bytes_per_owner_are_limited(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YIWANG_UPLOADS_UNCLAIMED_QUOTA_MB = 1
    first = accept(noise_png(450))
    assert first.size > 512 * 1024
    with pytest.raises(service.UploadRejected) as caught:
        accept(noise_png(450))
    assert caught.value.code == "quota" and "1 MB" in caught.value.messages[0]
    assert StoredUpload.objects.count() == 1
    # Claimed uploads belong to a submission: they do not count.
    service.claim_upload(first.token, OWNER)
    accept(noise_png(450))


@pytest.mark.parametrize("fmt, size, stored", [
    ("JPEG", (9000, 1000), (2250, 250)),   # decoded at 1/4 scale by libjpeg (draft)
    ("JPEG", (5000, 3000), (2500, 1500)),  # at 1/2
    ("JPEG", (4096, 3000), (4096, 3000)),  # as it is
    ("PNG", (6000, 100), (4096, 68)),      # scaled down before re-encoding
])
def test_big_images_are_stored_at_most_4096_pixels_a_side(
        fmt: str, size: tuple[int, int], stored: tuple[int, int]) -> None:
    import io

    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, fmt)
    upload = accept(out.getvalue())
    assert Image.open(io.BytesIO(service.read_upload(upload.token))).size == stored


# --- L14: file names are encrypted at rest ------------------------------------------------


def raw_filename(pk: int) -> str:
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT filename FROM uploads_storedupload WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def test_file_names_are_encrypted_at_rest() -> None:
    upload = accept(make.png(), filename="张三身份证.png")
    assert StoredUpload.objects.get(pk=upload.pk).filename == "张三身份证.png"
    stored = raw_filename(upload.pk)
    assert stored.startswith("v1$") and "张三" not in stored


def test_names_stored_in_clear_before_are_encrypted_by_the_migration() -> None:
    import importlib
    import types

    from django.db import connection
    migration = importlib.import_module(
        "yiwang.core.uploads.migrations.0002_filename_encrypted")
    upload = accept(make.png(), filename="李四.png")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE uploads_storedupload SET filename = %s WHERE id = %s",
                       ["李四.png", upload.pk])
    editor = types.SimpleNamespace(connection=connection)
    migration.encrypt_names(None, editor)
    assert raw_filename(upload.pk).startswith("v1$")
    assert StoredUpload.objects.get(pk=upload.pk).filename == "李四.png"
    migration.decrypt_names(None, editor)
    assert raw_filename(upload.pk) == "李四.png"


def test_a_png_bigger_than_the_stored_size_is_refused_a_jpeg_is_reduced() -> None:
    import io

    from PIL import Image
    png, jpeg = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (5000, 3400), "white").save(png, "PNG")  # 17 Mpx > 4096 × 4096
    Image.new("RGB", (5000, 3400), "white").save(jpeg, "JPEG")
    assert "1677 万像素" in refused(png.getvalue(), "too_large")
    upload = accept(jpeg.getvalue())
    assert Image.open(io.BytesIO(service.read_upload(upload.token))).size == (2500, 1700)
