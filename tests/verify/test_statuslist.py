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
                     issuer: str = ISSUER, **kw) -> dict:
    unsigned = sl.status_list_credential(list_url=LIST_URL, issuer=issuer, purpose=purpose,
                                         status_list=status,
                                         valid_from=dt.datetime(2024, 5, 1, tzinfo=dt.UTC), **kw)
    return di.add_proof(unsigned, verification_method=VM, sign=ed_key.sign,
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
    ("other-issuer", "not issued by"),
    ("wrong-purpose", "purpose does not match"),
    ("index", "outside the list"),
    ("bad-index", "not an integer"),
    ("stale", "outside its validity period"),
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
    [check] = sl.check_status(credential, lists, resolver, now=NOW)
    assert not check.ok
    assert check.name == "status"
    assert expected in check.message


def test_no_status_entry_passes_with_a_note(resolver) -> None:
    [check] = sl.check_status({"issuer": ISSUER}, {}, resolver)
    assert check.ok and "no status" in check.message
