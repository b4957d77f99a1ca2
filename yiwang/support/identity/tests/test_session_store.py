"""The session store with its query built once answers as Django's database store does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.support.identity.session_store import SessionStore

pytestmark = pytest.mark.django_db


def _saved(data: dict[str, object]) -> str:
    store = DjangoStore()
    store.update(data)
    store.save()
    return str(store.session_key)


def test_a_saved_session_reads_back_in_one_query() -> None:
    key = _saved({"yiwang_sid": "abc", "n": 3})
    store = SessionStore(key)
    with CaptureQueriesContext(connection) as queries:
        assert store["yiwang_sid"] == "abc" and store["n"] == 3
    assert len(queries.captured_queries) == 1
    assert store.session_key == key


def test_an_expired_session_is_empty_and_gets_a_new_key_when_saved() -> None:
    key = _saved({"n": 1})
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1))
    store = SessionStore(key)
    assert store.load() == {} and store.session_key is None
    assert dict(DjangoStore(key).load()) == {}  # the same answer as Django's


@pytest.mark.parametrize("key", ["unknown-key-1234567890", "short", ""])
def test_an_unknown_or_invalid_key_is_empty(key: str) -> None:
    store = SessionStore(key or None)
    assert store.load() == {} and store.session_key is None


def test_writes_are_djangos() -> None:
    store = SessionStore()
    store["a"] = 1
    store.save()
    assert DjangoStore(store.session_key)["a"] == 1
    store.cycle_key()
    assert SessionStore(store.session_key)["a"] == 1
