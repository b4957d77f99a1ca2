"""Sealing (用印) and validating (验章) PDFs: the service side of :mod:`.pades` and
:mod:`.validation` — the authorisation checked, the key and CRLs from the backend, the use
recorded (ledger ``seal.used``, :class:`SealUse`, audit). Used through
:mod:`yiwang.support.seals.service`."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.enablement.ledger import service as ledger
from yiwang.support.seals import backend as backends
from yiwang.support.seals import pades
from yiwang.support.seals.authorisation import (
    _check_usable,
    custodian_still_holds,
    with_custodian_checks,
)
from yiwang.support.seals.models import Seal, SealAuthorisation, SealUse
from yiwang.support.seals.validation import SignatureReport

logger = logging.getLogger(__name__)

LEVELS = pades.LEVELS


# --- sealing -----------------------------------------------------------------------------------

class _Batch:
    """``seal.used`` records waiting for one ``append_many`` (:func:`deferred_ledger`), and
    the caller's own entries to go with them."""

    def __init__(self) -> None:
        self.pending: list[tuple[SealUse, dict[str, Any]]] = []
        self.entries: list[LedgerEntry] = []


@dataclass
class LedgerEntry:
    """An entry added to a :func:`deferred_ledger` block; ``receipt`` (the ledger's
    receipt: ``log``, ``index``, ``record_hash``) once it is appended."""

    entry_type: str
    record: dict[str, Any]
    receipt: Any = None


class DeferredLedger:
    """What :func:`deferred_ledger` yields: :meth:`add` puts the caller's own entry in the
    same ``append_many`` as the block's seal uses (after them), one lock of the log head and
    one insert instead of one per entry."""

    def __init__(self, batch: _Batch | None) -> None:
        self._batch = batch

    def add(self, entry_type: str, record: dict[str, Any]) -> LedgerEntry:
        """Append ``record`` with the block's uses when the block ends (its ``receipt`` is
        set then). In a block nested in another, which joins the outer one, it is
        appended at once instead, so that its receipt is there when the inner block ends."""
        entry = LedgerEntry(entry_type, record)
        if self._batch is None:
            entry.receipt = ledger.append(entry_type, record)
        else:
            self._batch.entries.append(entry)
        return entry


_BATCH: ContextVar[_Batch | None] = ContextVar("seals_ledger_batch", default=None)


@contextmanager
def deferred_ledger() -> Iterator[DeferredLedger]:
    """Within this block, :func:`seal_pdf` does not append ``seal.used`` at once: every use
    of the block goes to the ledger in one ``append_many`` when it ends without an error,
    with the entries the caller adds (:meth:`DeferredLedger.add`) after them.

    The ledger's log head is locked from the first append until the transaction commits,
    so sealing several documents (or one with several seals) first and appending last keeps
    every other ledger writer of the region from waiting behind the later signatures, TSA
    calls and validation data. Use it inside the caller's ``transaction.atomic()``; nested
    blocks join the outer one."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("deferred_ledger() needs the caller's transaction")
    if _BATCH.get() is not None:
        yield DeferredLedger(None)
        return
    batch = _Batch()
    token = _BATCH.set(batch)
    try:
        yield DeferredLedger(batch)
    finally:
        _BATCH.reset(token)
    _flush(batch.pending, batch.entries)


def _flush(pending: Sequence[tuple[SealUse, dict[str, Any]]],
           entries: Sequence[LedgerEntry] = ()) -> None:
    """Append the uses' ``seal.used`` records (hashes and record identifiers only, never the
    document or personal data) and the caller's entries in one go, then note each use's
    index on it and each entry's receipt."""
    if not pending and not entries:
        return
    receipts = ledger.append_many([("seal.used", record) for _use, record in pending]
                                  + [(entry.entry_type, entry.record) for entry in entries])
    for (use, _record), receipt in zip(pending, receipts, strict=False):
        use.ledger_log, use.ledger_index = str(receipt.log), receipt.index
        # A plain UPDATE per use: bulk_update's CASE expressions cost more for a handful.
        SealUse.objects.filter(pk=use.pk).update(ledger_log=use.ledger_log,
                                                 ledger_index=use.ledger_index)
    for entry, receipt in zip(entries, receipts[len(pending):], strict=True):
        entry.receipt = receipt


