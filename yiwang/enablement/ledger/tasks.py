"""Background work of the ledger (discovered by the tasks app): checkpoints, witnessing,
anchoring."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings

from yiwang.core.tasks.service import periodic, task
from yiwang.enablement.ledger import anchors, checkpoints, logs

_EVERY = timedelta(seconds=max(5, int(getattr(settings, "YIWANG_LEDGER_CHECKPOINT_SECONDS",
                                                  60))))


@periodic(name="ledger.publish_checkpoints", every=_EVERY)
def publish_checkpoints() -> dict[str, Any]:
    """Sign a checkpoint of each log that grew, then let every witness cosign it."""
    published = {}
    for name in logs.configured_logs():
        info = checkpoints.publish_checkpoint(name)
        published[name] = info.size if info else 0
    return {"sizes": published, **checkpoints.witness_all()}


@task(name="ledger.witness", max_retries=3)
def witness(log: str | None = None) -> dict[str, list[str]]:
    """On demand: every witness cosigns the latest checkpoint it has not cosigned."""
    return checkpoints.witness_all(log)


@task(name="ledger.anchor_checkpoint", max_retries=8, time_limit=120)
def anchor_checkpoint(checkpoint_pk: int) -> dict[str, Any]:
    """Post a checkpoint with the anchoring plugin (retried with back-off on failure)."""
    return anchors.anchor(checkpoint_pk)
