"""The offline Verifier and its command line, over a bundle in trust.trust_bundle()'s format."""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import sys

import pytest

from tests.verify import pki as pki_mod
from yiwang.verify import dataintegrity as di
from yiwang.verify import keys, qr
from yiwang.verify import statuslist as sl
from yiwang.verify.__main__ import main
from yiwang.verify.bundle import BundleError, TrustBundle
from yiwang.verify.offline import Verifier

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
HOST = "https://yiwang.example"
ISSUER = f"{HOST}/trust/issuers/scjgj"
VM = f"{HOST}/trust/keys/k-ed"
LIST_REV = f"{HOST}/credentials/status/1"
LIST_SUS = f"{HOST}/credentials/status/2"
IDENTIFIER = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"


def _key_entry(test_key, ref: str, **overrides) -> dict:
    entry = {
        "id": ref, "key_id": ref,
        "kid": base64.b64encode(keys.cose_kid(test_key.public_key)).decode(),
        "algorithm": test_key.algorithm,
        "public_key": base64.b64encode(test_key.public_key).decode(),
        "issuer_id": ISSUER, "issuer_name": "示例市市场监督管理局",
        "licence_types": ["yyzz"],
        "authorisations": {"yyzz": {"from": "2024-01-01T00:00:00Z", "until": None}},
        "valid_from": "2024-01-01T00:00:00Z", "valid_until": "2034-01-01T00:00:00Z",
        "region": "440300", "status": "active", "revoked_at": None, "certificate": None,
    }
    entry.update(overrides)
    return entry


@pytest.fixture
def bundle(ed_key, p256_key) -> dict:
    return {
        "type": "YiwangTrustBundle", "formatVersion": 1, "generated": "2025-05-31T00:00:00Z",
        "region": "440300",
        "regions": [{"code": "440300", "name": "示例市", "source": "local"}],
        "roots": [], "tsa": [], "crls": [],
        "keys": [_key_entry(ed_key, VM), _key_entry(p256_key, f"{HOST}/trust/keys/k-p256")],
    }


#: The fixtures' lists are valid well past today: the CLI tests judge them at the real time.
LISTS_VALID_UNTIL = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)


def _status_lists(ed_key, revoked=(), suspended=(), valid_until=LISTS_VALID_UNTIL) -> dict:
    out = {}
    for url, purpose, indexes in ((LIST_REV, "revocation", revoked),
                                  (LIST_SUS, "suspension", suspended)):
        bits = sl.StatusList()
        for i in indexes:
            bits.set(i)
        unsigned = sl.status_list_credential(list_url=url, issuer=ISSUER, purpose=purpose,
                                             status_list=bits,
                                             valid_from=dt.datetime(2025, 5, 1, tzinfo=dt.UTC),
                                             valid_until=valid_until)
        out[url] = di.add_proof(unsigned, verification_method=VM, sign=ed_key.sign,
                                created="2025-05-01T00:00:00Z")
    return out


def _entries(index: int = 7) -> list[dict]:
    return [sl.status_entry(list_url=LIST_REV, index=index, purpose="revocation"),
            sl.status_entry(list_url=LIST_SUS, index=index, purpose="suspension")]


def _vc(ed_key, *, licence_type: str = "yyzz", issuer: str = ISSUER,
        created: str = "2025-03-01T00:00:00Z", vm: str = VM) -> dict:
    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"urn:yiwang:licence:{IDENTIFIER}",
        "type": ["VerifiableCredential", "ElectronicLicence"],
        "issuer": {"id": issuer, "name": "示例市市场监督管理局"},
        "validFrom": "2025-03-01T08:00:00+08:00",
        "validUntil": "2030-03-01T00:00:00Z",
        "credentialSubject": {"type": "LicenceHolder", "holderName": "示例科技有限公司",
                              "licence": {"identifier": IDENTIFIER, "type": licence_type,
                                          "name": "营业执照", "fields": {"注册资本": "100万元"}}},
        "credentialStatus": _entries(),
    }
    return di.add_proof(unsigned, verification_method=vm, sign=ed_key.sign, created=created)


def _qr(p256_key, *, iss: str = ISSUER, licence_type: str = "yyzz") -> str:
    claims = {"iss": iss, "iat": dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
              "exp": dt.datetime(2030, 3, 1, tzinfo=dt.UTC),
              "licence": {"id": IDENTIFIER, "type": licence_type, "holder": "示例科技有限公司",
                          "status": _entries()}}
    return qr.encode(claims, kid=keys.cose_kid(p256_key.public_key), sign=p256_key.sign)


