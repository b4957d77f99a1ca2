"""Export a log, and audit an export offline (the auditing half is pure Python: no Django,
no database, no network — ``yiwang ledger verify`` runs it).

An export is a directory:

``log.json``
    ``{"format": "yiwang-ledger-export/1", "log", "origin", "hash_algorithm", "size",
    "log_keys": [vkey, …], "witness_keys": {department: vkey}, "exported_at"}``
``entries.jsonl``
    one entry per line: ``{"index", "type", "record_hash", "leaf_hash", "timestamp",
    "record"}`` (``record``: the canonical JCS text, when kept)
``checkpoints.jsonl``
    one signed checkpoint per line: ``{"size", "note"}`` (the note with cosignatures)

The audit recomputes every record hash from its record (where present), every leaf hash
from the entry, the Merkle root at every checkpoint's size, the log's signature and the
witnesses' cosignatures on each checkpoint, and a consistency proof between consecutive
checkpoints. Each failure is named (``entry 17: record hash …``); nothing is "valid" unless
every check passed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rfc8785

from yiwang.enablement.ledger import leaves, merkle, notes

FORMAT = "yiwang-ledger-export/1"
MAX_REPORTED = 50


@dataclass(frozen=True)
class Failure:
    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.message}"


@dataclass
class Report:
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    entries: int = 0
    records: int = 0
    checkpoints: int = 0
    cosignatures: int = 0
    more_failures: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures and not self.more_failures

    def fail(self, check: str, message: str) -> None:
        if len(self.failures) < MAX_REPORTED:
            self.failures.append(Failure(check, message))
        else:
            self.more_failures += 1


def _lines(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, parsed JSON or None, error) for each line of a JSON-lines file."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                yield number, json.loads(raw.decode("utf-8")), None
            except (UnicodeDecodeError, ValueError) as exc:
                yield number, None, f"not valid JSON ({exc.__class__.__name__})"


def _hex32(value: Any) -> bytes | None:
    if not isinstance(value, str) or len(value) != 64:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _keys(report: Report, values: list[Any], what: str) -> list[notes.VerifierKey]:
    found = []
    for value in values:
        try:
            found.append(notes.parse_vkey(str(value)))
        except notes.NoteError as exc:
            report.fail(f"{what} key", f"{str(value)[:60]!r}: {exc.reason}")
    return found


def verify_export(directory: str | Path, *, log_keys: list[str] | None = None,
                  witness_keys: list[str] | None = None, min_cosignatures: int = 0,
                  progress: Callable[[int], Any] | None = None) -> Report:
    """Audit an export; ``log_keys`` / ``witness_keys`` pin the trusted vkeys (otherwise
    the keys listed in the export are used, and the report says so). With
    ``min_cosignatures`` N, the latest checkpoint must carry valid cosignatures of at least
    N distinct witness keys among those trusted (a quorum: one operator holding the log key
    cannot show a forked history to an auditor without N witnesses signing it too).
    ``progress`` is called with the number of entries read since the last call."""
    report = Report()
    root = Path(directory)
    try:
        meta = json.loads((root / "log.json").read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError("unknown format")
        algorithm, origin, size = meta["hash_algorithm"], meta["origin"], int(meta["size"])
        hasher = merkle.hasher_for(algorithm)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        report.fail("export", f"log.json is missing or malformed ({exc})")
        return report
    if log_keys is None:
        report.notes.append("log keys taken from the export itself; pin them with --log-key")
        log_keys = list(meta.get("log_keys") or [])
    if witness_keys is None:
        witness_keys = list((meta.get("witness_keys") or {}).values())
    trusted = [k for k in _keys(report, log_keys, "log") if k.name == origin]
    if not trusted:
        report.fail("log key", f"no log key named {origin!r} to verify checkpoints with")
    cosigners = [k for k in _keys(report, witness_keys, "witness")
                 if k.sig_type == notes.COSIGNATURE_V1]

    tree = merkle.MemoryTree(hasher)
    pending = 0
    entries_path = root / "entries.jsonl"
    if not entries_path.exists():
        report.fail("export", "entries.jsonl is missing")
        return report
    for number, row, error in _lines(entries_path):
        where = f"entry {tree.size}"
        pending += 1
        if pending >= 1000 and progress:
            progress(pending)
            pending = 0
        if error or not isinstance(row, dict):
            report.fail(f"entries.jsonl line {number}", error or "not a JSON object")
            tree.append(b"\0" * 32)  # keep positions; the roots will not match
            continue
        _check_entry(report, row, tree, hasher, algorithm, where)
    if progress and pending:
        progress(pending)
    report.entries = tree.size
    if tree.size != size:
        report.fail("export", f"log.json says {size} entries, entries.jsonl has {tree.size}")

    previous: tuple[int, bytes] | None = None
    cp_path = root / "checkpoints.jsonl"
    checkpoints = []
    if cp_path.exists():
        for number, row, error in _lines(cp_path):
            if error or not isinstance(row, dict) or not isinstance(row.get("note"), str):
                report.fail(f"checkpoints.jsonl line {number}", error or "no note")
                continue
            checkpoints.append((number, row["note"]))
    if not checkpoints:
        report.fail("checkpoints", "the export holds no checkpoint: nothing vouches for it")
    latest: tuple[int, int] | None = None  # (size, distinct valid cosigners)
    for number, text in checkpoints:
        checked = _check_checkpoint(report, text, number, origin, trusted, cosigners, tree)
        if checked is None:
            continue
        cp, cosigned = checked
        if latest is None or cp.size >= latest[0]:
            latest = (cp.size, cosigned)
        report.checkpoints += 1
        if previous is not None:
            old_size, old_root = previous
            where = f"checkpoints {old_size} -> {cp.size}"
            if cp.size < old_size:
                report.fail(where, "the checkpoints are not in order of size (the tree shrank)")
            elif cp.size <= tree.size:
                try:
                    merkle.verify_consistency(hasher, old_size, cp.size, old_root, cp.root,
                                              tree.consistency_proof(old_size, cp.size))
                except merkle.ProofError as exc:
                    report.fail(where, f"inconsistent ({exc.reason})")
        previous = (cp.size, cp.root)
    if min_cosignatures > 0 and latest is not None and latest[1] < min_cosignatures:
        report.fail(f"checkpoint {latest[0]}",
                    f"cosigned by {latest[1]} trusted witness(es); {min_cosignatures} required")
    return report


def _check_entry(report: Report, row: dict[str, Any], tree: merkle.MemoryTree,
                 hasher: merkle.Hasher, algorithm: str, where: str) -> None:
    if row.get("index") != tree.size:
        report.fail(where, f"index {row.get('index')!r} out of sequence")
    entry_type, timestamp = row.get("type"), row.get("timestamp")
    record_hash, leaf_hash = _hex32(row.get("record_hash")), _hex32(row.get("leaf_hash"))
    if (not isinstance(entry_type, str) or not isinstance(timestamp, int)
            or isinstance(timestamp, bool) or record_hash is None or leaf_hash is None):
        report.fail(where, "malformed entry (type, timestamp, record_hash, leaf_hash)")
        tree.append(b"\0" * 32)
        return
    record = row.get("record")
    if record is not None:
        report.records += 1
        if not isinstance(record, str):
            report.fail(where, "the record is not canonical JSON text")
        else:
            if hasher.digest(record.encode()) != record_hash:
                report.fail(where, "record hash does not match its record")
            try:
                if rfc8785.dumps(json.loads(record)) != record.encode():
                    report.fail(where, "the record is not in canonical (JCS) form")
            except (ValueError, TypeError, rfc8785.CanonicalizationError):
                report.fail(where, "the record is not valid JSON")
    leaf = leaves.leaf_hash_of(entry_type, record_hash.hex(), timestamp, algorithm)
    if leaf != leaf_hash:
        report.fail(where, "leaf hash does not match the entry (type, record hash, time)")
    tree.append(leaf)


def _check_checkpoint(report: Report, text: str, number: int, origin: str,
                      trusted: list[notes.VerifierKey], cosigners: list[notes.VerifierKey],
                      tree: merkle.MemoryTree) -> tuple[notes.Checkpoint, int] | None:
    where = f"checkpoint (line {number})"
    try:
        note = notes.parse_note(text)
        cp = notes.parse_checkpoint(note.text)
    except notes.NoteError as exc:
        report.fail(where, f"malformed signed note ({exc.reason})")
        return None
    where = f"checkpoint {cp.size}"
    if cp.origin != origin:
        report.fail(where, f"origin {cp.origin!r} is not the log's {origin!r}")
    signed = False
    for key in trusted:
        try:
            notes.verify_signed_by(note, key)
            signed = True
        except notes.NoteError as exc:
            if exc.reason != "no signature by the key":
                report.fail(where, "the log's signature does not verify (forged or altered)")
                signed = True  # reported already
    if not signed:
        report.fail(where, "not signed by a trusted log key (forged)")
    cosigned: set[tuple[str, bytes]] = set()
    for key in cosigners:
        for sig in note.signatures:
            if sig.name == key.name and sig.key_id == key.key_id:
                if notes.verify_cosignature(note.text, key, sig) is None:
                    report.fail(where, f"cosignature of {key.name} does not verify")
                else:
                    report.cosignatures += 1
                    cosigned.add((key.name, key.key_id))
    if cp.size > tree.size:
        report.fail(where, f"covers {cp.size} entries but the export has {tree.size}")
    elif tree.root(cp.size) != cp.root:
        report.fail(where, "root hash does not match the exported entries")
    return cp, len(cosigned)


def export_lines(entries: Iterator[dict[str, Any]]) -> Iterator[str]:
    for row in entries:
        yield json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
