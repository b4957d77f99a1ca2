"""Trust lists between regions (跨地区互认): publish, import after the fingerprint check, and
the refusals — wrong fingerprint, a tampered byte, an old sequence, an expired list."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from yiwang.core.crypto import service as crypto
from yiwang.support.trust import pki, trustlist
from yiwang.support.trust import service as trust
from yiwang.support.trust.tests.conftest import ForeignList, make_foreign_list

pytestmark = pytest.mark.django_db


def _code(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return str(exc.value.error_list[0].code)


def test_published_list_is_signed_and_lists_issuers(city: Any) -> None:
    key = crypto.create_signing_key(owner="scjg", purpose="licence.vc", algorithm="ed25519")
    trust.certify_key(key.id, department_code="scjg", usage="licence")
    trust.authorise_issuer("scjg", "yyzz")
    version = trust.publish_trust_list()
    assert version.sequence == 1
    document = json.loads(trust.current_trust_list())
    assert document["region"] == {"code": "339900000000", "name": "示例市"}
    [issuer] = document["issuers"]
    assert issuer["name"] == "市场监管局" and issuer["licenceTypes"] == ["yyzz"]
    [listed] = issuer["keys"]
    assert listed["id"] == trust.verification_method_id(key.id)
    assert listed["publicKeyMultibase"].startswith("z6Mk")  # an Ed25519 Multikey
    assert document["proof"]["algorithm"] == "ecdsa-p256"
    assert trust.publish_trust_list().sequence == 2
    fingerprint = trust.trust_list_fingerprint()
    assert len(fingerprint.split()) == 16
    assert pki.normalise_fingerprint(fingerprint) == document["root"]["fingerprint"]


def test_round_trip_to_a_second_region(city: Any, settings: Any) -> None:
    """Instance A publishes; the same database then plays instance B (another region code)
    and imports A's list with A's fingerprint."""
    key = crypto.create_signing_key(owner="scjg", purpose="licence.vc", algorithm="ed25519")
    trust.certify_key(key.id, department_code="scjg", usage="licence")
    raw = bytes(trust.publish_trust_list().document)
    fingerprint = trust.trust_list_fingerprint()
    settings.YIWANG_TRUST_REGION_CODE = "440300000000"
    settings.YIWANG_TRUST_REGION_NAME = "深圳市"
    settings.YIWANG_PUBLIC_URL = "https://b.example.gov.cn"
    # B holds none of A's licence keys (in one database they would collide with A's list).
    from yiwang.support.trust.models import Certificate

    Certificate.objects.filter(usage="licence").delete()
    imported = trust.import_trust_list(raw, fingerprint=fingerprint)
    assert imported.region_code == "339900000000" and imported.sequence == 1
    assert imported.keys.count() == 1


def test_foreign_key_resolves_only_after_import(city: Any, foreign: ForeignList) -> None:
    assert trust.resolve_key(foreign.vm_id) is None
    assert trust.resolve_key(foreign.kid) is None
    trust.import_trust_list(foreign.raw, fingerprint=foreign.fingerprint)
    found = trust.resolve_key(foreign.vm_id)
    assert found is not None
    assert found.region == "440300000000" and found.licence_types == ("yyzz",)
    assert found.issuer_name == "深圳市市场监督管理局" and found.algorithm == "ed25519"
    assert trust.resolve_key(foreign.kid) == found
    assert trust.resolve_key("cose:" + base64.b64encode(foreign.kid).decode()) \
        == found
    bundle = trust.trust_bundle()
    assert foreign.vm_id in [k["id"] for k in bundle["keys"]]
    assert pki.der_to_pem(foreign.root_der) in bundle["roots"]
    assert pki.der_to_pem(foreign.root_der) in [pki.der_to_pem(r)
                                                for r in trust.root_certificates()]


def test_wrong_fingerprint_is_refused(city: Any, foreign: ForeignList) -> None:
    other = make_foreign_list()
    with pytest.raises(ValidationError) as refused:
        trust.import_trust_list(foreign.raw, fingerprint=other.fingerprint)
    assert _code(refused) == "fingerprint"
    assert "指纹不符" in refused.value.messages[0]
    assert trust.resolve_key(foreign.vm_id) is None


@pytest.mark.parametrize("where", ["name", "key", "signature"])
def test_a_tampered_byte_is_refused(city: Any, foreign: ForeignList, where: str) -> None:
    raw = foreign.raw
    if where == "name":
        tampered = raw.replace("深圳市市场监督管理局".encode(), "深圳市市场监督管理司".encode(), 1)
    elif where == "key":
        document = json.loads(raw)
        key = document["issuers"][0]["keys"][0]
        key["id"] = key["id"] + "x"
        tampered = json.dumps(document, ensure_ascii=False).encode()
    else:
        marker = b'"signatureValue": "'
        at = raw.index(marker) + len(marker) + 5
        tampered = raw[:at] + (b"A" if raw[at:at + 1] != b"A" else b"B") + raw[at + 1:]
    assert tampered != raw
    with pytest.raises(ValidationError) as refused:
        trust.import_trust_list(tampered, fingerprint=foreign.fingerprint)
    assert _code(refused) == "signature"
    assert trust.resolve_key(foreign.vm_id) is None


def test_sequence_must_grow(city: Any) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    root_key = ec.generate_private_key(ec.SECP256R1())
    second = make_foreign_list(sequence=2, root_key=root_key)
    trust.import_trust_list(second.raw, fingerprint=second.fingerprint)
    for sequence in (1, 2):
        older = make_foreign_list(sequence=sequence, root_key=root_key,
                                  root_der=second.root_der)
        with pytest.raises(ValidationError) as refused:
            trust.import_trust_list(older.raw, fingerprint=older.fingerprint)
        assert _code(refused) == "sequence"
    third = make_foreign_list(sequence=3, root_key=root_key, root_der=second.root_der)
    trust.import_trust_list(third.raw, fingerprint=third.fingerprint)
    assert [trust.imported_status(r) for r in trust.list_imported()] == ["current", "superseded"]
    assert trust.resolve_key(third.vm_id) is not None
    assert trust.resolve_key(hashlib.sha256(b"").digest()[:8]) is None


def test_expired_list_is_refused(city: Any) -> None:
    old = make_foreign_list(issued=pki.now() - timedelta(days=40))
    with pytest.raises(ValidationError) as refused:
        trust.import_trust_list(old.raw, fingerprint=old.fingerprint)
    assert _code(refused) == "expired"
    assert "过期" in refused.value.messages[0]


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'{"type": "YiwangTrustList"}',
                                 b"{\"type\": \"YiwangTrustList\", \"formatVersion\": 1}",
                                 b"\xff\xfe", b"[" * 100_000])
def test_malformed_documents_are_refused_with_a_message(city: Any, raw: bytes) -> None:
    with pytest.raises(ValidationError) as refused:
        trust.import_trust_list(raw, fingerprint="00" * 32)
    assert refused.value.messages[0]


def test_fingerprint_format_and_own_region(city: Any) -> None:
    raw = bytes(trust.publish_trust_list().document)
    with pytest.raises(ValidationError) as refused:
        trust.import_trust_list(raw, fingerprint="abc")
    assert _code(refused) == "fingerprint_format"
    with pytest.raises(ValidationError) as refused:
        trust.import_trust_list(raw, fingerprint=trust.trust_list_fingerprint())
    assert _code(refused) == "own_region"


def test_a_version_the_ledger_refuses_is_not_published_or_imported(
        city: Any, foreign: ForeignList, monkeypatch: Any) -> None:
    """The ledger is no soft dependency: when its append fails, publishing and importing
    fail with it and leave nothing behind (review L3)."""
    from yiwang.enablement.ledger import service as ledger

    def broken(entry_type: str, record: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ledger down")

    monkeypatch.setattr(ledger, "append", broken)
    with pytest.raises(RuntimeError):
        trust.publish_trust_list()
    assert trust.list_published() == []
    with pytest.raises(RuntimeError):
        trust.import_trust_list(foreign.raw, fingerprint=foreign.fingerprint)
    assert trust.list_imported() == []
    assert trust.resolve_key(foreign.vm_id) is None


def test_versions_land_on_the_real_ledger(city: Any, foreign: ForeignList) -> None:
    from yiwang.enablement.ledger import service as ledger

    version = trust.publish_trust_list()
    imported = trust.import_trust_list(foreign.raw, fingerprint=foreign.fingerprint)
    assert version.ledger_index is not None and imported.ledger_index is not None
    found = ledger.entries("main", version.ledger_index, imported.ledger_index + 1)
    assert [e.entry_type for e in found] == ["trust.list_version", "trust.list_imported"]
    assert found[0].record_hash == ledger.record_hash({
        "region": "339900000000", "sequence": 1, "document_sha256": version.sha256,
        "root_fingerprint": version.root_fingerprint,
        "issued": trustlist.iso(version.issued_at),
        "next_update": trustlist.iso(version.next_update), "issuers": version.issuers})


def test_a_foreign_credential_verifies_only_after_the_import(city: Any,
                                                            foreign: ForeignList) -> None:
    """A VC signed by another region's licence key fails here as 'issuer not trusted' and
    verifies once that region's trust list has been imported (yiwang.verify as verifier)."""
    from yiwang.verify import dataintegrity

    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "https://sz.example.gov.cn/trust/issuers/scjg",
        "credentialSubject": {"id": "urn:example:holder", "name": "示例"},
    }
    signed = dataintegrity.add_proof(credential, verification_method=foreign.vm_id,
                                     sign=foreign.licence_key.sign)
    before = dataintegrity.verify_proof(signed, trust.resolve_key)
    assert not before.valid
    trust.import_trust_list(foreign.raw, fingerprint=foreign.fingerprint)
    after = dataintegrity.verify_proof(signed, trust.resolve_key)
    assert after.valid, after.checks
    tampered = json.loads(json.dumps(signed))
    tampered["credentialSubject"]["name"] = "示例2"
    assert not dataintegrity.verify_proof(tampered, trust.resolve_key).valid