def test_valid_vc(bundle, ed_key) -> None:
    result = Verifier(bundle, _status_lists(ed_key), now=NOW).verify(_vc(ed_key))
    assert result.valid, result.errors
    names = [c.name for c in result.checks]
    assert names[-4:] == ["issuer", "authorised", "status", "status"]
    assert result.summary["identifier"] == IDENTIFIER
    assert result.summary["issuer_name"] == "示例市市场监督管理局"


def test_valid_qr(bundle, ed_key, p256_key) -> None:
    result = Verifier(bundle, _status_lists(ed_key), now=NOW).verify(_qr(p256_key))
    assert result.valid, result.errors
    assert result.subject["id"] == IDENTIFIER


def test_vc_as_json_text_and_bytes(bundle, ed_key) -> None:
    verifier = Verifier(bundle, _status_lists(ed_key), now=NOW)
    text = json.dumps(_vc(ed_key), ensure_ascii=False)
    assert verifier.verify(text).valid
    assert verifier.verify(text.encode()).valid


@pytest.mark.parametrize(("revoked", "suspended", "message"), [
    ((7,), (), "证照已吊销 (revoked)"),
    ((), (7,), "证照已中止 (suspended)"),
])
def test_revoked_or_suspended(bundle, ed_key, p256_key, revoked, suspended, message) -> None:
    verifier = Verifier(bundle, _status_lists(ed_key, revoked, suspended), now=NOW)
    for item in (_vc(ed_key), _qr(p256_key)):
        result = verifier.verify(item)
        assert not result.valid
        assert result.failed_names() == ["status"]
        assert result.errors[0].message == message


def test_other_holders_revocation_does_not_matter(bundle, ed_key) -> None:
    verifier = Verifier(bundle, _status_lists(ed_key, revoked=(6, 8)), now=NOW)
    assert verifier.verify(_vc(ed_key)).valid


def test_no_status_lists_cached(bundle, ed_key) -> None:
    result = Verifier(bundle, None, now=NOW).verify(_vc(ed_key))
    assert result.failed_names() == ["status", "status"]
    assert "not available" in result.errors[0].message


def test_issuer_not_on_any_trusted_list(bundle, ed_key, p256_key) -> None:
    bundle["keys"] = []
    verifier = Verifier(bundle, _status_lists(ed_key), now=NOW)
    vc_result = verifier.verify(_vc(ed_key))
    assert vc_result.failed_names() == ["verification_method", "issuer"]
    assert "not on any trusted list" in vc_result.errors[1].message
    qr_result = verifier.verify(_qr(p256_key))
    # The kid is unknown, so nothing verified the CWT; the issuer it claims is still named,
    # marked as a claim.
    assert qr_result.failed_names() == ["kid", "signature", "issuer"]
    issuer_check = qr_result.errors[2]
    assert ISSUER in issuer_check.message
    assert "not on any trusted list" in issuer_check.message
    assert "unverified claim" in issuer_check.message and "未验证的声明" in issuer_check.message
    assert qr_result.subject is None and "issuer_name" not in qr_result.summary


