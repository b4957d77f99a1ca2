"""Storage of accepted uploads: reading within the size limit, envelope encryption at rest.

Layout: ``YIWANG_DATA_DIR/uploads/<aa>/<bb>/<name>.enc`` where ``name`` is the SHA-256 of
the token (a directory listing reveals no token) and ``aa``/``bb`` its first hex digits.

Each file is encrypted with a fresh random key under the configured data cipher
(``YIWANG_DATA_CIPHER``: AES-256-GCM or SM4-GCM), the token and cipher bound as associated
data. The file key is stored in ``StoredUpload.file_key``, an ``EncryptedTextField``: the
data keys wrap it, and ``yiwang rotate-data-keys`` re-wraps it without touching the file.
File format: ``YWU1`` ‖ cipher id (1 byte) ‖ nonce (12) ‖ ciphertext ‖ tag (16).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connections, router, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.core.crypto import service as crypto
from yiwang.core.uploads.models import StoredUpload
from yiwang.core.uploads.sanitise import EXTENSIONS, Limits, UploadRejected, sanitise

MAGIC = b"YWU1"
_CIPHER_IDS = {"aes-256-gcm": 1, "sm4-gcm": 2}
_KEY_SIZES = {"aes-256-gcm": 32, "sm4-gcm": 16}
NONCE = 12
TAG = 16
CHUNK = 64 * 1024


def root() -> Path:
    return Path(settings.DATA_DIR) / "uploads"


def path_of(token: str) -> Path:
    name = hashlib.sha256(token.encode()).hexdigest()
    return root() / name[:2] / name[2:4] / f"{name}.enc"


def limits() -> Limits:
    return Limits(
        max_pixels=int(getattr(settings, "YIWANG_UPLOADS_MAX_PIXELS", 40_000_000)),
        max_pdf_pages=int(getattr(settings, "YIWANG_UPLOADS_MAX_PDF_PAGES", 50)),
        max_pdf_objects=int(getattr(settings, "YIWANG_UPLOADS_MAX_PDF_OBJECTS", 20_000)),
        jpeg_quality=max(1, min(95, int(getattr(settings, "YIWANG_UPLOADS_JPEG_QUALITY", 90)))),
    )


# --- quotas ---------------------------------------------------------------------------------

RATE_WINDOW = 600  # seconds


_held_sql: dict[str, str] = {}


def _held(owner_key: str, *, rate: bool, quota: bool) -> tuple[int, int]:
    """How many uploads ``owner_key`` stored in the last ten minutes and how many bytes its
    unclaimed uploads hold: one query for both checks (each was a query of its own), its
    SQL written once per database (the ORM took longer to build the aggregate than the
    database to run it)."""
    if not (rate or quota):
        return 0, 0
    alias = router.db_for_read(StoredUpload)
    db = connections[alias]
    sql = _held_sql.get(alias)
    if sql is None:
        meta = StoredUpload._meta
        q = db.ops.quote_name

        def col(name: str) -> str:
            return q(str(cast(Any, meta.get_field(name)).column))

        # Names from the model's meta, quoted; the values are parameters.
        sql = _held_sql[alias] = " ".join([
            "SELECT COUNT(CASE WHEN", col("created_at"), ">= %s THEN 1 END),",
            "SUM(CASE WHEN", col("claimed"), "THEN 0 ELSE", col("size"), "END)",
            "FROM", q(str(meta.db_table)), "WHERE", col("owner_key"), "= %s"])
    since = timezone.now() - timedelta(seconds=RATE_WINDOW)
    field = StoredUpload._meta.get_field("created_at")
    with db.cursor() as cursor:
        cursor.execute(sql, [field.get_db_prep_value(since, db), owner_key])
        row = cursor.fetchone()
    recent, held = (row or (0, 0))
    return int(recent or 0) if rate else 0, int(held or 0) if quota else 0


def _rate_limit() -> int:
    return int(getattr(settings, "YIWANG_UPLOADS_PER_10_MINUTES", 30))


def _quota_bytes() -> int:
    return int(getattr(settings, "YIWANG_UPLOADS_UNCLAIMED_QUOTA_MB", 100)) * 1024 * 1024


def _check_rate(recent: int) -> None:
    """Refuse an upload of an owner who stored ``YIWANG_UPLOADS_PER_10_MINUTES`` uploads in
    the last ten minutes (``recent``, from :func:`_held`): each upload costs a decode and a
    re-encode (review 2026-11-27 session 2, M5). Counted from the stored rows, so every
    process shares the count and nothing but a stored upload counts; no caller deletes
    uploads on a person's request, so deleting does not give the allowance back."""
    limit = _rate_limit()
    if limit > 0 and recent >= limit:
        raise UploadRejected(_("上传过于频繁：10 分钟内最多上传 %(n)d 个文件。请稍后再试。")
                             % {"n": limit}, code="rate_limited")