@pytest.mark.parametrize("change", ["region_code", "sequence", "algorithm", "ref", "kid"])
def test_out_of_range_fields_are_refused_even_when_signed(city: Any, change: str) -> None:
    """A list its region signed can still be unusable; each is a 'malformed' refusal, never
    a database error."""
    from yiwang.support.trust import trustlist
    from yiwang.support.trust.tests.conftest import ecdsa_signer

    made = make_foreign_list()
    document = json.loads(made.raw)
    key = document["issuers"][0]["keys"][0]
    if change == "region_code":
        document["region"]["code"] = "x" * 40
    elif change == "sequence":
        document["sequence"] = 2**40
    elif change == "algorithm":
        key["algorithm"] = "rsa"
    elif change == "ref":
        key["id"] = "https://example/" + "k" * 300
    else:
        key["kid"] = base64.b64encode(b"\1" * 9).decode()
    proof = document.pop("proof")
    raw = trustlist.sign(document, algorithm="ecdsa-p256",
                         certificate_der=pki.pem_to_der(proof["certificate"].encode()),
                         signer=ecdsa_signer(made.list_key), created=pki.now())
    with pytest.raises(ValidationError) as refused:
        trust.import_trust_list(raw, fingerprint=made.fingerprint)
    assert _code(refused) == "malformed"


