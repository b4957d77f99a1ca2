"""Public facade of the crypto app (密码): hashes, MACs, personal data encryption, blind indexes.

Personal data at rest (``EncryptedTextField`` in ``fields.py``) is encrypted with the data
keys of ``settings.YIWANG_DATA_KEYS`` (comma-separated ``id:base64(32 bytes)``): the first
key encrypts, every listed key decrypts, so keys rotate by prepending a new one and running
``yiwang rotate-data-keys``. The cipher is ``settings.YIWANG_DATA_CIPHER``: ``aes-256-gcm``
(default) or ``sm4-gcm``. Each purpose (column) gets its own key, derived with HKDF (HKDF-SM3
for SM4, HKDF-SHA256 for AES), and the purpose is bound as associated data as well, so a
value copied to another column does not decrypt.

Tokens describe themselves: ``v1$<key id>$<algorithm>$<base64url(nonce+ciphertext+tag)>``;
the key id, algorithm and purpose are all authenticated.

Encrypted columns cannot be searched; store a :func:`blind_index` beside them instead.
"""

from __future__ import annotations

import base64
import binascii
import hmac as _hmac
import re
import threading
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver

from yiwang.conf.env import ConfigError
from yiwang.core.crypto.base import CryptoError, DecryptionError
from yiwang.core.crypto.registry import UnknownAlgorithm, get_cipher, get_hash

if TYPE_CHECKING:
    from yiwang.core.crypto.rotation import FieldReport

__all__ = [
    "CryptoError",
    "DecryptionError",
    "blind_index",
    "count_pending_rotation",
    "current_cipher",
    "current_key_id",
    "decrypt_personal",
    "digest",
    "encrypt_personal",
    "hmac",
    "needs_rotation",
    "rotate_data_keys",
    "self_check",
    "token_key_id",
    "verify_hmac",
]

FORMAT_VERSION = "v1"
DEFAULT_CIPHER = "aes-256-gcm"
CIPHERS = ("aes-256-gcm", "sm4-gcm")
# The KDF hash follows the cipher, so that a deployment choosing SM4 uses 国密 algorithms only.
_KDF_HASH = {"aes-256-gcm": "sha256", "sm4-gcm": "sm3"}
_DATA_SALT = b"yiwang/personal-data/v1"
_INDEX_SALT = b"yiwang/blind-index/v1"
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_SETTINGS = {"YIWANG_DATA_KEYS", "YIWANG_DATA_CIPHER", "YIWANG_INDEX_KEY"}


def _bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data


def digest(data: bytes | str, algorithm: str = "sha256") -> bytes:
    """The hash of ``data`` (text is UTF-8 encoded) with the named algorithm (``sm3``…)."""
    return get_hash(algorithm).digest(_bytes(data))


def hmac(key: bytes, data: bytes | str, algorithm: str = "sha256") -> bytes:
    """HMAC of ``data`` under ``key`` with the named hash algorithm."""
    return get_hash(algorithm).hmac(key, _bytes(data))


def verify_hmac(key: bytes, data: bytes | str, mac: bytes, algorithm: str = "sha256") -> bool:
    """Whether ``mac`` is the HMAC of ``data``, compared in constant time."""
    return _hmac.compare_digest(hmac(key, data, algorithm), mac)


# --- Keys -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DataKey:
    id: str
    secret: bytes = field(repr=False)


@dataclass
class _Keyring:
    keys: tuple[_DataKey, ...]
    by_id: dict[str, _DataKey]
    cipher: str
    index_secret: bytes = field(repr=False)
    derived: dict[tuple[str, str, str], bytes] = field(default_factory=dict, repr=False)


_state: dict[str, _Keyring] = {}
_lock = threading.Lock()


def _decode_secret(variable: str, where: str, text: str) -> bytes:
    try:
        secret = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        # The message never repeats the key material.
        raise ConfigError(variable, f"{where}: the key is not valid base64") from None
    if len(secret) != 32:
        raise ConfigError(variable, f"{where}: the key must be 32 bytes, got {len(secret)}")
    return secret


def _parse_data_keys(raw: object) -> tuple[_DataKey, ...]:
    name = "YIWANG_DATA_KEYS"
    entries = raw.split(",") if isinstance(raw, str) else list(raw or [])  # type: ignore[call-overload]
    entries = [str(e).strip() for e in entries if str(e).strip()]
    if not entries:
        raise ConfigError(name, "no data key configured; expected `id:base64(32 bytes)`")
    keys: list[_DataKey] = []
    for number, entry in enumerate(entries, 1):
        where = f"key {number}"
        key_id, sep, secret = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not _KEY_ID.fullmatch(key_id):
            raise ConfigError(name, f"{where}: expected `id:base64(32 bytes)` with an id of "
                                    "letters, digits, `_`, `-` or `.` (at most 32)")
        if any(k.id == key_id for k in keys):
            raise ConfigError(name, f"{where}: the id {key_id!r} is used twice")
        keys.append(_DataKey(key_id, _decode_secret(name, where, secret)))
    return tuple(keys)


