"""Test helpers of the SQLite engine: reach a database file's write turn directly, and the
process's checkpoint schedule."""

from yiwang.core.sqlite import base as _base
from yiwang.core.sqlite.base import AUTOCHECKPOINT_PAGES, CHECKPOINT_EVERY
from yiwang.core.sqlite.base import _lock_for as write_lock_for


def reset_checkpoint_count() -> None:
    """Start counting this process's commits towards its next checkpoint from zero."""
    _base._commits[0] = 0


__all__ = ["AUTOCHECKPOINT_PAGES", "CHECKPOINT_EVERY", "reset_checkpoint_count",
           "write_lock_for"]