def _check_quota(held: int, adding: int) -> None:
    """Refuse when the owner's unclaimed uploads (``held`` bytes, from :func:`_held`) would
    hold more than ``YIWANG_UPLOADS_UNCLAIMED_QUOTA_MB`` with ``adding`` more: unclaimed
    files live a day, and one account must not fill the disk (review M5). Checked before the
    decode (``adding`` 0) and again with the sanitised size, against the bytes held when the
    upload began; concurrent uploads of one owner may pass it by one file each."""
    quota = _quota_bytes()
    if quota > 0 and held + adding > quota:
        raise UploadRejected(
            _("您尚未提交的上传文件已超过 %(mb)d MB 的上限。请先提交正在办理的申请，"
              "未提交的文件会在一天后清除。") % {"mb": quota // (1024 * 1024)}, code="quota")


# --- reading within the limit ----------------------------------------------------------------


def _too_big(max_bytes: int) -> UploadRejected:
    size = (f"{max_bytes / (1024 * 1024):.0f} MB" if max_bytes >= 1024 * 1024
            else f"{max_bytes // 1024} KB")
    return UploadRejected(_("文件超过了 %(size)s 的大小上限。请压缩或缩小后上传。")
                          % {"size": size}, code="too_big")


def read_limited(f: UploadedFile | bytes, max_bytes: int) -> bytes:
    """The bytes of ``f``, refusing as soon as more than ``max_bytes`` have been read."""
    if isinstance(f, (bytes, bytearray, memoryview)):
        if len(f) > max_bytes:
            raise _too_big(max_bytes)
        return bytes(f)
    declared = getattr(f, "size", None)
    if isinstance(declared, int) and declared > max_bytes:
        raise _too_big(max_bytes)
    parts: list[bytes] = []
    total = 0
    chunks: Iterable[bytes] = f.chunks(CHUNK) if hasattr(f, "chunks") else iter(
        lambda: f.read(CHUNK), b"")
    for chunk in chunks:
        total += len(chunk)
        # The declared size can lie (a streamed request): count what actually arrives.
        if total > max_bytes:
            raise _too_big(max_bytes)
        parts.append(chunk)
    return b"".join(parts)


def clean_filename(filename: str, content_type: str) -> str:
    """A display name: no directories or control characters, the extension of the real type."""
    name = unicodedata.normalize("NFC", str(filename or "")).replace("\\", "/").split("/")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem[:200] or "upload"
    return stem + EXTENSIONS.get(content_type, "")


# --- encryption -------------------------------------------------------------------------------


def _aad(token: str, cipher: str) -> bytes:
    return f"yiwang/uploads/v1|{cipher}|{token}".encode()


def encrypt(plain: bytes, key: bytes, cipher: str, token: str) -> bytes:
    nonce = os.urandom(NONCE)
    aad = _aad(token, cipher)
    if cipher == "sm4-gcm":
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        body = enc.update(plain) + enc.finalize() + enc.tag
    else:
        body = AESGCM(key).encrypt(nonce, plain, aad)
    return MAGIC + bytes([_CIPHER_IDS[cipher]]) + nonce + body


def decrypt(blob: bytes, key: bytes, cipher: str, token: str) -> bytes:
    if (len(blob) < len(MAGIC) + 1 + NONCE + TAG or not blob.startswith(MAGIC)
            or blob[len(MAGIC)] != _CIPHER_IDS.get(cipher)):
        raise ValidationError(_("上传的文件已损坏，请重新上传。"), code="corrupt")
    nonce = blob[5:5 + NONCE]
    body = blob[5 + NONCE:]
    aad = _aad(token, cipher)
    try:
        if cipher == "sm4-gcm":
            dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, body[-TAG:])).decryptor()
            dec.authenticate_additional_data(aad)
            return dec.update(body[:-TAG]) + dec.finalize()
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise ValidationError(_("上传的文件已损坏，请重新上传。"), code="corrupt") from None


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp-" + secrets.token_hex(4))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileNotFoundError:
        # Made on first use only: mkdir of the existing directories (parents=True tries
        # each) cost more than the rest of the write.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, flags, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


# --- the facade's functions ------------------------------------------------------------------


