"""RFC 9162 Merkle tree hashing and proofs (the algorithms of RFC 6962, as revised).

Pure functions: no Django, no storage. Where a proof needs the hash of part of the tree,
it asks a ``SubtreeHash`` callable for the hash of a *perfect, aligned* subtree
(``start`` a multiple of ``2**height``), which the tile store answers with one tile read
and the in-memory helpers answer from a list of leaf hashes. Every other range hash is
built from those (RFC 9162 §2.1.1: MTH splits at the largest power of two below ``n``).

Verification raises :class:`ProofError` whose ``reason`` names exactly what failed; it never
returns a bare ``False`` that a caller could forget to check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
ALGORITHMS = ("sha256", "sm3")


class ProofError(ValueError):
    """A proof did not verify. ``reason`` is a short English name of what failed (for logs,
    API responses and auditors); ``str(error)`` says it in a sentence."""

    def __init__(self, reason: str, message: str = "") -> None:
        self.reason = reason
        super().__init__(message or reason)


def _sm3(data: bytes) -> bytes:
    # Imported lazily so this module stays importable without Django settings.
    from yiwang.core.crypto import service as crypto

    return crypto.digest(data, "sm3")


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@dataclass(frozen=True)
class Hasher:
    """RFC 9162 §2.1.1 hashing with a 32-byte hash function (SHA-256 by default, or SM3)."""

    algorithm: str
    digest: Callable[[bytes], bytes]

    def empty_root(self) -> bytes:
        """MTH({}) = HASH()."""
        return self.digest(b"")

    def hash_leaf(self, data: bytes) -> bytes:
        """MTH({d}) = HASH(0x00 || d)."""
        return self.digest(LEAF_PREFIX + data)

    def hash_children(self, left: bytes, right: bytes) -> bytes:
        """HASH(0x01 || left || right)."""
        return self.digest(NODE_PREFIX + left + right)


SHA256 = Hasher("sha256", _sha256)
SM3 = Hasher("sm3", _sm3)


def hasher_for(algorithm: str) -> Hasher:
    """The hasher of a log's hash algorithm (``sha256`` or ``sm3``)."""
    if algorithm == "sha256":
        return SHA256
    if algorithm == "sm3":
        return SM3
    raise ValueError(f"unknown ledger hash algorithm {algorithm!r}")


def largest_power_of_two_below(n: int) -> int:
    """k = the largest power of two with k < n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(hasher: Hasher, leaves: Sequence[bytes]) -> bytes:
    """MTH over a list of *leaf hashes* (not leaf data), iteratively, pairing left to right.

    For 2**k hashes this is the perfect subtree; for other counts the lone rightmost node
    is carried up unchanged, which is exactly RFC 9162's split at the largest power of two.
    """
    if not leaves:
        return hasher.empty_root()
    level = list(leaves)
    while len(level) > 1:
        nxt = [hasher.hash_children(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


# (start, height) -> hash of the perfect subtree over leaves [start, start + 2**height).
SubtreeHash = Callable[[int, int], bytes]


def range_hash(hasher: Hasher, subtree: SubtreeHash, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range whose start is aligned as in RFC 9162's recursion."""
    n = end - start
    if n <= 0:
        return hasher.empty_root()
    if n & (n - 1) == 0 and start % n == 0:
        return subtree(start, n.bit_length() - 1)
    k = largest_power_of_two_below(n)
    return hasher.hash_children(subtree(start, k.bit_length() - 1),
                                range_hash(hasher, subtree, start + k, end))


