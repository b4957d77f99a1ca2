"""Fixtures of the trust tests: two departments of the demo city, officials, and a foreign
region's trust list made with plain keys (a second yiwang instance, simulated)."""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from asn1crypto import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.utils import timezone

from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import testing as regions_testing
from yiwang.support.trust import pki, trustlist


def spki(private_key: Any) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def ecdsa_signer(private_key: ec.EllipticCurvePrivateKey) -> Callable[[bytes], bytes]:
    return lambda data: private_key.sign(data, ec.ECDSA(hashes.SHA256()))


@pytest.fixture
def city(db: Any) -> Any:
    """The demo city's region chain and two departments (市场监管局 with a credit code)."""
    from yiwang.core.identifiers.service import generate_credit_code

    chain = regions_testing.make_chain(geometry=False)
    credit = generate_credit_code("339900", rng=random.Random(7))
    orgs.create_department("scjg", "市场监管局", region_code=regions_testing.CITY,
                           credit_code=credit)
    orgs.create_department("rsj", "人社局", region_code=regions_testing.CITY)
    return chain


@dataclass
class ForeignList:
    """A trust list of 深圳市 made outside this instance."""

    raw: bytes
    fingerprint: str
    vm_id: str
    kid: bytes
    licence_key: ed25519.Ed25519PrivateKey
    root_der: bytes
    list_key: ec.EllipticCurvePrivateKey
    root_key: ec.EllipticCurvePrivateKey
    list_cert: bytes

    @property
    def signer_serial(self) -> int:
        return int(x509.Certificate.load(self.list_cert).serial_number)


def make_foreign_list(*, sequence: int = 1, valid_days: int = 30, region: str = "440300000000",
                      name: str = "深圳市", root_key: Any = None, licence_key: Any = None,
                      issued: Any = None, base: str = "https://sz.example.gov.cn",
                      issuer_base: str | None = None, root_der: bytes | None = None,
                      signer_usage: str = "trust-list", revoked: tuple[int, ...] = (),
                      list_key: Any = None, list_cert: bytes | None = None
                      ) -> ForeignList:
    """A signed list of another region; pass ``root_key`` and ``root_der`` (of an earlier
    list) for a later version under the same root certificate, ``list_key`` and
    ``list_cert`` to sign with an earlier list's signer. ``signer_usage`` is the usage of a
    new signer certificate; ``revoked`` the serials on the root CRL the list carries."""
    root_key = root_key or ec.generate_private_key(ec.SECP256R1())
    licence_key = licence_key or ed25519.Ed25519PrivateKey.generate()
    list_key = list_key or ec.generate_private_key(ec.SECP256R1())
    now = issued or pki.now()
    root_der = root_der or pki.build_certificate(
        issuer=pki.Issuer(None, "ecdsa-p256", ecdsa_signer(root_key)),
        subject=pki.build_name(common_name=f"{name}政务根证书", organization=name),
        spki_der=spki(root_key), usage="root", serial=pki.random_serial(),
        not_before=now - timedelta(days=1), not_after=now + timedelta(days=3650))
    issuer = pki.Issuer(x509.Certificate.load(root_der), "ecdsa-p256", ecdsa_signer(root_key))
    list_cert = list_cert or pki.build_certificate(
        issuer=issuer, subject=pki.build_name(common_name=f"{name}信任列表签名",
                                              organization=name),
        spki_der=spki(list_key), usage=signer_usage, serial=pki.random_serial(),
        not_before=now - timedelta(days=1), not_after=now + timedelta(days=365))
    crls = []
    if revoked:
        crl = pki.build_crl(issuer=issuer, number=1, this_update=now,
                            next_update=now + timedelta(days=7),
                            revoked=[pki.RevokedEntry(serial, now, "key_compromise")
                                     for serial in revoked])
        crls.append({"ca": "root", "url": f"{base}/trust/crl/root.crl",
                     "crl": base64.b64encode(crl).decode()})
    licence_cert = pki.build_certificate(
        issuer=issuer,
        subject=pki.build_name(common_name="深圳市市场监督管理局", organization=name),
        spki_der=spki(licence_key), usage="licence", serial=pki.random_serial(),
        not_before=now - timedelta(days=1), not_after=now + timedelta(days=365))
    vm_id = f"{base}/trust/keys/k-licence-1"
    kid = hashlib.sha256(spki(licence_key)).digest()[:8]
    document = {
        "type": trustlist.FORMAT, "formatVersion": 1,
        "region": {"code": region, "name": name}, "sequence": sequence,
        "issued": trustlist.iso(now), "nextUpdate": trustlist.iso(now + timedelta(days=valid_days)),
        "root": {"certificate": pki.der_to_pem(root_der), "fingerprint": pki.fingerprint(root_der),
                 "algorithm": "ecdsa-p256"},
        "crls": crls,
        "issuers": [{
            "id": f"{issuer_base or base}/trust/issuers/scjg", "department": "scjg",
            "name": "深圳市市场监督管理局", "creditCode": "", "licenceTypes": ["yyzz"],
            "keys": [{
                "id": vm_id, "type": "Multikey", "purpose": "licence.vc", "algorithm": "ed25519",
                "kid": base64.b64encode(kid).decode(),
                "publicKey": base64.b64encode(spki(licence_key)).decode(),
                "publicKeyMultibase": trustlist.multikey("ed25519", spki(licence_key)),
                "certificate": pki.der_to_pem(licence_cert),
                "validFrom": trustlist.iso(now),
                "validUntil": trustlist.iso(now + timedelta(days=365)),
                "status": "active"}],
        }],
    }
    raw = trustlist.sign(document, algorithm="ecdsa-p256", certificate_der=list_cert,
                         signer=ecdsa_signer(list_key), created=now)
    return ForeignList(raw=raw, fingerprint=pki.grouped(pki.fingerprint(root_der)), vm_id=vm_id,
                       kid=kid, licence_key=licence_key, root_der=root_der, list_key=list_key,
                       root_key=root_key, list_cert=list_cert)


@pytest.fixture
def foreign() -> ForeignList:
    return make_foreign_list()


@pytest.fixture
def tmp_now() -> Any:
    return timezone.now()
