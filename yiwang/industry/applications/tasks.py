"""Background work of the applications app (discovered by the tasks app): the statutory
clocks — warnings, overdue escalation and the approval flows' timers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from yiwang.core.tasks.service import periodic
from yiwang.industry.applications import service


@periodic(name="applications.tick_clocks", every=timedelta(minutes=10))
def tick_clocks() -> dict[str, Any]:
    """Warn, escalate and fire timers due now; idempotent."""
    return service.tick_clocks()