def inclusion_path(hasher: Hasher, subtree: SubtreeHash, index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1, leaf to root."""
    if not 0 <= index < size:
        raise ProofError("index out of range", f"leaf {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    # Walk down from the root, remembering siblings; reversed at the end (leaf first).
    while end - start > 1:
        k = largest_power_of_two_below(end - start)
        if index < start + k:
            path.append(range_hash(hasher, subtree, start + k, end))
            end = start + k
        else:
            path.append(range_hash(hasher, subtree, start, start + k))
            start = start + k
    path.reverse()
    return path


def consistency_path(hasher: Hasher, subtree: SubtreeHash, old: int, new: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1 (SUBPROOF with b = true)."""
    if not 0 <= old <= new:
        raise ProofError("sizes out of order", f"cannot prove {old} -> {new}")
    if old == 0 or old == new:
        return []
    proof: list[bytes] = []
    start, end, m, complete = 0, new, old, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                proof.append(range_hash(hasher, subtree, start, end))
            break
        k = largest_power_of_two_below(n)
        if m <= k:
            proof.append(range_hash(hasher, subtree, start + k, end))
            end = start + k
        else:
            proof.append(range_hash(hasher, subtree, start, start + k))
            start, m, complete = start + k, m - k, False
    proof.reverse()
    return proof


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"malformed {what}", f"the {what} is {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion(hasher: Hasher, index: int, size: int, leaf_hash: bytes,
                        proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1-4)."""
    if not 0 <= index < size:
        raise ProofError("index out of range", f"leaf {index} is not in a tree of size {size}")
    _check_hash(leaf_hash, "leaf hash")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        _check_hash(p, "proof hash")
        if sn == 0:
            raise ProofError("proof too long", "the inclusion proof has more hashes than the "
                                               "tree has levels above the leaf")
        if fn & 1 or fn == sn:
            r = hasher.hash_children(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hasher.hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof too short", "the inclusion proof ends before the root "
                                            "(truncated)")
    return r


def verify_inclusion(hasher: Hasher, index: int, size: int, leaf_hash: bytes,
                     proof: Sequence[bytes], root: bytes) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows leaf ``index`` in the tree ``root``."""
    _check_hash(root, "root hash")
    if root_from_inclusion(hasher, index, size, leaf_hash, proof) != root:
        raise ProofError("root mismatch", "the inclusion proof leads to a different root "
                                          "hash than the tree head's")


def verify_consistency(hasher: Hasher, old: int, new: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows tree ``new`` extends tree ``old``
    (RFC 9162 §2.1.4.2)."""
    if old > new:
        raise ProofError("tree shrank", f"a tree of size {new} cannot extend one of size {old}")
    if old == new:
        if proof:
            raise ProofError("proof too long", "two trees of the same size need an empty proof")
        if old_root != new_root:
            raise ProofError("root mismatch", f"two different root hashes for size {old}")
        return
    if old == 0:
        if proof:
            raise ProofError("proof too long", "an empty tree needs an empty proof")
        return
    if not proof:
        raise ProofError("proof too short", "the consistency proof is empty")
    _check_hash(old_root, "old root hash")
    _check_hash(new_root, "new root hash")
    for p in proof:
        _check_hash(p, "proof hash")
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("proof too long", "the consistency proof has more hashes than "
                                               "the trees need")
        if fn & 1 or fn == sn:
            fr = hasher.hash_children(c, fr)
            sr = hasher.hash_children(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hasher.hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof too short", "the consistency proof ends before the new root "
                                            "(truncated)")
    if fr != old_root:
        raise ProofError("old root mismatch", "the consistency proof does not lead to the "
                                              "old tree's root hash")
    if sr != new_root:
        raise ProofError("new root mismatch", "the consistency proof does not lead to the "
                                              "new tree's root hash")


class MemoryTree:
    """A tree held as a list of leaf hashes: for tests, exports and offline verification."""

    def __init__(self, hasher: Hasher, leaf_hashes: Sequence[bytes] = ()) -> None:
        self.hasher = hasher
        self.leaves: list[bytes] = []
        # levels[h][i] = hash of the perfect subtree [i * 2**h, (i+1) * 2**h)
        self._levels: list[list[bytes]] = [self.leaves]
        self.extend(leaf_hashes)

    def append(self, leaf_hash: bytes) -> None:
        self.leaves.append(leaf_hash)
        h = 0
        while True:
            level = self._levels[h]
            if len(level) % 2:
                break
            if len(self._levels) == h + 1:
                self._levels.append([])
            self._levels[h + 1].append(self.hasher.hash_children(level[-2], level[-1]))
            h += 1

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        for leaf in leaf_hashes:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self.leaves)

    def subtree(self, start: int, height: int) -> bytes:
        try:
            return self._levels[height][start >> height]
        except IndexError:
            raise ProofError("index out of range", "no such subtree") from None

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if size > self.size:
            raise ProofError("index out of range", f"the tree has only {self.size} leaves")
        return range_hash(self.hasher, self.subtree, 0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        if size > self.size:
            raise ProofError("index out of range", f"the tree has only {self.size} leaves")
        return inclusion_path(self.hasher, self.subtree, index, size)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = self.size if new is None else new
        if new > self.size:
            raise ProofError("index out of range", f"the tree has only {self.size} leaves")
        return consistency_path(self.hasher, self.subtree, old, new)
