"""Validation of sealed PDFs (验章) on pyHanko: one :class:`SignatureReport` per signature,
each check named (integrity, coverage, trust, validity, revocation, timestamp, malformed)
and never "valid" for what failed. No fetching: the trust roots and current CRLs are given,
plus whatever validation data the document embeds."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from yiwang.support.seals.pdfdoc import KEY_USAGE, MalformedPdf, read_pdf

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class Check:
    """One named check of a signature: ``ok`` and a message a person can read."""

    name: str
    ok: bool
    message: str


@dataclass
class SignatureReport:
    """What :func:`validate` found about one signature."""

    field_name: str
    signer: str = ""
    signer_organisation: str = ""
    certificate_serial: str = ""  # hex
    certificate_sha256: str = ""
    issuer: str = ""
    signing_time: datetime | None = None  # claimed by the signer
    timestamp_time: datetime | None = None  # vouched for by a TSA
    level: str = ""  # B-B, B-T, B-LT
    coverage: str = ""  # whole | revision | partial | unclear
    revision: int = 0
    checks: list[Check] = field(default_factory=list)
    seal_code: str = ""  # filled in by service.py when the certificate is one of our seals
    seal_name: str = ""

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


_COVERAGE = {
    SignatureCoverageLevel.ENTIRE_FILE: "whole",
    SignatureCoverageLevel.ENTIRE_REVISION: "revision",
    SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START: "partial",
    SignatureCoverageLevel.UNCLEAR: "unclear",
}


def _name(cert: asn1_x509.Certificate) -> tuple[str, str]:
    native = cert.subject.native
    return str(native.get("common_name", "")), str(native.get("organization_name", ""))


def _revoked_serials(crls: Sequence[Any]) -> dict[tuple[bytes, int], datetime]:
    """(issuer name DER, serial) → revocation date, from every CRL given."""
    from asn1crypto import crl as asn1_crl

    revoked: dict[tuple[bytes, int], datetime] = {}
    for item in crls:
        try:
            cert_list = item if isinstance(item, asn1_crl.CertificateList) else \
                asn1_crl.CertificateList.load(item)
            issuer = cert_list.issuer.dump()
            for entry in cert_list["tbs_cert_list"]["revoked_certificates"]:
                revoked[(issuer, entry["user_certificate"].native)] = \
                    entry["revocation_date"].native
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning("unreadable CRL ignored: %s", exc)
    return revoked


def validate(pdf: bytes, *, trust_roots: Sequence[bytes], crls: Sequence[bytes] = ()
             ) -> list[SignatureReport]:
    """Validate every signature of ``pdf`` against ``trust_roots`` (DER) and the current
    ``crls`` (DER) plus whatever validation data the document embeds. No fetching.

    Revocation is required: a certificate (the seal's, or the TSA's) that no current CRL
    covers — none given, none embedded, or one past its nextUpdate — fails with the reason
    "revocation unknown", never passes for want of data.

    Raises :class:`MalformedPdf` when ``pdf`` cannot be read."""
    reader = read_pdf(pdf)
    try:
        embedded = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise MalformedPdf(f"the signatures cannot be read: {exc}") from exc
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except (PdfError, ValueError, KeyError, TypeError, AttributeError):
        dss = None
    roots = [asn1_x509.Certificate.load(der) for der in trust_roots]
    # Only the CRLs we were given (from the trust app) decide a revocation on their own;
    # embedded ones are believed when pyHanko verified them, and only give the date.
    given = _revoked_serials(crls)
    revoked = {**_revoked_serials(_dss_crls(dss)), **given}

    def context(mode: str) -> ValidationContext:
        kwargs: dict[str, Any] = {"trust_roots": roots, "crls": list(crls),
                                  "allow_fetching": False, "revocation_mode": mode}
        return dss.as_validation_context(kwargs) if dss is not None else \
            ValidationContext(**kwargs)

    reports = []
    last = len(embedded) - 1
    size = len(pdf.rstrip(b"\r\n\t \x00"))
    for position, signature in enumerate(embedded):
        reports.append(_validate_one(signature, context, revoked, set(given), dss,
                                     is_last=position == last, size=size))
    return reports


def _dss_crls(dss: DocumentSecurityStore | None) -> list[bytes]:
    if dss is None:
        return []
    found = []
    for ref in dss.crls:
        try:
            found.append(bytes(ref.get_object().data))
        except (PdfError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return found


def _validate_one(signature: Any, context: Callable[[str], ValidationContext],
                  revoked: dict[tuple[bytes, int], datetime], trusted_revoked: set[Any],
                  dss: Any, *, is_last: bool, size: int) -> SignatureReport:
    report = SignatureReport(field_name=str(signature.field_name))
    checks = report.checks
    try:
        cert = signature.signer_cert
        report.signer, report.signer_organisation = _name(cert)
        report.certificate_serial = format(cert.serial_number, "x")
        report.certificate_sha256 = hashlib.sha256(cert.dump()).hexdigest()
        report.issuer = _name_of(cert.issuer)
        report.signing_time = signature.self_reported_timestamp
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        checks.append(Check("malformed", False,
                            _("签名数据无法解析：%(reason)s") % {"reason": exc}))
        return report
    try:
        required = context("require")
        status: PdfSignatureStatus = validate_pdf_signature(
            signature, signer_validation_context=required, ts_validation_context=required,
            key_usage_settings=KEY_USAGE)
    except Exception as exc:
        checks.append(Check("malformed", False, _("签名无法验证：%(reason)s") % {
            "reason": type(exc).__name__}))
        return report
    signer_unknown, tsa_unknown = _revocation_unknown(signature, status, context)
    report.coverage = _COVERAGE.get(status.coverage, "unclear")  # type: ignore[arg-type]
    report.level = _level(signature, status, dss)
    if status.timestamp_validity is not None:
        report.timestamp_time = status.timestamp_validity.timestamp

    # 1. Integrity: the signed bytes hash to what was signed, and the signature verifies.
    if status.intact and status.valid:
        checks.append(Check("integrity", True, _("文件内容与签名一致，签名值正确。")))
    elif not status.intact:
        checks.append(Check("integrity", False, _("签名后文件内容被改动（摘要不一致）。")))
    else:
        checks.append(Check("integrity", False, _("签名值与签章证书的公钥不符。")))

    # 2. Coverage and what changed after signing. pyHanko overlooks bytes after the last
    # %%EOF that are not a revision; they are not signed either.
    level = status.modification_level
    if not _ends_signed(signature, size) and not _later_revisions(signature):
        report.coverage = "partial"
        checks.append(Check("coverage", False, _("签名未覆盖整个文件（文件末尾有未签名的数据）。")))
    elif status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        checks.append(Check("coverage", True, _("签名覆盖整个文件。")))
    elif status.coverage == SignatureCoverageLevel.ENTIRE_REVISION:
        from pyhanko.sign.diff_analysis import ModificationLevel

        allowed = ModificationLevel.LTA_UPDATES if is_last else ModificationLevel.FORM_FILLING
        if level is not None and level <= allowed and status.docmdp_ok is not False:
            checks.append(Check("coverage", True, _("签名覆盖其所在版本；其后只追加了验证数据。")
                                if level <= ModificationLevel.LTA_UPDATES
                                else _("签名覆盖其所在版本；其后只追加了其他签章。")))
        else:
            checks.append(Check("coverage", False,
                                _("签名后文件被追加了未经签名的修改（签名未覆盖整个文件）。")))
    else:
        checks.append(Check("coverage", False, _("签名未覆盖整个文件。")))

    # 3. Chain to a trusted root, validity period and revocation.
    key = (cert.issuer.dump(), cert.serial_number)
    revoked_at = revoked.get(key)
    ind = status.trust_problem_indic
    ind_name = getattr(ind, "name", "") if ind is not None else ""
    if status.revoked or key in trusted_revoked or "REVOKED" in ind_name:
        checks.append(Check("revocation", False, _("签章证书已被吊销（吊销时间 %(when)s）。")
                            % {"when": f"{revoked_at:%Y-%m-%d %H:%M}"} if revoked_at
                            else _("签章证书已被吊销。")))
    elif "EXPIRED" in ind_name or "NOT_YET_VALID" in ind_name or _expired(cert, status):
        checks.append(Check("validity", False,
                            _("签章证书不在有效期内（有效期 %(start)s 至 %(end)s）。") % {
                                "start": f"{cert.not_valid_before:%Y-%m-%d}",
                                "end": f"{cert.not_valid_after:%Y-%m-%d}"}))
    elif signer_unknown:
        checks.append(Check("trust", True, _("证书链可追溯到受信任的根证书（%(issuer)s）。") % {
            "issuer": report.issuer}))
        checks.append(Check("revocation", False, _(
            "无法确认签章证书是否已被吊销：没有覆盖该证书的有效证书吊销列表（签发者：%(issuer)s）。"
            "请导入签发地区的最新信任列表后再验。") % {"issuer": report.issuer or "?"}))
    elif not status.trusted:
        checks.append(Check("trust", False,
                            _("签章证书不是由受信任的根证书签发的（签发者：%(issuer)s）。")
                            % {"issuer": report.issuer or "?"}))
    else:
        checks.append(Check("trust", True, _("证书链可追溯到受信任的根证书（%(issuer)s）。") % {
            "issuer": report.issuer}))
        checks.append(Check("revocation", True, _("签章证书未被吊销。")))

    # 4. The timestamp, when there is one.
    ts = status.timestamp_validity
    if ts is not None:
        if ts.intact and ts.valid and ts.trusted:
            checks.append(Check("timestamp", True,
                                _("时间戳有效，签章时间 %(time)s。") % {
                                    "time": f"{ts.timestamp:%Y-%m-%d %H:%M:%S %Z}"}))
        elif tsa_unknown:
            checks.append(Check("timestamp", False, _(
                "无法确认时间戳机构的证书是否已被吊销：没有覆盖该证书的有效证书吊销列表。")))
        else:
            checks.append(Check("timestamp", False,
                                _("时间戳无效或不是受信任的时间戳机构签发的。")))
    return report


def _revocation_unknown(signature: Any, status: PdfSignatureStatus,
                        context: Callable[[str], ValidationContext]) -> tuple[bool, bool]:
    """(the signer's, the TSA's) certificate failed only for want of revocation data.

    pyHanko reports a missing CRL as a general chain failure, so a failed chain is validated
    once more without requiring revocation data: what passes then lacked only that."""
    ts = status.timestamp_validity
    signer_failed = not status.trusted and not status.revoked
    tsa_failed = ts is not None and ts.intact and ts.valid and not ts.trusted
    if not (signer_failed or tsa_failed):
        return False, False
    try:
        relaxed = context("soft-fail")
        again = validate_pdf_signature(signature, signer_validation_context=relaxed,
                                       ts_validation_context=relaxed,
                                       key_usage_settings=KEY_USAGE)
    except Exception:
        return False, False
    ts_again = again.timestamp_validity
    return (signer_failed and bool(again.trusted),
            tsa_failed and ts_again is not None and bool(ts_again.trusted))


def _later_revisions(signature: Any) -> bool:
    try:
        return bool(signature.reader.xrefs.total_revisions - 1 > signature.signed_revision)
    except (AttributeError, TypeError, ValueError):
        return False


def _ends_signed(signature: Any, size: int) -> bool:
    """Whether the signed byte range reaches the end of the file (trailing whitespace
    aside, which some tools append)."""
    try:
        _a, _b, c, d = (int(v) for v in signature.sig_object["/ByteRange"])
    except (KeyError, TypeError, ValueError):
        return False
    return c + d >= size


def _expired(cert: asn1_x509.Certificate, status: PdfSignatureStatus) -> bool:
    moment = status.validation_time
    if moment is None:
        return False
    return not (cert.not_valid_before <= moment <= cert.not_valid_after)


def _name_of(name: asn1_x509.Name) -> str:
    native = name.native
    return str(native.get("common_name") or native.get("organization_name") or "")


def _level(signature: Any, status: PdfSignatureStatus, dss: Any) -> str:
    """B-B, B-T or B-LT as far as the document shows: a signature timestamp makes B-T;
    embedded validation data covering the signer's certificate makes B-LT."""
    if status.timestamp_validity is None:
        return "B-B"
    if dss is not None and dss.crls and signature.signer_cert.dump() in {
            c.dump() for c in dss.load_certs()}:
        return "B-LT"
    return "B-T"
