"""C2SP signed notes, checkpoints and cosignatures (pure Python, no Django).

* ``signed-note``: text ending in a newline, a blank line, then signature lines
  ``— <key name> <base64(key ID || signature)>``; Ed25519 key IDs are
  ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``; verifier keys ("vkeys") are
  ``<name>+<key ID hex>+<base64(type byte || public key)>``.
* ``tlog-checkpoint``: the note text is the origin, the tree size and the base64 root hash.
* ``tlog-cosignature`` (cosignature/v1): type byte 0x04; the signature is a big-endian
  u64 timestamp followed by an Ed25519 signature over
  ``"cosignature/v1\\ntime <t>\\n" || checkpoint body``.

Failures raise :class:`NoteError` with a ``reason`` naming what failed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
EM_DASH = "\u2014"
MAX_SIGNATURES = 100
MAX_NOTE_BYTES = 1 << 20
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")
_HEX8 = re.compile(r"[0-9a-f]{8}")


class NoteError(ValueError):
    """A note, checkpoint, key or signature is malformed or does not verify."""

    def __init__(self, reason: str, message: str = "") -> None:
        self.reason = reason
        super().__init__(message or reason)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise NoteError(f"malformed {what}", f"the {what} is not valid base64") from None


def check_key_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name) or not name.isprintable():
        raise NoteError("malformed key name",
                        "a key name must be non-empty, without spaces or '+'")


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """The 4-byte key ID of signed-note: SHA-256(name || "\\n" || type || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A note verifier key: who (``name``), which (``key_id``), what (``sig_type``)."""

    name: str
    key_id: bytes
    sig_type: int
    public_key: bytes

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64(bytes([self.sig_type]) + self.public_key)}"

    def verify_raw(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


def verifier_key(name: str, public_key: bytes, sig_type: int = ED25519) -> VerifierKey:
    """The verifier key of an Ed25519 public key (32 raw bytes) under ``name``."""
    check_key_name(name)
    if len(public_key) != 32:
        raise NoteError("malformed public key", "an Ed25519 public key is 32 bytes")
    return VerifierKey(name, key_id(name, sig_type, public_key), sig_type, public_key)


def parse_vkey(text: str) -> VerifierKey:
    """Parse ``<name>+<hex key ID>+<base64(type || key)>``, checking the key ID."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("malformed verifier key", "expected <name>+<key id>+<key>")
    name, hex_id, material = parts
    check_key_name(name)
    if not _HEX8.fullmatch(hex_id):
        raise NoteError("malformed verifier key", "the key ID must be 8 lower-case hex digits")
    raw = unb64(material, "verifier key")
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError("unsupported verifier key",
                        "only Ed25519 (0x01) and cosignature/v1 (0x04) keys are supported")
    key = VerifierKey(name, bytes.fromhex(hex_id), raw[0], raw[1:])
    if key_id(name, raw[0], raw[1:]) != key.key_id:
        raise NoteError("verifier key ID mismatch", "the key ID does not match the key")
    return key


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes  # without the key ID

    @property
    def line(self) -> str:
        return f"{EM_DASH} {self.name} {b64(self.key_id + self.signature)}\n"


@dataclass(frozen=True)
class Note:
    text: str  # ends with "\n"
    signatures: list[Signature] = field(default_factory=list)

    def serialise(self) -> str:
        return self.text + "\n" + "".join(s.line for s in self.signatures)


def parse_note(data: str | bytes) -> Note:
    """Split a signed note into its text and signature lines (nothing verified yet)."""
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise NoteError("note too large")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("malformed note", "the note is not valid UTF-8") from None
    if len(data) > MAX_NOTE_BYTES:
        raise NoteError("note too large")
    if any(ord(c) < 0x20 and c != "\n" for c in data) or "\x7f" in data:
        raise NoteError("malformed note", "the note contains control characters")
    if not data.endswith("\n"):
        raise NoteError("malformed note", "the note does not end with a newline")
    split = data.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note", "no blank line before the signatures")
    text, sig_block = data[: split + 1], data[split + 2:]
    lines = sig_block.split("\n")[:-1]
    if not lines:
        raise NoteError("malformed note", "the note has no signature lines")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("too many signatures")
    signatures = []
    for line in lines:
        prefix = EM_DASH + " "
        if not line.startswith(prefix):
            raise NoteError("malformed signature line", f"not a signature line: {line[:40]!r}")
        name, sep, encoded = line[len(prefix):].rpartition(" ")
        if not sep:
            raise NoteError("malformed signature line", "no key name")
        check_key_name(name)
        raw = unb64(encoded, "signature")
        if len(raw) < 5:
            raise NoteError("malformed signature line", "the signature is too short")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    return Note(text, signatures)


def sign_line(name: str, public_key: bytes, signature: bytes) -> Signature:
    """The Ed25519 signature line of ``name`` (key type 0x01)."""
    return Signature(name, key_id(name, ED25519, public_key), signature)


def verify_signed_by(note: Note, key: VerifierKey) -> Signature:
    """The signature of ``key`` on ``note`` if present and valid; raise otherwise.

    Signatures from other keys are ignored (signed-note: verifiers MUST ignore unknown
    keys). A matching line that fails to verify rejects the note.
    """
    found = [s for s in note.signatures if s.name == key.name and s.key_id == key.key_id]
    if not found:
        raise NoteError("no signature by the key",
                        f"the note carries no signature by {key.name} ({key.key_id.hex()})")
    for sig in found:
        if key.sig_type == ED25519:
            ok = key.verify_raw(note.text.encode(), sig.signature)
        else:
            ok = verify_cosignature(note.text, key, sig) is not None
        if not ok:
            raise NoteError("signature does not verify",
                            f"the signature by {key.name} does not verify")
    return found[0]


# --- checkpoints -------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    @property
    def body(self) -> str:
        lines = [self.origin, str(self.size), b64(self.root), *self.extensions]
        return "\n".join(lines) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint body (the note text)."""
    if not text.endswith("\n"):
        raise NoteError("malformed checkpoint", "the checkpoint does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise NoteError("malformed checkpoint",
                        "a checkpoint needs origin, size and root hash lines, none empty")
    origin, size_text, root_text, *extensions = lines
    if not _DECIMAL.fullmatch(size_text) or int(size_text) >= 1 << 63:
        raise NoteError("malformed checkpoint", "the tree size is not a decimal number")
    root = unb64(root_text, "root hash")
    if len(root) != 32:
        raise NoteError("malformed checkpoint", "the root hash is not 32 bytes")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


# --- cosignatures ------------------------------------------------------------------------


def cosignature_message(body: str, timestamp: int) -> bytes:
    """The message a cosignature/v1 signs over a checkpoint ``body``."""
    return f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode()


def cosignature_line(name: str, public_key: bytes, timestamp: int, signature: bytes
                     ) -> Signature:
    """The cosignature/v1 line: key type 0x04, signature = u64 BE timestamp || Ed25519."""
    if not 0 <= timestamp < 1 << 63:
        raise NoteError("malformed cosignature", "the timestamp is out of range")
    return Signature(name, key_id(name, COSIGNATURE_V1, public_key),
                     timestamp.to_bytes(8, "big") + signature)


def verify_cosignature(body: str, key: VerifierKey, sig: Signature) -> int | None:
    """The timestamp of a valid cosignature/v1 by ``key`` over ``body``, else None."""
    if key.sig_type != COSIGNATURE_V1 or len(sig.signature) != 8 + 64:
        return None
    timestamp = int.from_bytes(sig.signature[:8], "big")
    if timestamp >= 1 << 63:
        return None
    if not key.verify_raw(cosignature_message(body, timestamp), sig.signature[8:]):
        return None
    return timestamp
