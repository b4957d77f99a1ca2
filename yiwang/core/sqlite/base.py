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

Checkpoints are taken after the turn, not inside it. SQLite's automatic checkpoint runs in
the ``COMMIT`` that fills the write-ahead log past its threshold, while that writer still
holds its turn: copying ~1,000 pages into the database file and syncing it took 8–15 ms
(p99 of commits in benchmarks/applications.py, against 0.12 ms for the median), and every
other writer of every process waited behind it. Here each connection's automatic threshold
is raised to :data:`AUTOCHECKPOINT_PAGES` (a safety net only) and the process runs a
``PASSIVE`` checkpoint itself every :data:`CHECKPOINT_EVERY` commits, just after giving its
turn back — a passive checkpoint neither waits for nor blocks writers, and what it cannot
copy yet (pages a reader still uses) the next one does.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from typing import Any

from django.db.backends.sqlite3 import base as sqlite3_base
from django.db.utils import OperationalError

_registry_lock = threading.Lock()
_locks: dict[str, _WriteLock] = {}

#: commits of this process between two of its passive checkpoints
CHECKPOINT_EVERY = 64
#: SQLite's own automatic checkpoint, left as a safety net (default 1,000 pages)
AUTOCHECKPOINT_PAGES = 20_000
_commits = [0]


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

    def _takes_turns(self) -> bool:
        """Whether write transactions wait their turn (``transaction_mode: IMMEDIATE``)."""
        return getattr(self, "transaction_mode", None) == "IMMEDIATE"

    def get_new_connection(self, conn_params: Any) -> Any:
        conn = super().get_new_connection(conn_params)
        # Only where commits take the turn (and so count towards the process's checkpoints).
        if not self.is_in_memory_db() and self._takes_turns():
            conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES:d}")
        return conn

    def _start_transaction_under_autocommit(self) -> None:
        if not self._takes_turns() or self._holding is not None:
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
        held = False
        try:
            result = super()._commit()  # type: ignore[misc]
        finally:
            if self.connection is None or not self.connection.in_transaction:
                held = self._holding is not None
                self._let_go()
        if held:
            self._checkpoint_now_and_then()
        return result

    def _checkpoint_now_and_then(self) -> None:
        """Every :data:`CHECKPOINT_EVERY` commits of this process, a ``PASSIVE`` checkpoint,
        outside the write turn (see the module's docstring). Never fails the commit: a
        checkpoint that cannot run now (another process is checkpointing) is skipped."""
        _commits[0] += 1
        if _commits[0] % CHECKPOINT_EVERY or self.connection is None or self.is_in_memory_db():
            return
        # busy or closing: the next one (or SQLite's safety net) catches up
        with contextlib.suppress(sqlite3.Error):
            self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

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
