"""RFC 3161 time-stamp protocol (时间戳服务): parse requests, build signed replies.

Private to the trust app; the service supplies the TSA certificate and a signer that signs
inside the key vault. A token is a CMS SignedData over a TSTInfo, with the signed attributes
content-type, message-digest and ESS signing-certificate-v2 (RFC 5816), as ``openssl ts``
and pyHanko expect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import algos, cms, core, tsp, x509

from yiwang.support.trust.pki import SIGNATURE_ALGORITHMS, Signer, random_serial

# Accepted message imprint hashes and their lengths (SHA-1 is refused: RFC 5816 and the
# ETSI TS 119 312 algorithm catalogue retired it for new time stamps).
HASH_LENGTHS = {"sha256": 32, "sha384": 48, "sha512": 64}


class Rejection(Exception):
    """A request the TSA refuses: ``failure`` is the RFC 3161 PKIFailureInfo bit name."""

    def __init__(self, failure: str, text: str) -> None:
        self.failure = failure
        self.text = text
        super().__init__(text)


@dataclass(frozen=True)
class Request:
    hash_algorithm: str
    hashed_message: bytes
    nonce: int | None
    cert_req: bool
    policy: str | None


@dataclass(frozen=True)
class Authority:
    """What signs a token: the TSA certificate (DER), the chain to embed after it (DER), the
    policy OID, the signing key's algorithm and the signer.

    Certificates are kept as DER and loaded afresh for each token: asn1crypto re-encodes a
    structure whose parts were ever parsed (walking every node to see what changed), which
    made a token cost ~0.3 s; an untouched ``load()`` dumps its original bytes."""

    certificate_der: bytes
    chain_der: Sequence[bytes]
    policy: str
    algorithm: str
    sign: Signer

    @property
    def certificate(self) -> x509.Certificate:
        return x509.Certificate.load(self.certificate_der)

    @property
    def _parts(self) -> tuple[bytes, bytes, bytes]:
        """DER of the parts that are the same in every token (building them costs more than
        the rest of a token): the ESS signing-certificate-v2 attribute, the TSA's name as a
        GeneralName, the signer identifier."""
        cached = _PARTS.get(self.certificate_der)
        if cached is None:
            parsed = x509.Certificate.load(self.certificate_der)
            cached = (
                cms.CMSAttribute({"type": "signing_certificate_v2",
                                  "values": [_signing_certificate_v2(parsed)]}).dump(),
                x509.GeneralName(name="directory_name", value=parsed.subject).dump(),
                cms.SignerIdentifier(name="issuer_and_serial_number", value={
                    "issuer": parsed.issuer, "serial_number": parsed.serial_number}).dump(),
            )
            _PARTS[self.certificate_der] = cached
        return cached

    def ess_attribute(self) -> cms.CMSAttribute:
        return cms.CMSAttribute.load(self._parts[0])

    def general_name(self) -> x509.GeneralName:
        return x509.GeneralName.load(self._parts[1])

    def signer_identifier(self) -> cms.SignerIdentifier:
        return cms.SignerIdentifier.load(self._parts[2])


_PARTS: dict[bytes, tuple[bytes, bytes, bytes]] = {}


def parse_request(der: bytes) -> Request:
    """A TimeStampReq, checked; raises :class:`Rejection` naming what is wrong."""
    try:
        request = tsp.TimeStampReq.load(der, strict=True)
        native = request.native
    except (ValueError, TypeError, KeyError, OverflowError):
        raise Rejection("bad_data_format", "not a DER TimeStampReq") from None
    if native["version"] != "v1":
        raise Rejection("bad_request", "unsupported TimeStampReq version")
    if request["extensions"].native:
        raise Rejection("unaccepted_extensions", "extensions are not supported")
    imprint = native["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"]
    if algorithm not in HASH_LENGTHS:
        raise Rejection("bad_alg", f"hash algorithm {algorithm} is not accepted; use sha256")
    if imprint["hash_algorithm"].get("parameters") not in (None, core.Null().native):
        raise Rejection("bad_alg", "hash algorithm parameters must be absent or NULL")
    hashed = imprint["hashed_message"]
    if len(hashed) != HASH_LENGTHS[algorithm]:
        raise Rejection("bad_data_format",
                        f"the {algorithm} imprint must be {HASH_LENGTHS[algorithm]} bytes")
    return Request(hash_algorithm=algorithm, hashed_message=hashed, nonce=native["nonce"],
                   cert_req=bool(native["cert_req"]), policy=native["req_policy"])


def _signing_certificate_v2(certificate: x509.Certificate) -> tsp.SigningCertificateV2:
    return tsp.SigningCertificateV2({"certs": [{
        "hash_algorithm": {"algorithm": "sha256"},
        "cert_hash": hashlib.sha256(certificate.dump()).digest(),
        "issuer_serial": {
            "issuer": [x509.GeneralName(name="directory_name", value=certificate.issuer)],
            "serial_number": certificate.serial_number,
        },
    }]})


def make_token(request: Request, authority: Authority, *, at: datetime) -> cms.ContentInfo:
    """The signed TimeStampToken answering ``request`` at time ``at``."""
    if request.policy is not None and request.policy != authority.policy:
        raise Rejection("unaccepted_policy", f"this TSA issues under policy {authority.policy}")
    info: dict[str, object] = {
        "version": "v1",
        "policy": authority.policy,
        "message_imprint": {
            "hash_algorithm": {"algorithm": request.hash_algorithm},
            "hashed_message": request.hashed_message,
        },
        "serial_number": random_serial(),
        "gen_time": at.replace(microsecond=0),
        "accuracy": {"seconds": 1},
        "tsa": authority.general_name(),
    }
    if request.nonce is not None:
        info["nonce"] = request.nonce
    tst_info = tsp.TSTInfo(info).dump()
    digest_algorithm = "sha256"
    signed_attrs = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
        cms.CMSAttribute({"type": "signing_time",
                          "values": [cms.Time(name="utc_time", value=at.replace(microsecond=0))]}),
        cms.CMSAttribute({"type": "message_digest",
                          "values": [hashlib.sha256(tst_info).digest()]}),
        authority.ess_attribute(),
    ])
    signature = authority.sign(signed_attrs.dump())
    signer_info = cms.SignerInfo({
        "version": "v1",
        "sid": authority.signer_identifier(),
        "digest_algorithm": {"algorithm": digest_algorithm},
        "signed_attrs": signed_attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm(
            {"algorithm": SIGNATURE_ALGORITHMS[authority.algorithm]}),
        "signature": signature,
    })
    # Loaded straight as CertificateChoices: wrapping a Certificate would deep-copy it.
    certificates = ([cms.CertificateChoices.load(der)
                     for der in (authority.certificate_der, *authority.chain_der)]
                    if request.cert_req else [])
    signed_data: dict[str, object] = {
        "version": "v3",
        "digest_algorithms": [{"algorithm": digest_algorithm}],
        "encap_content_info": {"content_type": "tst_info",
                               "content": cms.ParsableOctetString(tst_info)},
        "signer_infos": [signer_info],
    }
    if certificates:
        signed_data["certificates"] = certificates
    return cms.ContentInfo({"content_type": "signed_data",
                            "content": cms.SignedData(signed_data)})


def granted(token: cms.ContentInfo) -> bytes:
    """A TimeStampResp granting ``token``."""
    return tsp.TimeStampResp({"status": {"status": "granted"},
                              "time_stamp_token": token}).dump()


class _RefusalResp(core.Sequence):
    # asn1crypto's TimeStampResp makes timeStampToken mandatory; RFC 3161 leaves it out of
    # a refusal.
    _fields = [("status", tsp.PKIStatusInfo)]


def rejected(rejection: Rejection) -> bytes:
    """A TimeStampResp refusing the request, with its failure bit and a text."""
    return _RefusalResp({"status": {
        "status": "rejection",
        "status_string": [rejection.text],
        "fail_info": tsp.PKIFailureInfo({rejection.failure}),
    }}).dump()


def reply(request_der: bytes, authority: Authority, *, at: datetime) -> tuple[bytes, bool]:
    """(the DER TimeStampResp for ``request_der``, whether it was granted)."""
    try:
        request = parse_request(request_der)
        return granted(make_token(request, authority, at=at)), True
    except Rejection as rejection:
        return rejected(rejection), False


def build_request(message_imprint: bytes, *, hash_algorithm: str = "sha256",
                  nonce: int | None = None, cert_req: bool = True) -> bytes:
    """A DER TimeStampReq (for the in-process API and for tests)."""
    value: dict[str, object] = {
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": hash_algorithm},
                            "hashed_message": message_imprint},
        "cert_req": cert_req,
    }
    if nonce is not None:
        value["nonce"] = nonce
    return tsp.TimeStampReq(value).dump()
