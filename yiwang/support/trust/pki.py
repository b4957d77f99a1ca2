"""X.509 building blocks of the region's PKI (公钥基础设施): certificates and CRLs.

Private to the trust app. Everything here is built with asn1crypto and signed through a
``sign(data) -> signature`` callable, so the private key never has to be in this process:
the service passes :func:`yiwang.core.crypto.service.sign_with_key`, which signs inside the
key vault (software, HSM or KMS alike). Supported signature algorithms follow the key's
algorithm: ECDSA P-256 with SHA-256, Ed25519, and SM2 with SM3 (OID 1.2.156.10197.1.501).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import algos, keys, x509
from asn1crypto import crl as asn1_crl
from django.utils import timezone

import yiwang.verify.asn1fix  # noqa: F401  (asn1crypto's 0x80-length correction, before any dump)

Signer = Callable[[bytes], bytes]

# GM/T 0006: SM2 signature with SM3. asn1crypto does not know it; register the name so
# that certificates and CRLs signed by an SM2 root can be built and parsed.
SM2_SM3_OID = "1.2.156.10197.1.501"
algos.SignedDigestAlgorithmId._map.setdefault(SM2_SM3_OID, "sm2_sm3")
# asn1crypto builds the name → OID map lazily, once: extend it if it is built already (never
# reset it: a class used before would then stay without it and fail every later lookup).
if algos.SignedDigestAlgorithmId._reverse_map is not None:
    algos.SignedDigestAlgorithmId._reverse_map.setdefault("sm2_sm3", SM2_SM3_OID)

# ETSI TS 119 612 (EU trusted lists), id-tsl-kp-tslSigning: the extended key usage of a
# certificate that signs trust lists. Every trust-list signer certificate carries it, and an
# importer refuses a list signed by a certificate without it (any other certificate under
# the root — a seal's, a licence key's — could otherwise sign a list for the region).
TSL_SIGNING_OID = "0.4.0.2231.3.0"
x509.KeyPurposeId._map.setdefault(TSL_SIGNING_OID, "tsl_signing")
if x509.KeyPurposeId._reverse_map is not None:
    x509.KeyPurposeId._reverse_map.setdefault("tsl_signing", TSL_SIGNING_OID)

SIGNATURE_ALGORITHMS = {
    "ecdsa-p256": "sha256_ecdsa",
    "ed25519": "ed25519",
    "sm2": "sm2_sm3",
}

# Certificate usages (用途) and their key usage / extended key usage.
USAGE_ROOT = "root"
USAGE_SEAL = "seal"
USAGE_LICENCE = "licence"
USAGE_TSA = "tsa"
USAGE_TRUST_LIST = "trust-list"
USAGES = (USAGE_ROOT, USAGE_SEAL, USAGE_LICENCE, USAGE_TSA, USAGE_TRUST_LIST)

_KEY_USAGE = {
    USAGE_ROOT: {"key_cert_sign", "crl_sign"},
    USAGE_SEAL: {"digital_signature", "non_repudiation"},
    USAGE_LICENCE: {"digital_signature"},
    USAGE_TSA: {"digital_signature", "non_repudiation"},
    USAGE_TRUST_LIST: {"digital_signature"},
}


_EXTENDED_KEY_USAGE = {USAGE_TSA: "time_stamping", USAGE_TRUST_LIST: "tsl_signing"}


def has_usage(certificate: x509.Certificate, usage: str) -> bool:
    """Whether an end-entity certificate may be used for ``usage``: not a CA, its key usage
    (when it has one: RFC 5280 4.2.1.3) holds what the usage needs and, for ``tsa`` and
    ``trust-list``, its extended key usage names that purpose."""
    try:
        constraints = certificate.basic_constraints_value
        if constraints is not None and constraints["ca"].native:
            return False
        key_usage = certificate.key_usage_value
        if key_usage is not None and not _KEY_USAGE[usage] <= set(key_usage.native):
            return False
        wanted = _EXTENDED_KEY_USAGE.get(usage)
        if wanted is None:
            return True
        extended = certificate.extended_key_usage_value
        return extended is not None and wanted in extended.native
    except (ValueError, TypeError, KeyError):
        return False


class PkiError(ValueError):
    """A certificate, CRL or key that cannot be used (the message says why)."""


@dataclass(frozen=True)
class Issuer:
    """The CA that signs: its certificate (None while the root signs itself), the signing
    algorithm of its key, and the callable that signs with that key."""

    certificate: x509.Certificate | None
    algorithm: str
    sign: Signer


def random_serial() -> int:
    """A positive serial number of 16 random bytes (RFC 5280 allows up to 20 octets)."""
    return int.from_bytes(b"\x01" + secrets.token_bytes(15), "big")  # never 0, never negative


def _time(moment: datetime) -> x509.Time:
    moment = moment.astimezone(UTC).replace(microsecond=0)
    # RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    if moment.year < 2050:
        return x509.Time(name="utc_time", value=moment)
    return x509.Time(name="general_time", value=moment)


def build_name(*, common_name: str, organization: str, country: str = "CN",
               serial_number: str = "") -> x509.Name:
    """A distinguished name C, O, CN[, serialNumber] — names as UTF8String, as GB/T 20518
    and the EU DCC profiles allow, country and serial number as PrintableString."""
    parts: list[tuple[str, str, str]] = [
        ("country_name", "printable_string", country),
        ("organization_name", "utf8_string", organization),
        ("common_name", "utf8_string", common_name),
    ]
    if serial_number:
        parts.append(("serial_number", "printable_string", serial_number))
    rdns = [
        x509.RelativeDistinguishedName([x509.NameTypeAndValue({
            "type": kind, "value": x509.DirectoryString(name=string_type, value=value)})])
        for kind, string_type, value in parts
    ]
    return x509.Name(name="", value=x509.RDNSequence(rdns))


def key_identifier(spki_der: bytes) -> bytes:
    """RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits."""
    info = keys.PublicKeyInfo.load(spki_der)
    return hashlib.sha1(info["public_key"].contents[1:], usedforsecurity=False).digest()


def _signature_algorithm(algorithm: str) -> algos.SignedDigestAlgorithm:
    try:
        return algos.SignedDigestAlgorithm({"algorithm": SIGNATURE_ALGORITHMS[algorithm]})
    except KeyError:
        raise PkiError(f"unsupported signature algorithm {algorithm!r}") from None


def _extensions(usage: str, *, spki_der: bytes, authority_key_id: bytes,
                crl_urls: Sequence[str]) -> list[dict[str, object]]:
    is_ca = usage == USAGE_ROOT
    extensions: list[dict[str, object]] = [
        {"extn_id": "basic_constraints", "critical": True,
         "extn_value": {"ca": True, "path_len_constraint": 0} if is_ca else {"ca": False}},
        {"extn_id": "key_usage", "critical": True,
         "extn_value": x509.KeyUsage(_KEY_USAGE[usage])},
        {"extn_id": "key_identifier", "critical": False,
         "extn_value": key_identifier(spki_der)},
        {"extn_id": "authority_key_identifier", "critical": False,
         "extn_value": {"key_identifier": authority_key_id}},
    ]
    if usage in _EXTENDED_KEY_USAGE:
        # RFC 3161 2.3: the TSA certificate has exactly timeStamping, marked critical; the
        # trust-list signer likewise only tslSigning (critical: for nothing else).
        extensions.append({"extn_id": "extended_key_usage", "critical": True,
                           "extn_value": [_EXTENDED_KEY_USAGE[usage]]})
    if not is_ca and crl_urls:
        extensions.append({"extn_id": "crl_distribution_points", "critical": False,
                           "extn_value": [{"distribution_point": x509.DistributionPointName(
                               name="full_name", value=[
                                   x509.GeneralName(name="uniform_resource_identifier",
                                                    value=url) for url in crl_urls])}]})
    return extensions


def build_certificate(*, issuer: Issuer, subject: x509.Name, spki_der: bytes, usage: str,
                      serial: int, not_before: datetime, not_after: datetime,
                      crl_urls: Sequence[str] = ()) -> bytes:
    """A DER X.509 v3 certificate for the public key ``spki_der`` signed by ``issuer``
    (self-signed when ``issuer.certificate`` is None: the root CA)."""
    if usage not in USAGES:
        raise PkiError(f"unknown certificate usage {usage!r}")
    try:
        keys.PublicKeyInfo.load(spki_der).native  # noqa: B018  (parse it fully now)
    except (ValueError, TypeError) as exc:
        raise PkiError(f"the public key is not a valid SubjectPublicKeyInfo: {exc}") from None
    if issuer.certificate is None:
        issuer_name, authority_key_id = subject, key_identifier(spki_der)
    else:
        issuer_name = issuer.certificate.subject
        authority_key_id = issuer.certificate.key_identifier or key_identifier(
            issuer.certificate.public_key.dump())
    signature_algorithm = _signature_algorithm(issuer.algorithm)
    tbs = x509.TbsCertificate({
        "version": "v3",
        "serial_number": serial,
        "signature": signature_algorithm,
        "issuer": issuer_name,
        "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
        "subject": subject,
        "subject_public_key_info": keys.PublicKeyInfo.load(spki_der),
        "extensions": _extensions(usage, spki_der=spki_der, authority_key_id=authority_key_id,
                                  crl_urls=crl_urls),
    })
    signature = issuer.sign(tbs.dump())
    return x509.Certificate({
        "tbs_certificate": tbs,
        "signature_algorithm": signature_algorithm,
        "signature_value": signature,
    }).dump()


# CRL reason codes (RFC 5280 5.3.1) offered when revoking.
REASONS = ("unspecified", "key_compromise", "affiliation_changed", "superseded",
           "cessation_of_operation", "certificate_hold", "privilege_withdrawn")


@dataclass(frozen=True)
class RevokedEntry:
    serial: int
    revoked_at: datetime
    reason: str = "unspecified"


def build_crl(*, issuer: Issuer, number: int, this_update: datetime, next_update: datetime,
              revoked: Iterable[RevokedEntry]) -> bytes:
    """A DER X.509 v2 CRL of ``issuer`` listing ``revoked``."""
    if issuer.certificate is None:
        raise PkiError("a CRL needs the issuing CA's certificate")
    signature_algorithm = _signature_algorithm(issuer.algorithm)
    entries = []
    for entry in revoked:
        item: dict[str, object] = {"user_certificate": entry.serial,
                                   "revocation_date": _time(entry.revoked_at)}
        if entry.reason and entry.reason != "unspecified":
            item["crl_entry_extensions"] = [
                {"extn_id": "crl_reason", "critical": False, "extn_value": entry.reason}]
        entries.append(item)
    tbs: dict[str, object] = {
        "version": "v2",
        "signature": signature_algorithm,
        "issuer": issuer.certificate.subject,
        "this_update": _time(this_update),
        "next_update": _time(next_update),
        "crl_extensions": [
            {"extn_id": "crl_number", "critical": False, "extn_value": number},
            {"extn_id": "authority_key_identifier", "critical": False,
             "extn_value": {"key_identifier": issuer.certificate.key_identifier
                            or key_identifier(issuer.certificate.public_key.dump())}},
        ],
    }
    if entries:
        tbs["revoked_certificates"] = entries
    tbs_list = asn1_crl.TbsCertList(tbs)
    signature = issuer.sign(tbs_list.dump())
    return asn1_crl.CertificateList({
        "tbs_cert_list": tbs_list,
        "signature_algorithm": signature_algorithm,
        "signature": signature,
    }).dump()


def load_certificate(data: bytes) -> x509.Certificate:
    """Parse a certificate given as DER or PEM; :class:`PkiError` if it is not one."""
    der = pem_to_der(data) if data.lstrip().startswith(b"-----BEGIN") else data
    try:
        certificate = x509.Certificate.load(der, strict=True)
        certificate.native  # noqa: B018  (asn1crypto parses lazily: force it)
    except (ValueError, TypeError, KeyError) as exc:
        raise PkiError(f"not an X.509 certificate: {exc}") from None
    return certificate


def pem_to_der(data: bytes) -> bytes:
    """The DER inside one PEM block."""
    from asn1crypto import pem

    try:
        _kind, _headers, der = pem.unarmor(data)
    except (ValueError, TypeError) as exc:
        raise PkiError(f"not a PEM block: {exc}") from None
    return bytes(der)


def der_to_pem(der: bytes, kind: str = "CERTIFICATE") -> str:
    """One PEM block of ``der``."""
    from asn1crypto import pem

    return pem.armor(kind, der).decode("ascii")


def fingerprint(der: bytes) -> str:
    """SHA-256 of a certificate's DER, lower-case hex."""
    return hashlib.sha256(der).hexdigest()


