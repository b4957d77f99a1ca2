"""Test helpers of the SQLite engine: reach a database file's write turn directly."""

from yiwang.core.sqlite.base import _lock_for as write_lock_for

__all__ = ["write_lock_for"]
