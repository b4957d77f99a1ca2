"""yiwang's SQLite engine: write transactions wait their turn and always give it back."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from django.db.utils import ConnectionHandler, OperationalError

from yiwang.core.sqlite.testing import write_lock_for as _lock_for


def _handler(path: Path, timeout: float = 5) -> ConnectionHandler:
    return ConnectionHandler({"default": {
        "ENGINE": "yiwang.core.sqlite", "NAME": str(path),
        "OPTIONS": {"timeout": timeout, "transaction_mode": "IMMEDIATE",
                    "init_command": "PRAGMA journal_mode=WAL;"},
    }})


@pytest.fixture(autouse=True)
def _own_database(django_db_blocker):  # type: ignore[no-untyped-def]
    """These tests open SQLite files of their own, not the test database."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    path = tmp_path / "q.sqlite3"
    handler = _handler(path)
    with handler["default"].cursor() as cursor:
        cursor.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    handler["default"].close()
    return path


def _lock(path: Path):  # type: ignore[no-untyped-def]
    return _lock_for(str(path), False)


def test_commit_and_rollback_give_the_turn_back(db_file: Path) -> None:
    conn = _handler(db_file)["default"]
    conn.ensure_connection()  # a connection of its own, not the tests' database
    conn._start_transaction_under_autocommit()
    assert _lock(db_file).thread_lock.locked()
    conn.commit()
    assert not _lock(db_file).thread_lock.locked()
    conn._start_transaction_under_autocommit()
    conn.rollback()
    assert not _lock(db_file).thread_lock.locked()
    conn._start_transaction_under_autocommit()
    conn.close()  # closed mid-transaction: the turn goes back too
    assert not _lock(db_file).thread_lock.locked()
    assert (db_file.parent / "q.sqlite3.writelock").exists()


def test_writers_take_turns_and_all_commit(db_file: Path) -> None:
    inside = []
    overlap = []

    def writer(n: int) -> None:
        conn = _handler(db_file)["default"]
        conn.ensure_connection()
        for i in range(5):
            conn._start_transaction_under_autocommit()
            inside.append(n)
            if len(inside) > 1:
                overlap.append(list(inside))
            with conn.cursor() as cursor:
                cursor.execute("INSERT INTO t (v) VALUES (%s)", [f"{n}-{i}"])
            time.sleep(0.002)
            inside.remove(n)
            conn.commit()
        conn.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlap == []
    conn = _handler(db_file)["default"]
    with conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM t")
        assert cursor.fetchone()[0] == 20
    conn.close()


def test_a_writer_that_cannot_get_its_turn_gets_sqlites_error(db_file: Path) -> None:
    holder = _handler(db_file)["default"]
    holder.ensure_connection()
    holder._start_transaction_under_autocommit()
    errors = []

    def late() -> None:
        conn = _handler(db_file, timeout=0.2)["default"]
        conn.ensure_connection()
        try:
            conn._start_transaction_under_autocommit()
        except OperationalError as exc:
            errors.append(str(exc))
        conn.close()

    t = threading.Thread(target=late)
    t.start()
    t.join()
    holder.rollback()
    holder.close()
    assert errors == ["database is locked"]


def test_another_process_holding_the_file_lock_makes_a_writer_fail_not_hang(
        db_file: Path) -> None:
    """The cross-process turn is bounded by the busy timeout too: a process stuck inside a
    transaction (here: the file lock taken on another open file, as another process would)
    makes the writer fail with SQLite's error instead of waiting for ever."""
    import fcntl
    import os

    fd = os.open(str(db_file) + ".writelock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        conn = _handler(db_file, timeout=0.2)["default"]
        conn.ensure_connection()
        with pytest.raises(OperationalError, match="database is locked"):
            conn._start_transaction_under_autocommit()
        assert not _lock(db_file).thread_lock.locked()  # the thread's turn is given back
        conn.close()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    conn = _handler(db_file)["default"]
    conn.ensure_connection()
    conn._start_transaction_under_autocommit()  # free again: the writer gets its turn
    conn.rollback()
    conn.close()


def test_checkpoints_run_after_the_turn_not_inside_it(db_file: Path) -> None:
    """SQLite's automatic checkpoint is only a safety net; the process checkpoints every
    CHECKPOINT_EVERY commits itself, once its write turn is given back."""
    from yiwang.core.sqlite import testing as base

    base.reset_checkpoint_count()
    conn = _handler(db_file)["default"]
    conn.ensure_connection()
    with conn.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == base.AUTOCHECKPOINT_PAGES
    seen: list[bool] = []  # the turn's state at each checkpoint

    def trace(sql: str) -> None:
        if "wal_checkpoint" in sql:
            seen.append(_lock(db_file).thread_lock.locked())

    conn.connection.set_trace_callback(trace)
    for i in range(base.CHECKPOINT_EVERY - 1):
        conn._start_transaction_under_autocommit()
        with conn.cursor() as cursor:
            cursor.execute("INSERT INTO t (v) VALUES (%s)", [str(i) * 500])
        conn.commit()
    assert seen == []
    conn._start_transaction_under_autocommit()
    with conn.cursor() as cursor:
        cursor.execute("INSERT INTO t (v) VALUES (%s)", ["last"])
    conn.commit()
    assert seen == [False]  # one checkpoint, outside the turn
    conn.connection.set_trace_callback(None)
    conn.close()
