"""Query budgets of the API lifecycle the benchmark runs (benchmarks/applications.py): draft,
upload, submit, claim, two approvals, plus the official's inbox and detail. Each request
is counted with ``CaptureQueriesContext``; the bounds sit below what the code did before
the session-2 performance work, so a regression (a re-read, a second write, a permission
check per call) fails here."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.industry.applications.tests.conftest import MATTER, form_data, plain_png
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db
BASE = "/api/v1/applications"
# Queries per request (session and user included; approve2 issues the licence). Before the
# session-2 work: draft 13, upload 32, submit 28, inbox 6, detail 10, claim 15,
# approve1 22, approve2 151.
SQL: dict[str, list[str]] = {}
BUDGET = {"draft": 10, "upload": 32, "submit": 26, "inbox": 6, "detail": 9, "claim": 13,
          "approve1": 19, "approve2": 146}


def _file(content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("id.png", content, content_type="image/png")


def _counted(counts: dict[str, int], name: str, call: Any) -> Any:
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code in (200, 201), (name, response.content)
    counts[name] = len(ctx.captured_queries)
    SQL[name] = [q["sql"] for q in ctx.captured_queries]
    return response.json()


def lifecycle_counts(public_client: Any, internal_client: Any, citizen: Any,
                     officer: Any) -> dict[str, int]:
    sign_in_client(public_client, citizen)
    sign_in_client(internal_client, officer)
    counts: dict[str, int] = {}
    draft = _counted(counts, "draft", lambda: public_client.post(
        f"{BASE}/drafts", {"matter_code": MATTER, "data": form_data(citizen)},
        content_type="application/json"))
    pk = draft["id"]
    _counted(counts, "upload", lambda: public_client.post(
        f"{BASE}/{pk}/materials", {"key": "id_card", "file": _file(plain_png())}))
    app = _counted(counts, "submit", lambda: public_client.post(
        f"{BASE}/{pk}/submit", {}, content_type="application/json"))
    version = app["row_version"]
    task = app["tasks"][0]["id"]
    _counted(counts, "inbox", lambda: internal_client.get(f"{BASE}/inbox"))
    _counted(counts, "detail", lambda: internal_client.get(f"{BASE}/{pk}"))
    _counted(counts, "claim", lambda: internal_client.post(
        f"{BASE}/tasks/{task}/claim", {"expected_version": version},
        content_type="application/json"))
    app = _counted(counts, "approve1", lambda: internal_client.post(
        f"{BASE}/tasks/{task}/decide", {"outcome": "approve", "expected_version": version + 1},
        content_type="application/json"))
    task = app["tasks"][0]["id"]
    app = _counted(counts, "approve2", lambda: internal_client.post(
        f"{BASE}/tasks/{task}/decide",
        {"outcome": "approve", "expected_version": app["row_version"]},
        content_type="application/json"))
    assert app["state"] == "approved"
    return counts


def test_lifecycle_query_budget(public_client: Any, internal_client: Any, version: Any,
                                citizen: Any, officer: Any) -> None:
    counts = lifecycle_counts(public_client, internal_client, citizen, officer)
    over = {name: (counts[name], bound) for name, bound in BUDGET.items()
            if counts[name] > bound}
    assert not over, (over, counts)


def _app_updates(name: str) -> list[str]:
    return [sql for sql in SQL[name] if sql.startswith('UPDATE "applications_application"')]


def test_writes_name_their_columns(public_client: Any, internal_client: Any, version: Any,
                                   citizen: Any, officer: Any) -> None:
    """Submit and decide write the columns they change, once: the data is not encrypted and
    written again by the decision, the flow's state is written with it (not just before),
    the outcome reason not by the submission."""
    lifecycle_counts(public_client, internal_client, citizen, officer)
    submit = [sql for sql in _app_updates("submit") if '"data_text"' in sql]
    assert len(submit) == 1 and '"outcome_reason"' not in submit[0]
    for name in ("claim", "approve1", "approve2"):
        assert not any('"data_text"' in sql for sql in _app_updates(name)), name
    decided = [sql for sql in _app_updates("approve2") if '"workflow_text"' in sql]
    assert len(decided) == 1 and '"decided_at"' in decided[0]


def test_official_rule_is_computed_once_per_user_object(officer: Any,
                                                         stranger_official: Any) -> None:
    """is_official / official_scope ask has_perm and read the memberships once for the
    user object of a request (the inbox asks three times); the answer is keyed by the
    user's pk, never lent to another account."""
    from django.contrib.auth import get_user_model

    from yiwang.industry.applications import access

    user = get_user_model().objects.get(pk=officer.pk)
    calls: list[str] = []
    has_perm = user.has_perm

    def counting(perm: str, obj: Any = None) -> bool:
        calls.append(perm)
        return bool(has_perm(perm, obj))

    user.has_perm = counting
    with CaptureQueriesContext(connection) as ctx:
        for _round in range(3):
            assert access.is_official(user)
            assert access.official_scope(user).departments == ("gaj",)
    assert len(calls) == 1
    assert len(ctx.captured_queries) <= 3  # user perms, group perms, memberships
    # Another account's object carrying this one's cached answer is not served it.
    other = get_user_model().objects.get(pk=stranger_official.pk)
    other.__dict__.update({k: v for k, v in user.__dict__.items()
                           if k.startswith("_applications_")})
    assert access.official_scope(other).departments == ("scjg",)
    # A citizen is never an official, whatever is cached.
    user.is_staff = False
    assert not access.is_official(user)
    assert access.official_scope(user) == access.Scope()
