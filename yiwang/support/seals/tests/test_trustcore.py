"""Seals on the real trust core: a vault key (ECDSA P-256) certified by the region's root CA,
yiwang's own TSA, its CRL, and the ledger — checked by pyHanko's validator with the root from
``trust.service.root_certificates()`` and by ``openssl cms -verify``."""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from django.db import transaction
from django.test import RequestFactory
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext

from yiwang.core.audit import service as audit
from yiwang.core.crypto import service as crypto
from yiwang.enablement.ledger import service as ledger
from yiwang.support.identity.testing import sign_in_request
from yiwang.support.seals import pades
from yiwang.support.seals import service as seals
from yiwang.support.seals.testing import TestPki, sample_pdf
from yiwang.support.trust import service as trust

pytestmark = pytest.mark.django_db


@pytest.fixture
def seal(officials: Any) -> seals.Seal:
    return seals.create_seal(department_code="scjgj", name="示例市市场监督管理局行政审批专用章",
                             kind="approval", custodians=[officials.custodian],
                             actor=officials.custodian)


def sealed_with(seal: seals.Seal, user: Any, pdf: bytes, level: str) -> bytes:
    request = sign_in_request(RequestFactory().post("/"), user)
    authorisation = seals.authorise_seal_use(seal, custodian=user, request=request,
                                             purpose="行政许可决定书",
                                             document_sha256=hashlib.sha256(pdf).hexdigest())
    return seals.seal_pdf(pdf, seal=seal, authorisation=authorisation, level=level)


def test_seal_key_and_certificate(seal: seals.Seal) -> None:
    key = crypto.get_signing_key(seal.key_id)
    assert key is not None and key.algorithm == "ecdsa-p256"
    assert key.owner == "scjgj" and key.purpose == f"seal:{seal.code}"
    chain = trust.chain_for_key(seal.key_id)
    assert hashlib.sha256(chain[0]).hexdigest() == seal.certificate_sha256
    leaf = asn1_x509.Certificate.load(chain[0])
    assert leaf.issuer == asn1_x509.Certificate.load(chain[-1]).subject
    assert {"digital_signature", "non_repudiation"} <= set(leaf.key_usage_value.native)


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT"])
def test_seal_validates_with_pyhanko_and_openssl(seal: seals.Seal, officials: Any,
                                                 tmp_path: Path, level: str) -> None:
    sealed = sealed_with(seal, officials.custodian, sample_pdf(), level)
    roots = [asn1_x509.Certificate.load(der) for der in trust.root_certificates()]
    reader = PdfFileReader(io.BytesIO(sealed))
    signature = reader.embedded_signatures[0]
    status = validate_pdf_signature(
        signature, ValidationContext(trust_roots=roots, crls=[trust.crl()],
                                     allow_fetching=False),
        key_usage_settings=pades.KEY_USAGE)
    assert status.bottom_line, status.pretty_print_details()
    assert (status.timestamp_validity is not None) == (level != "B-B")
    if level == "B-LT":
        vc = DocumentSecurityStore.read_dss(reader).as_validation_context(
            {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "require"})
        assert validate_pdf_signature(signature, vc,
                                      key_usage_settings=pades.KEY_USAGE).bottom_line
    if shutil.which("openssl"):
        sig = signature.sig_object
        a, b, c, d = (int(x) for x in sig["/ByteRange"])
        (tmp_path / "sig.der").write_bytes(cms.ContentInfo.load(bytes(sig["/Contents"])).dump())
        (tmp_path / "content.bin").write_bytes(sealed[a:a + b] + sealed[c:c + d])
        (tmp_path / "root.pem").write_text(
            "-----BEGIN CERTIFICATE-----\n"
            + base64.encodebytes(trust.root_certificates()[0]).decode()
            + "-----END CERTIFICATE-----\n")
        done = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.der",
             "-content", "content.bin", "-CAfile", "root.pem", "-purpose", "any",
             "-out", "/dev/null"], cwd=tmp_path, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    result = seals.validate_pdf(sealed)
    assert result.valid, [s.failed for s in result.signatures]
    assert result.signatures[0].level == level


def test_use_is_on_the_ledger(seal: seals.Seal, officials: Any) -> None:
    pdf = sample_pdf()
    seals_before = ledger.get_log("main").size if hasattr(ledger, "get_log") else None
    sealed_with(seal, officials.custodian, pdf, "B-B")
    use = seals.list_uses(seal=seal)[0]
    assert use.ledger_index is not None and use.ledger_log == "main"
    expected = ledger.record_hash({"seal": seal.code, "document_sha256": use.document_sha256,
                                   "sealed_sha256": use.sealed_sha256,
                                   "authorisation": use.authorisation_id, "level": "B-B"})
    found = ledger.find_entry("main", record_hash=expected)
    assert found is not None and found.entry_type == "seal.used"
    if seals_before is not None:
        assert ledger.get_log("main").size == seals_before + 1


