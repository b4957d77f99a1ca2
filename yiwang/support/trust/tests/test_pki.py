"""The region's X.509 hierarchy, checked by verifiers that are not yiwang: the openssl CLI
and pyhanko-certvalidator."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import x509
from django.core.exceptions import ValidationError

from yiwang.core.crypto import service as crypto
from yiwang.support.trust import pki
from yiwang.support.trust import service as trust

pytestmark = pytest.mark.django_db


def _write(tmp: Path, name: str, der: bytes, kind: str = "CERTIFICATE") -> str:
    path = tmp / name
    path.write_text(pki.der_to_pem(der, kind))
    return str(path)


def _openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)


def _seal_key(owner: str = "scjg") -> Any:
    return crypto.create_signing_key(owner=owner, purpose="seal", algorithm="ecdsa-p256")


def test_root_is_a_self_signed_ca_and_reused(city: Any) -> None:
    root = trust.ensure_root_ca()
    cert = x509.Certificate.load(root.der)
    assert cert.ca
    assert cert.self_signed in ("yes", "maybe")
    assert cert.subject.native["organization_name"] == "示例市"
    assert cert.key_usage_value.native == {"key_cert_sign", "crl_sign"}
    assert trust.ensure_root_ca().serial == root.serial
    assert len(bytes.fromhex(root.serial.zfill(32))) == 16


def test_seal_certificate_chain_verifies_with_openssl(city: Any, tmp_path: Path) -> None:
    key = _seal_key()
    leaf = trust.certify_key(key.id, department_code="scjg", usage="seal")
    cert = x509.Certificate.load(leaf.der)
    subject = cert.subject.native
    assert subject["common_name"] == "市场监管局"
    assert subject["country_name"] == "CN"
    assert subject["serial_number"] == city_credit_code()
    assert cert.key_usage_value.native == {"digital_signature", "non_repudiation"}
    [url] = cert.crl_distribution_points[0]["distribution_point"].native
    assert url.endswith("/trust/crl/root.crl")
    chain = trust.chain_for_key(key.id)
    assert chain[0] == leaf.der and len(chain) == 2
    root = _write(tmp_path, "root.pem", chain[1])
    leaf_pem = _write(tmp_path, "leaf.pem", chain[0])
    result = _openssl("verify", "-CAfile", root, leaf_pem)
    assert result.returncode == 0, result.stderr
    assert "leaf.pem: OK" in result.stdout
    # the same certificate against another root fails
    other = _write(tmp_path, "other.pem", _foreign_root())
    assert _openssl("verify", "-CAfile", other, leaf_pem).returncode != 0


def city_credit_code() -> str:
    from yiwang.platform.orgs import service as orgs

    department = orgs.get_department("scjg")
    assert department is not None
    return department.credit_code


def _foreign_root() -> bytes:
    from yiwang.support.trust.tests.conftest import make_foreign_list

    return make_foreign_list().root_der


def test_certify_is_idempotent_and_refuses_other_owners(city: Any) -> None:
    key = _seal_key()
    first = trust.certify_key(key.id, department_code="scjg", usage="seal")
    assert trust.certify_key(key.id, department_code="scjg", usage="seal").serial == first.serial
    with pytest.raises(ValidationError) as refused:
        trust.certify_key(key.id, department_code="rsj", usage="seal")
    assert "不属于" in refused.value.messages[0]
    with pytest.raises(ValidationError):
        trust.certify_key(key.id, department_code="scjg", usage="root")
    with pytest.raises(ValidationError):
        trust.certify_key("no-such-key", department_code="scjg", usage="seal")


def test_chain_validates_with_certvalidator_and_revocation_is_seen(city: Any) -> None:
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import PathValidationError, RevokedError

    key = _seal_key()
    leaf = trust.certify_key(key.id, department_code="scjg", usage="seal")
    root = x509.Certificate.load(trust.ensure_root_ca().der)
    context = ValidationContext(trust_roots=[root], crls=[trust.crl()], allow_fetching=False,
                                revocation_mode="hard-fail")
    path = asyncio.run(CertificateValidator(
        x509.Certificate.load(leaf.der), validation_context=context
    ).async_validate_usage({"digital_signature", "non_repudiation"}))
    assert path is not None

    trust.revoke_certificate(leaf.serial, reason="key_compromise")
    current = trust.crl()
    parsed = asn1_crl.CertificateList.load(current)
    revoked = [entry["user_certificate"].native for entry in
               parsed["tbs_cert_list"]["revoked_certificates"]]
    assert int(leaf.serial, 16) in revoked
    context = ValidationContext(trust_roots=[root], crls=[current], allow_fetching=False,
                                revocation_mode="hard-fail")
    with pytest.raises((RevokedError, PathValidationError)):
        asyncio.run(CertificateValidator(x509.Certificate.load(leaf.der),
                                         validation_context=context
                                         ).async_validate_usage({"digital_signature"}))
    assert trust.crl_status(leaf.serial)["status"] == "revoked"  # type: ignore[index]


def test_openssl_sees_the_revocation_in_the_crl(city: Any, tmp_path: Path) -> None:
    key = _seal_key()
    leaf = trust.certify_key(key.id, department_code="scjg", usage="seal")
    root = _write(tmp_path, "root.pem", trust.ensure_root_ca().der)
    leaf_pem = _write(tmp_path, "leaf.pem", leaf.der)
    crl_pem = _write(tmp_path, "root.crl.pem", trust.crl(), "X509 CRL")
    assert _openssl("verify", "-crl_check", "-CAfile", root, "-CRLfile", crl_pem,
                    leaf_pem).returncode == 0
    trust.revoke_certificate(leaf.serial, reason="superseded")
    crl_pem = _write(tmp_path, "root.crl.pem", trust.crl(), "X509 CRL")
    result = _openssl("verify", "-crl_check", "-CAfile", root, "-CRLfile", crl_pem, leaf_pem)
    assert result.returncode != 0
    assert "revoked" in result.stdout + result.stderr


def test_crl_numbers_grow_and_root_cannot_be_revoked(city: Any) -> None:
    first = asn1_crl.CertificateList.load(trust.crl())
    key = _seal_key()
    leaf = trust.certify_key(key.id, department_code="scjg", usage="seal")
    trust.revoke_certificate(leaf.serial)
    second = asn1_crl.CertificateList.load(trust.crl())
    assert second.crl_number_value.native > first.crl_number_value.native
    with pytest.raises(ValidationError):
        trust.revoke_certificate(trust.ensure_root_ca().serial)
    with pytest.raises(ValidationError):
        trust.revoke_certificate(leaf.serial, reason="because")


def test_licence_key_of_ed25519_is_certified_and_resolves(city: Any) -> None:
    key = crypto.create_signing_key(owner="scjg", purpose="licence.vc", algorithm="ed25519")
    assert trust.resolve_key(trust.verification_method_id(key.id)) is None  # not certified
    cert = trust.certify_key(key.id, department_code="scjg", usage="licence")
    trust.authorise_issuer("scjg", "yyzz")
    found = trust.resolve_key(trust.verification_method_id(key.id))
    assert found is not None and found.public_key == key.public_key
    assert found.licence_types == ("yyzz",) and found.status == "active"
    assert found.region == "339900000000"
    assert trust.resolve_key(trust.cose_kid(key.public_key)) == found
    assert trust.resolve_key(cert.certificate_kid) == found  # the EU DCC kid form as well
    trust.revoke_certificate(cert.serial, reason="key_compromise")
    again = trust.resolve_key(trust.verification_method_id(key.id))
    assert again is not None and again.status == "revoked"


def test_unknown_department_gets_a_message_not_a_crash(city: Any) -> None:
    key = crypto.create_signing_key(owner="nosuch", purpose="seal", algorithm="ecdsa-p256")
    with pytest.raises(ValidationError) as refused:
        trust.certify_key(key.id, department_code="nosuch", usage="seal")
    assert "不存在" in refused.value.messages[0]
    with pytest.raises(ValidationError):
        trust.authorise_issuer("nosuch", "business_licence")


def test_sm2_root_option_verifies_with_openssl(city: Any, settings: Any, tmp_path: Path) -> None:
    """An SM2 root (sm2-with-sm3, OID 1.2.156.10197.1.501) certifying an SM2 seal key; OpenSSL
    3 needs the GM/T 0009 signer ID given explicitly."""
    settings.YIWANG_PKI_ROOT_ALGORITHM = "sm2"
    root = trust.ensure_root_ca()
    assert x509.Certificate.load(root.der)["signature_algorithm"]["algorithm"].dotted == (
        "1.2.156.10197.1.501")
    key = crypto.create_signing_key(owner="scjg", purpose="seal", algorithm="sm2")
    leaf = trust.certify_key(key.id, department_code="scjg", usage="seal")
    root_pem = _write(tmp_path, "root.pem", root.der)
    leaf_pem = _write(tmp_path, "leaf.pem", leaf.der)
    result = _openssl("verify", "-vfyopt", "distid:1234567812345678", "-CAfile", root_pem,
                      leaf_pem)
    assert result.returncode == 0, result.stdout + result.stderr
    crl_pem = _write(tmp_path, "root.crl.pem", trust.crl(), "X509 CRL")
    assert _openssl("crl", "-in", crl_pem, "-noout").returncode == 0


def test_trust_list_signer_carries_the_tsl_signing_usage(city: Any, tmp_path: Path) -> None:
    """The trust-list signer certificate names ETSI TS 119 612's id-tsl-kp-tslSigning as its
    only (critical) extended key usage; a seal certificate is no trust-list signer."""
    key = crypto.create_signing_key(owner="region", purpose="trust.list",
                                    algorithm="ecdsa-p256")
    signer = trust.certify_key(key.id, department_code="region", usage="trust-list")
    parsed = x509.Certificate.load(signer.der)
    assert parsed.extended_key_usage_value.native == ["tsl_signing"]
    assert "extended_key_usage" in parsed.critical_extensions
    assert pki.has_usage(parsed, "trust-list") and not pki.has_usage(parsed, "tsa")
    seal = trust.certify_key(_seal_key().id, department_code="scjg", usage="seal")
    assert not pki.has_usage(x509.Certificate.load(seal.der), "trust-list")
    text = _openssl("x509", "-in", _write(tmp_path, "signer.pem", signer.der), "-noout",
                    "-text").stdout
    assert "Extended Key Usage: critical" in text and "0.4.0.2231.3.0" in text
