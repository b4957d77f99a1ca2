"""Public facade of the ledger app (防篡改账本): an append-only Merkle log per RFC 9162.

Other apps write with :func:`append` (or :func:`append_many`) inside their own transaction::

    from yiwang.enablement.ledger import service as ledger

    with transaction.atomic():
        licence.save()
        ledger.append("licence.issued", {"licence": licence.identifier,
                                         "vc_sha256": digest_hex})

The record is canonicalised with JCS (RFC 8785) and hashed; only the hash, the entry type
and the time go into the leaf. Records must be JSON, small, and free of personal data (an
ID number or a mobile number is refused): put identifiers and hashes of records in them,
never the records themselves.

Checkpoints (C2SP tlog-checkpoint signed notes) are signed periodically and on demand
(:func:`publish_checkpoint`), not on every append; department witnesses cosign them
(C2SP tlog-cosignature) after checking consistency with what they cosigned before
(:func:`cosign`). Proofs: :func:`inclusion_proof`, :func:`consistency_proof`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.masking import service as masking
from yiwang.enablement.ledger import leaves, logs, merkle, tiles
from yiwang.enablement.ledger.logs import (
    MAX_BATCH,
    MAX_RANGE,
    CheckpointInfo,
    ConsistencyProof,
    EntryInfo,
    InclusionProof,
    LedgerReceipt,
    LogInfo,
    _checkpoint_info,
    _error,
    _log,
    configured_logs,
    get_log,
    list_logs,
)
from yiwang.enablement.ledger.models import Checkpoint, Entry, Log

__all__ = [
    "CheckpointInfo",
    "ConsistencyProof",
    "EntryInfo",
    "InclusionProof",
    "LedgerReceipt",
    "LogInfo",
    "append",
    "append_many",
    "checkpoint",
    "configured_logs",
    "consistency_proof",
    "cosign",
    "enrol_witness",
    "entries",
    "find_entry",
    "get_log",
    "inclusion_proof",
    "latest_checkpoint",
    "list_checkpoints",
    "list_logs",
    "log_verifier_keys",
    "publish_checkpoint",
    "record_hash",
    "witness_all",
    "witnesses",
]

# --- appending ---------------------------------------------------------------------------


def _personal_data_path(value: Any, path: str) -> str | None:
    """The path of the first value that holds an ID number or a mobile number."""
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return None
    if isinstance(value, (str, int)):
        text = str(value)
        return path or "record" if masking.mask_text(text) != text else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if masking.mask_text(str(key)) != str(key):
                return path or "record"
            found = _personal_data_path(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _personal_data_path(item, f"{path}[{i}]")
            if found:
                return found
    return None


@dataclass(frozen=True)
class _Prepared:
    entry_type: str
    canonical: bytes
    record_hash: str


def _prepare(entry_type: str, record: Mapping[str, Any], algorithm: str) -> _Prepared:
    if (not isinstance(entry_type, str) or len(entry_type) > leaves.MAX_ENTRY_TYPE
            or not leaves.ENTRY_TYPE.fullmatch(entry_type)):
        raise _error(_("账本条目类型应形如“licence.issued”:小写字母、数字和下划线,用点分隔,"
                       "不超过 64 个字符。"), "entry_type")
    try:
        canonical = leaves.canonical(record)
    except leaves.RecordError as exc:
        raise _error(_("账本记录只能包含 JSON 值(对象、数组、字符串、数字、布尔值和 null):"
                       "%(reason)s") % {"reason": str(exc)}, "not_json") from None
    limit = int(getattr(settings, "YIWANG_LEDGER_MAX_RECORD_BYTES", 16384))
    if len(canonical) > limit:
        raise _error(_("账本记录过大(%(size)d 字节,上限 %(limit)d 字节):只写入记录的编号和"
                       "哈希,不要写入记录本身。") % {"size": len(canonical), "limit": limit},
                     "too_large")
    where = _personal_data_path(record, "")
    if where is not None:
        raise _error(_("账本记录的“%(path)s”含有个人信息(身份证号码或手机号码)。账本只记录"
                       "编号和哈希,不能写入个人信息。") % {"path": where[:80]}, "personal_data")
    digest = leaves.record_hash_of(canonical, algorithm).hex()
    return _Prepared(entry_type, canonical, digest)


def record_hash(record: Mapping[str, Any], *, log: str = "main") -> str:
    """The hex hash of the JCS-canonical ``record`` with the hash algorithm of ``log``."""
    algorithm = _log(log).hash_algorithm
    try:
        return leaves.record_hash_of(leaves.canonical(record), algorithm).hex()
    except leaves.RecordError as exc:
        raise _error(_("账本记录只能包含 JSON 值:%(reason)s") % {"reason": str(exc)},
                     "not_json") from None


def append(entry_type: str, record: Mapping[str, Any], *, log: str = "main") -> LedgerReceipt:
    """Append one entry to ``log`` within the caller's transaction (both land or neither).

    Raises ValidationError for an unknown log, a malformed entry type, a record that is not
    JSON, is larger than ``YIWANG_LEDGER_MAX_RECORD_BYTES``, or holds personal data.
    """
    # append_many is atomic itself: a second savepoint around it would change nothing.
    return append_many([(entry_type, record)], log=log)[0]


_LOCK_HEAD = "SELECT size FROM ledger_log WHERE id = %s FOR UPDATE"
_READ_HEAD = "SELECT size FROM ledger_log WHERE id = %s"
_INSERT = ('INSERT INTO ledger_entry (log_id, "index", entry_type, record_hash, leaf_hash, '
           'timestamp, record) VALUES (%s, %s, %s, %s, %s, %s, %s)')
_GROW = "UPDATE ledger_log SET size = %s WHERE id = %s"


def _begins_immediate() -> bool:
    options = connection.settings_dict.get("OPTIONS") or {}
    return (connection.vendor == "sqlite"
            and str(options.get("transaction_mode", "")).upper() == "IMMEDIATE")


@transaction.atomic
def append_many(items: Iterable[tuple[str, Mapping[str, Any]]], *, log: str = "main"
                ) -> list[LedgerReceipt]:
    """Append several entries in one go (group commit): one lock of the log head, one
    insert, consecutive indexes in the order given."""
    head = logs.head(log)
    prepared = [_prepare(entry_type, record, head.hash_algorithm) for entry_type, record in items]
    if not prepared:
        return []
    if len(prepared) > MAX_BATCH:
        raise _error(_("一次最多写入 %(n)d 条账本记录。") % {"n": MAX_BATCH}, "too_large")
    keep = bool(getattr(settings, "YIWANG_LEDGER_KEEP_RECORDS", True))
    hasher = merkle.hasher_for(head.hash_algorithm)
    # Plain SQL: on the append path the ORM's per-row cost was most of the work.
    with connection.cursor() as cursor:
        # The row lock on the head serialises writers on PostgreSQL until the caller
        # commits; SQLite transactions are IMMEDIATE here (the write lock is taken at
        # BEGIN), so its writers are serialised already.
        if connection.features.has_select_for_update:
            cursor.execute(_LOCK_HEAD, [head.pk])
            start = cursor.fetchone()[0]
        elif _begins_immediate():
            # logs.head() read the size inside this transaction, which holds the write
            # lock since BEGIN: nobody can have grown the log since.
            start = head.size
        else:
            cursor.execute(_READ_HEAD, [head.pk])
            start = cursor.fetchone()[0]
        # Read the clock once the lock is held, so timestamps never go back in index order.
        now = int(timezone.now().timestamp() * 1000)
        leaf_hashes = [hasher.hash_leaf(leaves.entry_bytes(p.entry_type, p.record_hash, now))
                       for p in prepared]
        cursor.executemany(_INSERT, [
            (head.pk, start + i, p.entry_type, bytes.fromhex(p.record_hash), leaf, now,
             p.canonical.decode() if keep else None)
            for i, (p, leaf) in enumerate(zip(prepared, leaf_hashes, strict=True))])
        cursor.execute(_GROW, [start + len(prepared), head.pk])
    tiles.integrate(head, start, start + len(prepared), leaf_hashes)
    return [LedgerReceipt(head.name, start + i, p.entry_type, p.record_hash, leaf.hex())
            for i, (p, leaf) in enumerate(zip(prepared, leaf_hashes, strict=True))]


# --- reading -----------------------------------------------------------------------------


def _entry_info(log: Log, e: Entry) -> EntryInfo:
    return EntryInfo(log.name, e.index, e.entry_type, bytes(e.record_hash).hex(),
                     bytes(e.leaf_hash).hex(), e.timestamp, e.record)


def entries(log: str = "main", start: int = 0, end: int | None = None, *,
            newest_first: bool = False) -> list[EntryInfo]:
    """Entries ``start`` (inclusive) to ``end`` (exclusive), at most 1,000."""
    head = _log(log)
    end = head.size if end is None else min(end, head.size)
    if start < 0 or end < start:
        raise _error(_("条目范围无效。"), "range")
    end = min(end, start + MAX_RANGE)
    qs = Entry.objects.filter(log=head, index__gte=start, index__lt=end)
    qs = qs.order_by("-index" if newest_first else "index")
    return [_entry_info(head, e) for e in qs]


def find_entry(log: str = "main", *, record_hash: str | None = None,
               leaf_hash: str | None = None) -> EntryInfo | None:
    """The first entry with this record hash (or leaf hash), hex; None if there is none."""
    head = _log(log)
    value = record_hash if record_hash is not None else leaf_hash
    try:
        raw = bytes.fromhex(value or "")
    except ValueError:
        raise _error(_("哈希值应为 64 位十六进制数字。"), "hash") from None
    if len(raw) != merkle.HASH_SIZE:
        raise _error(_("哈希值应为 64 位十六进制数字。"), "hash")
    field = "record_hash" if record_hash is not None else "leaf_hash"
    found = Entry.objects.filter(log=head, **{field: raw}).order_by("index").first()
    return _entry_info(head, found) if found else None


def latest_checkpoint(log: str = "main") -> CheckpointInfo | None:
    """The latest published checkpoint of ``log`` (read only), or None."""
    head = _log(log)
    cp = Checkpoint.objects.filter(log=head).order_by("-size").first()
    return _checkpoint_info(head, cp) if cp else None


def list_checkpoints(log: str = "main", *, limit: int = 20) -> list[CheckpointInfo]:
    """The latest ``limit`` checkpoints of ``log``, newest first."""
    head = _log(log)
    found = Checkpoint.objects.filter(log=head).order_by("-size")[:limit]
    return [_checkpoint_info(head, cp) for cp in found]


def _size_or_error(head: Log, size: int | None, what: str) -> int:
    current = Log.objects.filter(pk=head.pk).values_list("size", flat=True).get()
    if size is None:
        return current
    if not 0 <= size <= current:
        raise _error(_("%(what)s %(size)s 超出了日志的当前大小 %(current)d。")
                     % {"what": what, "size": size, "current": current}, "range")
    return size


_CHECKPOINT_NOTE = (
    "SELECT c.note, s.line FROM ledger_checkpoint c LEFT JOIN ledger_cosignature s "
    "ON s.checkpoint_id = c.id WHERE c.log_id = %s AND c.size = %s ORDER BY s.witness")


def inclusion_proof(log: str = "main", index: int = 0, tree_size: int | None = None
                    ) -> InclusionProof:
    """The inclusion proof of entry ``index`` in the tree of ``tree_size`` (default: the
    latest checkpoint's size if it covers the entry, else the current size)."""
    head = logs.head(log)
    if tree_size is None and head.checkpoint_size is not None and index < head.checkpoint_size:
        tree_size = head.checkpoint_size
    size = head.size if tree_size is None else tree_size
    if not 0 <= size <= head.size:
        raise _error(_("树的大小 %(size)s 超出了日志的当前大小 %(current)d。")
                     % {"size": size, "current": head.size}, "range")
    if not 0 <= index < size:
        raise _error(_("条目 %(index)s 不在大小为 %(size)d 的树中。")
                     % {"index": index, "size": size}, "not_found")
    reader = tiles.TileReader(head, size)
    path = reader.inclusion_proof(index)
    root = reader.root()
    leaf = reader.leaf(index)
    note = None
    if size == head.checkpoint_size or tree_size is not None:
        with connection.cursor() as cursor:
            cursor.execute(_CHECKPOINT_NOTE, [head.pk, size])
            rows = cursor.fetchall()
        if rows:
            note = rows[0][0] + "".join(line for _note, line in rows if line)
    return InclusionProof(head.name, index, size, leaf.hex(), root.hex(),
                          [p.hex() for p in path], note)


def verify_inclusion(log: str, proof: InclusionProof) -> bool:
    """Whether ``proof`` leads from its leaf to its root and, when it carries a checkpoint,
    the checkpoint is signed by a key of ``log`` and has that root."""
    from yiwang.enablement.ledger import checkpoints, notes

    hasher = merkle.hasher_for(logs.head(log).hash_algorithm)
    try:
        root = bytes.fromhex(proof.root_hash)
        merkle.verify_inclusion(hasher, proof.index, proof.tree_size,
                                bytes.fromhex(proof.leaf_hash),
                                [bytes.fromhex(h) for h in proof.hashes], root)
        if proof.checkpoint is not None:
            note = notes.parse_note(proof.checkpoint)
            cp = notes.parse_checkpoint(note.text)
            if cp.root != root or cp.size != proof.tree_size:
                return False
            checkpoints._verify_log_signature(_log(log), note)
    except (ValueError, ValidationError):
        return False
    return True


def consistency_proof(log: str = "main", old_size: int = 0, new_size: int | None = None
                      ) -> ConsistencyProof:
    """The RFC 9162 consistency proof from tree ``old_size`` to ``new_size``."""
    head = _log(log)
    new = _size_or_error(head, new_size, _("新树的大小"))
    if not 0 <= old_size <= new:
        raise _error(_("旧树的大小应在 0 到 %(new)d 之间。") % {"new": new}, "range")
    new_reader = tiles.TileReader(head, new)
    old_reader = tiles.TileReader(head, old_size)
    return ConsistencyProof(head.name, old_size, new, old_reader.root().hex(),
                            new_reader.root().hex(),
                            [p.hex() for p in new_reader.consistency_proof(old_size)])


def root_hash(log: str = "main", size: int | None = None) -> str:
    """The Merkle root (hex) of ``log`` at ``size`` (default: now)."""
    head = _log(log)
    return tiles.TileReader(head, _size_or_error(head, size, _("树的大小"))).root().hex()


# --- checkpoints and witnesses (checkpoints.py) -------------------------------------------

from yiwang.enablement.ledger.checkpoints import (  # noqa: E402 - the section stays here
    WitnessInfo,
    checkpoint,
    cosign,
    enrol_witness,
    log_verifier_keys,
    publish_checkpoint,
    witness_all,
    witnesses,
)

__all__ += ["WitnessInfo", "root_hash", "verify_inclusion"]