def test_a_region_speaks_only_for_its_own_namespace(city: Any, settings: Any) -> None:
    """A partner cannot list keys or issuers under our address (it would sign licences
    "issued" by our departments), nor mix in another address."""
    from yiwang.support.trust.tests.conftest import make_foreign_list

    ours = make_foreign_list(base=settings.YIWANG_PUBLIC_URL.rstrip("/"))
    with pytest.raises(ValidationError) as exc:
        trust.import_trust_list(ours.raw, fingerprint=ours.fingerprint)
    assert _code(exc) == "namespace"
    mixed = make_foreign_list(issuer_base="https://elsewhere.example.org")
    with pytest.raises(ValidationError) as exc:
        trust.import_trust_list(mixed.raw, fingerprint=mixed.fingerprint)
    assert _code(exc) == "namespace"
    assert not trust.list_imported()


def test_a_region_cannot_reuse_another_regions_identifiers(city: Any) -> None:
    from yiwang.support.trust.tests.conftest import make_foreign_list

    first = make_foreign_list()
    trust.import_trust_list(first.raw, fingerprint=first.fingerprint)
    # Another region listing the same key ids and the same licence key (kid).
    copycat = make_foreign_list(region="440100000000", name="广州市",
                                licence_key=first.licence_key)
    with pytest.raises(ValidationError) as exc:
        trust.import_trust_list(copycat.raw, fingerprint=copycat.fingerprint)
    assert _code(exc) == "collision"
    assert trust.resolve_key(first.vm_id).region == "440300000000"


