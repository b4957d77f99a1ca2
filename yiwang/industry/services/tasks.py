"""Background work of the service catalogue: the assistant's passages of a changed matter
or bundle (see :mod:`.searching`)."""

from __future__ import annotations

from yiwang.core.tasks.service import task
from yiwang.industry.services import searching


@task(name="services.sync_passages", max_retries=5, queue="knowledge")
def sync_passages(source: str) -> int:
    """Encode the passages of one matter or bundle for the assistant."""
    return searching.sync_passages(source)
