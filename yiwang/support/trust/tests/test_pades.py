"""The PKI in use: a department seal certificate and the TSA give a PAdES B-LT signature that
pyHanko validates offline from the validation data embedded in the PDF (CRL included)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from asn1crypto import algos, cms, x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from yiwang.core.crypto import service as crypto
from yiwang.support.trust import service as trust

# Committed data: pyHanko may reach the vault and the TSA from its own thread and connection.
pytestmark = pytest.mark.django_db(transaction=True)


class VaultSigner(signers.Signer):
    """pyHanko signer whose private key stays in the vault."""

    def __init__(self, key_id: str, chain: list[bytes]) -> None:
        self.key_id = key_id
        certificates = [x509.Certificate.load(der) for der in chain]
        super().__init__(signing_cert=certificates[0],
                         cert_registry=SimpleCertificateStore.from_certs(certificates),
                         signature_mechanism=algos.SignedDigestAlgorithm(
                             {"algorithm": "sha256_ecdsa"}))

    async def async_sign_raw(self, data: bytes, digest_algorithm: str,
                             dry_run: bool = False) -> bytes:
        return crypto.sign_with_key(self.key_id, data)


class InProcessTimeStamper(TimeStamper):
    async def async_timestamp(self, message_digest: bytes, md_algorithm: str
                              ) -> cms.ContentInfo:
        return cms.ContentInfo.load(trust.timestamp(message_digest, hash_algorithm=md_algorithm,
                                                    nonce=12345))


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "yiwang trust test")
    page.save()
    return out.getvalue()


def _seal(chain: list[bytes], key_id: str) -> bytes:
    root = x509.Certificate.load(trust.ensure_root_ca().der)
    context = ValidationContext(trust_roots=[root], crls=[trust.crl()], allow_fetching=False)
    meta = signers.PdfSignatureMetadata(
        field_name="Seal1", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=True, validation_context=context, use_pades_lta=False)
    writer = IncrementalPdfFileWriter(io.BytesIO(_pdf()))
    out = signers.PdfSigner(meta, VaultSigner(key_id, chain),
                            timestamper=InProcessTimeStamper()).sign_pdf(writer)
    return bytes(out.getbuffer())


def test_b_lt_seal_validates_offline_from_embedded_data(city: Any, monkeypatch: Any) -> None:
    # pyHanko drives signers and timestampers from asyncio; the vault and TSA read the
    # database synchronously, on this same thread and connection.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    key = crypto.create_signing_key(owner="scjg", purpose="seal", algorithm="ecdsa-p256")
    trust.certify_key(key.id, department_code="scjg", usage="seal")
    sealed = _seal(trust.chain_for_key(key.id), key.id)
    reader = PdfFileReader(io.BytesIO(sealed))
    root = x509.Certificate.load(trust.ensure_root_ca().der)
    # Only the root is given; the CRL must come from the PDF's DSS (hard-fail otherwise).
    context = DocumentSecurityStore.read_dss(reader).as_validation_context(
        {"trust_roots": [root], "allow_fetching": False, "revocation_mode": "hard-fail"})
    assert context is not None
    status = validate_pdf_signature(reader.embedded_signatures[0],
                                    signer_validation_context=context)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    # Another root: not trusted.
    from yiwang.support.trust.tests.conftest import make_foreign_list

    other = x509.Certificate.load(make_foreign_list().root_der)
    untrusted = validate_pdf_signature(
        reader.embedded_signatures[0],
        signer_validation_context=ValidationContext(trust_roots=[other], allow_fetching=False))
    assert not untrusted.trusted
