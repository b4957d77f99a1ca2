"""The applicant's draft and submit requests through the API: their query counts (the
session-3 work: the live version read with one fixed query and kept per process against its
key, the receipt serial taken with ``UPDATE … RETURNING``, the reused licences read only when a
file field is missing, the submission stored by the compare-and-swap ``UPDATE`` itself), and
the behaviour those shortcuts must keep: a stale or repeated submission is refused and leaves
nothing behind, a version published or a matter withdrawn is seen at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.industry.applications import service as applications
from yiwang.industry.applications.models import Application, ReceiptSequence
from yiwang.industry.applications.tests.conftest import (
    FORM,
    MATTER,
    form_data,
    plain_png,
    publish_matter,
    upload,
)
from yiwang.industry.services import service as catalogue
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db
BASE = "/api/v1/applications"
# Queries of each request, the session's two included. Before session 3: draft 10, submit 23.
DRAFT_QUERIES = 10
SUBMIT_QUERIES = 19


def _file(content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("id.png", content, content_type="image/png")


def _counted(call: Any) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code in (200, 201), response.content
    return response.json(), [q["sql"] for q in ctx.captured_queries]


def _draft(client: Any, citizen: Any) -> tuple[dict[str, Any], list[str]]:
    return _counted(lambda: client.post(f"{BASE}/drafts", {
        "matter_code": MATTER, "data": form_data(citizen)}, content_type="application/json"))


def _submit_through_api(client: Any, citizen: Any) -> tuple[list[str], dict[str, Any],
                                                            list[str]]:
    draft, draft_sql = _draft(client, citizen)
    pk = draft["id"]
    _counted(lambda: client.post(f"{BASE}/{pk}/materials",
                                 {"key": "id_card", "file": _file(plain_png())}))
    app, submit_sql = _counted(lambda: client.post(f"{BASE}/{pk}/submit", {},
                                                   content_type="application/json"))
    return draft_sql, app, submit_sql


def test_draft_and_submit_query_counts(public_client: Any, version: Any, citizen: Any) -> None:
    sign_in_client(public_client, citizen)
    # The first reads the live version into this process, makes the day's receipt sequence
    # and reads the working calendar.
    _submit_through_api(public_client, citizen)
    draft_sql, app, sql = _submit_through_api(public_client, citizen)
    assert len(draft_sql) <= DRAFT_QUERIES, "\n".join(q[:150] for q in draft_sql)
    # The live version's row alone (by its key), not the version and matter again.
    assert not any('FROM "services_serviceversion"' in q and '"form"' in q
                   for q in draft_sql), draft_sql
    assert app["state"] == "submitted" and app["number"].endswith("-000002")
    assert len(sql) <= SUBMIT_QUERIES, "\n".join(q[:150] for q in sql)
    # One UPDATE of the application: the compare-and-swap stores the submission.
    updates = [q for q in sql if q.startswith('UPDATE "applications_application"')]
    assert len(updates) == 1 and '"row_version"' in updates[0] and '"number"' in updates[0]
    assert not any(q.startswith('SELECT "applications_receiptsequence"') for q in sql), sql


def _ready(citizen: Any) -> Application:
    app = applications.save_draft(citizen, MATTER, form_data(citizen))
    applications.attach_upload(citizen, app, "id_card", upload(citizen, plain_png()))
    return applications.application_for_applicant(citizen, app.pk)


def test_a_stale_submission_is_refused_and_leaves_nothing(version: Any, citizen: Any) -> None:
    app = _ready(citizen)
    serials = list(ReceiptSequence.objects.values_list("last", flat=True))
    with pytest.raises(ValidationError) as caught:
        applications.submit_application(citizen, app, expected_version=app.row_version - 1)
    assert caught.value.code == "stale"
    fresh = Application.objects.get(pk=app.pk)
    assert fresh.state == "draft" and fresh.number is None
    assert fresh.row_version == app.row_version
    assert list(ReceiptSequence.objects.values_list("last", flat=True)) == serials
    done = applications.submit_application(
        citizen, applications.application_for_applicant(citizen, app.pk))
    assert done.state == "submitted" and done.row_version == app.row_version + 1
    stored = Application.objects.get(pk=app.pk)
    assert (stored.row_version, stored.number, stored.data) == (
        done.row_version, done.number, done.data)


def test_a_second_submission_is_refused(version: Any, citizen: Any) -> None:
    app = _ready(citizen)
    stale_copy = applications.application_for_applicant(citizen, app.pk)
    first = applications.submit_application(citizen, app)
    # The copy read before the first submission: its version is gone.
    with pytest.raises(ValidationError) as caught:
        applications.submit_application(citizen, stale_copy)
    assert caught.value.code in ("stale", "state")
    # Read again: it is no draft any more.
    with pytest.raises(ValidationError) as caught:
        applications.submit_application(
            citizen, applications.application_for_applicant(citizen, app.pk),
            expected_version=first.row_version)
    assert caught.value.code == "state"
    assert Application.objects.get(pk=app.pk).number == first.number
    assert ReceiptSequence.objects.get().last == 1


def test_the_live_version_is_read_again_when_it_changes(version: Any, citizen: Any) -> None:
    first = catalogue.published_version(MATTER)
    assert catalogue.published_version(MATTER) is first  # kept
    # A guide edited (in any process: the matter's row says so) is seen at the next call.
    catalogue.update_guide(catalogue.get_matter(MATTER), promised_days=9)
    edited = catalogue.published_version(MATTER)
    assert edited.pk == first.pk and edited.matter.promised_days == 9
    # A new version published replaces it; the draft of a new version is never the live one.
    form = {**FORM, "components": [*FORM["components"], {
        "type": "text", "key": "note", "label": "备注", "required": False}]}
    newer = publish_matter(form=form)
    assert newer.pk != first.pk and catalogue.published_version(MATTER).pk == newer.pk
    draft = applications.save_draft(citizen, MATTER, form_data(citizen))
    assert draft.version_pk == newer.pk
    # A withdrawn matter has no live version, and no draft can be started.
    catalogue.unpublish_matter(catalogue.get_matter(MATTER))
    assert catalogue.published_version(MATTER) is None
    with pytest.raises(ValidationError):
        applications.save_draft(citizen, MATTER, form_data(citizen))
