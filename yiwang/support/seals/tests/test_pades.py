"""PAdES sealing, checked by verifiers that are not yiwang: pyHanko's own validator with our
root as the trust anchor, ``openssl cms -verify`` over the signed byte range, and pyHanko's
offline B-LT check from the document's own validation data. Plus each bad input of the
issue, named by :func:`pades.validate` and never reported valid."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from django.utils import timezone
from fontTools import ttLib
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext

from yiwang.support.seals import pades
from yiwang.support.seals.stamp import render_stamp
from yiwang.support.seals.testing import TestPki, sample_pdf

NAME = "示例市市场监督管理局行政审批专用章"


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki()


@pytest.fixture(scope="module")
def key(pki: TestPki) -> pades.SealingKey:
    return pki.seal_key("示例市市场监督管理局")[0]


@pytest.fixture(scope="module")
def document() -> bytes:
    return sample_pdf()


@pytest.fixture(scope="module")
def stamp() -> bytes:
    return render_stamp("示例市市场监督管理局", "行政审批专用章")


def seal(pdf: bytes, key: pades.SealingKey, pki: TestPki, stamp: bytes, level: str,
         **kwargs: Any) -> bytes:
    return pades.seal(pdf, key=key, level=level, timestamp=pki.timestamp,
                      trust_roots=[pki.root_der], crls=[pki.crl()], stamp_png=stamp,
                      stamp_text=NAME, **kwargs)


@pytest.fixture(scope="module")
def sealed(document: bytes, key: pades.SealingKey, pki: TestPki, stamp: bytes
           ) -> dict[str, bytes]:
    return {level: seal(document, key, pki, stamp, level) for level in pades.LEVELS}


def pyhanko_status(pdf: bytes, root: bytes, *, index: int = 0, **context: Any) -> Any:
    reader = PdfFileReader(io.BytesIO(pdf))
    vc = ValidationContext(trust_roots=[asn1_x509.Certificate.load(root)], **context)
    return validate_pdf_signature(reader.embedded_signatures[index], vc,
                                  key_usage_settings=pades.KEY_USAGE)


# --- by pyHanko's own validator ----------------------------------------------------------------

@pytest.mark.parametrize("level", pades.LEVELS)
def test_pyhanko_validates_each_level(sealed: dict[str, bytes], pki: TestPki,
                                      level: str) -> None:
    status = pyhanko_status(sealed[level], pki.root_der, allow_fetching=False)
    assert status.intact and status.valid and status.trusted
    assert status.bottom_line
    assert (status.timestamp_validity is not None) == (level != "B-B")
    if level == "B-B":
        assert status.coverage.name == "ENTIRE_FILE"


def test_pyhanko_rejects_other_root(sealed: dict[str, bytes]) -> None:
    stranger = TestPki("另一个根证书")
    status = pyhanko_status(sealed["B-B"], stranger.root_der, allow_fetching=False)
    assert status.intact and not status.trusted and not status.bottom_line


def test_b_lt_validates_offline_from_embedded_data(sealed: dict[str, bytes],
                                                    pki: TestPki) -> None:
    """require: without revocation data for each certificate the check fails, so passing
    shows the CRLs are in the file; nothing is fetched and no CRL is given from outside."""
    reader = PdfFileReader(io.BytesIO(sealed["B-LT"]))
    dss = DocumentSecurityStore.read_dss(reader)
    assert dss.crls, "the B-LT document carries the CRL"
    vc = dss.as_validation_context({"trust_roots": [asn1_x509.Certificate.load(pki.root_der)],
                                    "allow_fetching": False, "revocation_mode": "require"})
    status = validate_pdf_signature(reader.embedded_signatures[0], vc,
                                    key_usage_settings=pades.KEY_USAGE)
    assert status.bottom_line, status.pretty_print_details()
    # The same check without the embedded data fails: no revocation info for the signer.
    bare = ValidationContext(trust_roots=[asn1_x509.Certificate.load(pki.root_der)],
                             allow_fetching=False, revocation_mode="require", crls=[])
    assert not validate_pdf_signature(PdfFileReader(io.BytesIO(sealed["B-B"]))
                                      .embedded_signatures[0], bare,
                                      key_usage_settings=pades.KEY_USAGE).bottom_line


def test_b_b_cannot_pass_offline_hard_fail(sealed: dict[str, bytes], pki: TestPki) -> None:
    reader = PdfFileReader(io.BytesIO(sealed["B-B"]))
    with pytest.raises(Exception):  # noqa: B017 - pyHanko: no DSS in a B-B document
        DocumentSecurityStore.read_dss(reader).crls  # noqa: B018


# --- by openssl over the signed byte range -----------------------------------------------------

def signed_parts(pdf: bytes, index: int = 0) -> tuple[bytes, bytes]:
    """(the CMS SignedData DER, the signed bytes) of signature ``index``."""
    reader = PdfFileReader(io.BytesIO(pdf))
    sig = reader.embedded_signatures[index].sig_object
    a, b, c, d = (int(x) for x in sig["/ByteRange"])
    contents = cms.ContentInfo.load(bytes(sig["/Contents"])).dump()
    return contents, pdf[a:a + b] + pdf[c:c + d]


def openssl_verify(tmp_path: Path, root_pem: bytes, signature: bytes, content: bytes
                   ) -> subprocess.CompletedProcess[str]:
    (tmp_path / "root.pem").write_bytes(root_pem)
    (tmp_path / "sig.der").write_bytes(signature)
    (tmp_path / "content.bin").write_bytes(content)
    return subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.der",
         "-content", "content.bin", "-CAfile", "root.pem", "-purpose", "any",
         "-out", "/dev/null"], cwd=tmp_path, capture_output=True, text=True, check=False)


needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI")


@needs_openssl
@pytest.mark.parametrize("level", pades.LEVELS)
def test_openssl_verifies_signed_byte_range(sealed: dict[str, bytes], pki: TestPki,
                                            tmp_path: Path, level: str) -> None:
    signature, content = signed_parts(sealed[level])
    root_pem = pki.root.public_bytes(serialization.Encoding.PEM)
    done = openssl_verify(tmp_path, root_pem, signature, content)
    assert done.returncode == 0, done.stderr
    assert "Verification successful" in done.stderr


@needs_openssl
def test_openssl_rejects_flipped_byte(sealed: dict[str, bytes], pki: TestPki,
                                      tmp_path: Path) -> None:
    signature, content = signed_parts(sealed["B-B"])
    flipped = bytearray(content)
    flipped[200] ^= 0x01
    done = openssl_verify(tmp_path, pki.root.public_bytes(serialization.Encoding.PEM),
                          signature, bytes(flipped))
    assert done.returncode != 0
    assert "Verification successful" not in done.stderr


# --- several seals -----------------------------------------------------------------------------

def test_two_seals_both_validate(document: bytes, key: pades.SealingKey, pki: TestPki,
                                 stamp: bytes, tmp_path: Path) -> None:
    other_key = pki.seal_key("示例市人民政府")[0]
    once = seal(document, key, pki, stamp, "B-LT")
    twice = seal(once, other_key, pki, render_stamp("示例市人民政府"), "B-LT")
    assert twice.startswith(once[:len(once) - 1024]), "an incremental update"
    reports = pades.validate(twice, trust_roots=[pki.root_der], crls=[pki.crl()])
    assert [r.field_name for r in reports] == ["Seal1", "Seal2"]
    assert all(r.valid for r in reports), [r.failed for r in reports]
    for index in (0, 1):
        status = pyhanko_status(twice, pki.root_der, index=index, allow_fetching=False)
        assert status.bottom_line and status.docmdp_ok is not False
        if shutil.which("openssl"):
            signature, content = signed_parts(twice, index)
            done = openssl_verify(tmp_path, pki.root.public_bytes(serialization.Encoding.PEM),
                                  signature, content)
            assert done.returncode == 0, done.stderr
    assert reports[0].signer != reports[1].signer


def test_stamp_renders_chinese_with_embedded_font(sealed: dict[str, bytes]) -> None:
    """The visible stamp's text is drawn with an embedded CJK font subset whose ToUnicode
    map gives back the seal's Chinese name (a viewer shows it, copy-paste yields it)."""
    reader = PdfFileReader(io.BytesIO(sealed["B-B"]))
    field = reader.embedded_signatures[0].sig_field
    appearance = field["/AP"]["/N"]
    fonts = _fonts(appearance)
    assert fonts, "the stamp has a font"
    font = fonts[0]
    assert font["/Subtype"] == "/Type0"
    descendant = font["/DescendantFonts"][0].get_object()
    program = descendant["/FontDescriptor"]["/FontFile2"].get_object().data
    embedded = ttLib.TTFont(io.BytesIO(program))  # a well-formed TrueType font
    assert {ord(c) for c in NAME} <= set(embedded.getBestCmap())
    assert len(program) < 200_000, "a subset, not the 10 MB face"
    cmap = font["/ToUnicode"].get_object().data.decode("latin-1").lower()
    mapped = {chr(int(h, 16)) for h in re.findall(r"<([0-9a-f]{4})>", cmap)}
    assert set(NAME) <= mapped


