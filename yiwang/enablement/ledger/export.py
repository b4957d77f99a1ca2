"""Write an export of a log for offline audit (format in offline.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.utils import timezone

from yiwang.enablement.ledger import checkpoints, logs, offline
from yiwang.enablement.ledger.models import AnchorReceipt, Checkpoint, Entry, Log

CHUNK = 5000


def _entries(log: Log, size: int) -> Iterator[dict[str, Any]]:
    for start in range(0, size, CHUNK):
        rows = (Entry.objects.filter(log=log, index__gte=start, index__lt=start + CHUNK)
                .order_by("index")
                .values_list("index", "entry_type", "record_hash", "leaf_hash", "timestamp",
                             "record"))
        for index, entry_type, record_hash, leaf_hash, timestamp, record in rows:
            row: dict[str, Any] = {"index": index, "type": entry_type,
                                   "record_hash": bytes(record_hash).hex(),
                                   "leaf_hash": bytes(leaf_hash).hex(), "timestamp": timestamp}
            if record is not None:
                row["record"] = record
            yield row


def export_log(log: str, directory: str | Path, *,
               progress: Callable[[int], Any] | None = None) -> dict[str, Any]:
    """Write ``log`` (entries up to its latest checkpoint, or all) to ``directory``;
    return the contents of ``log.json``."""
    head = logs._log(log)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    size = Log.objects.filter(pk=head.pk).values_list("size", flat=True).get()
    meta = {
        "format": offline.FORMAT, "log": head.name, "origin": head.origin,
        "hash_algorithm": head.hash_algorithm, "size": size,
        "log_keys": checkpoints.log_verifier_keys(head.name),
        "witness_keys": dict(checkpoints.witness_verifier_keys()),
        "exported_at": timezone.now().isoformat(),
    }
    with (out / "entries.jsonl").open("w", encoding="utf-8") as fh:
        written = 0
        for line in offline.export_lines(_entries(head, size)):
            fh.write(line)
            written += 1
            if progress and written % 1000 == 0:
                progress(1000)
        if progress and written % 1000:
            progress(written % 1000)
    with (out / "checkpoints.jsonl").open("w", encoding="utf-8") as fh:
        for cp in Checkpoint.objects.filter(log=head, size__lte=size).order_by("size"):
            fh.write(json.dumps({"size": cp.size, "note": logs._checkpoint_note(cp)},
                                ensure_ascii=False) + "\n")
    with (out / "anchors.jsonl").open("w", encoding="utf-8") as fh:
        for a in AnchorReceipt.objects.filter(checkpoint__log=head).order_by("pk"):
            fh.write(json.dumps({"size": a.checkpoint.size, "plugin": a.plugin,
                                 "receipt": a.receipt}, ensure_ascii=False) + "\n")
    (out / "log.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n",
                                  encoding="utf-8")
    return meta
