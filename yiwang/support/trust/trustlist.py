"""The trust list document (信任列表): build, sign, parse and check. Private to the app.

A trust list is one JSON object (format in docs/trust.md). Its ``proof`` is an ECDSA
P-256 (or SM2/Ed25519) signature by the region's ``trust.list`` key over the JCS (RFC 8785)
canonical form of the whole document with ``proof.signatureValue`` left out; the signing
key's certificate, issued by the region's root CA, travels in ``proof.certificate``, and the
root certificate in ``root.certificate``. An importer trusts a list when the SHA-256 of that
root certificate equals the fingerprint its admin obtained out of band.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785
from asn1crypto import keys, x509

from yiwang.support.trust import pki

FORMAT = "YiwangTrustList"
_REGION_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,31}")
_ALGORITHMS = ("ed25519", "ecdsa-p256", "sm2")
_STATUSES = ("active", "retired", "revoked")
FORMAT_VERSION = 1
PROOF_TYPE = "YiwangJcsSignature2026"

Verify = Callable[[str, bytes, bytes, bytes], bool]  # (algorithm, spki, data, signature)


class TrustListError(ValueError):
    """A trust list that cannot be imported; ``code`` names the check that failed."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def iso(moment: datetime) -> str:
    """An RFC 3339 UTC time with a Z, whole seconds."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_time(text: Any) -> datetime:
    if not isinstance(text, str):
        raise ValueError("not a time")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("time without a zone")
    return moment


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- public key encodings ---------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# multicodec prefixes (varint) of the public key types: ed25519-pub, p256-pub, sm2-pub
_MULTICODEC = {"ed25519": b"\xed\x01", "ecdsa-p256": b"\x80\x24", "sm2": b"\x86\x24"}


def _base58btc(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def raw_public_key(algorithm: str, spki_der: bytes) -> bytes:
    """The raw key bits: 32 bytes for Ed25519, the uncompressed point for EC keys."""
    info = keys.PublicKeyInfo.load(spki_der)
    raw = info["public_key"].native
    if algorithm == "ed25519":
        return bytes(raw)
    return bytes(raw)  # 0x04 || x || y


def multikey(algorithm: str, spki_der: bytes) -> str:
    """``publicKeyMultibase`` of a W3C Multikey (base58btc, multicodec-prefixed; EC points
    compressed)."""
    raw = raw_public_key(algorithm, spki_der)
    if algorithm != "ed25519":
        x, y = raw[1:33], raw[33:65]
        raw = bytes([2 + (y[-1] & 1)]) + x
    return "z" + _base58btc(_MULTICODEC[algorithm] + raw)


def jwk(algorithm: str, spki_der: bytes) -> dict[str, str]:
    """The public key as a JWK (RFC 7517/8037; SM2 with the non-registered crv "SM2")."""
    raw = raw_public_key(algorithm, spki_der)
    if algorithm == "ed25519":
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}
    crv = "P-256" if algorithm == "ecdsa-p256" else "SM2"
    return {"kty": "EC", "crv": crv, "x": b64url(raw[1:33]), "y": b64url(raw[33:65])}


def cose_kid(certificate_der: bytes) -> bytes:
    """The COSE key id of a signing certificate: the first 8 bytes of its SHA-256 (EU DCC)."""
    return hashlib.sha256(certificate_der).digest()[:8]


# --- signing ----------------------------------------------------------------------------


def _signed_bytes(document: dict[str, Any]) -> bytes:
    unsigned = copy.deepcopy(document)
    unsigned.get("proof", {}).pop("signatureValue", None)
    return rfc8785.dumps(unsigned)


def sign(document: dict[str, Any], *, algorithm: str, certificate_der: bytes,
         signer: pki.Signer, created: datetime) -> bytes:
    """The signed document's bytes (UTF-8 JSON, indented for people; verification uses the
    canonical form, so the layout does not matter)."""
    signed = copy.deepcopy(document)
    signed["proof"] = {
        "type": PROOF_TYPE,
        "algorithm": algorithm,
        "canonicalization": "RFC8785",
        "created": iso(created),
        "certificate": pki.der_to_pem(certificate_der),
    }
    signed["proof"]["signatureValue"] = b64url(signer(_signed_bytes(signed)))
    return json.dumps(signed, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


# --- checking ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedList:
    document: dict[str, Any]
    sha256: str
    region_code: str
    region_name: str
    sequence: int
    issued: datetime
    next_update: datetime
    root_der: bytes
    root_fingerprint: str


def _field(obj: Any, name: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict) or name not in obj or not isinstance(obj[name], kind) \
            or (isinstance(obj[name], bool) and kind is int):
        raise TrustListError("malformed", f"{where}.{name}")
    return obj[name]


def _verify_certificate_signature(certificate: x509.Certificate, issuer: x509.Certificate,
                                  verify: Verify) -> bool:
    tbs, signature = pki.tbs_signature(certificate)
    try:
        algorithm = pki.signature_algorithm_of(issuer)
    except pki.PkiError:
        return False
    return certificate.issuer == issuer.subject and verify(
        algorithm, issuer.public_key.dump(), tbs, signature)


def _check_key_certificate(der: bytes, spki: bytes, root: x509.Certificate, verify: Verify,
                           where: str) -> None:
    try:
        certificate = pki.load_certificate(der)
    except pki.PkiError:
        raise TrustListError("malformed", f"{where}.certificate") from None
    if certificate.public_key.dump() != spki:
        raise TrustListError("certificate", f"{where}: the certificate is for another key")
    if not _verify_certificate_signature(certificate, root, verify):
        raise TrustListError("certificate", f"{where}: not issued by the list's root")


def _crls(document: dict[str, Any]) -> list[bytes]:
    """The DER CRLs a list carries (``crls[].crl``, base64)."""
    items = document.get("crls", [])
    if not isinstance(items, list):
        raise TrustListError("malformed", "crls")
    found = []
    for number, item in enumerate(items):
        try:
            found.append(base64.b64decode(_field(item, "crl", str, f"crls[{number}]"),
                                          validate=True))
        except ValueError:
            raise TrustListError("malformed", f"crls[{number}]") from None
    return found


def _check_signer_not_revoked(signer: x509.Certificate, root: x509.Certificate,
                              crls: list[bytes], earlier: Sequence[bytes],
                              verify: Verify) -> None:
    """The list's own CRLs must be its root's (else the list is refused: verifiers get
    them in the bundle); the region's earlier CRLs count only when signed by this root.
    The signer must be on none of them."""
    root_key, root_algorithm = root.public_key.dump(), pki.signature_algorithm_of(root)
    serial = signer.serial_number
    for own, der in [(True, der) for der in crls] + [(False, der) for der in earlier]:
        try:
            issuer, revoked, tbs, signature = pki.revoked_serials(der)
        except pki.PkiError:
            if own:
                raise TrustListError("malformed", "crls") from None
            continue
        if issuer != root.subject or not verify(root_algorithm, root_key, tbs, signature):
            if own:
                raise TrustListError("certificate", "crl")
            continue
        if serial in revoked:
            raise TrustListError("signer_revoked", format(serial, "X"))


def _no_crls(region_code: str) -> Sequence[bytes]:
    return ()


def check(raw: bytes, *, fingerprint: str, verify: Verify, now: datetime, max_bytes: int,
          earlier_crls: Callable[[str], Sequence[bytes]] = _no_crls) -> CheckedList:
    """Parse and check a trust list; :class:`TrustListError` names the first failure:
    ``too_large``, ``malformed``, ``fingerprint``, ``signature``, ``certificate``,
    ``signer_usage`` (the signer is no trust-list signer), ``signer_revoked`` (on the list's
    CRL, or on one of ``earlier_crls(region code)``: those of the region's previous list),
    ``expired``. Deeply nested JSON is ``malformed``, never a RecursionError.
    """
    if len(raw) > max_bytes:
        raise TrustListError("too_large", str(max_bytes))
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise TrustListError("malformed", "json") from None
    if not isinstance(document, dict) or document.get("type") != FORMAT:
        raise TrustListError("malformed", "type")
    if document.get("formatVersion") != FORMAT_VERSION:
        raise TrustListError("malformed", "formatVersion")
    region = _field(document, "region", dict, "")
    region_code = _field(region, "code", str, "region")
    region_name = _field(region, "name", str, "region")
    if not _REGION_CODE.fullmatch(region_code):
        raise TrustListError("malformed", "region.code")
    if not 0 < len(region_name) <= 128:
        raise TrustListError("malformed", "region.name")
    sequence = _field(document, "sequence", int, "")
    if not 1 <= sequence < 2**31:
        raise TrustListError("malformed", "sequence")
    try:
        issued = parse_time(document.get("issued"))
        next_update = parse_time(document.get("nextUpdate"))
    except ValueError:
        raise TrustListError("malformed", "issued/nextUpdate") from None
    root = _field(document, "root", dict, "")
    try:
        root_der = pki.pem_to_der(_field(root, "certificate", str, "root").encode("ascii"))
        root_cert = pki.load_certificate(root_der)
    except (pki.PkiError, UnicodeEncodeError):
        raise TrustListError("malformed", "root.certificate") from None
    root_fingerprint = pki.fingerprint(root_der)
    # The fingerprint comes first: nothing else in a list from an unknown source matters.
    if pki.normalise_fingerprint(fingerprint) != root_fingerprint:
        raise TrustListError("fingerprint", pki.grouped(root_fingerprint))
    proof = _field(document, "proof", dict, "")
    try:
        signer_der = pki.pem_to_der(_field(proof, "certificate", str, "proof").encode("ascii"))
        signer_cert = pki.load_certificate(signer_der)
        signature = unb64url(_field(proof, "signatureValue", str, "proof"))
        algorithm = pki.signature_algorithm_of(signer_cert)
    except (pki.PkiError, UnicodeEncodeError, ValueError):
        raise TrustListError("malformed", "proof") from None
    if proof.get("type") != PROOF_TYPE or proof.get("algorithm") != algorithm:
        raise TrustListError("malformed", "proof.type")
    if not _verify_certificate_signature(root_cert, root_cert, verify):
        raise TrustListError("certificate", "root")
    if not _verify_certificate_signature(signer_cert, root_cert, verify):
        raise TrustListError("certificate", "signer")
    for cert in (root_cert, signer_cert):
        if not cert.not_valid_before <= now <= cert.not_valid_after:
            raise TrustListError("certificate", "validity")
    if not pki.has_usage(signer_cert, pki.USAGE_TRUST_LIST):
        raise TrustListError("signer_usage", pki.TSL_SIGNING_OID)
    try:
        signed = _signed_bytes(document)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError):
        raise TrustListError("malformed", "canonical") from None
    if not verify(algorithm, signer_cert.public_key.dump(), signed, signature):
        raise TrustListError("signature", "proof")
    _check_signer_not_revoked(signer_cert, root_cert, _crls(document),
                              earlier_crls(region_code), verify)
    if next_update <= now:
        raise TrustListError("expired", iso(next_update))
    if not isinstance(document.get("issuers"), list):
        raise TrustListError("malformed", "issuers")
    return CheckedList(document=document, sha256=hashlib.sha256(raw).hexdigest(),
                       region_code=region_code, region_name=region_name, sequence=sequence,
                       issued=issued, next_update=next_update, root_der=root_der,
                       root_fingerprint=root_fingerprint)


@dataclass(frozen=True)
class ListedKey:
    ref: str
    kid: str  # hex
    algorithm: str
    public_key: bytes
    issuer_id: str
    issuer_name: str
    licence_types: list[str]
    valid_from: datetime | None
    valid_until: datetime | None
    status: str
    certificate: bytes | None


def listed_keys(checked: CheckedList, verify: Verify | None = None) -> list[ListedKey]:
    """The keys of a checked list's issuers; :class:`TrustListError` if one is malformed.

    With ``verify``, a key that comes with its certificate must be the certificate's key and
    the certificate must be issued by the list's root (``certificate`` error otherwise): a
    list may not vouch for a key with a certificate its own CA never issued."""
    found: list[ListedKey] = []
    root_cert = pki.load_certificate(checked.root_der) if verify is not None else None
    for number, issuer in enumerate(checked.document["issuers"]):
        where = f"issuers[{number}]"
        issuer_id = _field(issuer, "id", str, where)
        name = _field(issuer, "name", str, where)
        types = _field(issuer, "licenceTypes", list, where)
        if not 0 < len(issuer_id) <= 128 or not 0 < len(name) <= 128 \
                or not all(isinstance(t, str) and 0 < len(t) <= 64 for t in types):
            raise TrustListError("malformed", where)
        for index, key in enumerate(_field(issuer, "keys", list, where)):
            at = f"{where}.keys[{index}]"
            try:
                spki = base64.b64decode(_field(key, "publicKey", str, at), validate=True)
                keys.PublicKeyInfo.load(spki).native  # noqa: B018
                cert_pem = key.get("certificate")
                cert = pki.pem_to_der(cert_pem.encode("ascii")) if cert_pem else None
                valid_from = parse_time(key["validFrom"]) if key.get("validFrom") else None
                valid_until = parse_time(key["validUntil"]) if key.get("validUntil") else None
            except (ValueError, TypeError, pki.PkiError, UnicodeEncodeError):
                raise TrustListError("malformed", at) from None
            ref = _field(key, "id", str, at)
            algorithm = _field(key, "algorithm", str, at)
            status = str(key.get("status") or "active")
            if not 0 < len(ref) <= 255 or algorithm not in _ALGORITHMS \
                    or status not in _STATUSES:
                raise TrustListError("malformed", at)
            kid = key.get("kid") or ""
            try:
                kid_hex = base64.b64decode(kid, validate=True).hex() if kid else ""
            except (ValueError, TypeError):
                raise TrustListError("malformed", f"{at}.kid") from None
            if len(kid_hex) not in (0, 16):
                raise TrustListError("malformed", f"{at}.kid")
            if cert is not None and verify is not None and root_cert is not None:
                _check_key_certificate(cert, spki, root_cert, verify, at)
            found.append(ListedKey(
                ref=ref, kid=kid_hex, algorithm=algorithm, public_key=spki,
                issuer_id=issuer_id, issuer_name=name,
                licence_types=[str(t) for t in types], valid_from=valid_from,
                valid_until=valid_until, status=status,
                certificate=cert))
    return found