def grouped(hex_digest: str, group: int = 4) -> str:
    """A fingerprint in upper-case groups (``3F2A 9C01 …``) for reading aloud or comparing
    by eye (out-of-band checks over the phone)."""
    text = hex_digest.upper()
    return " ".join(text[i:i + group] for i in range(0, len(text), group))


def normalise_fingerprint(text: str) -> str:
    """A typed fingerprint reduced to lower-case hex (spaces, colons and dashes dropped)."""
    cleaned = "".join(ch for ch in text if ch not in " :-\t\r\n\u3000").lower()
    return cleaned


def signature_algorithm_of(certificate: x509.Certificate) -> str:
    """The yiwang algorithm name (``ecdsa-p256``…) of the key in ``certificate``."""
    info = certificate.public_key
    kind = info.algorithm
    if kind == "ed25519":
        return "ed25519"
    if kind == "ec":
        curve = info["algorithm"]["parameters"].chosen.native
        if curve in ("secp256r1", "1.2.156.10197.1.301"):
            return "sm2" if curve == "1.2.156.10197.1.301" else "ecdsa-p256"
    raise PkiError(f"unsupported public key algorithm {kind!r}")


def now() -> datetime:
    """The current time in UTC, whole seconds (certificates carry no fractions)."""
    return timezone.now().astimezone(UTC).replace(microsecond=0)


