"""Sealed PDFs (电子印章), validated offline with pyHanko against the bundle's roots and CRLs.

Only this module needs pyHanko; it is imported when a PDF is verified. Each signature must be
intact (its digest matches), made by a certificate that chains to a bundle root and is not
revoked (bundle CRLs, plus validation data embedded in a B-LT document), and cover the file:
anything appended after the last signature other than validation data or timestamps (an
"incremental update") fails as a change after signing.
"""

from __future__ import annotations

import io
from typing import Any

from yiwang.verify import result as r
from yiwang.verify.bundle import TrustBundle


def verify_pdf(data: bytes, bundle: TrustBundle) -> r.Result:
    """Validate every signature of a PDF; never raises on bad input."""
    res = r.Result(summary={"kind": "pdf"})
    try:
        _verify(res, data, bundle)
    except Exception as exc:  # a malformed PDF is a failed check, not a crash
        res.failed(r.MALFORMED, f"PDF 无法解析 (PDF could not be parsed: {type(exc).__name__})")
    return res


def _verify(res: r.Result, data: bytes, bundle: TrustBundle) -> None:
    from asn1crypto import crl as asn1_crl
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
    from pyhanko_certvalidator import ValidationContext

    if not isinstance(data, bytes | bytearray) or not bytes(data[:1024]).lstrip().startswith(
            b"%PDF-"):
        res.failed(r.MALFORMED, "不是 PDF 文件 (not a PDF file)")
        return
    reader = PdfFileReader(io.BytesIO(bytes(data)), strict=False)
    signatures = list(reader.embedded_signatures)
    if not signatures:
        res.failed(r.SIGNATURE, "PDF 未盖电子印章 (the PDF carries no signature)")
        return
    roots = [asn1_x509.Certificate.load(der) for der in bundle.roots]
    crls = [asn1_crl.CertificateList.load(der) for der in bundle.crls]
    # No fetching: offline means offline. "hard-fail": a certificate that names a CRL must
    # be covered by one we hold (the bundle's, or one embedded in a B-LT document).
    kwargs: dict[str, Any] = {"trust_roots": roots, "crls": crls, "allow_fetching": False,
                              "revocation_mode": "hard-fail"}
    dss: Any = None
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:  # B-B/B-T: nothing embedded to add
        context = ValidationContext(**kwargs)
    else:  # B-LT: certificates and CRLs embedded in the document join the bundle's
        context = dss.as_validation_context(kwargs)
    res.summary["signatures"] = len(signatures)
    signers = []
    last = len(signatures)
    for number, signature in enumerate(signatures, 1):
        label = f"#{number}"
        try:
            status = validate_pdf_signature(signature, context)
        except (SigningError, ValueError) as exc:
            res.failed(r.SIGNATURE, f"印章 {label} 无法验证 (signature {label} could not be "
                                    f"validated: {exc})")
            continue
        name = status.signing_cert.subject.human_friendly if status.signing_cert else "?"
        signers.append(name)
        if not status.intact or not status.valid:
            res.failed(r.SIGNATURE, f"印章 {label} 签名无效，文档已被篡改 (signature {label} "
                                    f"invalid: the signed bytes were changed)")
            continue
        res.passed(r.SIGNATURE, f"印章 {label} 签名有效 (signature {label} valid: {name})")
        if status.revoked:
            res.failed(r.CERTIFICATE, f"印章 {label} 的证书已吊销 (signer certificate of "
                                      f"{label} revoked)")
        elif not status.trusted:
            problem = status.trust_problem_indic
            res.failed(r.CERTIFICATE, f"印章 {label} 的证书不受信任或已过期 (signer certificate "
                                      f"of {label} not trusted or expired: {problem})")
        else:
            res.passed(r.CERTIFICATE, f"印章 {label} 的证书可信 (certificate of {label} "
                                      f"chains to a trusted root)")
        if number == last and _unsigned_tail(signature, data):
            res.failed(r.INTEGRITY, f"印章 {label} 之后附加了未签名的数据 (unsigned bytes were "
                                    f"appended after signature {label})")
            continue
        level = status.modification_level
        coverage = getattr(status.coverage, "name", None)
        # After the last seal only validation data and timestamps may follow; between seals,
        # the later seal's own field (form filling) is expected and that seal covers it.
        allowed = ModificationLevel.LTA_UPDATES if number == last else \
            ModificationLevel.FORM_FILLING
        if coverage == "ENTIRE_FILE" or (level is not None and level <= allowed):
            res.passed(r.INTEGRITY, f"印章 {label} 之后文档未被修改 (no change after "
                                    f"signature {label})")
        else:
            res.failed(r.INTEGRITY, f"印章 {label} 之后文档被修改 (document changed after "
                                    f"signature {label}: {coverage}, "
                                    f"{getattr(level, 'name', level)})")
    res.summary["signers"] = signers
    res.summary["validation_data_embedded"] = dss is not None


def _unsigned_tail(signature: Any, data: bytes | bytearray) -> bool:
    """Bytes after the last signature's byte range that are no later revision: pyHanko
    overlooks data after the final %%EOF that is not a revision, and it is not signed."""
    try:
        _a, _b, c, d = (int(v) for v in signature.sig_object["/ByteRange"])
    except (KeyError, TypeError, ValueError):
        return True
    if c + d >= len(bytes(data).rstrip(b" \t\r\n\x00")):
        return False
    try:
        return not signature.reader.xrefs.total_revisions - 1 > signature.signed_revision
    except (AttributeError, TypeError, ValueError):
        return True

