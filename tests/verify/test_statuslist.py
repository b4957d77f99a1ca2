"""Bitstring Status List: encoding as the spec writes it, and status checks offline."""

from __future__ import annotations

import base64
import datetime as dt
import gzip

import pytest

from yiwang.verify import dataintegrity as di
from yiwang.verify import statuslist as sl

NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
LIST_URL = "https://yiwang.example/credentials/status/3"
ISSUER = "11440300MB2C93285X"
VM = "https://yiwang.example/trust/keys/k-ed"
# Bitstring Status List v1.0, Example 1/3: an empty list of 131,072 entries.
SPEC_EMPTY = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def test_spec_example_decodes_to_an_empty_list() -> None:
    status = sl.StatusList.decode(SPEC_EMPTY)
    assert len(status) == 131_072
    assert not any(status.bits)


def test_encoding_round_trip_and_bit_order() -> None:
    status = sl.StatusList()
    status.set(0)
    status.set(94567)
    status.set(131_071)
    encoded = status.encode()
    assert encoded.startswith("u") and "=" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) == 16 * 1024
    assert raw[0] == 0x80  # index 0 is the left-most bit
    assert raw[-1] == 0x01
    decoded = sl.StatusList.decode(encoded)
    assert [decoded.get(i) for i in (0, 1, 94566, 94567, 131_071)] == [1, 0, 0, 1, 1]
    decoded.set(94567, False)
    assert decoded.get(94567) == 0
    assert sl.status_of(encoded, 94567) == 1


def test_empty_list_encodes_small() -> None:
    assert len(sl.StatusList().encode()) < 100


@pytest.mark.parametrize("bad", [
    None, "", "zabc", "u!!!", "u" + base64.urlsafe_b64encode(b"not gzip").decode(),
    "u" + base64.urlsafe_b64encode(gzip.compress(bytes(100), mtime=0)).decode().rstrip("="),
    "u" + base64.urlsafe_b64encode(gzip.compress(bytes(16384), mtime=0)[:-10]).decode().rstrip("="),
])
def test_bad_encoded_lists(bad) -> None:
    with pytest.raises(sl.StatusListError):
        sl.StatusList.decode(bad)


def test_index_out_of_range() -> None:
    with pytest.raises(IndexError):
        sl.StatusList().get(131_072)
    with pytest.raises(ValueError):
        sl.StatusList(length=1000)


# --- checking a credential's status against cached lists -------------------------------------

def _list_credential(ed_key, status: sl.StatusList, purpose: str = "revocation",
                     issuer: str = ISSUER, list_url: str = LIST_URL, vm: str = VM,
                     **kw) -> dict:
    kw.setdefault("valid_from", dt.datetime(2024, 5, 1, tzinfo=dt.UTC))
    kw.setdefault("valid_until", dt.datetime(2024, 7, 1, tzinfo=dt.UTC))
    unsigned = sl.status_list_credential(list_url=list_url, issuer=issuer, purpose=purpose,
                                         status_list=status, **kw)
    return di.add_proof(unsigned, verification_method=vm, sign=ed_key.sign,
                        created="2024-05-01T00:00:00Z")


def _credential(purpose: str = "revocation", index: int = 42) -> dict:
    return {"issuer": ISSUER,
            "credentialStatus": sl.status_entry(list_url=LIST_URL, index=index, purpose=purpose)}


@pytest.fixture
def resolver(ed_key):
    return lambda vm: ed_key.info() if vm == VM else None


def test_status_list_credential_is_a_verifiable_credential(ed_key, resolver) -> None:
    credential = _list_credential(ed_key, sl.StatusList())
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["credentialSubject"]["type"] == "BitstringStatusList"
    assert di.verify_proof(credential, resolver, now=NOW).valid


def test_not_revoked_revoked_suspended(ed_key, resolver) -> None:
    status = sl.StatusList()
    lists = {LIST_URL: _list_credential(ed_key, status)}
    [check] = sl.check_status(_credential(), lists, resolver, now=NOW)
    assert check.ok and "not revoked" in check.message

    status.set(42)
    lists = {LIST_URL: _list_credential(ed_key, status)}
    [check] = sl.check_status(_credential(), lists, resolver, now=NOW)
    assert not check.ok and check.message == "证照已吊销 (revoked)"

    lists = {LIST_URL: _list_credential(ed_key, status, purpose="suspension")}
    [check] = sl.check_status(_credential("suspension"), lists.get, resolver, now=NOW)
    assert not check.ok and check.message == "证照已中止 (suspended)"