def tbs_signature(certificate: x509.Certificate) -> tuple[bytes, bytes]:
    """(the signed TBSCertificate DER, the signature) of a certificate."""
    return certificate["tbs_certificate"].dump(), certificate["signature_value"].native


def revoked_serials(der: bytes) -> tuple[x509.Name, set[int], bytes, bytes]:
    """(issuer, revoked serial numbers, the signed TBSCertList DER, the signature) of a
    DER CRL; :class:`PkiError` if it is not one."""
    try:
        parsed = asn1_crl.CertificateList.load(der, strict=True)
        tbs = parsed["tbs_cert_list"]
        serials = {int(entry["user_certificate"].native)
                   for entry in tbs["revoked_certificates"]}
        return tbs["issuer"], serials, tbs.dump(), parsed["signature"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise PkiError(f"not an X.509 CRL: {exc}") from None


def crl_tbs_signature(der: bytes) -> tuple[bytes, bytes]:
    """(the signed TBSCertList DER, the signature) of a CRL."""
    parsed = asn1_crl.CertificateList.load(der)
    return parsed["tbs_cert_list"].dump(), parsed["signature"].native


__all__ = [
    "REASONS", "USAGES", "Issuer", "PkiError", "RevokedEntry", "Signer", "build_certificate",
    "build_crl", "build_name", "der_to_pem", "fingerprint", "grouped", "has_usage",
    "key_identifier",
    "load_certificate", "normalise_fingerprint", "now", "pem_to_der", "random_serial",
    "signature_algorithm_of",
]
