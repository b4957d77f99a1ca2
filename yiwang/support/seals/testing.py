"""Test helpers: a small PKI made with ``cryptography`` (a root CA, seal certificates, a TSA
with an RFC 3161 token signer, CRLs), independent of yiwang's trust app, so that the sealing
code is tested against certificates and tokens made by someone else's code."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import secrets
from dataclasses import dataclass, field
from typing import Any, ClassVar

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.utils import timezone

from yiwang.support.seals.pades import SealingKey


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _name(cn: str, org: str = "") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


@dataclass
class TestPki:
    """A root CA (ECDSA P-256) with helpers to issue seal and TSA certificates."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    name: str = "测试根证书"
    root_key: Any = field(default=None)
    root: x509.Certificate = field(default=None)  # type: ignore[assignment]
    revoked: list[tuple[int, dt.datetime]] = field(default_factory=list)

    def __post_init__(self) -> None:
        now = timezone.now()
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = self._build(_name(self.name, "测试CA"), self.root_key.public_key(),
                                ca=True, not_before=now - dt.timedelta(days=1),
                                not_after=now + dt.timedelta(days=3650))
        self.tsa_key = ec.generate_private_key(ec.SECP256R1())
        self.tsa = self._build(_name("测试时间戳服务"), self.tsa_key.public_key(), ca=False,
                               eku=ExtendedKeyUsageOID.TIME_STAMPING)

    @property
    def root_der(self) -> bytes:
        return _der(self.root)

    def _build(self, subject: x509.Name, public_key: Any, *, ca: bool,
               not_before: dt.datetime | None = None, not_after: dt.datetime | None = None,
               eku: Any = None) -> x509.Certificate:
        now = timezone.now()
        issuer = subject if ca and self.root is None else self.root.subject
        builder = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - dt.timedelta(hours=1))
            .not_valid_after(not_after or now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=not ca, content_commitment=not ca and eku is None,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False),
                critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.root_key.public_key()), critical=False)
        )
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
        return builder.sign(self.root_key, hashes.SHA256())

    def seal_key(self, organisation: str = "示例市市场监督管理局", *,
                 not_before: dt.datetime | None = None, not_after: dt.datetime | None = None
                 ) -> tuple[SealingKey, x509.Certificate]:
        """A seal key and certificate (expired ones too, with dates in the past)."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self._build(_name(f"{organisation}电子印章", organisation), key.public_key(),
                           ca=False, not_before=not_before, not_after=not_after)

        def sign(data: bytes) -> bytes:
            return key.sign(data, ec.ECDSA(hashes.SHA256()))

        return SealingKey(sign=sign, chain=[_der(cert), self.root_der]), cert

    def revoke(self, cert: x509.Certificate) -> None:
        self.revoked.append((cert.serial_number, timezone.now()))

    def crl(self, *, next_update: dt.datetime | None = None) -> bytes:
        now = timezone.now()
        next_update = next_update or now + dt.timedelta(days=7)
        builder = (
            x509.CertificateRevocationListBuilder().issuer_name(self.root.subject)
            .last_update(min(now, next_update) - dt.timedelta(minutes=5))
            .next_update(next_update)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.root_key.public_key()), critical=False)
            .add_extension(x509.CRLNumber(len(self.revoked) + 1), critical=False)
        )
        for serial, when in self.revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial)
                .revocation_date(when).build())
        return builder.sign(self.root_key, hashes.SHA256()).public_bytes(
            serialization.Encoding.DER)

    def timestamp(self, message_imprint: bytes, *, hash_algorithm: str = "sha256",
                  nonce: int | None = None) -> bytes:
        """An RFC 3161 TimeStampToken over ``message_imprint``, signed by the test TSA."""
        tsa_cert = asn1_x509.Certificate.load(_der(self.tsa))
        info = {
            "version": "v1", "policy": "1.2.156.99999.1",
            "message_imprint": tsp.MessageImprint({
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": hash_algorithm}),
                "hashed_message": message_imprint}),
            "serial_number": secrets.randbits(63), "gen_time": timezone.now(),
        }
        if nonce is not None:
            info["nonce"] = nonce
        tst_info = tsp.TSTInfo(info)
        content = tst_info.dump()
        signed_attrs = cms.CMSAttributes([
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute({"type": "message_digest",
                              "values": [hashlib.sha256(content).digest()]}),
            cms.CMSAttribute({"type": "signing_certificate_v2", "values": [
                tsp.SigningCertificateV2({"certs": [tsp.ESSCertIDv2({
                    "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                    "cert_hash": hashlib.sha256(tsa_cert.dump()).digest(),
                })]})]}),
        ])
        signature = self.tsa_key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
        signed_data = cms.SignedData({
            "version": "v3",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": {"content_type": "tst_info",
                                   "content": core.ParsableOctetString(content)},
            "certificates": [tsa_cert],
            "signer_infos": [cms.SignerInfo({
                "version": "v1",
                "sid": cms.SignerIdentifier({"issuer_and_serial_number":
                                             cms.IssuerAndSerialNumber({
                                                 "issuer": tsa_cert.issuer,
                                                 "serial_number": tsa_cert.serial_number})}),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "signed_attrs": signed_attrs,
                "signature_algorithm": algos.SignedDigestAlgorithm(
                    {"algorithm": "sha256_ecdsa"}),
                "signature": signature,
            })],
        })
        return cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()


def sample_pdf(text: str = "示例文件", pages: int = 1) -> bytes:
    """A typical one-page A4 document made with reportlab (Chinese via the CID font)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    drawing = canvas.Canvas(out, pagesize=A4)
    for n in range(pages):
        drawing.setFont("STSong-Light", 16)
        drawing.drawString(72, 760, f"{text}（第 {n + 1} 页）")
        drawing.setFont("STSong-Light", 11)
        for line in range(30):
            drawing.drawString(72, 720 - line * 20,
                               f"第 {line + 1} 行：这是一份用于测试电子印章的示例文件。")
        drawing.showPage()
    drawing.save()
    return out.getvalue()