def _fonts(xobject: Any, depth: int = 0) -> list[Any]:
    found = []
    resources = xobject.get("/Resources", {})
    for font in resources.get("/Font", {}).values():
        found.append(font.get_object())
    for inner in resources.get("/XObject", {}).values():
        inner = inner.get_object()
        if inner.get("/Subtype") == "/Form" and depth < 4:
            found.extend(_fonts(inner, depth + 1))
    return found


# --- bad input: named, never valid -------------------------------------------------------------

def failed(reports: list[pades.SignatureReport]) -> set[str]:
    return {c.name for r in reports for c in r.failed}


def test_valid_document_passes_every_check(sealed: dict[str, bytes], pki: TestPki) -> None:
    for level in pades.LEVELS:
        reports = pades.validate(sealed[level], trust_roots=[pki.root_der], crls=[pki.crl()])
        assert len(reports) == 1 and reports[0].valid, reports[0].failed
        assert reports[0].level == level
        assert reports[0].signer_organisation == "示例市市场监督管理局"


def test_flipped_byte_is_named_integrity(sealed: dict[str, bytes], pki: TestPki) -> None:
    pdf = bytearray(sealed["B-B"])
    position = pdf.index(b"/Type /Page") if b"/Type /Page" in pdf else 300
    pdf[position + 3] ^= 0x20
    reports = pades.validate(bytes(pdf), trust_roots=[pki.root_der], crls=[pki.crl()])
    assert reports and not any(r.valid for r in reports)
    assert "integrity" in failed(reports)


