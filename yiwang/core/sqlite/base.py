"""Django's SQLite backend with write transactions queued fairly.

With ``transaction_mode: IMMEDIATE`` every transaction takes SQLite's write lock at ``BEGIN``.
A writer that finds the lock taken does not queue: SQLite's busy handler sleeps and retries
(1, 2, 5 … then 100 ms between tries), so under load a writer that has waited long sleeps
100 ms at a time while newcomers take the lock the moment it is free — lifecycles of a few
hundred milliseconds of work took seconds (benchmarks/applications.py).

Here each transaction first waits its turn — threads of a process on a lock, processes on an
advisory ``flock`` of ``<database>.writelock``, polled every few milliseconds — and so finds
SQLite's lock free at ``BEGIN``; the lock is given back at ``COMMIT``/``ROLLBACK`` (or when
the connection closes). The busy timeout bounds both waits: a writer that cannot get its turn
within it gets SQLite's own error, "database is locked". Writers outside yiwang (the sqlite3
shell) are unaffected and still meet
the busy handler. An in-memory database (the tests') has one process: the thread lock only.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from typing import Any

from django.db.backends.sqlite3 import base as sqlite3_base
from django.db.utils import OperationalError

_registry_lock = threading.Lock()
_locks: dict[str, _WriteLock] = {}


class _WriteLock:
    """One database file's turn to write: a thread lock and, for a file, its ``flock``."""

    def __init__(self, path: str | None) -> None:
        self.thread_lock = threading.Lock()
        self.path = path
        self.fd: int | None = None
        self.pid = 0

    def acquire(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if not self.thread_lock.acquire(timeout=timeout):
            raise OperationalError("database is locked")
        try:
            if self.path is not None:
                if self.fd is None or self.pid != os.getpid():  # opened anew after a fork
                    self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                    self.pid = os.getpid()
                self._flock(self.fd, deadline)
        except BaseException:
            self.thread_lock.release()
            raise

    @staticmethod
    def _flock(fd: int, deadline: float) -> None:
        """Take the file lock, polling (0.5 ms doubling to 4 ms) until ``deadline``: bounded
        like SQLite's busy timeout, so a process stuck in a transaction makes the others fail
        with "database is locked" instead of hanging."""
        pause = 0.0005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError("database is locked") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.004)

    def release(self) -> None:
        try:
            if self.fd is not None and self.pid == os.getpid():
                fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.thread_lock.release()


def _lock_for(name: str, in_memory: bool) -> _WriteLock:
    key = str(name)
    with _registry_lock:
        lock = _locks.get(key)
        if lock is None:
            lock = _locks[key] = _WriteLock(None if in_memory else f"{key}.writelock")
        return lock


class DatabaseWrapper(sqlite3_base.DatabaseWrapper):
    _holding: _WriteLock | None = None

    def _start_transaction_under_autocommit(self) -> None:
        if getattr(self, "transaction_mode", None) != "IMMEDIATE" or self._holding is not None:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
            return
        lock = _lock_for(self.settings_dict["NAME"], self.is_in_memory_db())
        options = self.settings_dict.get("OPTIONS", {})
        lock.acquire(float(options.get("timeout", 5)))
        self._holding = lock
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._let_go()
            raise

    def _let_go(self) -> None:
        lock, self._holding = self._holding, None
        if lock is not None:
            lock.release()

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            if self.connection is None or not self.connection.in_transaction:
                self._let_go()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._let_go()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._let_go()
