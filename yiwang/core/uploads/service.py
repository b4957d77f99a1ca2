"""Public facade of the uploads app (上传文件): safe uploads, encrypted at rest.

:func:`accept_upload` sniffs the real type of a file from its bytes, refuses what is not
accepted, too big or malformed (with a Chinese message a person can act on), sanitises it —
images are decoded with Pillow under a decompression-bomb limit and re-encoded without
metadata, PDFs are parsed with pypdf and refused when encrypted, active (JavaScript,
launch actions, embedded files, XFA) or too long — and stores the sanitised bytes encrypted
under ``YIWANG_DATA_DIR/uploads/``. Callers keep only the returned token.

``owner_key`` is an opaque string chosen by the caller (``"user:42"``); a form submission
claims the tokens it uses with :func:`claim_upload`, and :func:`purge_unclaimed` (a daily
periodic task) deletes the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from django.utils.http import content_disposition_header

from yiwang.core.uploads.models import StoredUpload
from yiwang.core.uploads.sanitise import UploadRejected

__all__ = [
    "DEFAULT_ACCEPT",
    "DEFAULT_MAX_BYTES",
    "StoredUpload",
    "UploadRejected",
    "accept_upload",
    "claim_upload",
    "delete_upload",
    "file_response",
    "get_upload",
    "page_images",
    "purge_unclaimed",
    "read_upload",
]

DEFAULT_ACCEPT = ("image/jpeg", "image/png", "application/pdf")
#: what a browser may show inline; anything else is served as an attachment
INLINE_TYPES = ("image/png", "image/jpeg")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def accept_upload(f: UploadedFile | bytes, *, filename: str, owner_key: str, purpose: str,
                  accept: Sequence[str] = DEFAULT_ACCEPT, max_bytes: int = DEFAULT_MAX_BYTES,
                  personal: bool = True, actor: Any = None) -> StoredUpload:
    """Check, sanitise and store one upload; return its :class:`StoredUpload`.

    Raises :class:`UploadRejected` (a ``ValidationError``) when the file is larger than
    ``max_bytes`` (checked while reading), its sniffed type is not in ``accept``, or it is
    malformed or unsafe. ``personal`` marks files holding personal data (ID cards…): reading
    them is audited. ``actor`` (default: the request's user) is named in the
    ``uploads.accepted`` audit event, with the type and sizes (never the token).
    """
    from yiwang.core.uploads import store

    return store.accept(f, filename=filename, owner_key=owner_key, purpose=purpose,
                        accept=accept, max_bytes=max_bytes, personal=personal, actor=actor)


def file_response(content: bytes, content_type: str, filename: str) -> HttpResponse:
    """A response serving an upload's bytes so that a browser can neither sniff them into
    something active nor run them: images inline, the rest as attachments,
    ``X-Content-Type-Options: nosniff``, ``Content-Security-Policy: sandbox``, not cached."""
    inline = content_type in INLINE_TYPES
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(not inline, filename) or ""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def page_images(content: bytes, *, max_pages: int = 1) -> list[Any]:
    """The scanned image of each of the first ``max_pages`` pages of a PDF (Pillow images),
    extracted with pypdf (no rendering): for OCR of a scanned document. Raises
    ``ValidationError`` when a page is not a scan (has no page-sized image)."""
    from yiwang.core.uploads import scans

    return scans.page_images(content, max_pages=max_pages)


def get_upload(token: str) -> StoredUpload | None:
    """The upload with ``token``, or None."""
    if not isinstance(token, str) or not token or len(token) > 64:
        return None
    return StoredUpload.objects.filter(token=token).first()


def read_upload(token: str, *, actor: Any = None, purpose: str = "") -> bytes:
    """The sanitised bytes of an upload, decrypted; audited for personal uploads.

    Raises ``StoredUpload.DoesNotExist`` for an unknown token and ``ValidationError`` when
    the stored file is missing or fails authentication.
    """
    from yiwang.core.uploads import store

    return store.read(token, actor=actor, purpose=purpose)


def claim_upload(token: str | StoredUpload, owner_key: str) -> StoredUpload:
    """Mark an upload as used by a submission, so it is not purged.

    Raises ``ValidationError`` when the token is unknown or belongs to another owner (the
    message does not tell which, so nobody learns whether a token exists). Given the
    :class:`StoredUpload` itself (read in this request, e.g. by :func:`get_upload`), it is not
    read again under a lock: one conditional ``UPDATE`` (not yet claimed) claims it.
    """
    from yiwang.core.uploads import store

    return store.claim(token, owner_key)


def delete_upload(token: str) -> bool:
    """Delete an upload and its file; whether there was one."""
    from yiwang.core.uploads import store

    return store.delete(token)


def purge_unclaimed(older_than: timedelta = timedelta(days=1)) -> int:
    """Delete unclaimed uploads created more than ``older_than`` ago; return how many."""
    from yiwang.core.uploads import store

    return store.purge_unclaimed(older_than)
