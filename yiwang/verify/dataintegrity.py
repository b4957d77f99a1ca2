"""W3C Verifiable Credentials 2.0 secured with a Data Integrity proof.

Cryptosuites:

``eddsa-jcs-2022`` — W3C "Data Integrity EdDSA Cryptosuites v1.0", §3.3: the proof options
(the proof without ``proofValue``, carrying the document's ``@context``) and the document
without its proof are each canonicalised with JCS (RFC 8785) and hashed with SHA-256;
``hashData = SHA-256(proofConfig) || SHA-256(document)`` is signed with Ed25519 and the
64-byte signature is the ``proofValue`` in multibase base58-btc (``z…``).

``sm2-jcs-2024`` — a yiwang extension with the same structure for the national algorithms:
SM3 in place of SHA-256, and an SM2 signature (SM3, signer ID ``1234567812345678``) over
``hashData``, carried as raw ``r || s`` (64 bytes) in base58-btc, as ecdsa-jcs-2019 carries
P-256 signatures. Verifiers outside yiwang will not know it; an issuer that needs broad
interoperability adds an ``eddsa-jcs-2022`` proof as well (a proof set).

Verification methods: yiwang names a key by its URL on the issuing instance,
``https://<host>/trust/keys/<key id>`` (:func:`verification_method_id`; the URL serves the key
as a Multikey, and the trust list and bundle carry it under this id);
``resolve_key(verification_method)`` returns the key only if it is trusted
(``trust.resolve_key`` on the server, the trust bundle offline).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes

from yiwang.verify import keys as keys_mod
from yiwang.verify import multibase
from yiwang.verify import result as r
from yiwang.verify.jcs import CanonicalizationError, canonicalize

PROOF_TYPE = "DataIntegrityProof"
_PROOF_FIELDS = ("type", "cryptosuite", "verificationMethod", "proofPurpose", "proofValue")
ASSERTION = "assertionMethod"
CLOCK_SKEW = dt.timedelta(minutes=5)  # a proof "created" this far ahead of our clock is allowed


def _sm3(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@dataclass(frozen=True)
class Cryptosuite:
    name: str
    algorithm: str  # yiwang signature algorithm name (keys.ALGORITHMS)
    digest: Callable[[bytes], bytes]
    raw_signature: bool  # proofValue carries r || s (the algorithm's native form is DER)


CRYPTOSUITES = {
    "eddsa-jcs-2022": Cryptosuite("eddsa-jcs-2022", "ed25519", _sha256, raw_signature=False),
    "sm2-jcs-2024": Cryptosuite("sm2-jcs-2024", "sm2", _sm3, raw_signature=True),
}


def verification_method_id(base_url: str, key_id: str) -> str:
    """The verification method id yiwang uses: ``<base_url>/trust/keys/<key_id>``."""
    return f"{base_url.rstrip('/')}/trust/keys/{key_id}"


def key_id_of(verification_method: str) -> str | None:
    """The key id in a yiwang verification method id (a ``#<key id>`` fragment is allowed),
    or None if it is not of that form."""
    base, sep, fragment = verification_method.partition("#")
    head, slash, key_id = base.rpartition("/trust/keys/")
    if not slash or not head or not key_id or "/" in key_id or (sep and fragment != key_id):
        return None
    return key_id


def format_time(moment: dt.datetime) -> str:
    """XML Schema dateTime in UTC with seconds, as the VC data model writes it."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def proof_options(document: dict[str, Any], *, cryptosuite: str, verification_method: str,
                  created: str, proof_purpose: str = ASSERTION) -> dict[str, Any]:
    """The proof without its value, as §3.3.5 builds it (``@context`` copied from the document)."""
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": cryptosuite,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if "@context" in document:
        options["@context"] = document["@context"]
    return options


def hash_data(options: dict[str, Any], unsecured: dict[str, Any], cryptosuite: str) -> bytes:
    """``H(JCS(proof options)) || H(JCS(document))`` — the bytes that are signed."""
    suite = CRYPTOSUITES[cryptosuite]
    return suite.digest(canonicalize(options)) + suite.digest(canonicalize(unsecured))