def _load() -> _Keyring:
    keys = _parse_data_keys(getattr(settings, "YIWANG_DATA_KEYS", None))
    cipher = getattr(settings, "YIWANG_DATA_CIPHER", DEFAULT_CIPHER) or DEFAULT_CIPHER
    if cipher not in CIPHERS:
        raise ConfigError("YIWANG_DATA_CIPHER", f"must be one of {', '.join(CIPHERS)}; "
                                                f"got {cipher!r}")
    index_key = getattr(settings, "YIWANG_INDEX_KEY", "") or ""
    # Blind indexes must survive key rotation (new keys are prepended), so without a
    # dedicated YIWANG_INDEX_KEY they are keyed from the *last*, oldest key. Retiring that
    # key changes every blind index: set YIWANG_INDEX_KEY before ever doing so.
    index_secret = (_decode_secret("YIWANG_INDEX_KEY", "the key", index_key) if index_key
                    else keys[-1].secret)
    return _Keyring(keys=keys, by_id={k.id: k for k in keys}, cipher=cipher,
                    index_secret=index_secret)


def _keyring() -> _Keyring:
    ring = _state.get("ring")
    if ring is None:
        with _lock:
            ring = _state.get("ring") or _load()
            _state["ring"] = ring
    return ring


@receiver(setting_changed)
def _reset_keyring(*, setting: str, **kwargs: Any) -> None:
    if setting in _SETTINGS:
        _state.clear()


def _data_key(ring: _Keyring, key: _DataKey, cipher: str, purpose: str) -> bytes:
    cache_key = (key.id, cipher, purpose)
    derived = ring.derived.get(cache_key)
    if derived is None:
        derived = get_hash(_KDF_HASH.get(cipher, "sha256")).hkdf(
            key.secret, length=get_cipher(cipher).key_size, salt=_DATA_SALT,
            info=f"{cipher}|{purpose}".encode(),
        )
        ring.derived[cache_key] = derived
    return derived


def current_key_id() -> str:
    """The id of the key that encrypts new values (the first of YIWANG_DATA_KEYS)."""
    return _keyring().keys[0].id


def current_cipher() -> str:
    """The cipher that encrypts new values (YIWANG_DATA_CIPHER)."""
    return _keyring().cipher


# --- Personal data ----------------------------------------------------------------------


def _check_purpose(purpose: str) -> None:
    if not purpose or not isinstance(purpose, str):
        raise ValueError("purpose must be a non-empty string, such as 'registry.person.phone'")


def _aad(key_id: str, cipher: str, purpose: str) -> bytes:
    return f"{FORMAT_VERSION}${key_id}${cipher}${purpose}".encode()


def encrypt_personal(plaintext: str, purpose: str) -> str:
    """Encrypt ``plaintext`` for storage in the column (or other place) named by ``purpose``.

    Returns a self-describing token ``v1$<key id>$<algorithm>$<data>``. Encrypting the same
    value twice gives different tokens (random nonce); search with :func:`blind_index`.
    """
    if not isinstance(plaintext, str):
        raise TypeError(f"encrypt_personal takes str, not {type(plaintext).__name__}")
    _check_purpose(purpose)
    ring = _keyring()
    key, cipher = ring.keys[0], ring.cipher
    data = get_cipher(cipher).encrypt(_data_key(ring, key, cipher, purpose), plaintext.encode(),
                                      _aad(key.id, cipher, purpose))
    body = base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    return f"{FORMAT_VERSION}${key.id}${cipher}${body}"


def _split(token: str) -> tuple[str, str, str]:
    parts = token.split("$") if isinstance(token, str) else []
    if len(parts) != 4 or parts[0] != FORMAT_VERSION:
        raise DecryptionError(
            "not an encrypted value: expected v1$<key id>$<algorithm>$<data>"
        )
    return parts[1], parts[2], parts[3]


def token_key_id(token: str) -> str:
    """The id of the key that encrypted ``token``; raises :class:`DecryptionError` if malformed."""
    return _split(token)[0]


def needs_rotation(token: str) -> bool:
    """Whether ``token`` was made with another key or cipher than the current ones."""
    key_id, cipher, _body = _split(token)
    ring = _keyring()
    return key_id != ring.keys[0].id or cipher != ring.cipher


def decrypt_personal(token: str, purpose: str) -> str:
    """Decrypt a token made by :func:`encrypt_personal` for the same ``purpose``.

    Raises :class:`DecryptionError` when the token is malformed, its key is no longer
    configured, or it fails authentication (tampered, or made for another purpose).
    """
    _check_purpose(purpose)
    key_id, cipher, body = _split(token)
    ring = _keyring()
    key = ring.by_id.get(key_id)
    if key is None:
        raise DecryptionError(f"the key {key_id!r} of this value is not in YIWANG_DATA_KEYS")
    try:
        algorithm = get_cipher(cipher)
        data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except UnknownAlgorithm:
        raise DecryptionError(f"unknown cipher {cipher!r} in the token") from None
    except (binascii.Error, ValueError):
        raise DecryptionError("the token's data is not valid base64") from None
    try:
        plain = algorithm.decrypt(_data_key(ring, key, cipher, purpose), data,
                                  _aad(key_id, cipher, purpose))
    except DecryptionError:
        raise DecryptionError(
            f"cannot decrypt a value for purpose {purpose!r} with key {key_id!r}: the token "
            "was altered or encrypted for another purpose"
        ) from None
    return plain.decode()


