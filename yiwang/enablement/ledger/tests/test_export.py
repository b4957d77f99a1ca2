"""Export and offline audit (``yiwang ledger export`` / ``yiwang ledger verify``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError

from yiwang.enablement.ledger import notes, offline, service

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported(tmp_path: Path, departments) -> Path:
    service.enrol_witness("gaj")
    for batch in (3, 300, 40):
        service.append_many([("case.updated", {"case": f"C{i}", "batch": batch})
                             for i in range(batch)])
        service.publish_checkpoint()
        service.witness_all()
    out = tmp_path / "export"
    call_command("ledger", "export", str(out))
    return out


def run_verify(path: Path, *extra: str) -> tuple[bool, str]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    if "--log-key" not in extra:
        extra = (*extra, "--trust-export-keys")
    try:
        call_command("ledger", "verify", str(path), "--no-progress", *extra, stdout=out,
                     stderr=err)
    except CommandError as exc:
        return False, err.getvalue() + str(exc)
    return True, out.getvalue() + err.getvalue()


def test_an_untouched_export_verifies(exported: Path) -> None:
    ok, text = run_verify(exported)
    assert ok, text
    assert "entries 343, records re-hashed 343, checkpoints 3, cosignatures 3" in text
    report = offline.verify_export(exported)
    assert report.ok and report.checkpoints == 3


def test_pinned_keys(exported: Path) -> None:
    [log_key] = service.log_verifier_keys()
    ok, text = run_verify(exported, "--log-key", log_key)
    assert ok, text
    other = notes.verifier_key("ledger.test.gov.cn/main",
                               Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    ok, text = run_verify(exported, "--log-key", other.vkey)
    assert not ok and "not signed by a trusted log key" in text


def flip(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line]
    lines[line] = lines[line].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


def test_a_flipped_byte_in_a_record_is_named(exported: Path) -> None:
    flip(exported / "entries.jsonl", 17, 'C14', 'C15')
    ok, text = run_verify(exported)
    assert not ok
    assert "entry 17: record hash does not match its record" in text


def test_a_flipped_record_hash_is_named(exported: Path) -> None:
    entries = exported / "entries.jsonl"
    row = json.loads(entries.read_text().splitlines()[5])
    h = row["record_hash"]
    flip(entries, 5, h, ("0" if h[0] != "0" else "1") + h[1:])
    ok, text = run_verify(exported)
    assert not ok
    assert "entry 5: record hash does not match its record" in text
    assert "entry 5: leaf hash does not match" in text


def test_a_consistent_rewrite_of_an_entry_breaks_the_roots(exported: Path) -> None:
    # Rewrite type, record and both hashes so that the entry is self-consistent: only the
    # signed checkpoints can tell, and they do.
    from yiwang.enablement.ledger import leaves
    from yiwang.enablement.ledger.merkle import SHA256

    entries = exported / "entries.jsonl"
    lines = entries.read_text().splitlines(keepends=True)
    row = json.loads(lines[100])
    row["record"] = row["record"].replace('"C', '"X')
    row["record_hash"] = SHA256.digest(row["record"].encode()).hex()
    row["leaf_hash"] = leaves.leaf_hash_of(row["type"], row["record_hash"], row["timestamp"],
                                           "sha256").hex()
    lines[100] = json.dumps(row) + "\n"
    entries.write_text("".join(lines))
    ok, text = run_verify(exported)
    assert not ok
    assert "checkpoint 303: root hash does not match the exported entries" in text
    assert "checkpoint 343: root hash does not match the exported entries" in text
    assert "checkpoint 3:" not in text


def test_a_forged_checkpoint_is_named(exported: Path) -> None:
    cps = exported / "checkpoints.jsonl"
    lines = cps.read_text().splitlines()
    row = json.loads(lines[1])
    note = notes.parse_note(row["note"])
    body = notes.parse_checkpoint(note.text)
    forged = notes.Checkpoint(body.origin, body.size, bytes(32)).body
    row["note"] = notes.Note(forged, note.signatures).serialise()
    lines[1] = json.dumps(row)
    cps.write_text("\n".join(lines) + "\n")
    ok, text = run_verify(exported)
    assert not ok
    assert "checkpoint 303: the log's signature does not verify" in text
    assert "checkpoint 303: cosignature of ledger.test.gov.cn/witness/gaj does not verify" in text


def test_a_truncated_export_is_named(exported: Path) -> None:
    entries = exported / "entries.jsonl"
    lines = entries.read_text().splitlines(keepends=True)
    entries.write_text("".join(lines[:-5]))
    ok, text = run_verify(exported)
    assert not ok
    assert "log.json says 343 entries, entries.jsonl has 338" in text
    assert "checkpoint 343: covers 343 entries but the export has 338" in text


def test_garbage_is_named_not_a_crash(exported: Path) -> None:
    flip(exported / "entries.jsonl", 2, '{"index"', '{"ind\\x')
    (exported / "checkpoints.jsonl").write_text("not json\n")
    ok, text = run_verify(exported)
    assert not ok
    assert "entries.jsonl line 3: not valid JSON" in text
    assert "checkpoints.jsonl line 1: not valid JSON" in text
    (exported / "log.json").write_text("{")
    ok, text = run_verify(exported)
    assert not ok and "log.json is missing or malformed" in text


def test_the_checkpoint_and_witness_commands(departments, capsys) -> None:
    from io import StringIO

    service.append("case.updated", {"case": "C1"})
    out = StringIO()
    call_command("ledger", "checkpoint", stdout=out)
    assert out.getvalue().startswith("ledger.test.gov.cn/main\n1\n")
    out = StringIO()
    call_command("ledger", "enrol-witness", "scjgj", stdout=out)
    assert out.getvalue().startswith("scjgj: ledger.test.gov.cn/witness/scjgj+")
    out = StringIO()
    call_command("ledger", "witness", stdout=out)
    assert "cosigned main:scjgj" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("ledger", "checkpoint", "--log", "nope")


def test_a_fork_signed_by_the_log_key_itself_is_named(exported: Path) -> None:
    # The log's own key signs a second history for size 303 (a compromised or misbehaving
    # log): the signature verifies, but the entries and the consistency proof do not.
    from yiwang.core.crypto import service as crypto
    from yiwang.enablement.ledger.checkpoints import raw_ed25519

    key = crypto.active_signing_key("ledger:main", "ledger.checkpoint")
    body = notes.Checkpoint("ledger.test.gov.cn/main", 303, bytes(range(32))).body
    line = notes.sign_line("ledger.test.gov.cn/main", raw_ed25519(key.public_key),
                           crypto.sign_with_key(key.id, body.encode()))
    cps = exported / "checkpoints.jsonl"
    lines = cps.read_text().splitlines()
    lines[1] = json.dumps({"size": 303, "note": notes.Note(body, [line]).serialise()})
    cps.write_text("\n".join(lines) + "\n")
    ok, text = run_verify(exported)
    assert not ok
    assert "checkpoint 303: root hash does not match the exported entries" in text
    assert "checkpoints 3 -> 303: inconsistent (new root mismatch)" in text
    assert "checkpoints 303 -> 343: inconsistent (old root mismatch)" in text
    assert "the log's signature does not verify" not in text


def test_verify_asks_for_a_trusted_log_key(exported: Path) -> None:
    """Keys read from the export prove nothing (a forger re-signs with their own): without
    --log-key the command refuses unless told to check consistency alone."""
    with pytest.raises(CommandError, match="--log-key"):
        call_command("ledger", "verify", str(exported), "--no-progress")


def test_a_quorum_of_pinned_witnesses(exported: Path) -> None:
    """``--min-cosignatures N``: the latest checkpoint needs N trusted witnesses' cosignatures.
    One witness (公安局) cosigned every checkpoint of this export."""
    [log_key] = service.log_verifier_keys()
    ok, text = run_verify(exported, "--log-key", log_key, "--min-cosignatures", "1")
    assert ok, text
    ok, text = run_verify(exported, "--log-key", log_key, "--min-cosignatures", "2")
    assert not ok and "cosigned by 1 trusted witness(es); 2 required" in text
    # A witness key that is not pinned does not count: pin only a stranger's key.
    stranger = notes.verifier_key("witness.example/other",
                                  Ed25519PrivateKey.generate().public_key().public_bytes_raw(),
                                  sig_type=notes.COSIGNATURE_V1)
    ok, text = run_verify(exported, "--log-key", log_key, "--witness-key", stranger.vkey,
                          "--min-cosignatures", "1")
    assert not ok and "cosigned by 0 trusted witness(es); 1 required" in text
