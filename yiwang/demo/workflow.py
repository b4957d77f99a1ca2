"""Demo working calendar (工作日历) for 2026: public holidays and make-up working days.

Demo data (``yiwang/enablement/workflow/data/calendar-2026.json``): check it against the State
Council notice before production. Idempotent.
"""

from __future__ import annotations

from collections.abc import Callable

from yiwang.enablement.workflow import service as workflow

Progress = Callable[[str, int], Callable[[int], None]]


def load_workflow(progress: Progress) -> int:
    """Load the 2026 demo calendar; returns the number of days written (0 when loaded)."""
    tick = progress("工作日历 working calendar", 1)
    written = workflow.load_calendar(workflow.DEMO_CALENDAR_2026)
    tick(1)
    return written
