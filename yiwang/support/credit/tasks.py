"""Daily work of the credit platform: list entries off on their expiry date, risk classes."""

from __future__ import annotations

from yiwang.core.tasks.service import periodic
from yiwang.support.credit import service


@periodic(name="credit.expire_entries", at="00:05")
def expire_entries() -> int:
    """Mark red and black list entries whose expiry date has come as removed."""
    return service.expire_entries()


@periodic(name="credit.classify", at="02:40")
def classify() -> dict[str, int]:
    """Recompute every subject's risk class under the current rules."""
    return service.classify_all()


@periodic(name="credit.sync_index", at="00:10")
def sync_index() -> int:
    """Unified search follows publicity's dates: entries starting today go in, ended ones
    come out."""
    return service.sync_index()