def test_appended_unsigned_edit_is_named_coverage(sealed: dict[str, bytes],
                                                  pki: TestPki) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed["B-T"]))
    writer.add_stream_to_page(0, writer.add_object(_content_stream(b"0 0 1 rg 0 0 50 50 re f")))
    out = io.BytesIO()
    writer.write(out)
    reports = pades.validate(out.getvalue(), trust_roots=[pki.root_der], crls=[pki.crl()])
    assert not reports[0].valid
    assert "coverage" in failed(reports)
    assert reports[0].coverage == "revision"
    assert pyhanko_status(sealed["B-T"], pki.root_der).coverage.name == "ENTIRE_FILE"


def _content_stream(data: bytes) -> Any:
    from pyhanko.pdf_utils.generic import StreamObject

    return StreamObject(stream_data=data)


def test_signature_not_covering_whole_document(sealed: dict[str, bytes],
                                               pki: TestPki) -> None:
    """Bytes after the signed range that are not a proper incremental update."""
    pdf = sealed["B-B"] + b"\n% added later, not signed\n" + b"0" * 64 + b"\n"
    reports = pades.validate(pdf, trust_roots=[pki.root_der], crls=[pki.crl()])
    assert not reports[0].valid
    assert "coverage" in failed(reports)
    assert reports[0].coverage in ("partial", "unclear")


def test_expired_signer(document: bytes, pki: TestPki, stamp: bytes) -> None:
    now = timezone.now()
    old_key, _cert = pki.seal_key("示例市旧部门", not_before=now - dt.timedelta(days=400),
                                  not_after=now - dt.timedelta(days=30))
    pdf = seal(document, old_key, pki, stamp, "B-B")
    reports = pades.validate(pdf, trust_roots=[pki.root_der], crls=[pki.crl()])
    assert not reports[0].valid
    assert "validity" in failed(reports)