def accept(f: UploadedFile | bytes, *, filename: str, owner_key: str, purpose: str,
           accept: Sequence[str], max_bytes: int, personal: bool, actor: Any) -> StoredUpload:
    if not owner_key or len(owner_key) > 100:
        raise ValueError("owner_key must be a non-empty string of at most 100 characters")
    recent, held = _held(owner_key, rate=_rate_limit() > 0, quota=_quota_bytes() > 0)
    _check_rate(recent)
    _check_quota(held, 0)
    raw = read_limited(f, max_bytes)
    result = sanitise(raw, tuple(accept), limits())
    _check_quota(held, len(result.content))
    token = secrets.token_urlsafe(32)
    cipher = crypto.current_cipher()
    key = os.urandom(_KEY_SIZES[cipher])
    path = path_of(token)
    _write(path, encrypt(result.content, key, cipher, token))
    # Should the caller's transaction roll back later, the file stays without a row: such
    # orphans are swept by purge_unclaimed once older than its cut-off.
    try:
        with transaction.atomic():
            upload = StoredUpload.objects.create(
                token=token, owner_key=owner_key, purpose=purpose[:100],
                filename=clean_filename(filename, result.content_type),
                content_type=result.content_type, size=len(result.content),
                original_size=len(raw), sha256=hashlib.sha256(result.content).hexdigest(),
                personal=personal, file_key=base64.b64encode(key).decode(), cipher=cipher,
            )
            audit.record("uploads.accepted", upload, actor=actor, detail={
                "purpose": upload.purpose, "content_type": upload.content_type,
                "size": upload.size, "original_size": upload.original_size})
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return upload


def read(token: str, *, actor: Any, purpose: str) -> bytes:
    upload = StoredUpload.objects.get(token=token)
    try:
        blob = path_of(token).read_bytes()
    except FileNotFoundError:
        raise ValidationError(_("上传的文件已不存在，请重新上传。"), code="missing") from None
    key = base64.b64decode(upload.file_key)
    plain = decrypt(blob, key, upload.cipher, token)
    if hashlib.sha256(plain).hexdigest() != upload.sha256:
        raise ValidationError(_("上传的文件已损坏，请重新上传。"), code="corrupt")
    if upload.personal:
        audit.record("uploads.read", upload, actor=actor, personal_data=True,
                     detail={"purpose": purpose or upload.purpose})
    return plain


def claim(token: str | StoredUpload, owner_key: str) -> StoredUpload:
    if isinstance(token, StoredUpload):
        return _claim_read(token, owner_key)
    with transaction.atomic():
        upload = (StoredUpload.objects.select_for_update().filter(token=token).first()
                  if isinstance(token, str) and token else None)
        if upload is None or not secrets.compare_digest(upload.owner_key, owner_key):
            raise _not_owner()
        if not upload.claimed:
            upload.claimed = True
            upload.claimed_at = timezone.now()
            upload.save(update_fields=["claimed", "claimed_at"])
        return upload


def _not_owner() -> ValidationError:
    return ValidationError(_("找不到这个上传的文件，或它不属于您。请重新上传。"),
                           code="not_owner")


def _claim_read(upload: StoredUpload, owner_key: str) -> StoredUpload:
    """Claim an upload the caller has read in this request: no second read under a lock.
    The owner is checked on the row read (an upload's owner never changes); a row deleted
    since, or claimed by another request, updates nothing: then the locked read says which.
    The write's audit event is the one ``save()`` would record."""
    if upload.pk is None or not secrets.compare_digest(upload.owner_key, owner_key):
        raise _not_owner()
    if upload.claimed:
        return upload
    now = timezone.now()
    fields = frozenset(["claimed", "claimed_at"])
    alias = router.db_for_write(StoredUpload, instance=upload)
    # No savepoint in the caller's transaction (two queries): an error here is a database
    # error, which rolls the caller's transaction back anyway.
    with transaction.atomic(using=alias, savepoint=False):
        updated = StoredUpload.objects.using(alias).filter(
            pk=upload.pk, claimed=False).update(claimed=True, claimed_at=now)
        if updated:
            upload.claimed, upload.claimed_at = True, now
            # As save(update_fields=...) sends them: the audit records the write.
            pre_save.send(sender=StoredUpload, instance=upload, raw=False, using=alias,
                          update_fields=fields)
            post_save.send(sender=StoredUpload, instance=upload, created=False,
                           update_fields=fields, raw=False, using=alias)
    return upload if updated else claim(upload.token, owner_key)


def delete(token: str) -> bool:
    deleted, _rows = StoredUpload.objects.filter(token=token).delete()
    path_of(token).unlink(missing_ok=True)
    return bool(deleted)


def purge_unclaimed(older_than: timedelta) -> int:
    cutoff = timezone.now() - older_than
    count = 0
    stale = StoredUpload.objects.filter(claimed=False, created_at__lt=cutoff)
    for token in stale.values_list("token", flat=True).iterator():
        if delete(token):
            count += 1
    _sweep_orphans(cutoff)
    return count


def _sweep_orphans(cutoff: Any) -> None:
    """Delete files older than ``cutoff`` that no row names (a rolled-back upload)."""
    base = root()
    if not base.is_dir():
        return
    known = None
    limit = cutoff.timestamp()
    for path in base.glob("*/*/*"):
        try:
            if path.stat().st_mtime >= limit:
                continue
        except FileNotFoundError:
            continue
        if known is None:
            known = {hashlib.sha256(t.encode()).hexdigest()
                     for t in StoredUpload.objects.values_list("token", flat=True).iterator()}
        if path.name.split(".")[0] not in known:
            path.unlink(missing_ok=True)