def add_proof(document: dict[str, Any], *, verification_method: str,
              sign: Callable[[bytes], bytes], cryptosuite: str = "eddsa-jcs-2022",
              created: dt.datetime | str | None = None,
              proof_purpose: str = ASSERTION) -> dict[str, Any]:
    """A copy of ``document`` with a Data Integrity proof.

    ``sign(data) -> signature`` signs with the issuer's key in the algorithm's native form
    (Ed25519 raw; SM2 DER or raw ``r || s``) — e.g. ``crypto.sign_with_key`` bound to a key id.
    """
    suite = CRYPTOSUITES.get(cryptosuite)
    if suite is None:
        raise ValueError(f"unknown cryptosuite {cryptosuite!r}")
    if "proof" in document:
        raise ValueError("document already has a proof")
    if created is None:
        created = keys_mod.utcnow()
    created_text = created if isinstance(created, str) else format_time(created)
    options = proof_options(document, cryptosuite=cryptosuite,
                            verification_method=verification_method,
                            created=created_text, proof_purpose=proof_purpose)
    signature = sign(hash_data(options, document, cryptosuite))
    if suite.raw_signature and not (len(signature) == 64 and signature[0] != 0x30):
        signature = keys_mod.der_to_raw(signature)
    return {**document, "proof": {**options, "proofValue": multibase.encode(signature)}}


# Checks that pass say the same every time: made once (a Check is an immutable tuple).
_PROOF_OK = r.Check(r.PROOF, True, "证明结构完整 (proof well-formed)")
_SUITE_OK = {name: r.Check(r.CRYPTOSUITE, True, f"密码套件 {name} (cryptosuite {name})")
             for name in CRYPTOSUITES}
_KEY_OK = r.Check(r.KEY, True, "签名密钥可信且有效 (signing key trusted and usable)")
_SIGNATURE_OK = r.Check(r.SIGNATURE, True, "签名有效 (signature valid)")
_VALIDITY_OK = r.Check(r.VALIDITY, True, "在有效期内 (within its validity period)")


def _purpose_ok(purpose: str) -> r.Check:
    return r.Check(r.PROOF_PURPOSE, True, f"证明用途 {purpose} (proof purpose {purpose})")


_ASSERTION_OK = _purpose_ok(ASSERTION)
_fromisoformat = dt.datetime.fromisoformat
_new_check = tuple.__new__  # Check(name, ok, message) without namedtuple's Python-level __new__
_UTC = dt.UTC


def _parse_time(value: Any) -> dt.datetime | None:
    """:func:`keys.parse_time`, with the usual case (a non-empty string) first, in UTC where it
    can be: two datetimes with the same tzinfo object compare field by field, others through
    two ``utcoffset`` calls and a subtraction (three times slower)."""
    if type(value) is str and value:
        parsed = _fromisoformat(value)  # Python 3.11 reads "Z" and offsets
        tz = parsed.tzinfo
        if tz is _UTC:
            return parsed
        if tz is None:
            return parsed.replace(tzinfo=_UTC)
        try:
            return parsed.astimezone(_UTC)
        except OverflowError:  # within a day of the first or last representable moment
            return parsed
    return keys_mod.parse_time(value)


