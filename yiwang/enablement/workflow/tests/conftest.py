from __future__ import annotations

from typing import Any

import pytest

from yiwang.enablement.workflow import calendar


@pytest.fixture(autouse=True)
def _fresh_calendar() -> Any:
    calendar.clear_cache()
    yield
    calendar.clear_cache()


@pytest.fixture
def demo_calendar(db: Any) -> None:
    """The demo 2026 calendar (holidays and make-up working days)."""
    from yiwang.enablement.workflow import service as wf

    wf.load_calendar(calendar.DATA_2026)
