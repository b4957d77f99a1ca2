"""The lifecycle through the JSON API: the citizen on the public listener, the official on
the internal one; access rules; a stale version is a 409."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.industry.applications.tests.conftest import MATTER, form_data, plain_png
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db
BASE = "/api/v1/applications"


def test_anonymous_callers_are_refused(public_client: Any, internal_client: Any,
                                       version: Any) -> None:
    assert public_client.get(f"{BASE}/").status_code == 401
    assert internal_client.get(f"{BASE}/inbox").status_code == 401


def test_citizen_and_official_lifecycle(public_client: Any, internal_client: Any,
                                        version: Any, citizen: Any, officer: Any) -> None:
    sign_in_client(public_client, citizen)
    made = public_client.post(f"{BASE}/drafts", {"matter_code": MATTER, "data": {}},
                              content_type="application/json")
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    saved = public_client.put(f"{BASE}/{pk}/draft", {"data": form_data(citizen)},
                              content_type="application/json")
    assert saved.status_code == 200
    refused = public_client.post(f"{BASE}/{pk}/submit", {}, content_type="application/json")
    assert refused.status_code == 400 and "id_card" in refused.json()["errors"]
    upload = public_client.post(f"{BASE}/{pk}/materials", {
        "key": "id_card", "file": _file(plain_png())})
    assert upload.status_code == 201, upload.content
    sent = public_client.post(f"{BASE}/{pk}/submit", {}, content_type="application/json")
    assert sent.status_code == 200, sent.content
    assert sent.json()["number"].startswith("YW-339900-")

    sign_in_client(internal_client, officer)
    inbox = internal_client.get(f"{BASE}/inbox").json()
    assert inbox["count"] == 1
    task = inbox["items"][0]["task"]
    detail = internal_client.get(f"{BASE}/{pk}").json()
    version_seen = detail["row_version"]
    claimed = internal_client.post(f"{BASE}/tasks/{task}/claim",
                                   {"expected_version": version_seen},
                                   content_type="application/json")
    assert claimed.status_code == 200
    stale = internal_client.post(f"{BASE}/tasks/{task}/decide",
                                 {"outcome": "approve", "expected_version": version_seen},
                                 content_type="application/json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    asked = internal_client.post(f"{BASE}/tasks/{task}/correction",
                                 {"reason": "请重新上传清晰的身份证",
                                  "expected_version": version_seen + 1},
                                 content_type="application/json")
    assert asked.status_code == 200 and asked.json()["state"] == "correction"

    progress = public_client.get(f"{BASE}/{pk}").json()
    assert progress["state"] == "correction"
    assert any(e["kind"] == "correction" and "清晰" in e["note"] for e in progress["events"])
    corrected = public_client.post(f"{BASE}/{pk}/correction",
                                   {"data": progress["data"]},
                                   content_type="application/json")
    assert corrected.status_code == 200, corrected.content

    for _step in range(2):
        detail = internal_client.get(f"{BASE}/{pk}").json()
        task = detail["tasks"][0]["id"]
        decided = internal_client.post(f"{BASE}/tasks/{task}/decide",
                                       {"outcome": "approve",
                                        "expected_version": detail["row_version"]},
                                       content_type="application/json")
        assert decided.status_code == 200, decided.content
    final = public_client.get(f"{BASE}/{pk}").json()
    assert final["state"] == "approved" and final["licence_identifier"]
    rated = public_client.post(f"{BASE}/{pk}/evaluation", {"score": 5, "comment": "好"},
                               content_type="application/json")
    assert rated.status_code == 201
    mine = public_client.get(f"{BASE}/").json()
    assert [a["id"] for a in mine["items"]] == [pk]


def test_another_citizen_and_another_department_get_404(public_client: Any,
                                                        internal_client: Any, version: Any,
                                                        citizen: Any, other_citizen: Any,
                                                        stranger_official: Any) -> None:
    from yiwang.industry.applications.tests.conftest import submitted

    app = submitted(citizen)
    sign_in_client(public_client, other_citizen)
    assert public_client.get(f"{BASE}/{app.pk}").status_code == 404
    assert public_client.post(f"{BASE}/{app.pk}/withdraw", {},
                              content_type="application/json").status_code == 404
    sign_in_client(internal_client, stranger_official)
    assert internal_client.get(f"{BASE}/{app.pk}").status_code == 404
    assert internal_client.get(f"{BASE}/inbox").json()["count"] == 0


def _file(content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("id.png", content, content_type="image/png")


def test_a_member_without_the_handling_permission_gets_nothing(
        internal_client: Any, version: Any, citizen: Any, officer: Any) -> None:
    """The internal API applies the workbench's rule: a member of the department who does not
    hold 办理办件 (applications.handle_application) neither sees nor acts (review M2)."""
    from django.contrib.auth.models import Permission

    from yiwang.industry.applications.tests.conftest import submitted

    app = submitted(citizen)
    sign_in_client(internal_client, officer)
    task = internal_client.get(f"{BASE}/inbox").json()["items"][0]["task"]
    officer.user_permissions.remove(Permission.objects.get(
        content_type__app_label="applications", codename="handle_application"))
    sign_in_client(internal_client, officer)
    listed = internal_client.get(f"{BASE}/inbox")
    assert listed.status_code == 403 or listed.json()["count"] == 0, listed.status_code
    assert internal_client.get(f"{BASE}/{app.pk}").status_code in (403, 404)
    claimed = internal_client.post(f"{BASE}/tasks/{task}/claim",
                                   {"expected_version": app.row_version},
                                   content_type="application/json")
    assert claimed.status_code in (403, 404), claimed.content