def _utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` (naive taken as UTC) in UTC, if it can be expressed there."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=_UTC)
    try:
        return moment.astimezone(_UTC)
    except OverflowError:
        return moment


def _time_check(res: r.Result, name: str, text: Any, what: str) -> dt.datetime | bool | None:
    try:
        return _parse_time(text)
    except (ValueError, TypeError, OverflowError):
        res.failed(name, f"{what}时间格式无效 ({what} is not a valid date-time)")
        return False


def check_validity_period(res: r.Result, document: dict[str, Any], now: dt.datetime) -> None:
    """validFrom / validUntil of a credential against ``now``."""
    get = document.get
    valid_from: dt.datetime | bool | None
    valid_until: dt.datetime | bool | None
    try:
        valid_from = _parse_time(get("validFrom"))
    except (ValueError, TypeError, OverflowError):
        valid_from = _time_check(res, r.VALIDITY, get("validFrom"), "validFrom ")  # records it
    try:
        valid_until = _parse_time(get("validUntil"))
    except (ValueError, TypeError, OverflowError):
        valid_until = _time_check(res, r.VALIDITY, get("validUntil"), "validUntil ")
    if valid_from is False or valid_until is False:
        return
    if isinstance(valid_from, dt.datetime) and now < valid_from:
        res.failed(r.VALIDITY,
                   f"凭证尚未生效 (not yet valid: valid from {format_time(valid_from)})")
    elif isinstance(valid_until, dt.datetime) and now > valid_until:
        res.failed(r.VALIDITY, f"凭证已过期 (expired on {format_time(valid_until)})")
    else:
        res.checks.append(_VALIDITY_OK)


def _check_key(res: r.Result, key: keys_mod.KeyInfo, suite: Cryptosuite,
               created: dt.datetime | None, now: dt.datetime) -> bool:
    """The key may sign with this suite, is not revoked, and was valid when the proof was
    created — or now, for a proof without ``created`` (an undated proof is never let off
    the key's validity window)."""
    if key.algorithm != suite.algorithm:
        res.failed(r.KEY, f"密钥算法与密码套件不符 (key is {key.algorithm}, "
                          f"{suite.name} needs {suite.algorithm})")
        return False
    if key.status == "revoked":
        res.failed(r.KEY, "签名密钥已吊销 (signing key revoked)")
        return False
    # "created" is written to the second: compare the key's start at that granularity.
    if created is None:
        if key.valid_from and now < key.valid_from.replace(microsecond=0):
            res.failed(r.KEY, "密钥尚未生效，且证明未注明签名时间 (key not yet valid, and the "
                              "proof has no created time)")
            return False
        if key.valid_until and now > key.valid_until:
            res.failed(r.KEY, "密钥已过期，且证明未注明签名时间 (key has expired, and the proof "
                              "has no created time to show it was signed before)")
            return False
    else:
        if key.valid_from and created < key.valid_from.replace(microsecond=0):
            res.failed(r.KEY, "签名时密钥尚未生效 (key not yet valid when the proof was created)")
            return False
        if key.valid_until and created > key.valid_until:
            res.failed(r.KEY, "签名时密钥已过期 (key had expired when the proof was created)")
            return False
    res.checks.append(_KEY_OK)
    return True


def verify_proof(document: Any, resolve_key: keys_mod.KeyResolver, *,
                 now: dt.datetime | None = None,
                 expected_purpose: str = ASSERTION,
                 check_validity: bool = True) -> r.Result:
    """Verify a secured document's Data Integrity proof(s); every failure is a named check.

    ``resolve_key(verification_method)`` returns a trusted key (``KeyInfo``, a ``TrustedKey``
    or a mapping with ``algorithm`` and ``public_key``) or None. Never raises on bad input.
    """
    res = r.Result()
    if now is None:
        now = keys_mod.utcnow()
    elif now.tzinfo is not _UTC:
        now = _utc(now)
    if not isinstance(document, dict):
        return res.failed(r.MALFORMED, "不是 JSON 对象 (not a JSON object)")
    proofs = document.get("proof")
    if proofs is None:
        return res.failed(r.PROOF, "缺少证明 (no proof)")
    if isinstance(proofs, dict):
        proofs = [proofs]
    elif (not isinstance(proofs, list) or not proofs
          or not all(isinstance(p, dict) for p in proofs)):
        return res.failed(r.PROOF, "证明格式错误 (proof is not an object)")
    unsecured = dict(document)
    del unsecured["proof"]
    try:
        document_bytes = canonicalize(unsecured)
    except CanonicalizationError as exc:
        return res.failed(r.MALFORMED, f"文档无法规范化 (document cannot be canonicalised: {exc})")
    digests: dict[str, bytes] = {}
    for proof in proofs:
        _verify_one(res, proof, unsecured, document_bytes, digests, resolve_key, now,
                    expected_purpose)
    if res.valid:
        if check_validity:
            check_validity_period(res, document, now)
            if res.checks[-1] is not _VALIDITY_OK:  # it adds this, or what failed
                return res
        subject = document.get("credentialSubject")
        res.subject = subject if isinstance(subject, dict) else None
    return res


def _verify_one(res: r.Result, proof: dict[str, Any], unsecured: dict[str, Any],
                document_bytes: bytes, digests: dict[str, bytes],
                resolve_key: keys_mod.KeyResolver, now: dt.datetime,
                expected_purpose: str) -> None:
    get = proof.get
    proof_type, suite_name, vm = get("type"), get("cryptosuite"), get("verificationMethod")
    purpose, proof_value = get("proofPurpose"), get("proofValue")
    if not (type(proof_type) is str and proof_type and type(suite_name) is str and suite_name
            and type(vm) is str and vm and type(purpose) is str and purpose
            and type(proof_value) is str and proof_value):
        missing = [f for f in _PROOF_FIELDS if not (type(get(f)) is str and get(f))]
        res.failed(r.PROOF, f"证明缺少字段 (proof lacks {', '.join(missing)})")
        return
    if proof_type != PROOF_TYPE:
        res.failed(r.PROOF, f"证明类型未知 (proof type {proof_type!r} is not {PROOF_TYPE})")
        return
    suite = CRYPTOSUITES.get(suite_name)
    if suite is None:
        res.failed(r.CRYPTOSUITE, f"密码套件未知 (unknown cryptosuite {suite_name!r})")
        return
    try:
        if proof_value[0] == "z":
            signature = multibase.b58decode(proof_value[1:])
        else:
            signature = multibase.decode(proof_value)
    except multibase.MultibaseError:
        res.failed(r.PROOF, "proofValue 编码无效 (proofValue is not multibase)")
        return
    if proof_value[0] != "z" or len(signature) != 64:
        res.failed(r.PROOF, "proofValue 不是 64 字节的 base58-btc 签名 "
                            "(proofValue is not a 64-byte base58-btc signature)")
        return
    checks = res.checks
    checks.append(_PROOF_OK)
    checks.append(_SUITE_OK[suite.name])
    if purpose != expected_purpose:
        res.failed(r.PROOF_PURPOSE, f"证明用途不符 (proofPurpose {purpose!r}, "
                                    f"expected {expected_purpose})")
        return
    checks.append(_ASSERTION_OK if purpose == ASSERTION else _purpose_ok(purpose))

    options = dict(proof)
    del options["proofValue"]
    if "@context" in options:
        context = options["@context"]
        doc_context = unsecured.get("@context")
        ctx = context if isinstance(context, list) else [context]
        doc_ctx = doc_context if isinstance(doc_context, list) else [doc_context]
        if doc_ctx[: len(ctx)] != ctx:
            res.failed(r.PROOF, "证明的 @context 与文档不一致 (proof @context does not match the "
                                "document's)")
            return
    created: dt.datetime | None = None
    if "created" in proof:
        created_text = proof["created"]
        try:
            created = _parse_time(created_text)
        except (ValueError, TypeError, OverflowError):
            _time_check(res, r.CREATED, created_text, "created ")  # records what failed
            return
        if created is not None and created > now and created > now + CLOCK_SKEW:
            res.failed(r.CREATED, f"签名时间在未来 (proof created in the future: "
                                  f"{created_text})")
            return
        checks.append(_new_check(r.Check, (r.CREATED, True, f"签名时间 {created_text} "
                                                            f"(proof created {created_text})")))
    if "expires" in proof:
        expires = _time_check(res, r.PROOF, proof["expires"], "expires ")
        if expires is False:
            return
        if isinstance(expires, dt.datetime) and now > expires:
            res.failed(r.PROOF, "证明已过期 (proof expired)")
            return

    try:
        key = keys_mod.key_info(resolve_key(vm))
    except Exception:  # a resolver failure is an unresolvable method, not a crash
        key = None
    if key is None:
        res.failed(r.VERIFICATION_METHOD, f"验证方法无法解析或不受信任 (verification method not "
                                          f"resolvable or not trusted: {vm})")
        return
    checks.append(_new_check(r.Check, (r.VERIFICATION_METHOD, True,
                                       f"验证方法可信 (verification method trusted: {vm})")))
    summary = res.summary
    if "verification_method" not in summary:
        summary["verification_method"] = vm
    if res.key is None:
        res.key = key
        summary["issuer_id"] = key.issuer_id
        summary["key_id"] = key.key_id
    if (key.algorithm == suite.algorithm and key.status != "revoked"
            and not key.valid_from and not key.valid_until):
        checks.append(_KEY_OK)  # the common case of _check_key, without the call
    elif not _check_key(res, key, suite, created, now):
        return

    try:
        options_bytes = canonicalize(options)
    except CanonicalizationError as exc:
        res.failed(r.PROOF, f"证明无法规范化 (proof cannot be canonicalised: {exc})")
        return
    doc_digest = digests.get(suite.name)
    if doc_digest is None:
        doc_digest = digests[suite.name] = suite.digest(document_bytes)
    data = suite.digest(options_bytes) + doc_digest
    native = keys_mod.raw_to_der(signature) if suite.raw_signature else signature
    if keys_mod.verify_signature(key.algorithm, key.public_key, data, native):
        checks.append(_SIGNATURE_OK)
    else:
        res.failed(r.SIGNATURE, "签名无效 (signature invalid)")