def _normalise_for_index(value: str) -> str:
    # NFKC folds full-width forms (１２３ → 123); casefold makes x/X and Latin names match.
    text = unicodedata.normalize("NFKC", value)
    return " ".join(text.split()).casefold()


def blind_index(value: str, purpose: str) -> str:
    """A keyed hash of ``value`` to store beside its encrypted column and search by.

    HMAC-SHA256 (hex, 64 characters) of the value normalised by NFKC, whitespace collapsing
    and case folding, under a key derived per ``purpose`` from ``YIWANG_INDEX_KEY`` — or,
    when that is unset, from the *last* (oldest) data key, so that rotating data keys by
    prepending does not change indexes. Equal values give equal indexes within a purpose.
    """
    if not isinstance(value, str):
        raise TypeError(f"blind_index takes str, not {type(value).__name__}")
    _check_purpose(purpose)
    ring = _keyring()
    cache_key = ("#index", "sha256", purpose)
    key = ring.derived.get(cache_key)
    if key is None:
        key = get_hash("sha256").hkdf(ring.index_secret, length=32, salt=_INDEX_SALT,
                                      info=purpose.encode())
        ring.derived[cache_key] = key
    return get_hash("sha256").hmac(key, _normalise_for_index(value).encode()).hex()


# --- Operations -------------------------------------------------------------------------


def self_check(*, database: bool = False) -> None:
    """Check that the keys load and values round-trip; raise ``ConfigError``/``CryptoError``.

    With ``database``, the value also goes through the ``EncryptionProbe`` table, inside a
    transaction that is rolled back so the check leaves nothing behind.
    """
    probe_text = "自检 self-check"
    token = encrypt_personal(probe_text, "crypto.self_check")
    if decrypt_personal(token, "crypto.self_check") != probe_text:
        raise CryptoError("personal data encryption does not round-trip")
    if not database:
        return
    from yiwang.core.crypto.models import EncryptionProbe

    with transaction.atomic():
        probe = EncryptionProbe.objects.create(secret=probe_text)
        stored = EncryptionProbe.objects.get(pk=probe.pk).secret
        transaction.set_rollback(True)
    if stored != probe_text:
        raise CryptoError("encrypted column does not round-trip through the database")


def count_pending_rotation(only: Collection[str] | None = None) -> int:
    """How many stored values were made with another key or cipher than the current ones."""
    from yiwang.core.crypto import rotation

    return rotation.count_pending(only)


def rotate_data_keys(*, batch_size: int = 500, dry_run: bool = False,
                     on_batch: Callable[[int], object] | None = None,
                     only: Collection[str] | None = None) -> list[FieldReport]:
    """Re-encrypt every ``EncryptedTextField`` value not made with the current key and cipher.

    Run after prepending a key to ``YIWANG_DATA_KEYS`` or changing ``YIWANG_DATA_CIPHER``;
    afterwards keys no token uses any more may be removed (blind indexes are keyed by
    ``YIWANG_INDEX_KEY``, which rotation neither uses nor changes). Works in batches of
    ``batch_size`` rows, each in its own transaction, calling ``on_batch(rows)`` after each;
    idempotent (a second run finds nothing to do). Values that fail to decrypt are left as
    they are and counted as failed. ``only`` restricts the run to app labels or
    ``app_label.model`` names. Records one audit event. Returns a report per column.
    """
    from yiwang.core.crypto import rotation

    return rotation.rotate_all(batch_size=batch_size, dry_run=dry_run, on_batch=on_batch,
                               only=only)


# --- signing keys ---
# Signature algorithms (``ed25519``, ``ecdsa-p256``, ``sm2``) are registry plugins
# (signatures.py, sm2.py); private keys sit in a KeyVault (vault.py, YIWANG_KEY_VAULT);
# managed keys per (owner, purpose) are implemented in keys.py. This is their public face.

from yiwang.core.crypto.keys import (  # noqa: E402 - the section stays with its subject
    KeyNotUsable,
    SigningKeyInfo,
    active_signing_key,
    active_signing_keys,
    create_signing_key,
    get_signing_key,
    list_signing_keys,
    revoke_signing_key,
    rewrap_signing_keys,
    rotate_signing_key,
    sign_with_key,
    verify_signature,
)
from yiwang.core.crypto.signatures import (  # noqa: E402
    InvalidSignatureEncoding,
    ecdsa_der_to_raw,
    ecdsa_raw_to_der,
)

__all__ += [
    "InvalidSignatureEncoding",
    "KeyNotUsable",
    "SigningKeyInfo",
    "active_signing_key",
    "active_signing_keys",
    "create_signing_key",
    "ecdsa_der_to_raw",
    "ecdsa_raw_to_der",
    "get_signing_key",
    "list_signing_keys",
    "revoke_signing_key",
    "rewrap_signing_keys",
    "rotate_signing_key",
    "sign_with_key",
    "verify_signature",
]