class PkiBackend:
    """A stand-in for the keys and trust apps (see ``backend.Backend``), on a :class:`TestPki`:
    keys in memory, certificates, CRLs and timestamps made with ``cryptography``."""

    def __init__(self, pki: TestPki | None = None) -> None:
        self.pki = pki or TestPki()
        # Other regions whose trust lists were imported: their roots are trusted and their
        # CRLs used by 验章 (``with_crl=False``: a region whose CRL we do not hold).
        self.partners: list[tuple[TestPki, bool]] = []
        self.keys: dict[str, tuple[SealingKey, x509.Certificate]] = {}
        self.revoked_keys: set[str] = set()

    def add_partner(self, partner: TestPki, *, with_crl: bool = True) -> TestPki:
        """Trust ``partner``'s root as an imported region's (and its CRL, ``with_crl``)."""
        self.partners.append((partner, with_crl))
        return partner

    def create_key(self, *, department_code: str, seal_code: str, valid_days: int,
                   actor: Any) -> str:
        key_id = f"k-{seal_code.lower()}"
        self.keys[key_id] = self.pki.seal_key(department_code)
        return key_id

    def certify(self, key_id: str, *, department_code: str) -> bytes:
        return _der(self.keys[key_id][1])

    def sealing_key(self, key_id: str) -> SealingKey:
        if key_id in self.revoked_keys:
            raise PermissionError("key revoked")
        return self.keys[key_id][0]

    def timestamp(self, message_imprint: bytes, *, hash_algorithm: str = "sha256",
                  nonce: int | None = None) -> bytes:
        return self.pki.timestamp(message_imprint, hash_algorithm=hash_algorithm, nonce=nonce)

    def crls(self) -> list[bytes]:
        return [self.pki.crl()]

    def validation_crls(self) -> list[bytes]:
        return [self.pki.crl(), *(p.crl() for p, with_crl in self.partners if with_crl)]

    def roots(self) -> list[bytes]:
        return [self.pki.root_der, *(p.root_der for p, _with_crl in self.partners)]

    def revoke(self, key_id: str, *, certificate_serial: str, cause: str, reason: str,
               actor: Any) -> None:
        self.pki.revoke(self.keys[key_id][1])
        self.revoked_keys.add(key_id)
