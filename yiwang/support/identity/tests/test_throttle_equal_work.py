"""A failed sign-in costs the same work whatever the account behind the name is doing.

A failure at a name whose account is locked silently (by guesses at its other name), at a
name of an account that is not locked, and at a name of no account must run the same
database statements and write the same audit records: timing follows writes, so any
difference would let someone probing names link a username to its phone number.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from yiwang.core.audit.service import AuditEvent
from yiwang.platform.zones.testing import ListenerClient
from yiwang.support.identity import throttle
from yiwang.support.identity.models import AuthThrottle
from yiwang.support.identity.tests.test_signin_support import make_citizen

pytestmark = pytest.mark.django_db

LOGIN = "/account/login/"
WRONG = "not the password"
LIMIT = 3
PROBES = LIMIT + 1  # up to and past the name's own lock


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.YIWANG_LOCKOUT_ACCOUNT_FAILURES = LIMIT
    settings.YIWANG_LOCKOUT_ADDRESS_FAILURES = 1000
    settings.YIWANG_LOCKOUT_WINDOW_SECONDS = 600


def shape(sql: str) -> str:
    """A statement without its values (NULL is one; PostgreSQL casts those that are not)
    or savepoint names: what it does, not with which key."""
    sql = re.sub(r'"s\d+_x\d+"', "?", sql).replace("::timestamptz", "")
    sql = re.sub(r"'(?:[^']|'')*'|%s|\bNULL\b", "?", sql)
    return re.sub(r"\b\d+(?:\.\d+)?\b", "?", sql)


def work(action: Callable[[], object]) -> tuple[list[str], list[str]]:
    """The statements ``action`` runs and the kinds of audit records it writes."""
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with CaptureQueriesContext(connection) as queries:
        action()
    written = sorted(AuditEvent.objects.filter(pk__gt=before)
                     .values_list("action", flat=True))
    return [shape(query["sql"]) for query in queries.captured_queries], written


def accounts() -> dict[str, str]:
    """The names probed, one per case (all usernames, so the lookups are alike)."""
    make_citizen("zhangsan", phone="13812345678")
    make_citizen("lisi", phone="13912345678")
    make_citizen("wangwu", phone="13712345678")
    client = ListenerClient(settings.YIWANG_PUBLIC_PORT, REMOTE_ADDR="203.0.113.9")
    # zhangsan's account is locked silently by guesses at its phone
    assert [client.post(LOGIN, {"login": "13812345678", "password": WRONG}).status_code
            for _ in range(LIMIT)] == [200, 200, 429]
    # wangwu's account has one failure at its phone: its lock starts during the probes
    assert client.post(LOGIN, {"login": "13712345678", "password": WRONG}).status_code == 200
    assert throttle.check(None, "zhangsan") is True
    assert throttle.check(None, "lisi") is False
    return {"silently locked": "zhangsan", "not locked": "lisi",
            "counting towards a lock": "wangwu", "no account": "nobody"}


def test_failures_at_a_silently_locked_account_cost_the_same_as_at_any_name() -> None:
    names = accounts()
    clients: dict[str, Client] = {case: ListenerClient(settings.YIWANG_PUBLIC_PORT)
                                  for case in names}
    # one request each first, so that every browser has its session and the address its row
    for client in clients.values():
        client.get(LOGIN)
    seen: dict[str, list[tuple[int, list[str], list[str]]]] = {case: [] for case in names}
    for _ in range(PROBES):
        for case, name in names.items():
            answer: list[int] = []

            def probe(client: Client = clients[case], login: str = name,
                      answer: list[int] = answer) -> None:
                answer.append(client.post(LOGIN, {"login": login, "password": WRONG})
                              .status_code)

            statements, audited = work(probe)
            seen[case].append((answer[0], statements, audited))
    expected = seen["no account"]
    assert [status for status, _s, _a in expected] == [200, 200] + [429] * (PROBES - 2)
    # the name's lock and its (stand-in) account's, at the failure that starts them
    assert [audited.count("identity.locked") for _s, _q, audited in expected] \
        == [0, 0, 2] + [0] * (PROBES - 3)
    for case in names:
        for probe, (got, want) in enumerate(zip(seen[case], expected, strict=True)):
            assert got == want, f"{case}: probe {probe + 1} differs"


def request_from(address: str = "198.51.100.7"):
    return RequestFactory().post(LOGIN, REMOTE_ADDR=address)


def test_fail_does_the_same_work_for_every_kind_of_name() -> None:
    names = accounts()
    reasons = {"silently locked": "account_locked", "no account": "unknown_account"}
    seen: dict[str, list[tuple[list[str], list[str]]]] = {case: [] for case in names}
    for _ in range(PROBES):
        for case, name in names.items():
            seen[case].append(work(lambda name=name, case=case: throttle.fail(
                request_from(), name, reason=reasons.get(case, "wrong_password"))))
    for case in names:
        assert seen[case] == seen["no account"], case
    # and the counting itself is as before: each name locked at its limit (the probe past
    # it not counted), each account too — zhangsan's by the guesses at its phone
    for name in names.values():
        for key in (throttle.login_key(name), throttle.account_key(name)):
            row = AuthThrottle.objects.get(key=key)
            assert row.failures == LIMIT and row.locked_until is not None
    # wangwu's account locked silently at the name's second failure: noted in that
    # failure's record; its identity.locked came with the name's lock, one failure later
    wangwu = AuditEvent.objects.filter(object_id=throttle.account_key("wangwu")[6:])
    noted = wangwu.filter(action="identity.sign_in_failed",
                          detail__has_key="account_locked_until")
    locked = wangwu.get(action="identity.locked", detail__scope="account")
    assert noted.count() == 1 and noted.get().pk < locked.pk
    assert noted.get().detail["account_locked_until"] == locked.detail["until"]