@pytest.mark.parametrize(("case", "expected"), [
    ("missing", "not available"),
    ("forged", "not valid"),
    ("other-issuer", "signed by a key of another issuer"),
    ("wrong-purpose", "purpose does not match"),
    ("index", "outside the list"),
    ("bad-index", "not an integer"),
    ("stale", "status list expired at 2024-05-02T00:00:00Z"),
    ("not-yet", "status list not yet valid"),
    ("wrong-id", "is not the entry's statusListCredential"),
    ("wrong-type", "type does not include BitstringStatusListCredential"),
])
def test_status_failures_are_named(ed_key, resolver, case, expected) -> None:
    good = _list_credential(ed_key, sl.StatusList())
    credential = _credential()
    lists = {LIST_URL: good}
    if case == "missing":
        lists = {}
    elif case == "forged":
        lists = {LIST_URL: {**good, "credentialSubject": {
            **good["credentialSubject"], "encodedList": sl.StatusList().encode() + "A"}}}
    elif case == "other-issuer":
        lists = {LIST_URL: _list_credential(ed_key, sl.StatusList(), issuer="other")}
    elif case == "wrong-purpose":
        lists = {LIST_URL: _list_credential(ed_key, sl.StatusList(), purpose="suspension")}
    elif case == "index":
        credential = _credential(index=200_000)
    elif case == "bad-index":
        credential["credentialStatus"]["statusListIndex"] = "forty-two"
    elif case == "stale":
        lists = {LIST_URL: _list_credential(
            ed_key, sl.StatusList(), valid_until=dt.datetime(2024, 5, 2, tzinfo=dt.UTC))}
    elif case == "not-yet":
        lists = {LIST_URL: _list_credential(
            ed_key, sl.StatusList(), valid_from=dt.datetime(2024, 6, 1, 0, 6, tzinfo=dt.UTC))}
    elif case == "wrong-id":  # another list of the same issuer, served at this list's URL
        lists = {LIST_URL: _list_credential(ed_key, sl.StatusList(),
                                            list_url=LIST_URL.replace("/3", "/4"))}
    elif case == "wrong-type":
        unsigned = sl.status_list_credential(list_url=LIST_URL, issuer=ISSUER,
                                             purpose="revocation", status_list=sl.StatusList())
        unsigned["type"] = ["VerifiableCredential"]
        lists = {LIST_URL: di.add_proof(unsigned, verification_method=VM, sign=ed_key.sign,
                                        created="2024-05-01T00:00:00Z")}
    [check] = sl.check_status(credential, lists, resolver, now=NOW)
    assert not check.ok
    assert check.name == "status"
    assert expected in check.message


def test_no_status_entry_passes_with_a_note(resolver) -> None:
    [check] = sl.check_status({"issuer": ISSUER}, {}, resolver)
    assert check.ok and "no status" in check.message


# --- what a replayed, borrowed or expired list must not get past (review M4) ---------------

OTHER_ISSUER = "11440300MB2C00000Y"
OTHER_VM = "https://yiwang.example/trust/keys/k-other"


