"""RFC 6962 / RFC 9162 test vectors as published with transparency-dev/merkle
(``rfc6962/rfc6962_test.go`` and ``proof/verify_test.go``): leaf inputs, the root of each
tree size 1..8, and the inclusion and consistency proofs. Values copied as data."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yiwang.enablement.ledger import merkle
from yiwang.enablement.ledger.merkle import SHA256, MemoryTree, ProofError


def h(text: str) -> bytes:
    return bytes.fromhex(text)


LEAVES = [h(""), h("00"), h("10"), h("2021"), h("3031"), h("40414243"),
          h("5051525354555657"), h("606162636465666768696a6b6c6d6e6f")]
ROOTS = [h(x) for x in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
# (leaf number counting from 1, tree size, proof)
INCLUSION = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")
EMPTY_TREE = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def tree(size: int = 8) -> MemoryTree:
    return MemoryTree(SHA256, [SHA256.hash_leaf(d) for d in LEAVES[:size]])


def test_hasher_vectors() -> None:
    assert SHA256.empty_root() == EMPTY_TREE
    assert SHA256.hash_leaf(b"") == ROOTS[0]
    assert SHA256.hash_leaf(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    assert SHA256.hash_children(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb")
    assert SHA256.hash_leaf(b"a") != SHA256.hash_children(b"", b"a")


@pytest.mark.parametrize("size", range(1, 9))
def test_roots(size: int) -> None:
    t = tree()
    assert t.root(size) == ROOTS[size - 1]
    assert merkle.root_of(SHA256, t.leaves[:size]) == ROOTS[size - 1]


def test_empty_root() -> None:
    assert MemoryTree(SHA256).root() == EMPTY_TREE


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION)
def test_inclusion_generation_and_verification(leaf: int, size: int, proof: list[str]) -> None:
    t = tree()
    got = t.inclusion_proof(leaf - 1, size)
    assert [p.hex() for p in got] == proof
    merkle.verify_inclusion(SHA256, leaf - 1, size, t.leaves[leaf - 1], got, ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_generation_and_verification(old: int, new: int, proof: list[str]) -> None:
    t = tree()
    got = t.consistency_proof(old, new)
    assert [p.hex() for p in got] == proof
    merkle.verify_consistency(SHA256, old, new, ROOTS[old - 1], ROOTS[new - 1], got)


def _corrupt_inclusion(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes):
    yield index - 1, size, root, leaf, proof
    yield index + 1, size, root, leaf, proof
    yield index ^ 2, size, root, leaf, proof
    yield index, size * 2, root, leaf, proof
    yield index, size // 2, root, leaf, proof
    yield index, size, root, b"WrongLeaf", proof
    yield index, size, EMPTY_TREE, leaf, proof
    yield index, size, SOME_HASH, leaf, proof
    yield index, size, root, leaf, [*proof, b""]
    yield index, size, root, leaf, [*proof, root]
    yield index, size, root, leaf, [b"", *proof]
    yield index, size, root, leaf, [root, *proof]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 8]) + wrong[i][1:]
        yield index, size, root, leaf, wrong
    if proof:
        yield index, size, root, leaf, proof[:-1]
    if len(proof) > 1:
        yield index, size, root, leaf, [proof[0], SOME_HASH, *proof[1:]]


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION[1:])
def test_corrupted_inclusion_proofs_are_refused(leaf: int, size: int, proof: list[str]) -> None:
    good = [h(p) for p in proof]
    leaf_hash = SHA256.hash_leaf(LEAVES[leaf - 1])
    for index, sz, root, lh, pr in _corrupt_inclusion(leaf - 1, size, good, ROOTS[size - 1],
                                                      leaf_hash):
        with pytest.raises(ProofError):
            merkle.verify_inclusion(SHA256, index, sz, lh, pr, root)


def _corrupt_consistency(s1: int, s2: int, r1: bytes, r2: bytes, proof: list[bytes]):
    yield s1 - 1, s2, r1, r2, proof
    yield s1 + 1, s2, r1, r2, proof
    yield s1 ^ 2, s2, r1, r2, proof
    yield s1, s2 * 2, r1, r2, proof
    yield s1, s2 // 2, r1, r2, proof
    yield s1, s2, b"WrongRoot", r2, proof
    yield s1, s2, r1, b"WrongRoot", proof
    yield s1, s2, r2, r1, proof
    yield s1, s2, r1, r2, []
    yield s1, s2, r1, r2, [*proof, b""]
    yield s1, s2, r1, r2, [*proof, r1]
    yield s1, s2, r1, r2, [*proof, r2]
    yield s1, s2, r1, r2, [b"", *proof]
    yield s1, s2, r1, r2, [r1, *proof]
    yield s1, s2, r1, r2, [r2, *proof]
    yield s1, s2, r1, r2, [proof[0], *proof]
    yield s1, s2, r1, r2, proof[:-1]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 16]) + wrong[i][1:]
        yield s1, s2, r1, r2, wrong


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY[1:])
def test_corrupted_consistency_proofs_are_refused(old: int, new: int, proof: list[str]) -> None:
    good = [h(p) for p in proof]
    for s1, s2, r1, r2, pr in _corrupt_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1],
                                                   good):
        with pytest.raises(ProofError):
            merkle.verify_consistency(SHA256, s1, s2, r1, r2, pr)


def test_consistency_edge_cases() -> None:
    r1, r2 = b"don't care 1", b"don't care 2"
    merkle.verify_consistency(SHA256, 0, 0, r1, r1, [])
    merkle.verify_consistency(SHA256, 0, 1, r1, r2, [])
    merkle.verify_consistency(SHA256, 1, 1, r2, r2, [])
    for args in [(0, 0, r1, r2, []), (1, 1, r1, r2, []), (1, 0, r1, r2, []),
                 (2, 1, r1, r2, []), (1, 2, r1, r2, []),
                 (0, 0, EMPTY_TREE, EMPTY_TREE, [EMPTY_TREE]),
                 (0, 1, EMPTY_TREE, EMPTY_TREE, [EMPTY_TREE]),
                 (1, 1, EMPTY_TREE, EMPTY_TREE, [EMPTY_TREE])]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(SHA256, *args)


def test_truncated_proof_is_named() -> None:
    t = tree()
    proof = t.inclusion_proof(5, 8)
    with pytest.raises(ProofError) as caught:
        merkle.verify_inclusion(SHA256, 5, 8, t.leaves[5], proof[:-1], t.root())
    assert caught.value.reason == "proof too short"


@given(st.integers(min_value=1, max_value=300), st.data())
def test_proofs_round_trip_for_any_size(size: int, data: st.DataObject) -> None:
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size)]
    t = MemoryTree(SHA256, leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    old = data.draw(st.integers(min_value=1, max_value=size))
    merkle.verify_inclusion(SHA256, index, size, leaves[index], t.inclusion_proof(index),
                            t.root())
    assert t.root() == merkle.root_of(SHA256, leaves)
    merkle.verify_consistency(SHA256, old, size, t.root(old), t.root(),
                              t.consistency_proof(old))


def test_sm3_hasher_uses_the_sm3_digest() -> None:
    # SM3("abc"), GB/T 32905-2016 appendix A.1
    assert merkle.SM3.digest(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    t = MemoryTree(merkle.SM3, [merkle.SM3.hash_leaf(d) for d in LEAVES])
    proof = t.inclusion_proof(3)
    merkle.verify_inclusion(merkle.SM3, 3, 8, t.leaves[3], proof, t.root())
    assert t.root() != ROOTS[7]


def test_leaf_data_fast_path_is_jcs() -> None:
    import rfc8785

    from yiwang.enablement.ledger import leaves

    for entry_type, h, ts in [("licence.issued", "ab" * 32, 1790000000123),
                              ("a.b", "00" * 32, 0), ("seal.used_x", "f" * 64, 2**53 - 1)]:
        assert leaves.entry_bytes(entry_type, h, ts) == rfc8785.dumps(
            {"type": entry_type, "timestamp": ts, "record_hash": h})
    assert leaves.parse_entry_bytes(leaves.entry_bytes("a.b", "00" * 32, 5)) == (
        "a.b", "00" * 32, 5)
    with pytest.raises(ValueError):
        leaves.parse_entry_bytes(b'{"type":"a.b","timestamp":5,"record_hash":"00"}')


_json_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**53) + 1,
                                                         max_value=2**53 - 1)
                 | st.text(st.characters(blacklist_categories=["Cs"]), max_size=20))
_json = st.recursive(_json_scalars, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


@given(st.dictionaries(st.text(max_size=8), _json, max_size=6))
def test_canonical_records_are_jcs(record: dict) -> None:
    import rfc8785

    from yiwang.enablement.ledger import leaves

    assert leaves.canonical(record) == rfc8785.dumps(record)


def test_canonical_records_with_floats_and_non_ascii_keys_are_jcs() -> None:
    import rfc8785

    from yiwang.enablement.ledger import leaves

    for record in ({"a": 1.0, "b": 1e21, "c": 0.1}, {"证照": "x", "b": 1, "\U0001f600": 2,
                                                     "\uff01": 3}):
        assert leaves.canonical(record) == rfc8785.dumps(record)