def test_an_expired_import_is_trusted_no_more(city: Any, foreign: ForeignList) -> None:
    from datetime import timedelta

    from django.utils import timezone

    row = trust.import_trust_list(foreign.raw, fingerprint=foreign.fingerprint)
    assert trust.resolve_key(foreign.vm_id) is not None
    assert any(k["id"] == foreign.vm_id for k in trust.trust_bundle()["keys"])
    type(row).objects.filter(pk=row.pk).update(next_update=timezone.now() - timedelta(minutes=1))
    assert trust.resolve_key(foreign.vm_id) is None
    assert trust.resolve_key(foreign.kid) is None
    assert not any(k["id"] == foreign.vm_id for k in trust.trust_bundle()["keys"])
    assert trust.imported_status(type(row).objects.get(pk=row.pk)) == "expired"


def test_only_licence_keys_resolve(city: Any) -> None:
    """A seal key signs PDFs: its kid or URL never resolves as a credential key, on the
    server as in the offline bundle (review L1)."""
    seal = crypto.create_signing_key(owner="scjg", purpose="seal", algorithm="ecdsa-p256")
    seal_certificate = trust.certify_key(seal.id, department_code="scjg", usage="seal")
    licence = crypto.create_signing_key(owner="scjg", purpose="licence.cose",
                                        algorithm="ecdsa-p256")
    licence_certificate = trust.certify_key(licence.id, department_code="scjg",
                                            usage="licence")
    for ref in (seal_certificate.kid, seal_certificate.certificate_kid,
                trust.verification_method_id(seal.id)):
        assert trust.resolve_key(ref) is None
    found = trust.resolve_key(licence_certificate.kid)
    assert found is not None and found.key_id == trust.verification_method_id(licence.id)
    assert trust.resolve_key(licence_certificate.certificate_kid) == found
    bundled = {k["id"] for k in trust.trust_bundle()["keys"]}
    assert bundled == {trust.verification_method_id(licence.id)}


def test_a_changed_root_needs_an_explicit_confirmation(city: Any) -> None:
    """A list claiming a region already imported, under another root, never supersedes it
    silently: it is refused naming both fingerprints until the admin confirms that change;
    the confirmed change is audited and on the ledger (review L1)."""
    from yiwang.core.audit import service as audit
    from yiwang.enablement.ledger import service as ledger

    first = make_foreign_list(sequence=1)
    old_row = trust.import_trust_list(first.raw, fingerprint=first.fingerprint)
    impostor = make_foreign_list(sequence=2)  # same region code, another root key
    with pytest.raises(trust.RootChanged) as refused:
        trust.import_trust_list(impostor.raw, fingerprint=impostor.fingerprint)
    assert _code(refused) == "root_changed"
    message = refused.value.messages[0]
    assert first.fingerprint in message and impostor.fingerprint in message
    assert refused.value.old == old_row.root_fingerprint
    # Confirming some other change (or the new fingerprint) is no confirmation.
    for wrong in ("ab" * 32, impostor.fingerprint):
        with pytest.raises(trust.RootChanged):
            trust.import_trust_list(impostor.raw, fingerprint=impostor.fingerprint,
                                    root_change_confirmed=wrong)
    assert trust.resolve_key(first.kid) is not None
    assert trust.resolve_key(impostor.kid) is None
    assert [r.sequence for r in trust.list_imported()] == [1]

    row = trust.import_trust_list(impostor.raw, fingerprint=impostor.fingerprint,
                                  root_change_confirmed=first.fingerprint)
    assert row.sequence == 2
    assert trust.resolve_key(impostor.kid) is not None
    assert trust.resolve_key(first.kid) is None
    [event] = audit.search(audit.AuditFilter()).filter(action="trust.root_changed")
    assert event.detail["old_fingerprint"] == old_row.root_fingerprint
    assert event.detail["new_fingerprint"] == row.root_fingerprint
    [entry] = ledger.entries("main", row.ledger_index, row.ledger_index + 1)
    assert entry.entry_type == "trust.list_imported"
    assert entry.record_hash == ledger.record_hash({
        "region": "440300000000", "sequence": 2, "document_sha256": row.sha256,
        "root_fingerprint": row.root_fingerprint, "keys": 1,
        "previous_root_fingerprint": old_row.root_fingerprint})


