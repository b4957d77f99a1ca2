"""Data Integrity proofs: the W3C eddsa-jcs-2022 test vector byte for byte, then bad input."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import pathlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from yiwang.verify import dataintegrity as di
from yiwang.verify import keys, multibase
from yiwang.verify.jcs import canonicalize

VECTOR = json.loads((pathlib.Path(__file__).parent / "data" / "eddsa_jcs_2022.json").read_text())
NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


def _vector_key() -> ed25519.Ed25519PrivateKey:
    seed = multibase.decode_ed25519_secret(VECTOR["keyPair"]["secretKeyMultibase"])
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


def _multikey_resolver(vm: str) -> keys.KeyInfo | None:
    """Resolve the vector's methods from the Multikey in their fragment (test only: this
    trusts any key, which a real verifier never does)."""
    algorithm, spki = multibase.decode_multikey(vm.partition("#")[2])
    return keys.KeyInfo(algorithm=algorithm, public_key=spki)


def test_vector_key_pair_matches() -> None:
    algorithm, spki = multibase.decode_multikey(VECTOR["keyPair"]["publicKeyMultibase"])
    assert algorithm == "ed25519"
    raw = _vector_key().public_key().public_bytes_raw()
    assert spki == keys.ed25519_spki(raw)
    assert multibase.encode_multikey("ed25519", spki) == VECTOR["keyPair"]["publicKeyMultibase"]


def test_vector_canonical_document_and_hash() -> None:
    canonical = canonicalize(VECTOR["unsigned"])
    assert canonical.decode() == VECTOR["canonicalDocument"]
    assert hashlib.sha256(canonical).hexdigest() == VECTOR["documentHash"]


@pytest.mark.parametrize("variant", VECTOR["variants"], ids=lambda v: v["name"])
def test_vector_reproduced_byte_for_byte(variant: dict) -> None:
    unsigned = VECTOR["unsigned"]
    options = di.proof_options(unsigned, cryptosuite="eddsa-jcs-2022",
                               verification_method=variant["verificationMethod"],
                               created=VECTOR["created"])
    if "canonicalProofConfig" in variant:
        assert canonicalize(options).decode() == variant["canonicalProofConfig"]
    data = di.hash_data(options, unsigned, "eddsa-jcs-2022")
    assert data.hex() == variant["proofConfigHash"] + VECTOR["documentHash"]

    key = _vector_key()
    signed = di.add_proof(unsigned, verification_method=variant["verificationMethod"],
                          sign=key.sign, created=VECTOR["created"])
    assert signed["proof"]["proofValue"] == variant["proofValue"]
    assert multibase.decode(variant["proofValue"]).hex() == variant["signatureHex"]
    assert "proof" not in unsigned  # the input is not changed

    result = di.verify_proof(signed, _multikey_resolver, now=NOW)
    assert result.valid, result.errors
    assert result.subject == unsigned["credentialSubject"]


def test_vector_signed_document_verifies_as_published() -> None:
    variant = VECTOR["variants"][0]
    signed = {**VECTOR["unsigned"], "proof": {
        "type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
        "created": VECTOR["created"], "verificationMethod": variant["verificationMethod"],
        "proofPurpose": "assertionMethod", "@context": VECTOR["unsigned"]["@context"],
        "proofValue": variant["proofValue"]}}
    assert di.verify_proof(signed, _multikey_resolver, now=NOW).valid


# --- yiwang's own proofs and bad input ---------------------------------------------------------

VM = "https://yiwang.example/trust/keys/k-ed"


def _credential() -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:yiwang:licence:1.2.156.3005.2.X",
        "type": ["VerifiableCredential", "YiwangLicence"],
        "issuer": "11440300MB2C93285X",
        "validFrom": "2024-01-01T00:00:00Z",
        "validUntil": "2030-01-01T00:00:00Z",
        "credentialSubject": {"name": "张三", "licenceType": "yyzz", "capital": 1000000,
                              "tags": ["a", "b"], "note": "tab\there \"quoted\" \u2028 é 𠀀"},
    }


@pytest.fixture
def signed(ed_key) -> dict:
    return di.add_proof(_credential(), verification_method=VM, sign=ed_key.sign,
                        created=dt.datetime(2024, 3, 1, tzinfo=dt.UTC))


@pytest.fixture
def resolver(ed_key):
    return lambda vm: ed_key.info() if vm == VM else None


def test_yiwang_credential_verifies(signed, resolver) -> None:
    result = di.verify_proof(signed, resolver, now=NOW)
    assert result.valid, result.errors
    assert [c.name for c in result.checks] == [
        "proof", "cryptosuite", "proof_purpose", "created", "verification_method", "key",
        "signature", "validity"]
    assert result.summary["key_id"] == "k-ed"


def test_verification_method_id_round_trip() -> None:
    vm = di.verification_method_id("https://yiwang.example/", "k-ed")
    assert vm == VM
    assert di.key_id_of(vm) == "k-ed"
    assert di.key_id_of(VM + "#k-ed") == "k-ed"
    assert di.key_id_of("https://x/trust/keys/a#b") is None
    assert di.key_id_of("https://x/keys/a") is None


def _failed(result) -> list[str]:
    assert not result.valid
    return result.failed_names()


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda d: d["credentialSubject"].__setitem__("name", "李四"), "signature"),
    (lambda d: d.__setitem__("validUntil", "2031-01-01T00:00:00Z"), "signature"),
    (lambda d: d.__setitem__("extra", "unsigned edit"), "signature"),
    (lambda d: d["proof"].__setitem__("created", "2024-03-02T00:00:00Z"), "signature"),
    (lambda d: d.pop("proof"), "proof"),
    (lambda d: d["proof"].pop("proofValue"), "proof"),
    (lambda d: d["proof"].__setitem__("proofValue", "zzzz"), "proof"),
    (lambda d: d["proof"].__setitem__("proofValue", "x123"), "proof"),
    (lambda d: d["proof"].__setitem__("cryptosuite", "eddsa-rdfc-2022"), "cryptosuite"),
    (lambda d: d["proof"].__setitem__("type", "Ed25519Signature2020"), "proof"),
    (lambda d: d["proof"].__setitem__("proofPurpose", "authentication"), "proof_purpose"),
    (lambda d: d["proof"].__setitem__("verificationMethod", "https://evil/trust/keys/k#k"),
     "verification_method"),
    (lambda d: d["proof"].__setitem__("created", "2099-01-01T00:00:00Z"), "created"),
    (lambda d: d["proof"].__setitem__("created", "yesterday"), "created"),
    (lambda d: d["proof"].__setitem__("@context", ["https://other"]), "proof"),
    (lambda d: d.__setitem__("proof", "text"), "proof"),
    (lambda d: d["credentialSubject"].__setitem__("weight", float("nan")), "malformed"),
])
def test_bad_input_names_what_failed(signed, resolver, mutate, expected) -> None:
    document = copy.deepcopy(signed)
    mutate(document)
    assert expected in _failed(di.verify_proof(document, resolver, now=NOW))


def test_flipped_signature_byte(signed, resolver) -> None:
    sig = bytearray(multibase.decode(signed["proof"]["proofValue"]))
    sig[10] ^= 1
    signed["proof"]["proofValue"] = multibase.encode(bytes(sig))
    assert _failed(di.verify_proof(signed, resolver, now=NOW)) == ["signature"]


def test_not_an_object() -> None:
    assert _failed(di.verify_proof(["x"], lambda vm: None)) == ["malformed"]


def test_expired_and_not_yet_valid(signed, resolver) -> None:
    later = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    result = di.verify_proof(signed, resolver, now=later)
    assert _failed(result) == ["validity"]
    assert "已过期" in result.errors[0].message


def test_not_yet_valid(ed_key, resolver) -> None:
    doc = {**_credential(), "validFrom": "2025-01-01T00:00:00Z"}
    signed = di.add_proof(doc, verification_method=VM, sign=ed_key.sign,
                          created="2024-03-01T00:00:00Z")
    result = di.verify_proof(signed, resolver, now=NOW)
    assert _failed(result) == ["validity"]
    assert "尚未生效" in result.errors[0].message


def test_revoked_or_out_of_validity_key(signed, ed_key) -> None:
    revoked = di.verify_proof(signed, lambda vm: ed_key.info(status="revoked"), now=NOW)
    assert _failed(revoked) == ["key"]
    late = di.verify_proof(signed, lambda vm: ed_key.info(
        valid_until=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)), now=NOW)
    assert _failed(late) == ["key"]


def test_key_of_another_algorithm(signed, p256_key) -> None:
    assert _failed(di.verify_proof(signed, lambda vm: p256_key.info(), now=NOW)) == ["key"]


def test_wrong_key_fails_signature(signed) -> None:
    other = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    info = keys.KeyInfo(algorithm="ed25519", public_key=keys.ed25519_spki(other))
    assert _failed(di.verify_proof(signed, lambda vm: info, now=NOW)) == ["signature"]


def test_resolver_that_raises_is_unresolvable(signed) -> None:
    def boom(vm: str):
        raise RuntimeError("network down")

    assert _failed(di.verify_proof(signed, boom, now=NOW)) == ["verification_method"]


def test_resolver_may_return_a_mapping(signed, ed_key) -> None:
    import base64

    mapping = {"algorithm": "ed25519", "public_key": base64.b64encode(ed_key.public_key).decode()}
    assert di.verify_proof(signed, lambda vm: mapping, now=NOW).valid


def test_sm2_cryptosuite(sm2_key) -> None:
    vm = "https://yiwang.example/trust/keys/k-sm2"
    signed = di.add_proof(_credential(), verification_method=vm, sign=sm2_key.sign,
                          cryptosuite="sm2-jcs-2024", created="2024-03-01T00:00:00Z")
    assert len(multibase.decode(signed["proof"]["proofValue"])) == 64
    result = di.verify_proof(signed, lambda v: sm2_key.info() if v == vm else None, now=NOW)
    assert result.valid, result.errors
    signed["credentialSubject"]["name"] = "李四"
    assert _failed(di.verify_proof(signed, lambda v: sm2_key.info(), now=NOW)) == ["signature"]


def test_sm2_hash_data_uses_sm3(sm2_key) -> None:
    doc = _credential()
    options = di.proof_options(doc, cryptosuite="sm2-jcs-2024", verification_method="x",
                               created="2024-03-01T00:00:00Z")
    data = di.hash_data(options, doc, "sm2-jcs-2024")
    assert len(data) == 64
    assert data != di.hash_data(options, doc, "eddsa-jcs-2022")


def test_sm2_proof_verifies_with_openssl(sm2_key, tmp_path) -> None:
    """The signature over hashData is a plain SM2 signature the openssl CLI accepts."""
    import subprocess

    from yiwang.verify.keys import raw_to_der

    vm = "https://yiwang.example/trust/keys/k-sm2"
    signed = di.add_proof(_credential(), verification_method=vm, sign=sm2_key.sign,
                          cryptosuite="sm2-jcs-2024", created="2024-03-01T00:00:00Z")
    proof = dict(signed["proof"])
    signature = raw_to_der(multibase.decode(proof.pop("proofValue")))
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    (tmp_path / "data").write_bytes(di.hash_data(proof, unsecured, "sm2-jcs-2024"))
    (tmp_path / "sig").write_bytes(signature)
    (tmp_path / "pub.der").write_bytes(sm2_key.public_key)
    subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in", "pub.der",
                    "-out", "pub.pem"], cwd=tmp_path, check=True)
    out = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem",
                          "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678",
                          "-in", "data", "-sigfile", "sig"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert "Signature Verified Successfully" in out.stdout


def test_add_proof_refuses_a_second_proof(signed, ed_key) -> None:
    with pytest.raises(ValueError, match="already"):
        di.add_proof(signed, verification_method=VM, sign=ed_key.sign)


def test_jcs_fast_path_matches_reference() -> None:
    import rfc8785

    samples = [_credential(), {"b": [1, True, None, "\u0001\u001f\u007f"], "a": {"é": "€"}},
               {"\ue000": 1, "𠀀": 2}, {"n": 2**60}, {"f": 1.5, "g": 1e21}]
    for sample in samples[:3]:
        assert canonicalize(sample) == rfc8785.dumps(sample)
    assert canonicalize(samples[4]) == b'{"f":1.5,"g":1e+21}'


def test_key_made_in_the_same_second_as_the_proof(signed, ed_key) -> None:
    """``created`` is written to the second; a key valid from later in that second signed it."""
    info = ed_key.info(valid_from=dt.datetime(2024, 3, 1, 0, 0, 0, 700_000, tzinfo=dt.UTC))
    assert di.verify_proof(signed, lambda vm: info, now=NOW).valid
    later = ed_key.info(valid_from=dt.datetime(2024, 3, 1, 0, 0, 1, tzinfo=dt.UTC))
    assert _failed(di.verify_proof(signed, lambda vm: later, now=NOW)) == ["key"]


def test_jcs_refuses_cyclic_values() -> None:
    from yiwang.verify.jcs import CanonicalizationError

    cyclic: dict = {"a": 1}
    cyclic["self"] = cyclic
    with pytest.raises(CanonicalizationError):
        canonicalize(cyclic)
    assert "malformed" in _failed(di.verify_proof({**cyclic, "proof": {}}, lambda vm: None))


def test_validity_edges_across_offsets(ed_key, resolver) -> None:
    """Times with offsets compare as instants, whatever zone ``now`` is given in."""
    doc = {**_credential(), "validFrom": "0001-01-01T00:00:00+01:00",  # before UTC's year 1
           "validUntil": "2030-01-01T08:00:00+08:00"}
    signed = di.add_proof(doc, verification_method=VM, sign=ed_key.sign,
                          created="2024-03-01T08:00:00+08:00")
    end = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    east = dt.timezone(dt.timedelta(hours=8))
    for now in (end, end.astimezone(east), end.replace(tzinfo=None)):
        assert di.verify_proof(signed, resolver, now=now).valid, now
        later = now + dt.timedelta(microseconds=1)
        assert _failed(di.verify_proof(signed, resolver, now=later)) == ["validity"], later


def test_created_within_the_clock_skew(ed_key, resolver) -> None:
    signed = di.add_proof(_credential(), verification_method=VM, sign=ed_key.sign,
                          created="2024-06-01T08:04:59+08:00")
    assert di.verify_proof(signed, resolver, now=NOW).valid  # 4:59 ahead of NOW
    assert _failed(di.verify_proof(signed, resolver, now=NOW - dt.timedelta(seconds=2))) == [
        "created"]


def test_proof_value_forms(signed, resolver) -> None:
    raw = multibase.decode(signed["proof"]["proofValue"])
    for value, message in (("u" + multibase.encode(raw, "u")[1:], "64-byte base58-btc"),
                           ("z", "64-byte base58-btc"), ("z0OIl", "not multibase"),
                           ("u!!", "not multibase")):
        doc = copy.deepcopy(signed)
        doc["proof"]["proofValue"] = value
        result = di.verify_proof(doc, resolver, now=NOW)
        assert result.failed_names() == ["proof"], value
        assert message in result.errors[0].message, value


def _undated(ed_key) -> dict:
    """A credential whose proof has no ``created`` (it is optional in the spec)."""
    document = _credential()
    options = di.proof_options(document, cryptosuite="eddsa-jcs-2022", verification_method=VM,
                               created="")
    del options["created"]
    signature = ed_key.sign(di.hash_data(options, document, "eddsa-jcs-2022"))
    return {**document, "proof": {**options, "proofValue": multibase.encode(signature)}}


def test_undated_proof_is_judged_at_now_against_the_key_window(ed_key) -> None:
    """Review L1: without ``created`` the key's validity is checked at the verification time,
    never skipped — an expired key cannot sign undated proofs that pass."""
    undated = _undated(ed_key)
    live = di.verify_proof(undated, lambda vm: ed_key.info(), now=NOW)
    assert live.valid, live.errors
    assert "created" not in [c.name for c in live.checks]
    expired = di.verify_proof(undated, lambda vm: ed_key.info(
        valid_until=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)), now=NOW)
    assert _failed(expired) == ["key"]
    assert "no created time" in expired.errors[0].message
    future = di.verify_proof(undated, lambda vm: ed_key.info(
        valid_from=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)), now=NOW)
    assert _failed(future) == ["key"]
    # The same key, expired only after the verification time, still verifies it.
    later = di.verify_proof(undated, lambda vm: ed_key.info(
        valid_until=dt.datetime(2024, 7, 1, tzinfo=dt.UTC)), now=NOW)
    assert later.valid
