"""Anchoring plugins: post each new checkpoint to an external system (a consortium chain
such as FISCO BCOS, a notary, a file shipped off-site) and keep its receipt.

An anchor adds a second, independent witness of the tree head: once a checkpoint is on a
chain, even the log operator together with every witness cannot present a different
history for that size without the chain showing it. The interface is deliberately small:

    class AnchorPlugin:
        name: str
        def post(self, checkpoint: AnchorCheckpoint) -> dict[str, Any]: ...
        def check(self, checkpoint: AnchorCheckpoint, receipt: dict[str, Any]) -> bool: ...

``post`` runs in a background job after the checkpoint's transaction commits (never inside a
request or a transaction), may raise to be retried, and returns a JSON receipt (for a chain:
the transaction hash, block number and contract address) that is stored in
``AnchorReceipt`` and exported with the log. ``check`` re-reads the anchor (for audits).

Select the plugin with ``YIWANG_LEDGER_ANCHOR``: ``none``, ``file`` (:class:`FileAnchor`,
JSON lines appended to ``YIWANG_LEDGER_ANCHOR_FILE``) or a dotted path to a class.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class AnchorCheckpoint:
    log: str
    origin: str
    size: int
    root_hash: str  # hex
    note: str  # the signed note (log signature)


class AnchorPlugin:
    """Base class of anchoring plugins (see the module docstring)."""

    name = "base"

    def post(self, checkpoint: AnchorCheckpoint) -> dict[str, Any]:
        raise NotImplementedError

    def check(self, checkpoint: AnchorCheckpoint, receipt: dict[str, Any]) -> bool:
        raise NotImplementedError


class NoAnchor(AnchorPlugin):
    """Anchoring switched off."""

    name = "none"

    def post(self, checkpoint: AnchorCheckpoint) -> dict[str, Any]:
        return {}

    def check(self, checkpoint: AnchorCheckpoint, receipt: dict[str, Any]) -> bool:
        return True


class FileAnchor(AnchorPlugin):
    """Appends each checkpoint as one JSON line to a local file (to ship off-site); the
    receipt is the line number and the SHA-256 of the line."""

    name = "file"

    def __init__(self, path: str | Path | None = None) -> None:
        configured = path or getattr(settings, "YIWANG_LEDGER_ANCHOR_FILE", "")
        self.path = Path(configured or Path(settings.DATA_DIR) / "ledger-anchors.jsonl")

    def _line(self, checkpoint: AnchorCheckpoint) -> str:
        return json.dumps(asdict(checkpoint), sort_keys=True, ensure_ascii=False)

    def post(self, checkpoint: AnchorCheckpoint) -> dict[str, Any]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = self._line(checkpoint)
        with self.path.open("a+", encoding="utf-8") as fh:
            fh.seek(0)
            number = sum(1 for _ in fh) + 1
            fh.write(line + "\n")
        return {"file": str(self.path), "line": number,
                "sha256": hashlib.sha256(line.encode()).hexdigest()}

    def check(self, checkpoint: AnchorCheckpoint, receipt: dict[str, Any]) -> bool:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
            line = lines[int(receipt["line"]) - 1]
        except (OSError, KeyError, ValueError, IndexError):
            return False
        return line == self._line(checkpoint) and (
            hashlib.sha256(line.encode()).hexdigest() == receipt.get("sha256"))


def get_plugin(name: str | None = None) -> AnchorPlugin:
    """The configured anchoring plugin (``YIWANG_LEDGER_ANCHOR``)."""
    name = name or getattr(settings, "YIWANG_LEDGER_ANCHOR", "none") or "none"
    if name == "none":
        return NoAnchor()
    if name == "file":
        return FileAnchor()
    plugin_class = import_string(name)
    plugin = plugin_class()
    if not isinstance(plugin, AnchorPlugin):
        raise TypeError(f"{name} is not an AnchorPlugin")
    return plugin


def schedule(checkpoint_pk: int) -> None:
    """Queue the anchoring of a new checkpoint (in the caller's transaction)."""
    if (getattr(settings, "YIWANG_LEDGER_ANCHOR", "none") or "none") == "none":
        return
    from yiwang.core.tasks.service import enqueue

    enqueue("ledger.anchor_checkpoint", checkpoint_pk)


def anchor(checkpoint_pk: int) -> dict[str, Any]:
    """Post checkpoint ``checkpoint_pk`` with the configured plugin and keep the receipt
    (idempotent: a checkpoint already anchored by this plugin is not posted again)."""
    from yiwang.enablement.ledger.models import AnchorReceipt, Checkpoint

    plugin = get_plugin()
    cp = Checkpoint.objects.select_related("log").get(pk=checkpoint_pk)
    done = AnchorReceipt.objects.filter(checkpoint=cp, plugin=plugin.name).first()
    if done is not None:
        return dict(done.receipt)
    receipt = plugin.post(AnchorCheckpoint(cp.log.name, cp.log.origin, cp.size,
                                           bytes(cp.root).hex(), cp.note))
    AnchorReceipt.objects.create(checkpoint=cp, plugin=plugin.name, receipt=receipt)
    return receipt
