"""Verifying a presented licence (a VC, a QR text or a PDF) with the offline verifier, this
instance's trust bundle and status lists, for the public page, the API and share links."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from yiwang.core import ratelimit
from yiwang.support.licences import integration
from yiwang.support.licences.models import Licence, UseKind
from yiwang.support.licences.queries import find_by_identifier, masked_holder
from yiwang.support.licences.statuslists import StatusLookup
from yiwang.support.licences.wallet import record_use


@dataclass
class Verification:
    """A verification's outcome: ``valid`` only when every named check passed."""

    kind: str
    checks: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    licence: Licence | None = None
    #: The holder as pages show them (name and code masked), for a licence of this
    #: instance whose signature verified.
    holder: dict[str, str] | None = None

    @property
    def signed(self) -> bool:
        """Whether the signature (every one, for a PDF) verified: only then does the
        presented item speak for the licence it names."""
        found = [c["ok"] for c in self.checks if c["name"] == "signature"]
        return bool(found) and all(found)

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c["ok"] for c in self.checks)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if not c["ok"]]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "valid": self.valid, "checks": self.checks,
                "errors": [c["name"] for c in self.errors],
                "summary": {k: v for k, v in self.summary.items()
                            if k in {"kind", "issuer", "issuer_name", "identifier", "type",
                                     "status", "valid_until", "licence_type"}}}


VERIFY_SCOPE = "licences.verify"
#: The ``Retry-After`` of a 429 from the verification page or API, in seconds.
VERIFY_RETRY_AFTER = ratelimit.retry_after()


def over_verify_rate(request: Any) -> bool:
    """Count a verification against the client address's per-minute budget
    (``YIWANG_LICENCES_VERIFY_RATE_PER_MINUTE``), shared by the public page and
    ``POST /api/v1/licences/verify``: each one costs signature checks and maybe a PDF parse.
    True when over it (answer 429 with ``Retry-After``)."""
    return ratelimit.exceeded(VERIFY_SCOPE, request,
                              per_minute=int(settings.YIWANG_LICENCES_VERIFY_RATE_PER_MINUTE))


def _malformed(kind: str, message: str) -> Verification:
    return Verification(kind, [{"name": "malformed", "ok": False, "message": message}])


def verify_presented(*, kind: str, payload: bytes | str, channel: str = UseKind.VERIFY_PAGE,
                     actor: Any = None) -> Verification:
    """Verify a presented licence — ``kind`` ``vc`` (JSON), ``qr`` (text) or ``pdf`` (bytes)
    — with the offline verifier, this instance's trust bundle and status lists; record the
    use for the holder when it is exactly the VC, QR or PDF this instance issued for one of
    its licences and its signature verified (a document naming a real identifier, even one
    signed by another trusted key, records nothing and shows nothing of that licence)."""
    limit = int(settings.YIWANG_LICENCES_MAX_UPLOAD_BYTES)
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    if not raw:
        return _malformed(kind, "没有收到要核验的内容(nothing to verify)")
    if len(raw) > limit:
        return _malformed(kind, f"内容超过 {limit} 字节的上限(too large)")
    lookup = StatusLookup()
    checker = integration.verifier(lookup)
    document: Any = None
    text = ""
    if kind == "pdf":
        if not raw.startswith(b"%PDF-"):
            return _malformed(kind, "不是 PDF 文件(not a PDF: it must start with %PDF-)")
        result = checker.verify_pdf(raw)
    elif kind == "qr":
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            return _malformed(kind, "二维码内容不是文本(QR content is not text)")
        result = checker.verify_qr(text)
    elif kind == "vc":
        try:
            document = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return _malformed(kind, "不是有效的 JSON(not valid JSON)")
        if not isinstance(document, dict):
            return _malformed(kind, "凭证应为 JSON 对象(a credential is a JSON object)")
        result = checker.verify_credential(document)
    else:
        return _malformed(kind, "未知的核验类型(unknown kind)")
    outcome = Verification(kind, lookup.explain([c.to_dict() for c in result.checks]),
                           dict(result.summary or {}))
    if kind == "pdf":
        # A PDF names no identifier the verifier reads; this instance knows its own files,
        # and only the exact file it issued is that licence.
        licence = (Licence.objects.select_related("type")
                   .filter(pdf_sha256=integration.sha256_hex(raw)).first())
        _add_licence_checks(outcome, licence)
    else:
        identifier = str(outcome.summary.get("identifier") or "")
        licence = find_by_identifier(identifier) if identifier else None
        if licence is not None and not _is_stored(licence, kind, document if kind == "vc"
                                                  else text):
            licence = None
    # An identifier anyone may write into a document names a licence — and any trusted key
    # (another department's, an imported region's) may sign it: only the very VC or QR this
    # instance issued for that licence, with its signature verified, is that licence's use
    # (and shows its holder, masked). Anything else is judged on its own merits.
    if licence is not None and outcome.signed:
        outcome.licence = licence
        outcome.holder = masked_holder(licence)
        with transaction.atomic():
            record_use(licence, channel, actor=actor,
                       detail={"format": kind, "valid": outcome.valid,
                               "failed": [c["name"] for c in outcome.errors]})
    return outcome


def _is_stored(licence: Licence, kind: str, presented: Any) -> bool:
    """Whether ``presented`` is the licence's own VC (the same JSON value as the stored one:
    key order and whitespace aside, so the same proof over the same content) or QR text
    (exactly the stored one)."""
    if kind == "qr":
        return isinstance(presented, str) and bool(licence.qr) and presented == licence.qr
    if kind == "vc":
        try:
            stored = json.loads(licence.vc) if licence.vc else None
        except ValueError:
            return False
        return isinstance(stored, dict) and presented == stored
    return False


def _add_licence_checks(outcome: Verification, licence: Licence | None) -> None:
    """A valid seal proves who sealed the PDF, not that the licence is still valid, nor that
    the sealer may issue it: for a licence of this instance, add the status, validity and
    authorisation checks of its credential; for any other PDF, say it is not a licence this
    instance can vouch for (its QR code carries the status) — never "valid licence"."""
    if licence is None:
        outcome.checks.append({
            "name": "licence", "ok": False,
            "message": "印章有效，但这不是本平台签发的电子证照，无法确认其状态；"
                       "请核验证照上的二维码(the seals are valid, but this is not a "
                       "licence issued here, so its status cannot be confirmed: verify "
                       "the QR code printed on it)"})
        return
    credential = verify_licence(licence)
    names = {c["name"] for c in outcome.checks}
    outcome.checks.extend(c for c in credential.checks
                          if c["name"] in {"status", "validity", "issuer", "authorised"}
                          and c["name"] not in names)
    for key in ("identifier", "type", "licence_type", "status", "valid_until", "issuer"):
        if key in credential.summary:
            outcome.summary.setdefault(key, credential.summary[key])


def verify_licence(licence: Licence) -> Verification:
    """Verify a licence of this instance as a relying party would (its VC), without
    recording a use (for the holder's share page, which records its own)."""
    lookup = StatusLookup()
    result = integration.verifier(lookup).verify_credential(json.loads(licence.vc))
    return Verification("vc", lookup.explain([c.to_dict() for c in result.checks]),
                        dict(result.summary or {}), licence)