def test_the_same_root_needs_no_confirmation(city: Any) -> None:
    from yiwang.core.audit import service as audit

    first = make_foreign_list(sequence=1)
    trust.import_trust_list(first.raw, fingerprint=first.fingerprint)
    later = make_foreign_list(sequence=2, root_key=first.root_key, root_der=first.root_der)
    assert trust.import_trust_list(later.raw, fingerprint=later.fingerprint).sequence == 2
    assert not audit.search(audit.AuditFilter()).filter(action="trust.root_changed").exists()


def test_a_list_signed_without_the_trust_list_usage_is_refused(city: Any) -> None:
    """Any certificate under the root (a licence key's, say) could otherwise sign a list
    for the whole region (review L1)."""
    made = make_foreign_list(signer_usage="licence")
    with pytest.raises(ValidationError) as refused:
        trust.import_trust_list(made.raw, fingerprint=made.fingerprint)
    assert _code(refused) == "signer_usage"
    assert pki.TSL_SIGNING_OID in refused.value.messages[0]
    assert trust.list_imported() == []


def test_a_list_signed_by_a_revoked_signer_is_refused(city: Any) -> None:
    """The signer must not be on the list's own CRL, nor on the CRL of the region's list
    imported before (a later list cannot simply leave the CRL out)."""
    first = make_foreign_list(sequence=1)
    revoked = make_foreign_list(sequence=1, root_key=first.root_key, root_der=first.root_der,
                                list_key=first.list_key, list_cert=first.list_cert,
                                revoked=(first.signer_serial,))
    with pytest.raises(ValidationError) as refused:
        trust.import_trust_list(revoked.raw, fingerprint=revoked.fingerprint)
    assert _code(refused) == "signer_revoked"
    assert format(first.signer_serial, "X") in refused.value.messages[0]
    # A list by a new signer whose CRL names the old one imports...
    renewed = make_foreign_list(sequence=2, root_key=first.root_key, root_der=first.root_der,
                                revoked=(first.signer_serial,))
    trust.import_trust_list(renewed.raw, fingerprint=renewed.fingerprint)
    # ...and the old signer stays refused though its list carries no CRL.
    replay = make_foreign_list(sequence=3, root_key=first.root_key, root_der=first.root_der,
                               list_key=first.list_key, list_cert=first.list_cert)
    with pytest.raises(ValidationError) as refused:
        trust.import_trust_list(replay.raw, fingerprint=replay.fingerprint)
    assert _code(refused) == "signer_revoked"
    assert [r.sequence for r in trust.list_imported()] == [2]


def test_a_crl_not_signed_by_the_lists_root_is_refused(city: Any) -> None:
    from yiwang.support.trust.tests.conftest import ecdsa_signer

    made = make_foreign_list(revoked=(12345,))
    document = json.loads(made.raw)
    other = make_foreign_list(revoked=(12345,))
    document["crls"] = json.loads(other.raw)["crls"]
    proof = document.pop("proof")
    raw = trustlist.sign(document, algorithm="ecdsa-p256",
                         certificate_der=pki.pem_to_der(proof["certificate"].encode()),
                         signer=ecdsa_signer(made.list_key), created=pki.now())
    with pytest.raises(ValidationError) as refused:
        trust.import_trust_list(raw, fingerprint=made.fingerprint)
    assert _code(refused) == "certificate"


