"""Background work of unified search: a full rebuild asked for on the workbench."""

from __future__ import annotations

from yiwang.core.tasks.service import task
from yiwang.support.search import service


@task(name="search.reindex", max_retries=2)
def reindex() -> dict[str, int]:
    """Rebuild every module's documents."""
    return service.reindex()
