"""Uploads: type sniffing, sanitising, refusals of malicious files, encryption at rest."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from PIL import Image

from yiwang.core.audit.service import AuditEvent
from yiwang.core.uploads import service
from yiwang.core.uploads.models import StoredUpload
from yiwang.core.uploads.tests import factories as make
from yiwang.core.uploads.tests.factories import OWNER, accept, refused

pytestmark = pytest.mark.django_db

# --- images --------------------------------------------------------------------------------


def test_jpeg_is_reencoded_without_metadata_and_turned_upright() -> None:
    original = make.jpeg((40, 20), orientation=6, gps=True, comment=b"secret comment")
    upload = accept(original, filename="../../etc/我的身份证.JPG")
    data = service.read_upload(upload.token)
    assert upload.content_type == "image/jpeg"
    assert upload.filename == "我的身份证.jpg"
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert upload.size == len(data) and upload.original_size == len(original)
    image = Image.open(io.BytesIO(data))
    assert image.size == (20, 40)  # orientation 6 applied: rotated a quarter turn
    assert not image.getexif()
    assert "icc_profile" not in image.info and "comment" not in image.info
    assert b"CameraMaker" not in data and b"secret comment" not in data
    assert b"Exif" not in data


def test_png_text_chunks_and_icc_profile_are_dropped_and_type_comes_from_bytes() -> None:
    upload = accept(make.png(text={"Author": "张三 110101199003077777"}), filename="a.jpg")
    data = service.read_upload(upload.token)
    assert upload.content_type == "image/png" and upload.filename == "a.png"
    assert b"tEXt" not in data and b"iCCP" not in data and b"Author" not in data
    assert Image.open(io.BytesIO(data)).size == (30, 30)


def test_palette_png_with_transparency_stays_a_png() -> None:
    image = Image.new("P", (10, 10))
    out = io.BytesIO()
    image.save(out, "PNG", transparency=0)
    upload = accept(out.getvalue())
    assert Image.open(io.BytesIO(service.read_upload(upload.token))).mode == "RGBA"


def test_type_not_accepted() -> None:
    message = refused(make.pdf(), "type", accept=("image/jpeg", "image/png"))
    assert "PDF" in message and "JPEG" in message


@pytest.mark.parametrize("content", [
    b"<html><body><script>alert(1)</script></body></html>",
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    b"  <svg onload=alert(1)>",
    b"GIF89a\x01\x00\x01\x00",
    b"PK\x03\x04 zip",
    b"\x00\x00\x00\x18ftypheic",
    b"just text",
])
def test_files_posing_as_images_are_refused(content: bytes) -> None:
    refused(content, "type", filename="photo.jpg")


def test_html_is_named_as_markup() -> None:
    assert "网页" in refused(b"<!DOCTYPE html><html>", "type", filename="x.png")


def test_empty_file() -> None:
    refused(b"", "empty")


def test_truncated_jpeg_is_malformed() -> None:
    data = make.jpeg((200, 200))
    refused(data[: len(data) // 2], "malformed")


def test_jpeg_header_with_garbage_is_malformed() -> None:
    refused(b"\xff\xd8\xff\xe0" + os.urandom(2000), "malformed")


def test_decompression_bomb_refused_before_decoding(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YIWANG_UPLOADS_MAX_PIXELS = 1_000_000
    bomb = io.BytesIO()
    Image.new("1", (5000, 5000)).save(bomb, "PNG")  # 25 Mpx in a few KB
    assert len(bomb.getvalue()) < 50_000
    assert "像素" in refused(bomb.getvalue(), "too_large")


def test_pillow_bomb_limit_is_caught(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Even when Pillow's own process-wide limit trips first, the upload is refused cleanly.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    refused(make.png((40, 40)), "too_large")


def test_jpeg_with_pdf_after_it_is_a_polyglot() -> None:
    refused(make.jpeg() + make.pdf(), "polyglot")


def test_png_with_html_after_iend_is_a_polyglot() -> None:
    refused(make.png() + b"<html><script>alert(1)</script></html>", "polyglot")


def test_jpeg_with_script_in_a_comment_is_a_polyglot() -> None:
    refused(make.jpeg(comment=b"<script>alert(1)</script>"), "polyglot")


def test_photo_with_xmp_metadata_is_accepted() -> None:
    xmp = (b'<?xml version="1.0"?><?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
           b'<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>')
    upload = accept(make.jpeg(comment=xmp))
    assert b"xmpmeta" not in service.read_upload(upload.token)


def test_jpeg_with_zip_after_eoi_is_a_polyglot() -> None:
    refused(make.jpeg() + b"PK\x03\x04" + b"\x00" * 30, "polyglot")


# --- size -------------------------------------------------------------------------------------


def test_size_limit_on_bytes() -> None:
    assert "MB" in refused(make.jpeg() + b"\x00" * (2 * 1024 * 1024), "too_big",
                           max_bytes=1024 * 1024)


class LyingUpload(SimpleUploadedFile):
    """A streamed upload whose declared size is smaller than what arrives."""

    def __init__(self, content: bytes) -> None:
        super().__init__("big.jpg", content, "image/jpeg")
        self.size = 10
        self.chunks_read = 0

    def chunks(self, chunk_size=None):  # type: ignore[no-untyped-def,override]
        for chunk in super().chunks(1024):
            self.chunks_read += 1
            yield chunk


def test_size_limit_checked_while_streaming() -> None:
    upload = LyingUpload(b"\xff\xd8\xff" + b"\x00" * 100_000)
    with pytest.raises(service.UploadRejected) as caught:
        service.accept_upload(upload, filename="big.jpg", owner_key=OWNER, purpose="t",
                              max_bytes=4096)
    assert caught.value.code == "too_big"
    assert upload.chunks_read <= 6  # stopped as soon as the limit was passed


def test_uploaded_file_is_accepted() -> None:
    content = make.jpeg()
    upload = service.accept_upload(SimpleUploadedFile("x.jpg", content), filename="x.jpg",
                                   owner_key=OWNER, purpose="t")
    assert upload.content_type == "image/jpeg"


# --- PDFs -------------------------------------------------------------------------------------


def test_plain_pdf_is_accepted_as_is() -> None:
    content = make.pdf(2)
    upload = accept(content, filename="证明.pdf")
    assert upload.content_type == "application/pdf"
    assert service.read_upload(upload.token) == content


def test_pdf_opening_at_a_page_is_accepted() -> None:
    accept(make.pdf(setup=make.with_open_action_destination))


@pytest.mark.parametrize("setup", [
    make.with_javascript, make.with_open_action_js, make.with_launch, make.with_attachment,
    make.with_page_aa, make.with_xfa,
], ids=lambda f: f.__name__)
def test_active_pdfs_are_refused(setup) -> None:  # type: ignore[no-untyped-def]
    refused(make.pdf(setup=setup), "pdf_active")


def test_obfuscated_javascript_name_is_refused() -> None:
    # #61 is "a": PDF readers decode names, so must we.
    service.delete_upload(accept(make.raw_pdf()).token)  # the hand-made PDF itself is fine
    content = make.raw_pdf(b"/Names << /J#61vaScript 4 0 R >>",
                           (b"<< /Names [(a) << /S /JavaScript /J#53 (app.alert(1)) >>] >>",))
    refused(content, "pdf_active")


def test_encrypted_pdf_is_refused() -> None:
    assert "密码" in refused(make.pdf(setup=make.with_password), "pdf_encrypted")


def test_too_many_pages(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YIWANG_UPLOADS_MAX_PDF_PAGES = 3
    assert "4 页" in refused(make.pdf(4), "pdf_pages")


def test_broken_xref_is_refused() -> None:
    content = make.pdf()
    start = content.rindex(b"startxref") + len(b"startxref\n")
    end = content.index(b"\n", start)
    broken = content[:start] + b"999999" + content[end:]
    refused(broken, "malformed")


def test_pdf_without_end_is_refused() -> None:
    refused(make.pdf()[:-200], "malformed")


def test_pdf_with_html_in_front_is_not_a_pdf() -> None:
    refused(b"<html>" + make.pdf(), "type")


# --- storage ---------------------------------------------------------------------------------


def test_file_is_encrypted_at_rest(tmp_path: Path) -> None:
    content = make.png(text={"k": "v"})
    upload = accept(content)
    plain = service.read_upload(upload.token)
    files = [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]
    assert len(files) == 1
    assert upload.token not in str(files[0])  # the path does not reveal the token
    blob = files[0].read_bytes()
    assert blob.startswith(b"YWU1") and plain not in blob and b"IHDR" not in blob
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"
    # The file key is stored wrapped by the data keys, not in the clear.
    with connection.cursor() as cursor:
        cursor.execute("SELECT file_key FROM uploads_storedupload WHERE id = %s", [upload.pk])
        assert cursor.fetchone()[0].startswith("v1$")


def test_tampered_file_is_refused(tmp_path: Path) -> None:
    upload = accept(make.png())
    path = next(p for p in (tmp_path / "uploads").rglob("*") if p.is_file())
    blob = bytearray(path.read_bytes())
    blob[-20] ^= 1
    path.write_bytes(bytes(blob))
    with pytest.raises(ValidationError):
        service.read_upload(upload.token)


def test_sm4_cipher_round_trips(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YIWANG_DATA_CIPHER = "sm4-gcm"
    upload = accept(make.png())
    assert upload.cipher == "sm4-gcm"
    assert Image.open(io.BytesIO(service.read_upload(upload.token))).size == (30, 30)


def test_reading_personal_upload_is_audited() -> None:
    upload = accept(make.png())
    before = AuditEvent.objects.filter(action="uploads.read").count()
    service.read_upload(upload.token, purpose="审核材料")
    event = AuditEvent.objects.filter(action="uploads.read").latest("pk")
    assert AuditEvent.objects.filter(action="uploads.read").count() == before + 1
    assert event.personal_data and event.object_id == str(upload.pk)
    assert upload.token not in str(event.detail)


def test_acceptance_is_audited_without_the_token() -> None:
    upload = accept(make.jpeg(gps=True))
    event = AuditEvent.objects.filter(action="uploads.accepted").latest("pk")
    assert event.object_id == str(upload.pk)
    assert event.detail["content_type"] == "image/jpeg"
    assert event.detail["original_size"] > event.detail["size"] > 0
    assert upload.token not in str(event.detail)


def test_reading_non_personal_upload_is_not_audited() -> None:
    upload = accept(make.png(), personal=False)
    service.read_upload(upload.token)
    assert not AuditEvent.objects.filter(action="uploads.read").exists()


def test_tokens_are_unguessable_and_distinct() -> None:
    first, second = accept(make.png()), accept(make.png())
    assert first.token != second.token and len(first.token) >= 40
    assert first.sha256 == second.sha256


def test_claim_by_owner_only() -> None:
    upload = accept(make.png())
    with pytest.raises(ValidationError):
        service.claim_upload(upload.token, "user:2")
    with pytest.raises(ValidationError):
        service.claim_upload("no-such-token", OWNER)
    claimed = service.claim_upload(upload.token, OWNER)
    assert claimed.claimed and claimed.claimed_at is not None
    assert service.claim_upload(upload.token, OWNER).claimed  # idempotent


def test_get_and_delete() -> None:
    upload = accept(make.png())
    assert service.get_upload(upload.token) == upload
    assert service.get_upload("x" * 500) is None
    assert service.delete_upload(upload.token)
    assert service.get_upload(upload.token) is None
    assert not service.delete_upload(upload.token)


def test_purge_unclaimed_keeps_claimed_and_recent(tmp_path: Path) -> None:
    old, old_claimed, recent = accept(make.png()), accept(make.png()), accept(make.png())
    service.claim_upload(old_claimed.token, OWNER)
    two_days_ago = timezone.now() - timedelta(days=2)
    StoredUpload.objects.filter(pk__in=[old.pk, old_claimed.pk]).update(
        created_at=two_days_ago)
    orphan = tmp_path / "uploads" / "00" / "00" / ("0" * 64 + ".enc")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"YWU1")
    os.utime(orphan, (two_days_ago.timestamp(), two_days_ago.timestamp()))
    assert service.purge_unclaimed(timedelta(days=1)) == 1
    assert service.get_upload(old.token) is None
    assert service.get_upload(old_claimed.token) and service.get_upload(recent.token)
    assert not orphan.exists()
    assert len([p for p in (tmp_path / "uploads").rglob("*.enc")]) == 2


def test_purge_task(settings) -> None:  # type: ignore[no-untyped-def]
    from yiwang.core.uploads import tasks

    settings.YIWANG_UPLOADS_UNCLAIMED_HOURS = 1
    stale = accept(make.png())
    StoredUpload.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - timedelta(hours=2))
    assert tasks.purge_unclaimed.name == "uploads.purge_unclaimed"
    assert tasks.purge_unclaimed() == 1 and service.get_upload(stale.token) is None