def test_publishing_reissues_a_signer_certificate_without_the_usage(
        city: Any, settings: Any, monkeypatch: Any) -> None:
    """Lists published before signer certificates carried the trust-list usage: the next
    publish (which the hourly task triggers) certifies the key again, revoking the old
    certificate as superseded, and the new list imports elsewhere."""
    from yiwang.support.trust.models import Certificate

    monkeypatch.setattr(pki, "_EXTENDED_KEY_USAGE", {"tsa": "time_stamping"})
    old = trust.publish_trust_list()
    monkeypatch.undo()
    old_signer = pki.load_certificate(json.loads(bytes(old.document))["proof"]["certificate"]
                                      .encode())
    assert not pki.has_usage(old_signer, "trust-list")
    assert trust.trust_list_outdated()
    new = trust.publish_trust_list()
    signer = pki.load_certificate(json.loads(bytes(new.document))["proof"]["certificate"]
                                  .encode())
    assert pki.has_usage(signer, "trust-list")
    assert signer.serial_number != old_signer.serial_number
    row = Certificate.objects.get(serial=format(old_signer.serial_number, "x"))
    assert (row.status, row.revocation_reason) == ("revoked", "superseded")
    assert not trust.trust_list_outdated()
    raw, fingerprint = bytes(new.document), trust.trust_list_fingerprint()
    settings.YIWANG_TRUST_REGION_CODE = "440300000000"  # the same database as region B
    settings.YIWANG_PUBLIC_URL = "https://b.example.gov.cn"
    with pytest.raises(ValidationError) as refused:
        trust.import_trust_list(bytes(old.document), fingerprint=fingerprint)
    assert _code(refused) == "signer_usage"
    assert trust.import_trust_list(raw, fingerprint=fingerprint).sequence == 2


@pytest.mark.parametrize("depth", [500, 900])
def test_deeply_nested_content_is_malformed_not_a_crash(city: Any, foreign: ForeignList,
                                                        depth: int) -> None:
    """JSON that parses but nests deeply (in a field nobody reads) is refused as malformed
    or as not signed, never a RecursionError (review H3)."""
    document = json.loads(foreign.raw)
    nested: Any = []
    for _ in range(depth):
        nested = [nested]
    document["extra"] = nested
    raw = json.dumps(document, ensure_ascii=False).encode()
    with pytest.raises(ValidationError) as refused:
        trust.import_trust_list(raw, fingerprint=foreign.fingerprint)
    assert _code(refused) in ("malformed", "signature")


def _resigned(made: Any, document: dict[str, Any]) -> bytes:
    from yiwang.support.trust.tests.conftest import ecdsa_signer

    proof = document.pop("proof")
    return trustlist.sign(document, algorithm="ecdsa-p256",
                          certificate_der=pki.pem_to_der(proof["certificate"].encode()),
                          signer=ecdsa_signer(made.list_key), created=pki.now())


def test_a_key_certificate_from_another_ca_is_refused(city: Any) -> None:
    """A listed key's certificate must come from the list's own root (review H2 item 2)."""
    made, other = make_foreign_list(), make_foreign_list()
    document = json.loads(made.raw)
    stranger = json.loads(other.raw)["issuers"][0]["keys"][0]
    key = document["issuers"][0]["keys"][0]
    key["certificate"], key["publicKey"] = stranger["certificate"], stranger["publicKey"]
    with pytest.raises(ValidationError) as refused:
        trust.import_trust_list(_resigned(made, document), fingerprint=made.fingerprint)
    assert _code(refused) == "certificate"
    assert "root" in refused.value.messages[0]
    assert trust.list_imported() == []


def test_a_key_certificate_for_another_key_is_refused(city: Any) -> None:
    made, other = make_foreign_list(), make_foreign_list()
    document = json.loads(made.raw)
    document["issuers"][0]["keys"][0]["publicKey"] = \
        json.loads(other.raw)["issuers"][0]["keys"][0]["publicKey"]
    with pytest.raises(ValidationError) as refused:
        trust.import_trust_list(_resigned(made, document), fingerprint=made.fingerprint)
    assert _code(refused) == "certificate"
    assert "another key" in refused.value.messages[0]
