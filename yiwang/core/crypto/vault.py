"""Key vaults: where private signing keys live and where signing happens (密钥库).

A :class:`KeyVault` creates keys and signs with them; callers hold only an opaque ``handle``
(stored with the key's record) and the public key. The vault in use is named by
``settings.YIWANG_KEY_VAULT`` and looked up with :func:`get_vault`; an HSM or cloud KMS
plugin (密码机) subclasses :class:`KeyVault`, calls :func:`register_vault` from its app's
``ready()``, and is selected by setting ``YIWANG_KEY_VAULT`` to its name. Its handle is
whatever it needs to find the key again (a label, a key ARN).

The built-in :class:`SoftwareVault` (``software``) keeps each private key as PKCS#8 wrapped
with an AEAD under a master key of ``YIWANG_KEY_MASTER`` (comma-separated
``id:base64(32 bytes)``; the first wraps, all unwrap). The handle is the self-describing
token ``sv1$<master id>$<cipher>$<base64url(nonce‖ciphertext‖tag)>``; the token's version,
master id and cipher, the key's id and its algorithm are all bound as associated data, so a
wrapped key copied to another record does not unwrap. The cipher is AES-256-GCM, or SM4-GCM
when ``YIWANG_DATA_CIPHER`` is ``sm4-gcm`` (the wrapping key is then derived with HKDF-SM3,
so such a deployment uses 国密 algorithms only).
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from yiwang.conf.env import ConfigError
from yiwang.core.crypto.base import DecryptionError
from yiwang.core.crypto.registry import UnknownAlgorithm, get_cipher, get_hash, get_signature

DEFAULT_VAULT = "software"


@dataclass(frozen=True)
class VaultKey:
    """A key a vault has created: the handle to find it again and its public key (SPKI DER)."""

    handle: str = field(repr=False)
    public_key: bytes


class KeyVault(ABC):
    """The interface of a place that keeps private keys and signs with them."""

    name: ClassVar[str]

    @abstractmethod
    def create_key(self, *, key_id: str, algorithm: str) -> VaultKey:
        """Generate a key of ``algorithm`` (a registered signature name) for ``key_id``."""

    @abstractmethod
    def sign(self, handle: str, *, key_id: str, algorithm: str, data: bytes) -> bytes:
        """Sign ``data`` with the key behind ``handle``, as the algorithm plugin would."""

    def destroy_key(self, handle: str, *, key_id: str, algorithm: str) -> None:  # noqa: B027
        """Destroy the private key (on revocation). The caller forgets the handle anyway."""

    def rewrap(self, handle: str, *, key_id: str, algorithm: str) -> str | None:
        """A new handle for the key under the current master key, or ``None`` if unchanged.

        Only vaults that hand out wrapped keys need this; an HSM keeps its keys inside.
        """
        return None


_vaults: dict[str, KeyVault] = {}


def register_vault(vault: KeyVault, *, replace: bool = False) -> None:
    """Make ``vault`` available under its ``name`` (called from a plugin app's ``ready()``)."""
    if vault.name in _vaults and not replace:
        raise ValueError(f"a key vault named {vault.name!r} is already registered")
    _vaults[vault.name] = vault


def unregister_vault(vault: KeyVault) -> None:
    """Remove ``vault`` (for tests of plugins)."""
    if _vaults.get(vault.name) is vault:
        del _vaults[vault.name]


def get_vault(name: str | None = None) -> KeyVault:
    """The vault named ``name``, by default the one ``YIWANG_KEY_VAULT`` selects."""
    name = name or getattr(settings, "YIWANG_KEY_VAULT", DEFAULT_VAULT) or DEFAULT_VAULT
    try:
        return _vaults[name]
    except KeyError:
        known = ", ".join(sorted(_vaults))
        raise ConfigError("YIWANG_KEY_VAULT", f"no key vault named {name!r} (known: {known})"
                          ) from None


# --- The software vault ---------------------------------------------------------------

FORMAT_VERSION = "sv1"
_SALT = b"yiwang/key-vault/v1"
_KDF_HASH = {"aes-256-gcm": "sha256", "sm4-gcm": "sm3"}
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_SETTINGS = {"YIWANG_KEY_MASTER", "YIWANG_DATA_CIPHER", "YIWANG_KEY_VAULT"}
_UNWRAPPED_CACHE = 256


def parse_master_keys(raw: object) -> tuple[tuple[str, bytes], ...]:
    """``id:base64(32 bytes)`` entries of YIWANG_KEY_MASTER as (id, secret) pairs."""
    name = "YIWANG_KEY_MASTER"
    entries = raw.split(",") if isinstance(raw, str) else list(raw or [])  # type: ignore[call-overload]
    entries = [str(e).strip() for e in entries if str(e).strip()]
    if not entries:
        raise ConfigError(name, "no master key configured; expected `id:base64(32 bytes)`")
    keys: list[tuple[str, bytes]] = []
    for number, entry in enumerate(entries, 1):
        key_id, sep, text = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not _KEY_ID.fullmatch(key_id):
            raise ConfigError(name, f"key {number}: expected `id:base64(32 bytes)` with an id "
                                    "of letters, digits, `_`, `-` or `.` (at most 32)")
        if any(k == key_id for k, _ in keys):
            raise ConfigError(name, f"key {number}: the id {key_id!r} is used twice")
        try:
            secret = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(name, f"key {number}: the key is not valid base64") from None
        if len(secret) != 32:
            raise ConfigError(name, f"key {number}: the key must be 32 bytes, got {len(secret)}")
        keys.append((key_id, secret))
    return tuple(keys)


def _aad(master_id: str, cipher: str, key_id: str, algorithm: str) -> bytes:
    return f"{FORMAT_VERSION}${master_id}${cipher}${key_id}${algorithm}".encode()


class SoftwareVault(KeyVault):
    """PKCS#8 keys wrapped under ``YIWANG_KEY_MASTER``; the wrapped key is the handle."""

    name = "software"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {}
        # Unwrapped keys, so that a burst of signatures (the ledger) opens each key once.
        self._unwrapped: OrderedDict[str, bytes] = OrderedDict()

    def reset(self) -> None:
        """Forget the master keys and every unwrapped key (settings changed)."""
        with self._lock:
            self._state.clear()
            self._unwrapped.clear()

    def _masters(self) -> tuple[tuple[tuple[str, bytes], ...], str, dict[tuple[str, str], bytes]]:
        state = self._state
        if not state:
            with self._lock:
                if not self._state:
                    cipher = getattr(settings, "YIWANG_DATA_CIPHER", "aes-256-gcm")
                    self._state.update(
                        masters=parse_master_keys(getattr(settings, "YIWANG_KEY_MASTER", None)),
                        cipher="sm4-gcm" if cipher == "sm4-gcm" else "aes-256-gcm",
                        derived={},
                    )
                state = self._state
        return state["masters"], state["cipher"], state["derived"]

    def _wrapping_key(self, master_id: str, cipher: str) -> bytes:
        masters, _current, derived = self._masters()
        key = derived.get((master_id, cipher))
        if key is None:
            secret = dict(masters).get(master_id)
            if secret is None:
                raise DecryptionError(
                    f"the master key {master_id!r} of this signing key is not in "
                    "YIWANG_KEY_MASTER")
            key = get_hash(_KDF_HASH[cipher]).hkdf(
                secret, length=get_cipher(cipher).key_size, salt=_SALT, info=cipher.encode())
            derived[(master_id, cipher)] = key
        return key

    def current(self) -> tuple[str, str]:
        """The master key id and cipher that wrap new keys."""
        masters, cipher, _ = self._masters()
        return masters[0][0], cipher

    def wrap(self, private_key: bytes, *, key_id: str, algorithm: str) -> str:
        """Wrap a PKCS#8 key under the current master key."""
        master_id, cipher = self.current()
        data = get_cipher(cipher).encrypt(self._wrapping_key(master_id, cipher), private_key,
                                          _aad(master_id, cipher, key_id, algorithm))
        body = base64.urlsafe_b64encode(data).rstrip(b"=").decode()
        return f"{FORMAT_VERSION}${master_id}${cipher}${body}"

    def unwrap(self, handle: str, *, key_id: str, algorithm: str) -> bytes:
        """The PKCS#8 key inside ``handle``; :class:`DecryptionError` if it does not open."""
        parts = handle.split("$") if isinstance(handle, str) else []
        if len(parts) != 4 or parts[0] != FORMAT_VERSION or parts[2] not in _KDF_HASH:
            raise DecryptionError("not a wrapped key of the software vault")
        _, master_id, cipher, body = parts
        try:
            data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise DecryptionError("the wrapped key is not valid base64") from None
        wrapping_key = self._wrapping_key(master_id, cipher)  # names a missing master key
        try:
            return get_cipher(cipher).decrypt(wrapping_key, data,
                                              _aad(master_id, cipher, key_id, algorithm))
        except (DecryptionError, UnknownAlgorithm):
            raise DecryptionError(
                f"the wrapped key of {key_id!r} does not open: altered, or wrapped for another "
                "key or algorithm") from None

    def _private(self, handle: str, key_id: str, algorithm: str) -> bytes:
        cache_key = f"{key_id}|{algorithm}|{handle}"
        with self._lock:
            key = self._unwrapped.get(cache_key)
            if key is not None:
                self._unwrapped.move_to_end(cache_key)
                return key
        key = self.unwrap(handle, key_id=key_id, algorithm=algorithm)
        with self._lock:
            self._unwrapped[cache_key] = key
            if len(self._unwrapped) > _UNWRAPPED_CACHE:
                self._unwrapped.popitem(last=False)
        return key

    def create_key(self, *, key_id: str, algorithm: str) -> VaultKey:
        plugin = get_signature(algorithm)
        private = plugin.generate_key()
        return VaultKey(handle=self.wrap(private, key_id=key_id, algorithm=algorithm),
                        public_key=plugin.public_key(private))

    def sign(self, handle: str, *, key_id: str, algorithm: str, data: bytes) -> bytes:
        return get_signature(algorithm).sign(self._private(handle, key_id, algorithm), data)

    def destroy_key(self, handle: str, *, key_id: str, algorithm: str) -> None:
        with self._lock:
            self._unwrapped.pop(f"{key_id}|{algorithm}|{handle}", None)

    def rewrap(self, handle: str, *, key_id: str, algorithm: str) -> str | None:
        master_id, cipher = self.current()
        if handle.startswith(f"{FORMAT_VERSION}${master_id}${cipher}$"):
            return None
        return self.wrap(self.unwrap(handle, key_id=key_id, algorithm=algorithm),
                         key_id=key_id, algorithm=algorithm)


software_vault = SoftwareVault()
register_vault(software_vault)


@receiver(setting_changed)
def _reset_vaults(*, setting: str, **kwargs: Any) -> None:
    if setting in _SETTINGS:
        software_vault.reset()
