"""Signed notes against golang.org/x/mod/sumdb/note's published example (its doc comment and
note_test.go: the PeterNeumann key pair and signature), and checkpoints and cosignatures
against an independent reading of the C2SP specs written here from their text."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from yiwang.enablement.ledger import notes
from yiwang.enablement.ledger.notes import NoteError

GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_NOTE = (GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFY"
           "C2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")


def go_private_key() -> Ed25519PrivateKey:
    material = GO_SKEY.split("+", 4)[4]
    raw = base64.b64decode(material)
    assert raw[0] == 1
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def test_reproduces_the_go_example_note_byte_for_byte() -> None:
    key = go_private_key()
    public = key.public_key().public_bytes_raw()
    vkey = notes.verifier_key("PeterNeumann", public)
    assert vkey.vkey == GO_VKEY
    note = notes.Note(GO_TEXT, [notes.sign_line("PeterNeumann", public,
                                                key.sign(GO_TEXT.encode()))])
    assert note.serialise() == GO_NOTE


def test_opens_the_go_example_and_refuses_an_edit() -> None:
    key = notes.parse_vkey(GO_VKEY)
    parsed = notes.parse_note(GO_NOTE)
    assert parsed.text == GO_TEXT
    notes.verify_signed_by(parsed, key)
    with pytest.raises(NoteError) as caught:
        notes.verify_signed_by(notes.parse_note(GO_NOTE.replace("cryptography", "cryptographY")),
                               key)
    assert caught.value.reason == "signature does not verify"


@pytest.mark.parametrize("bad", [
    "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # key ID
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX",  # key
    "PeterNeumann+c74f20a3",
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "PeterNeumann+c74f20a3+!!!",
])
def test_malformed_verifier_keys_are_refused(bad: str) -> None:
    with pytest.raises(NoteError):
        notes.parse_vkey(bad)


@pytest.mark.parametrize("bad", [
    GO_TEXT + "— PeterNeumann x08go/ZJkuBS9UG\n",  # no blank line
    GO_NOTE[:-1],  # no final newline
    GO_TEXT + "\n",  # no signature
    GO_TEXT + "\n- PeterNeumann AAAAAAA=\n",  # hyphen, not em dash
    GO_TEXT + "\n— PeterNeumann !!!!\n",
    "a\x01b\n\n— PeterNeumann x08go/ZJkuBS9UG/Sffcv\n",
    b"\xff\xfe\n\n",
])
def test_malformed_notes_are_refused(bad: str | bytes) -> None:
    with pytest.raises(NoteError):
        notes.parse_note(bad)


def test_unknown_signatures_are_ignored_but_a_missing_one_is_named() -> None:
    other = Ed25519PrivateKey.generate()
    pub = other.public_key().public_bytes_raw()
    note = notes.parse_note(GO_NOTE)
    with_other = notes.Note(note.text, [*note.signatures,
                                        notes.sign_line("other", pub, b"x" * 64)])
    notes.verify_signed_by(notes.parse_note(with_other.serialise()), notes.parse_vkey(GO_VKEY))
    with pytest.raises(NoteError) as caught:
        notes.verify_signed_by(note, notes.verifier_key("other", pub))
    assert caught.value.reason == "no signature by the key"


# --- an independent reading of tlog-checkpoint + tlog-cosignature ------------------------


def independent_open_checkpoint(note: str, name: str, public: bytes) -> tuple[str, int, bytes]:
    """Written from the spec text only: split at the last blank line, find the line whose
    name and 4-byte ID match, verify Ed25519 over the text, then read three lines."""
    text, _, sigs = note.rpartition("\n\n")
    text += "\n"
    want_id = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    for line in sigs.splitlines():
        dash, who, blob = line.split(" ")
        raw = base64.b64decode(blob)
        if dash == "\u2014" and who == name and raw[:4] == want_id:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

            Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], text.encode())
            origin, size, root = text.splitlines()[:3]
            return origin, int(size), base64.b64decode(root)
    raise AssertionError("no signature")


def independent_check_cosignature(note: str, name: str, public: bytes) -> int:
    text, _, sigs = note.rpartition("\n\n")
    text += "\n"
    want_id = hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    for line in sigs.splitlines():
        _, who, blob = line.split(" ")
        raw = base64.b64decode(blob)
        if who == name and raw[:4] == want_id:
            ts = int.from_bytes(raw[4:12], "big")
            msg = b"cosignature/v1\ntime " + str(ts).encode() + b"\n" + text.encode()
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

            Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], msg)
            return ts
    raise AssertionError("no cosignature")


def test_checkpoint_and_cosignature_verify_independently() -> None:
    log_key, witness = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    log_pub = log_key.public_key().public_bytes_raw()
    wit_pub = witness.public_key().public_bytes_raw()
    cp = notes.Checkpoint("example.gov.cn/ledger/main", 20852163, bytes(range(32)))
    body = cp.body
    root_b64 = base64.b64encode(bytes(range(32))).decode()
    assert body == f"example.gov.cn/ledger/main\n20852163\n{root_b64}\n"
    sig = notes.sign_line(cp.origin, log_pub, log_key.sign(body.encode()))
    cosig = notes.cosignature_line("w.example/1101", wit_pub, 1679315147,
                                   witness.sign(notes.cosignature_message(body, 1679315147)))
    text = notes.Note(body, [sig, cosig]).serialise()
    assert independent_open_checkpoint(text, cp.origin, log_pub) == (
        cp.origin, 20852163, bytes(range(32)))
    assert independent_check_cosignature(text, "w.example/1101", wit_pub) == 1679315147
    parsed = notes.parse_note(text)
    assert notes.parse_checkpoint(parsed.text) == cp
    wkey = notes.verifier_key("w.example/1101", wit_pub, notes.COSIGNATURE_V1)
    assert notes.verify_cosignature(parsed.text, wkey, parsed.signatures[1]) == 1679315147
    # a cosignature is not a log signature, and an edited body breaks both
    assert notes.verify_cosignature(parsed.text.replace("20852163", "20852164"), wkey,
                                    parsed.signatures[1]) is None


@pytest.mark.parametrize("body", [
    "origin\n12\n", "origin\n012\nAAAA\n",
    "origin\nx\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    "origin\n12\nAAAA\n", "origin\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
])
def test_malformed_checkpoints_are_refused(body: str) -> None:
    with pytest.raises(NoteError):
        notes.parse_checkpoint(body)