def test_qr_with_unknown_kid_claiming_a_trusted_issuer(bundle, ed_key) -> None:
    """A QR signed by a stranger's key that names one of our trusted issuers: the claim is
    named, and never taken for trust."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    stranger = ec.generate_private_key(ec.SECP256R1())
    spki = stranger.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = {"iss": ISSUER, "iat": dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
              "exp": dt.datetime(2030, 3, 1, tzinfo=dt.UTC),
              "licence": {"id": IDENTIFIER, "type": "yyzz", "status": _entries()}}
    text = qr.encode(claims, kid=keys.cose_kid(spki),
                     sign=lambda d: stranger.sign(d, ec.ECDSA(hashes.SHA256())))
    result = Verifier(bundle, _status_lists(ed_key), now=NOW).verify(text)
    assert not result.valid
    assert result.failed_names() == ["kid", "signature", "issuer"]
    assert ISSUER in result.errors[2].message and "unverified claim" in result.errors[2].message
    assert "not signed by one of its keys" in result.errors[2].message
    assert not any(c.ok for c in result.checks if c.name in {"issuer", "signature"})


def test_key_of_another_issuer(bundle, ed_key) -> None:
    """A trusted key signing a licence that names a different (also trusted) issuer."""
    bundle["keys"].append(_key_entry(ed_key, f"{HOST}/trust/keys/other",
                                     issuer_id=f"{HOST}/trust/issuers/gaj"))
    vc = _vc(ed_key, issuer=f"{HOST}/trust/issuers/gaj")
    result = Verifier(bundle, _status_lists(ed_key), now=NOW).verify(vc)
    assert "issuer" in result.failed_names()
    assert "does not belong" in result.errors[0].message


def test_not_authorised_for_the_type(bundle, ed_key, p256_key) -> None:
    verifier = Verifier(bundle, _status_lists(ed_key), now=NOW)
    assert verifier.verify(_vc(ed_key, licence_type="jhz")).failed_names() == ["authorised"]
    assert verifier.verify(_qr(p256_key, licence_type="jhz")).failed_names() == ["authorised"]


def test_authorisation_withdrawn_before_or_granted_after_issuance(bundle, ed_key) -> None:
    bundle["keys"][0]["authorisations"] = {"yyzz": {"from": "2024-01-01T00:00:00Z",
                                                    "until": "2025-02-01T00:00:00Z"}}
    verifier = Verifier(bundle, _status_lists(ed_key), now=NOW)
    assert verifier.verify(_vc(ed_key)).failed_names() == ["authorised"]
    # Issued before the withdrawal: still good.
    assert verifier.verify(_vc(ed_key, created="2025-01-15T00:00:00Z")).valid
    bundle["keys"][0]["authorisations"] = {"yyzz": {"from": "2025-04-01T00:00:00Z",
                                                    "until": None}}
    verifier = Verifier(bundle, _status_lists(ed_key), now=NOW)
    assert verifier.verify(_vc(ed_key)).failed_names() == ["authorised"]


def test_revoked_key(bundle, ed_key) -> None:
    bundle["keys"][0]["status"] = "revoked"
    result = Verifier(bundle, _status_lists(ed_key), now=NOW).verify(_vc(ed_key))
    assert "key" in result.failed_names()


def test_tampered_vc_and_garbage(bundle, ed_key) -> None:
    verifier = Verifier(bundle, _status_lists(ed_key), now=NOW)
    vc = _vc(ed_key)
    vc["credentialSubject"]["licence"]["fields"]["注册资本"] = "1000万元"
    assert "signature" in verifier.verify(vc).failed_names()
    for junk in ("{not json", b"\xff\xfe", 42, "YW1:garbage", "", "[]"):
        result = verifier.verify(junk)
        assert not result.valid


def test_bundle_errors() -> None:
    with pytest.raises(BundleError):
        TrustBundle({"type": "SomethingElse"})
    with pytest.raises(BundleError):
        TrustBundle({"keys": [{"id": "x", "algorithm": "ed25519", "public_key": "AAAA"}]})
    with pytest.raises(BundleError):
        TrustBundle(["not", "an", "object"])  # type: ignore[arg-type]


def test_bundle_resolves_kid_forms(bundle, p256_key) -> None:
    parsed = TrustBundle(bundle)
    kid = keys.cose_kid(p256_key.public_key)
    assert parsed.resolve(keys.kid_ref(kid)).key_id == f"{HOST}/trust/keys/k-p256"
    assert parsed.resolve(kid) is not None
    assert parsed.resolve(VM + "#k-ed") is not None
    assert parsed.resolve("cose:???") is None


def test_sealed_pdf_through_the_verifier(ed_key) -> None:
    pki = pki_mod.make_pki()
    bundle = {"type": "YiwangTrustBundle", "roots": [pki.pem(pki.root)],
              "crls": [base64.b64encode(pki.crl()).decode()], "keys": []}
    sealed = pki_mod.seal(pki_mod.plain_pdf(), pki)
    assert Verifier(bundle).verify(sealed).valid
    assert Verifier(bundle).verify(pki_mod.append_edit(sealed)).failed_names() == ["integrity"]


# --- the command line --------------------------------------------------------------------------

@pytest.fixture
def files(tmp_path, bundle, ed_key, p256_key):
    (tmp_path / "bundle.json").write_text(json.dumps(bundle, ensure_ascii=False))
    lists = _status_lists(ed_key, revoked=(9,))
    paths = []
    for n, credential in enumerate(lists.values()):
        path = tmp_path / f"status{n}.json"
        path.write_text(json.dumps(credential))
        paths.append(str(path))
    (tmp_path / "vc.json").write_text(json.dumps(_vc(ed_key), ensure_ascii=False))
    (tmp_path / "qr.txt").write_text(_qr(p256_key) + "\n")
    return tmp_path, paths


def _args(tmp_path, paths) -> list[str]:
    args = ["--bundle", str(tmp_path / "bundle.json"), "--now", "2025-06-01T00:00:00Z"]
    for path in paths:
        args += ["--status-list", path]
    return args


def test_cli_valid_vc_and_qr(files, capsys) -> None:
    tmp_path, paths = files
    assert main([*_args(tmp_path, paths), str(tmp_path / "vc.json")]) == 0
    out = capsys.readouterr().out
    assert "✓ signature: 签名有效 (signature valid)" in out
    assert "结果：有效 (result: VALID)" in out
    assert main([*_args(tmp_path, paths), str(tmp_path / "qr.txt")]) == 0
    qr_text = (tmp_path / "qr.txt").read_text().strip()
    assert main([*_args(tmp_path, paths), qr_text]) == 0


def test_cli_invalid(files, capsys) -> None:
    tmp_path, paths = files
    assert main([*_args(tmp_path, paths), "YW1:NOT-A-LICENCE"]) == 1
    out = capsys.readouterr().out
    assert "✗ encoding" in out and "INVALID" in out
    assert main([*_args(tmp_path, []), str(tmp_path / "vc.json")]) == 1  # no status lists


def test_cli_json_output(files, capsys) -> None:
    tmp_path, paths = files
    assert main([*_args(tmp_path, paths), "--json", str(tmp_path / "vc.json")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is True
    assert {c["name"] for c in data["checks"]} >= {"signature", "issuer", "status"}


def test_cli_usage_errors(files, tmp_path) -> None:
    base, _paths = files
    (tmp_path / "bad.json").write_text("{")
    assert main(["--bundle", str(tmp_path / "bad.json"), "x"]) == 2
    assert main(["--bundle", str(tmp_path / "missing.json"), "x"]) == 2
    assert main([*_args(base, [str(tmp_path / "bad.json")]), "x"]) == 2
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2


def test_cli_runs_without_django(files) -> None:
    """The verifier runs as a separate process that never imports Django or the server."""
    tmp_path, paths = files
    code = ("import sys, runpy; sys.argv = ['yiwang.verify', *sys.argv[1:]];\n"
            "try:\n    runpy.run_module('yiwang.verify', run_name='__main__')\n"
            "except SystemExit as e:\n"
            "    bad = [m for m in sys.modules if m.startswith('django')\n"
            "           or (m.startswith('yiwang.') and not m.startswith('yiwang.verify'))]\n"
            "    assert not bad, bad\n    raise")
    proc = subprocess.run([sys.executable, "-c", code, *_args(tmp_path, paths),
                           str(tmp_path / "vc.json")], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert "结果：有效" in proc.stdout


def test_status_list_proofs_are_verified_once_per_snapshot(bundle, ed_key) -> None:
    lists = _status_lists(ed_key)
    verifier = Verifier(bundle, lists, now=NOW)
    calls = []
    resolve = verifier.bundle.resolve
    verifier.bundle.resolve = lambda ref: (calls.append(ref), resolve(ref))[1]  # type: ignore[method-assign]
    for _ in range(3):
        assert verifier.verify(_vc(ed_key)).valid
    # One resolution per credential proof, plus one per status list the first time only.
    assert len(calls) == 3 + 2
    # A list that expires between checks is noticed although its proof is cached.
    expiring = _status_lists(ed_key, valid_until=dt.datetime(2025, 7, 1, tzinfo=dt.UTC))
    later = Verifier(bundle, expiring, now=NOW)
    assert later.verify(_vc(ed_key)).valid
    later.now = dt.datetime(2025, 8, 1, tzinfo=dt.UTC)
    result = later.verify(_vc(ed_key))
    assert result.failed_names() == ["status", "status"]
    assert "status list expired at 2025-07-01T00:00:00Z" in result.errors[0].message
    # The snapshot is the verifier's own: changing the caller's dicts afterwards changes nothing.
    for credential in expiring.values():
        credential["credentialSubject"]["encodedList"] = "u"
    later.now = NOW
    assert later.verify(_vc(ed_key)).valid


def test_random_mutations_never_raise_and_never_pass(bundle, ed_key, p256_key) -> None:
    """Replace a random member anywhere in a signed VC (or a QR's CBOR) with junk of another
    type: the verifier answers with named failures, never an exception or 'valid'."""
    import copy
    import random

    rng = random.Random(36904)
    junk = [None, 0, -1, 2**70, 1.5, float("inf"), "", "x" * 300, [], {}, [None], {"a": []},
            True, "2099-01-01T00:00:00Z", "z" * 90, "u" + "A" * 10]
    verifier = Verifier(bundle, _status_lists(ed_key), now=NOW)
    original = _vc(ed_key)

    def paths(value, prefix=()):
        if isinstance(value, dict):
            for k, v in value.items():
                yield (*prefix, k)
                yield from paths(v, (*prefix, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield (*prefix, i)
                yield from paths(v, (*prefix, i))

    all_paths = list(paths(original))
    for _ in range(300):
        document = copy.deepcopy(original)
        path = rng.choice(all_paths)
        target = document
        for step in path[:-1]:
            target = target[step]
        replacement = rng.choice(junk)
        if target[path[-1]] == replacement:
            continue
        target[path[-1]] = replacement
        result = verifier.verify(document)
        assert not result.valid, path
        assert result.errors


def test_random_qr_byte_flips_never_pass(bundle, ed_key, p256_key) -> None:
    import random
    import zlib as _zlib

    import base45 as _b45

    rng = random.Random(45)
    verifier = Verifier(bundle, _status_lists(ed_key), now=NOW)
    text = _qr(p256_key)
    cose = bytearray(_zlib.decompress(_b45.b45decode(text[4:])))
    for _ in range(200):
        flipped = bytearray(cose)
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        forged = "YW1:" + _b45.b45encode(_zlib.compress(bytes(flipped))).decode()
        result = verifier.verify(forged)
        assert not result.valid
        assert result.errors


def test_deeply_nested_input_is_malformed_not_a_crash() -> None:
    verifier = Verifier({"type": "YiwangTrustBundle", "keys": []}, {})
    for text in ("{" + '"a":[' * 5000, "[" * 100_000):
        result = verifier.verify(text if text.startswith("{") else "{" + text)
        assert not result.valid and result.failed_names() == ["malformed"]
    deep: dict = {}
    node = deep
    for _ in range(5000):
        node["a"] = {}
        node = node["a"]
    result = verifier.verify_credential({"proof": {}, "x": deep})
    assert not result.valid


def test_a_later_bundle_entry_cannot_take_over_a_key_id() -> None:
    """The first listing of a key id or kid stands: another region's list reusing it must
    not make our keys speak for its issuer."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from yiwang.verify.bundle import TrustBundle

    def entry(issuer: str, key: ed25519.Ed25519PrivateKey) -> dict:
        spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        return {"id": "https://a.example/trust/keys/k1", "algorithm": "ed25519",
                "public_key": base64.b64encode(spki).decode(), "issuer_id": issuer,
                "issuer_name": issuer, "licence_types": ["x"]}

    ours, theirs = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    bundle = TrustBundle({"type": "YiwangTrustBundle", "keys": [
        entry("https://a.example/trust/issuers/scjg", ours),
        entry("https://b.example/trust/issuers/evil", theirs)]})
    assert bundle.resolve("https://a.example/trust/keys/k1").issuer_id.startswith(
        "https://a.example/")


def _undated_vc(ed_key, *, status: bool = True) -> dict:
    """A licence VC whose proof has no ``created``."""
    from yiwang.verify import multibase

    document = {k: v for k, v in _vc(ed_key).items() if k != "proof"}
    if not status:
        del document["credentialStatus"]
    options = di.proof_options(document, cryptosuite="eddsa-jcs-2022", verification_method=VM,
                               created="")
    del options["created"]
    signature = ed_key.sign(di.hash_data(options, document, "eddsa-jcs-2022"))
    return {**document, "proof": {**options, "proofValue": multibase.encode(signature)}}


def _undated_qr(p256_key, *, status: bool = True) -> str:
    licence = {"id": IDENTIFIER, "type": "yyzz", "holder": "示例科技有限公司"}
    if status:
        licence["status"] = _entries()
    claims = {"iss": ISSUER, "exp": dt.datetime(2030, 3, 1, tzinfo=dt.UTC), "licence": licence}
    return qr.encode(claims, kid=keys.cose_kid(p256_key.public_key), sign=p256_key.sign)


def test_undated_vc_and_qr_are_judged_at_now(bundle, ed_key, p256_key) -> None:
    """Review L1: no ``created`` / ``iat`` means "signed now" for the key's validity and the
    issuer's authorisation, never "not checked"."""
    verifier = Verifier(bundle, _status_lists(ed_key), now=NOW)
    assert verifier.verify(_undated_vc(ed_key)).valid
    assert verifier.verify(_undated_qr(p256_key)).valid
    for entry in bundle["keys"]:
        entry["valid_until"] = "2025-05-01T00:00:00Z"  # expired a month before NOW
    expired = Verifier(bundle, _status_lists(ed_key), now=NOW)
    vc_result = expired.verify(_undated_vc(ed_key))
    assert "key" in vc_result.failed_names() and not vc_result.valid
    assert "no created time" in vc_result.errors[0].message
    qr_result = expired.verify(_undated_qr(p256_key))
    assert qr_result.failed_names() == ["key"]
    assert "no iat" in qr_result.errors[0].message
    # A dated proof from before the expiry still verifies with the expired key.
    assert expired.verify(_vc(ed_key)).valid


def test_undated_licence_after_the_authorisation_ended(bundle, ed_key, p256_key) -> None:
    for entry in bundle["keys"]:
        entry["authorisations"] = {"yyzz": {"from": "2024-01-01T00:00:00Z",
                                            "until": "2025-05-01T00:00:00Z"}}
    verifier = Verifier(bundle, _status_lists(ed_key), now=NOW)
    assert verifier.verify(_undated_vc(ed_key)).failed_names() == ["authorised"]
    assert verifier.verify(_undated_qr(p256_key)).failed_names() == ["authorised"]
    assert verifier.verify(_vc(ed_key, created="2025-03-01T00:00:00Z")).valid


def test_a_licence_without_status_entries_fails_status(bundle, ed_key, p256_key) -> None:
    """Review L1: every licence carries status entries; one without any (stripped, or made
    so that revocation cannot reach it) fails ``status``, never passes with a note."""
    verifier = Verifier(bundle, _status_lists(ed_key), now=NOW)
    vc_result = verifier.verify(_undated_vc(ed_key, status=False))
    assert vc_result.failed_names() == ["status"]
    assert "no credentialStatus" in vc_result.errors[0].message
    signed = di.add_proof({k: v for k, v in _vc(ed_key).items()
                           if k not in {"proof", "credentialStatus"}},
                          verification_method=VM, sign=ed_key.sign,
                          created="2025-03-01T00:00:00Z")
    assert verifier.verify(signed).failed_names() == ["status"]
    qr_result = verifier.verify(_undated_qr(p256_key, status=False))
    assert qr_result.failed_names() == ["status"]
    assert "no credentialStatus" in qr_result.errors[0].message


def test_a_credential_that_is_no_licence_may_lack_status(bundle, ed_key) -> None:
    """A VC naming no licence type fails ``authorised`` for that, and its status check
    still passes with the note (status is not what is wrong with it)."""
    document = {k: v for k, v in _vc(ed_key).items() if k not in {"proof", "credentialStatus"}}
    del document["credentialSubject"]["licence"]["type"]
    signed = di.add_proof(document, verification_method=VM, sign=ed_key.sign,
                          created="2025-03-01T00:00:00Z")
    result = Verifier(bundle, _status_lists(ed_key), now=NOW).verify(signed)
    assert result.failed_names() == ["authorised"]
    assert [c.message for c in result.checks if c.name == "status"] == [
        "未登记状态列表 (no status list entry)"]


def test_old_lists_without_valid_until_expire_a_day_after_valid_from(bundle, ed_key) -> None:
    """Review A-M3: a list signed before lists carried validUntil (validFrom 2025-05-01)
    counts for 24 hours, then the status is unknown instead of "not revoked" for ever."""
    old = _status_lists(ed_key, valid_until=None)
    assert all("validUntil" not in c for c in old.values())
    fresh = Verifier(bundle, old, now=dt.datetime(2025, 5, 1, 12, tzinfo=dt.UTC))
    assert fresh.verify(_vc(ed_key)).valid
    result = Verifier(bundle, old, now=NOW).verify(_vc(ed_key))
    assert result.failed_names() == ["status", "status"]
    assert "status list has no validUntil" in result.errors[0].message
