"""A throwaway CA and sealed PDFs for the PDF tests (pyHanko signs; cryptography issues)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from yiwang.verify import keys

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class Pki:
    root_key: Any
    root: x509.Certificate
    signer_key: Any
    signer: x509.Certificate

    def pem(self, cert: x509.Certificate) -> str:
        return cert.public_bytes(serialization.Encoding.PEM).decode()

    def crl(self, revoked: list[x509.Certificate] = ()) -> bytes:
        builder = (x509.CertificateRevocationListBuilder().issuer_name(self.root.subject)
                   .last_update(keys.utcnow() - dt.timedelta(hours=1))
                   .next_update(keys.utcnow() + dt.timedelta(days=7)))
        for cert in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(cert.serial_number)
                .revocation_date(START + dt.timedelta(days=1)).build())
        return builder.sign(self.root_key, hashes.SHA256()).public_bytes(
            serialization.Encoding.DER)


def make_pki(cn: str = "示例市根证书") -> Pki:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(START).not_valid_after(START + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()),
                           critical=False)
            .sign(root_key, hashes.SHA256()))
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer = (x509.CertificateBuilder().subject_name(_name("示例市市场监督管理局"))
              .issuer_name(root.subject).public_key(signer_key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(START).not_valid_after(START + dt.timedelta(days=1825))
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                           False), critical=True)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                  root_key.public_key()), critical=False)
              .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                  full_name=[x509.UniformResourceIdentifier("http://yiwang.invalid/root.crl")],
                  relative_name=None, reasons=None, crl_issuer=None)]), critical=False)
              .sign(root_key, hashes.SHA256()))
    return Pki(root_key, root, signer_key, signer)


def plain_pdf(text: str = "Licence") -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, pageCompression=0)
    page.drawString(100, 750, text)
    page.save()
    return out.getvalue()


def seal(pdf: bytes, pki: Pki, field: str = "Seal1", *, embed_crl: bool = False) -> bytes:
    """Sign ``pdf`` with the PKI's signer; ``embed_crl`` writes PAdES validation data (a DSS
    with the root's CRL), as a B-LT seal carries it."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(pki.signer.public_bytes(
            serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(pki.signer_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(
            pki.root.public_bytes(serialization.Encoding.DER))]))
    meta = signers.PdfSignatureMetadata(field_name=field)
    if embed_crl:
        from asn1crypto import crl as asn1_crl
        from pyhanko.sign.fields import SigSeedSubFilter
        from pyhanko_certvalidator import ValidationContext

        context = ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(pki.root.public_bytes(
                serialization.Encoding.DER))],
            crls=[asn1_crl.CertificateList.load(pki.crl())], allow_fetching=False)
        meta = signers.PdfSignatureMetadata(field_name=field, embed_validation_info=True,
                                            validation_context=context,
                                            subfilter=SigSeedSubFilter.PADES)
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)
    return out.getvalue()


def append_edit(pdf: bytes) -> bytes:
    """An unsigned incremental update that changes the page's content."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page_ref = writer.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 700 Td (FORGED) Tj ET")
    page["/Contents"] = writer.add_object(stream)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
