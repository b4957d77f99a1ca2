"""Background work of the licences app (discovered by the tasks app): keep this instance's
status lists signed and fresh, so that verifiers never meet an expired one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from yiwang.core.tasks.service import periodic
from yiwang.support.licences import service


@periodic(name="licences.resign_status_lists", every=timedelta(hours=1))
def resign_status_lists() -> dict[str, Any]:
    """Sign again each status list that is unsigned or past half of its validity
    (``YIWANG_LICENCES_STATUS_LIST_VALID_HOURS``); idempotent."""
    return {"signed": service.resign_status_lists()}
