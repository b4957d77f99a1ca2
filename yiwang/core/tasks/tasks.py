"""Built-in tasks of the tasks app: a harmless echo (for checks and tests) and the pruning
of old job history."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from yiwang.core.tasks import heartbeats, jobs
from yiwang.core.tasks.registry import periodic, task

KEEP_FINISHED_JOBS = timedelta(days=7)


@task(name="tasks.echo", max_retries=0, time_limit=60)
def echo(value: Any = None, delay: float = 0) -> dict[str, Any]:
    """Return ``value`` unchanged, with the process that ran it, after ``delay`` seconds
    (at most 30). Proves that a worker is working; harmless to run any number of times."""
    time.sleep(min(max(float(delay), 0.0), 30.0))
    return {"value": value, "worker": heartbeats.identity()}


@periodic(name="tasks.prune_jobs", at="03:30")
def prune_jobs() -> dict[str, int]:
    """Delete job rows that finished more than a week ago, and workers gone as long."""
    return {"jobs": jobs.prune(KEEP_FINISHED_JOBS),
            "workers": heartbeats.prune(KEEP_FINISHED_JOBS)}