@pytest.fixture
def two_issuers(ed_key, p256_key):
    """ISSUER's key (VM) and another trusted issuer's key (OTHER_VM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from tests.verify.conftest import TestKey

    other = ed25519.Ed25519PrivateKey.generate()
    spki = other.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    other_key = TestKey("ed25519", other, spki, "k-other")
    infos = {VM: ed_key.info(), OTHER_VM: other_key.info(issuer_id=OTHER_ISSUER)}
    return other_key, infos.get


def test_a_list_signed_by_another_issuers_key_is_refused(ed_key, two_issuers) -> None:
    """Another trusted issuer's key signs a list that claims to be ISSUER's: refused, though
    the proof itself verifies with a trusted key."""
    other_key, resolver = two_issuers
    forged = _list_credential(other_key, sl.StatusList(), vm=OTHER_VM)  # issuer: ISSUER
    assert di.verify_proof(forged, resolver, now=NOW).valid  # the proof alone is fine
    [check] = sl.check_status(_credential(), {LIST_URL: forged}, resolver, now=NOW)
    assert not check.ok
    assert f"another issuer: {OTHER_ISSUER}, not {ISSUER}" in check.message
    # The same list, signed by the issuer's own key, is accepted.
    [check] = sl.check_status(_credential(), {LIST_URL: _list_credential(
        ed_key, sl.StatusList())}, resolver, now=NOW)
    assert check.ok


def test_a_list_of_another_issuer_for_the_credential_is_refused(two_issuers) -> None:
    """A genuine list of another issuer (its own key, its own issuer) is no status of ours."""
    other_key, resolver = two_issuers
    theirs = _list_credential(other_key, sl.StatusList(), vm=OTHER_VM, issuer=OTHER_ISSUER)
    [check] = sl.check_status(_credential(), {LIST_URL: theirs}, resolver, now=NOW)
    assert not check.ok and "not issued by the credential's issuer" in check.message


def test_a_list_with_another_id_is_refused_even_if_the_bit_is_clear(ed_key, resolver) -> None:
    """Replaying list 4 (bit 42 clear) where list 3 (bit 42 set) belongs."""
    revoked = sl.StatusList()
    revoked.set(42)
    other = _list_credential(ed_key, sl.StatusList(), list_url=LIST_URL.replace("/3", "/4"))
    [check] = sl.check_status(_credential(), {LIST_URL: other}, resolver, now=NOW)
    assert not check.ok and "not revoked" not in check.message
    assert LIST_URL.replace("/3", "/4") in check.message
    [check] = sl.check_status(_credential(), {LIST_URL: _list_credential(ed_key, revoked)},
                              resolver, now=NOW)
    assert check.message == "证照已吊销 (revoked)"


@pytest.mark.parametrize(("minutes", "ok"), [(-10, True), (4, True), (6, False), (60, False)])
def test_list_expiry_with_the_clock_allowance(ed_key, resolver, minutes, ok) -> None:
    """A list is accepted up to CLOCK_SKEW (5 min) past its validUntil, then its status is
    unknown: a failed check naming the expiry, never "not revoked"."""
    until = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)
    lists = {LIST_URL: _list_credential(ed_key, sl.StatusList(), valid_until=until)}
    now = until + dt.timedelta(minutes=minutes)
    [check] = sl.check_status(_credential(), lists, resolver, now=now)
    assert check.ok is ok
    if ok:
        assert check.message == "未吊销 (not revoked)"
    else:
        assert check.message == ("状态列表已于 2024-06-01T12:00:00Z 过期，状态未知 (status list "
                                 "expired at 2024-06-01T12:00:00Z; status unknown)")


@pytest.mark.parametrize(("hours", "ok"), [(1, True), (24, True), (24.1, False),
                                           (24 * 365 * 16, False)])
def test_a_list_without_valid_until_is_accepted_up_to_a_maximum_age(ed_key, resolver, hours,
                                                                    ok) -> None:
    """Review A-M3: lists signed before they carried validUntil would otherwise hide a
    later revocation for ever; they count for 24 hours after validFrom (+ clock skew)."""
    issued = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    credential = _list_credential(ed_key, sl.StatusList(), valid_from=issued, valid_until=None)
    assert "validUntil" not in credential
    now = issued + dt.timedelta(hours=hours)
    [check] = sl.check_status(_credential(), {LIST_URL: credential}, resolver, now=now)
    assert check.ok is ok
    if not ok:
        assert "status list has no validUntil" in check.message
        assert "2024-06-01T00:00:00Z" in check.message and "status unknown" in check.message


def test_the_maximum_age_is_a_parameter(ed_key, resolver) -> None:
    issued = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    lists = {LIST_URL: _list_credential(ed_key, sl.StatusList(), valid_from=issued,
                                        valid_until=None)}
    now = issued + dt.timedelta(hours=3)
    [check] = sl.check_status(_credential(), lists, resolver, now=now,
                              max_age=dt.timedelta(hours=2))
    assert not check.ok and "more than 2 h ago" in check.message
    [check] = sl.check_status(_credential(), lists, resolver, now=now,
                              max_age=dt.timedelta(hours=6))
    assert check.ok
    assert dt.timedelta(hours=24) == sl.MAX_AGE_WITHOUT_VALID_UNTIL


def test_a_list_with_neither_valid_until_nor_valid_from_is_refused(ed_key, resolver) -> None:
    unsigned = sl.status_list_credential(list_url=LIST_URL, issuer=ISSUER, purpose="revocation",
                                         status_list=sl.StatusList())
    unsigned.pop("validFrom")
    lists = {LIST_URL: di.add_proof(unsigned, verification_method=VM, sign=ed_key.sign,
                                    created="2024-05-01T00:00:00Z")}
    [check] = sl.check_status(_credential(), lists, resolver, now=NOW)
    assert not check.ok and "neither validUntil nor validFrom" in check.message


def test_a_list_just_built_is_valid_within_the_clock_allowance(ed_key, resolver) -> None:
    """validFrom a few minutes ahead of the verifier's clock is allowed (clock skew)."""
    lists = {LIST_URL: _list_credential(
        ed_key, sl.StatusList(), valid_from=NOW + dt.timedelta(minutes=4))}
    [check] = sl.check_status(_credential(), lists, resolver, now=NOW)
    assert check.ok


def test_a_list_with_a_malformed_validity_period_is_refused(ed_key, resolver) -> None:
    unsigned = sl.status_list_credential(list_url=LIST_URL, issuer=ISSUER, purpose="revocation",
                                         status_list=sl.StatusList())
    unsigned["validUntil"] = "next tuesday"
    lists = {LIST_URL: di.add_proof(unsigned, verification_method=VM, sign=ed_key.sign,
                                    created="2024-05-01T00:00:00Z")}
    [check] = sl.check_status(_credential(), lists, resolver, now=NOW)
    assert not check.ok and "not a valid date-time" in check.message


def test_missing_status_fails_when_required(resolver) -> None:
    [check] = sl.check_status({"issuer": ISSUER}, {}, resolver, now=NOW, required=True)
    assert not check.ok and check.name == "status"
    assert "no credentialStatus" in check.message
