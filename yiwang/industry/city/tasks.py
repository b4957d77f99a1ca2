"""Background work of city management: the cases' clock."""

from __future__ import annotations

from datetime import timedelta

from yiwang.core.tasks.service import periodic
from yiwang.industry.city import service


@periodic(name="city.tick", every=timedelta(minutes=5))
def tick() -> dict[str, int]:
    """Warn before deadlines, mark overdue cases and escalate them; idempotent."""
    return service.tick()
