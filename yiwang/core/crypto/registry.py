"""Algorithms by name. Built-in: ``sha256``, ``sm3``, ``aes-256-gcm``, ``sm4-gcm``, and the
signatures ``ed25519``, ``ecdsa-p256`` (``signatures.py``) and ``sm2`` (``sm2.py``).

Plugins (an SM2 or Ed25519 signer, an HSM-backed cipher) call :func:`register` from their
app's ``ready()``; callers ask for algorithms by name with :func:`get_hash`,
:func:`get_cipher` and :func:`get_signature`.
"""

from __future__ import annotations

from collections.abc import Mapping

from yiwang.core.crypto import pyca, signatures, sm2
from yiwang.core.crypto.base import AeadCipher, CryptoError, HashAlgorithm, SignatureAlgorithm

Algorithm = HashAlgorithm | AeadCipher | SignatureAlgorithm


class UnknownAlgorithm(CryptoError, LookupError):
    """No algorithm of that kind is registered under that name."""


_hashes: dict[str, HashAlgorithm] = {}
_ciphers: dict[str, AeadCipher] = {}
_signatures: dict[str, SignatureAlgorithm] = {}


def register(algorithm: Algorithm, *, replace: bool = False) -> None:
    """Make ``algorithm`` available under its ``name``.

    Registering a second algorithm of the same kind and name is an error unless
    ``replace`` is true (a plugin deliberately taking over, e.g. an HSM for ``sm4-gcm``).
    """
    table: dict[str, HashAlgorithm] | dict[str, AeadCipher] | dict[str, SignatureAlgorithm]
    if isinstance(algorithm, HashAlgorithm):
        table = _hashes
    elif isinstance(algorithm, AeadCipher):
        table = _ciphers
    elif isinstance(algorithm, SignatureAlgorithm):
        table = _signatures
    else:
        raise TypeError(f"not an algorithm: {algorithm!r}")
    if algorithm.name in table and not replace:
        raise ValueError(f"an algorithm named {algorithm.name!r} is already registered")
    table[algorithm.name] = algorithm  # type: ignore[assignment]


def unregister(algorithm: Algorithm) -> None:
    """Remove ``algorithm`` (for tests of plugins)."""
    for table in (_hashes, _ciphers, _signatures):
        if table.get(algorithm.name) is algorithm:
            del table[algorithm.name]


def _unknown(kind: str, name: str, table: Mapping[str, object]) -> UnknownAlgorithm:
    known = ", ".join(sorted(table)) or "none"
    return UnknownAlgorithm(f"no {kind} algorithm named {name!r} (known: {known})")


def get_hash(name: str) -> HashAlgorithm:
    """The hash algorithm registered as ``name``; raises :class:`UnknownAlgorithm`."""
    if name not in _hashes:
        raise _unknown("hash", name, _hashes)
    return _hashes[name]


def get_cipher(name: str) -> AeadCipher:
    """The AEAD cipher registered as ``name``; raises :class:`UnknownAlgorithm`."""
    if name not in _ciphers:
        raise _unknown("cipher", name, _ciphers)
    return _ciphers[name]


def get_signature(name: str) -> SignatureAlgorithm:
    """The signature algorithm registered as ``name``; raises :class:`UnknownAlgorithm`."""
    if name not in _signatures:
        raise _unknown("signature", name, _signatures)
    return _signatures[name]


def names() -> dict[str, list[str]]:
    """Registered algorithm names by kind."""
    return {"hash": sorted(_hashes), "cipher": sorted(_ciphers),
            "signature": sorted(_signatures)}


for _builtin in (pyca.Sha256(), pyca.Sm3(), pyca.Aes256Gcm(), pyca.Sm4Gcm(),
                 signatures.Ed25519(), signatures.EcdsaP256(), sm2.Sm2()):
    register(_builtin)