def test_revoked_signer(document: bytes, stamp: bytes) -> None:
    pki = TestPki()
    key, cert = pki.seal_key("示例市某局")
    pdf = seal(document, key, pki, stamp, "B-T")
    assert pades.validate(pdf, trust_roots=[pki.root_der], crls=[pki.crl()])[0].valid
    pki.revoke(cert)
    reports = pades.validate(pdf, trust_roots=[pki.root_der], crls=[pki.crl()])
    assert not reports[0].valid
    assert "revocation" in failed(reports)
    assert "吊销" in next(c.message for c in reports[0].failed if c.name == "revocation")


def test_untrusted_issuer(sealed: dict[str, bytes]) -> None:
    stranger = TestPki("其他地区根证书")
    reports = pades.validate(sealed["B-LT"], trust_roots=[stranger.root_der],
                             crls=[stranger.crl()])
    assert not reports[0].valid
    assert "trust" in failed(reports)


def test_self_made_certificate_is_untrusted(document: bytes, stamp: bytes,
                                            pki: TestPki) -> None:
    """A forger with their own CA, using our department's name."""
    forger = TestPki(pki.name)  # same CA name, different key
    key, _ = forger.seal_key("示例市市场监督管理局")
    pdf = pades.seal(document, key=key, level="B-B", stamp_png=stamp, stamp_text=NAME)
    reports = pades.validate(pdf, trust_roots=[pki.root_der], crls=[pki.crl()])
    assert not reports[0].valid and "trust" in failed(reports)


@pytest.mark.parametrize("data", [b"", b"hello", b"%PDF-1.7\n%garbage\n", b"%PDF-1.4\n" +
                                  b"1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF"])
def test_malformed_pdf(data: bytes, pki: TestPki, key: pades.SealingKey) -> None:
    with pytest.raises(pades.MalformedPdf):
        pades.validate(data, trust_roots=[pki.root_der])
    with pytest.raises(pades.MalformedPdf):
        pades.seal(data, key=key, level="B-B")


def test_truncated_pdf(sealed: dict[str, bytes], pki: TestPki) -> None:
    truncated = sealed["B-B"][: len(sealed["B-B"]) // 2]
    try:
        reports = pades.validate(truncated, trust_roots=[pki.root_der])
    except pades.MalformedPdf:
        return
    assert not any(r.valid for r in reports)


def test_unsigned_pdf_has_no_signatures(document: bytes, pki: TestPki) -> None:
    assert pades.validate(document, trust_roots=[pki.root_der]) == []


def test_page_out_of_range(document: bytes, key: pades.SealingKey) -> None:
    with pytest.raises(pades.SealingError, match="page 3"):
        pades.seal(document, key=key, level="B-B", page=2)


def test_b_t_needs_a_tsa(document: bytes, key: pades.SealingKey) -> None:
    with pytest.raises(pades.SealingError):
        pades.seal(document, key=key, level="B-T")


def test_timestamp_nonce_is_random_and_checked(document: bytes, key: pades.SealingKey,
                                               pki: TestPki) -> None:
    """The RFC 3161 nonce is random per request (review L1), and a token that does not echo
    it is refused."""
    asked: list[tuple[bytes, int]] = []

    def recording(imprint: bytes, *, hash_algorithm: str = "sha256",
                  nonce: int | None = None) -> bytes:
        assert nonce is not None
        asked.append((imprint, nonce))
        return pki.timestamp(imprint, hash_algorithm=hash_algorithm, nonce=nonce)

    for _ in range(2):
        pades.seal(document, key=key, level="B-T", timestamp=recording)
    assert len(asked) == 2 and asked[0][1] != asked[1][1]
    for imprint, nonce in asked:
        assert nonce != int.from_bytes(hashlib.sha256(imprint).digest()[:8], "big")

    def replaying(imprint: bytes, *, hash_algorithm: str = "sha256",
                  nonce: int | None = None) -> bytes:
        return pki.timestamp(imprint, hash_algorithm=hash_algorithm, nonce=12345)

    with pytest.raises(pades.SealingError, match="nonce"):
        pades.seal(document, key=key, level="B-T", timestamp=replaying)
