"""Background tasks — placeholder replaced by the tasks implementation."""

from dataclasses import dataclass
from datetime import datetime


@dataclass
class WorkerStatus:
    alive: bool
    backend: str
    last_seen: datetime | None = None

    def describe(self) -> str:
        return f"{self.backend}: no worker seen"


def worker_status() -> WorkerStatus:
    return WorkerStatus(alive=False, backend="database")