def test_revoked_seal_fails_validation(seal: seals.Seal, officials: Any) -> None:
    sealed = sealed_with(seal, officials.custodian, sample_pdf(), "B-T")
    assert seals.validate_pdf(sealed).valid
    seals.revoke_seal(seal, reason="印章遗失", cause="key_compromise", actor=officials.custodian)
    assert crypto.get_signing_key(seal.key_id).status == "revoked"
    result = seals.validate_pdf(sealed)
    assert not result.valid
    assert "revocation" in {c.name for c in result.signatures[0].failed}


def test_validation_uses_imported_regions_crls(db: Any, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    """验章 on the real trust app takes the CRLs of imported regions from the trust bundle
    (review M7): a partner's seal is 'revocation unknown' without its CRL, valid with it,
    and revoked once the partner's CRL lists it."""
    partner = TestPki("深圳市政务根证书")
    key, cert = partner.seal_key("深圳市市场监督管理局")
    sealed = pades.seal(sample_pdf(), key=key, level="B-B")
    imported: list[bytes] = []
    bundle, roots = trust.trust_bundle, trust.root_certificates
    monkeypatch.setattr(trust, "root_certificates", lambda: [*roots(), partner.root_der])

    def with_partner() -> dict[str, Any]:
        found = bundle()
        return {**found, "crls": [*found["crls"],
                                  *(base64.b64encode(der).decode() for der in imported)]}

    monkeypatch.setattr(trust, "trust_bundle", with_partner)
    failed = {c.name: c.message for c in seals.validate_pdf(sealed).signatures[0].failed}
    assert "无法确认" in failed["revocation"]
    imported.append(partner.crl())
    assert seals.validate_pdf(sealed).valid
    partner.revoke(cert)
    imported[:] = [partner.crl()]
    result = seals.validate_pdf(sealed)
    assert [c.name for c in result.signatures[0].failed] == ["revocation"]


def test_several_seals_go_to_the_ledger_once_after_signing(
        officials: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review M9: within deferred_ledger() every document is signed first and the uses are
    appended in one append_many at the end (the ledger's head lock is not held while
    signing); outside it, each seal_pdf appends last, after its use and audit records."""
    first = seals.create_seal(department_code="scjgj", name="示例市市场监督管理局合同专用章",
                              kind="contract", custodians=[officials.custodian],
                              actor=officials.custodian)
    second = seals.create_seal(department_code="scjgj", name="示例市市场监督管理局财务专用章",
                               kind="finance", custodians=[officials.custodian],
                               actor=officials.custodian)
    events: list[str] = []
    append_many, record = ledger.append_many, audit.record

    def spy_append(items: Any, **kwargs: Any) -> Any:
        items = list(items)
        events.append(f"ledger:{len(items)}")
        return append_many(items, **kwargs)

    def spy_audit(action: str, *args: Any, **kwargs: Any) -> Any:
        events.append(action)
        return record(action, *args, **kwargs)

    monkeypatch.setattr(ledger, "append_many", spy_append)
    monkeypatch.setattr(audit, "record", spy_audit)
    pdf = sample_pdf()
    with transaction.atomic(), seals.deferred_ledger():
        for seal in (first, second):
            pdf = sealed_with(seal, officials.custodian, pdf, "B-T")
        assert not [e for e in events if e.startswith("ledger")]
    assert [e for e in events if e.startswith("ledger")] == ["ledger:2"]
    uses = sorted(seals.list_uses(department_codes=["scjgj"]), key=lambda u: u.pk)
    assert [u.seal_id for u in uses] == [first.pk, second.pk]
    assert uses[1].ledger_index == uses[0].ledger_index + 1
    for use in uses:
        expected = ledger.record_hash({"seal": use.seal.code,
                                       "document_sha256": use.document_sha256,
                                       "sealed_sha256": use.sealed_sha256,
                                       "authorisation": use.authorisation_id, "level": "B-T"})
        assert ledger.find_entry("main", record_hash=expected).index == use.ledger_index
    assert seals.validate_pdf(pdf).valid

    events.clear()
    sealed_with(first, officials.custodian, sample_pdf("另一份文件"), "B-B")
    assert events[-2:] == ["seals.seal_used", "ledger:1"]
    assert seals.list_uses(seal=first)[0].ledger_index == uses[1].ledger_index + 1


def test_deferred_ledger_needs_a_transaction(transactional_db: Any) -> None:
    with pytest.raises(RuntimeError), seals.deferred_ledger():
        pass