def _check_size(pdf: bytes) -> None:
    if not isinstance(pdf, bytes | bytearray) or not pdf:
        raise ValidationError(_("请上传 PDF 文件。"))
    limit = int(settings.YIWANG_SEAL_MAX_PDF_BYTES)
    if len(pdf) > limit:
        raise ValidationError(_("文件太大（上限 %(mb)s MB）。") % {"mb": limit // (1024 * 1024)})


def _stamp_text(seal: Seal) -> str:
    return seal.name


_KEYS: dict[tuple[int, int, str, str, str], pades.SealingKey] = {}


def _sealing_key(backend: backends.Backend, seal: Seal, crls: Sequence[bytes]
                 ) -> pades.SealingKey:
    """The seal's signing key and certificate chain, kept per process while the seal's key,
    its certificate serial and the CRLs are unchanged (a revocation issues a new CRL, and
    a new certificate changes the serial). Only for B-LT, where the CRLs are fetched
    anyway and the seal certificate is checked against them before signing; the vault
    still refuses a revoked key."""
    marker = hashlib.sha256(b"".join(bytes(der) for der in crls)).hexdigest()
    cache_key = (id(backend), seal.pk, seal.key_id, seal.certificate_serial, marker)
    key = _KEYS.get(cache_key)
    if key is None:
        key = backend.sealing_key(seal.key_id)
        if len(_KEYS) > 256:
            _KEYS.clear()
        _KEYS[cache_key] = key
    return key


def _check_purpose(granted: str, purpose: str | None) -> None:
    """A standing authorisation seals only what it was granted for."""
    purpose = (purpose or "").strip()
    if not purpose:
        raise ValidationError(_(
            "依长期授权用印须注明本次用印的用途（该授权的用途：“%(granted)s”）。") % {
                "granted": granted})
    if purpose == granted or (granted == "licence:*" and purpose.startswith("licence:")):
        return
    raise ValidationError(_("该长期用印授权只能用于“%(granted)s”，不能用于“%(purpose)s”。") % {
        "granted": granted, "purpose": purpose or "?"})


@transaction.atomic
def seal_pdf(pdf: bytes, *, seal: Seal, authorisation: SealAuthorisation,
             level: str = "B-LT", page: int = 0, box: tuple[float, ...] | None = None,
             reason: str = "", location: str = "", actor: Any = None,
             purpose: str | None = None) -> bytes:
    """Seal ``pdf`` with ``seal`` under ``authorisation``: a PAdES signature at ``level``
    (B-B, B-T with a timestamp from yiwang's TSA, B-LT with the validation data embedded)
    and a visible stamp on ``page`` (0-based) in ``box`` (PDF points, x1 y1 x2 y2; default
    lower right). Several seals on one document: call again on the result; each later
    signature is an incremental update that keeps the earlier ones valid.

    A single-use authorisation must name this document's SHA-256 and is used up; a standing
    one must be live and granted for ``purpose`` (required with it), what the caller seals (a
    ``licence:<type>`` authorisation seals only that licence type's documents, ``licence:*``
    any licence's). Each use is recorded as a :class:`SealUse`, audited, and appended to the
    ledger last (``seal.used``: seal, document SHA-256, authorisation, level) — at the end
    of a :func:`deferred_ledger` block when in one."""
    _check_size(pdf)
    pdf = bytes(pdf)
    if level not in LEVELS:
        raise ValidationError(_("签章级别须为 %(levels)s 之一。") % {"levels": "、".join(LEVELS)})
    # The authorisation (locked) with its seal and the seal's department, in one query.
    # What the custodian check reads of the account comes in the same query
    # (with_custodian_checks): loading the account decrypts its personal fields for nothing.
    authorisation = with_custodian_checks(
        SealAuthorisation.objects.select_for_update(of=("self",))
        .select_related("seal", "seal__department")).get(pk=authorisation.pk)
    if authorisation.seal_id != seal.pk:
        raise ValidationError(_("该授权不是针对这枚印章的。"))
    seal = authorisation.seal
    _check_usable(seal)
    document_sha256 = hashlib.sha256(pdf).hexdigest()
    now = timezone.now()
    if authorisation.withdrawn_at is not None:
        raise ValidationError(_("该用印授权已撤回。"))
    if not custodian_still_holds(authorisation):
        raise ValidationError(_("授权人已不是该印章的保管人，授权失效。"))
    if authorisation.standing:
        assert authorisation.standing_until is not None
        if authorisation.standing_until <= now:
            raise ValidationError(_("该长期用印授权已过期。"))
        _check_purpose(authorisation.purpose, purpose)
    else:
        if authorisation.used_at is not None:
            raise ValidationError(_("该用印授权只能使用一次，已经用过。"))
        if authorisation.document_sha256 != document_sha256:
            raise ValidationError(_("该用印授权针对的是另一份文件（文件摘要不一致）。"))
    backend = backends.current()
    try:
        kwargs: dict[str, Any] = {}
        if level != "B-B":
            kwargs["timestamp"] = backend.timestamp
        if level == "B-LT":
            # The chain ends at our root and the TSA's token carries its own chain, so the
            # validation data needs only the CRLs (pades checks the seal is not on them).
            crls = backend.crls()
            kwargs["crls"] = crls
            key = _sealing_key(backend, seal, crls)
        else:
            key = backend.sealing_key(seal.key_id)
        box_ints = tuple(round(v) for v in box) if box else None
        sealed, field_name = pades.seal_named(pdf, key=key, level=level, page=page,
                                              box=box_ints,  # type: ignore[arg-type]
                                              reason=reason[:200], location=location[:200],
                                              stamp_png=bytes(seal.stamp_png),
                                              stamp_text=_stamp_text(seal), **kwargs)
    except pades.MalformedPdf as exc:
        raise ValidationError(_("无法读取该 PDF 文件：%(reason)s") % {"reason": exc}) from exc
    except pades.SealingError as exc:
        raise ValidationError(_("无法盖章：%(reason)s") % {"reason": exc}) from exc
    except ValidationError:
        raise
    except Exception as exc:
        logger.exception("sealing failed")
        raise ValidationError(
            _("盖章失败：印章密钥、证书或时间戳服务暂不可用，请稍后重试。")) from exc
    sealed_sha256 = hashlib.sha256(sealed).hexdigest()
    if not authorisation.standing:
        authorisation.used_at = now
        authorisation.save(update_fields=["used_at"])
    use = SealUse.objects.create(
        seal=seal, authorisation=authorisation, document_sha256=document_sha256,
        sealed_sha256=sealed_sha256, level=level, field_name=field_name,
        reason=reason[:200], actor=actor if getattr(actor, "pk", None) else None)
    audit.record("seals.seal_used", seal, actor=actor, detail={
        "use": use.pk, "seal": seal.code, "authorisation": authorisation.pk,
        "document_sha256": document_sha256, "sealed_sha256": sealed_sha256, "level": level})
    record = {"seal": seal.code, "document_sha256": document_sha256,
              "sealed_sha256": sealed_sha256, "authorisation": authorisation.pk, "level": level}
    batch = _BATCH.get()
    if batch is not None:
        batch.pending.append((use, record))
    else:
        _flush([(use, record)])
    return sealed


# --- validation (验章) -------------------------------------------------------------------------

@dataclass
class SealValidation:
    """The result of :func:`validate_pdf`: one report per signature, each check named.

    ``valid`` only when the document has at least one signature, every signature passes
    every check, and the last revision of the file is covered."""

    document_sha256: str
    signatures: list[SignatureReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return bool(self.signatures) and not self.errors and all(
            s.valid for s in self.signatures)

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid, "document_sha256": self.document_sha256,
            "errors": list(self.errors),
            "signatures": [{
                "field": s.field_name, "valid": s.valid, "signer": s.signer,
                "organisation": s.signer_organisation, "issuer": s.issuer,
                "certificate_serial": s.certificate_serial,
                "seal": {"code": s.seal_code, "name": s.seal_name} if s.seal_code else None,
                "signing_time": s.signing_time.isoformat() if s.signing_time else None,
                "timestamp": s.timestamp_time.isoformat() if s.timestamp_time else None,
                "level": s.level, "coverage": s.coverage,
                "checks": [{"name": c.name, "ok": c.ok, "message": c.message}
                           for c in s.checks],
            } for s in self.signatures],
        }


def validate_pdf(pdf: bytes) -> SealValidation:
    """Validate every signature in ``pdf`` (验章): integrity, coverage (whole document or
    only what was signed, with only signatures or validation data after it), the chain to a
    trusted root (this region's and imported regions' roots), the certificate's validity
    period and revocation, and the timestamp. Revocation is checked against this region's
    CRL, the CRLs of every imported region's current trust list and those the document
    embeds; a certificate none of them covers fails as "revocation unknown".

    Raises ``ValidationError`` for a file that is not a readable PDF or too large."""
    _check_size(pdf)
    pdf = bytes(pdf)
    result = SealValidation(document_sha256=hashlib.sha256(pdf).hexdigest())
    backend = backends.current()
    try:
        roots, crls = backend.roots(), backend.validation_crls()
    except Exception as exc:
        logger.exception("trust roots or CRLs unavailable")
        raise ValidationError(_("暂时无法取得受信任的根证书或证书吊销列表，请稍后重试。")) from exc
    try:
        result.signatures = pades.validate(pdf, trust_roots=roots, crls=crls)
    except pades.MalformedPdf as exc:
        raise ValidationError(_("无法读取该 PDF 文件：%(reason)s") % {"reason": exc}) from exc
    if not result.signatures:
        result.errors.append(_("文件中没有电子签章。"))
    by_fingerprint = {s.certificate_sha256: s for s in Seal.objects.filter(
        certificate_sha256__in=[r.certificate_sha256 for r in result.signatures])}
    for report in result.signatures:
        found = by_fingerprint.get(report.certificate_sha256)
        if found is not None:
            report.seal_code, report.seal_name = found.code, found.name
    return result
