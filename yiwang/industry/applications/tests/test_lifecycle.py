"""The whole life of an application through the service: draft, submission (re-validated,
materials, receipt), review in two steps, decision issuing a licence with a ledger entry."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from yiwang.enablement.forms import service as forms
from yiwang.enablement.ledger import service as ledger
from yiwang.industry.applications import service as applications
from yiwang.industry.applications.tests.conftest import (
    MATTER,
    form_data,
    plain_png,
    publish_matter,
    submitted,
    upload,
)
from yiwang.support.licences import service as licences
from yiwang.support.notify import service as notify

pytestmark = pytest.mark.django_db


def approve_all(app: Any, officer: Any) -> Any:
    while True:
        app.refresh_from_db()
        tasks = applications.open_tasks(app)
        if not tasks:
            return app
        task = tasks[0]
        applications.claim_task(officer, task.pk, app.row_version)
        app.refresh_from_db()
        app = applications.decide_task(officer, task.pk, "approve", "同意", app.row_version)


def test_draft_is_kept_on_the_server_and_resumed(version: Any, citizen: Any) -> None:
    draft = applications.save_draft(citizen, MATTER, {"name": citizen.real_name})
    # "Another device": the draft is read back from the server by its id.
    again = applications.application_for_applicant(citizen, draft.pk)
    assert again.state == "draft" and again.data == {"name": citizen.real_name}
    applications.save_draft(citizen, MATTER, {"name": citizen.real_name, "purpose": "job"},
                            application=again)
    assert applications.application_for_applicant(citizen, draft.pk).data["purpose"] == "job"
    assert again.number is None  # no receipt number before submission


def test_data_is_encrypted_at_rest(version: Any, citizen: Any) -> None:
    from django.db import connection

    draft = applications.save_draft(citizen, MATTER, form_data(citizen))
    with connection.cursor() as cursor:
        cursor.execute("SELECT data_text FROM applications_application WHERE id = %s",
                       [draft.pk])
        raw = cursor.fetchone()[0]
    assert citizen.id_number not in raw and citizen.real_name not in raw


def test_submission_gives_a_receipt_and_opens_the_first_task(version: Any, citizen: Any,
                                                             officer: Any) -> None:
    app = submitted(citizen)
    assert app.state == "submitted"
    assert re.fullmatch(r"YW-339900-\d{8}-000001", app.number)
    assert app.accepted_at is not None and app.due_at is not None and app.due_at > app.accepted_at
    tasks = applications.open_tasks(app)
    assert [t.name for t in tasks] == ["受理审查"]
    assert tasks[0].department_code == "gaj" and tasks[0].number == app.number
    assert app.materials.get().key == "id_card"
    assert notify.unread_count(citizen) == 1
    second = submitted(citizen)
    assert second.number.endswith("-000002")


def test_missing_fields_and_materials_are_named_and_nothing_is_saved(version: Any,
                                                                     citizen: Any) -> None:
    app = applications.save_draft(citizen, MATTER, {"name": citizen.real_name,
                                                    "purpose": "other"})
    with pytest.raises(forms.SubmissionInvalid) as caught:
        applications.submit_application(citizen, app)
    errors = caught.value.errors
    assert "id_number" in errors and "purpose_other" in errors
    app.refresh_from_db()
    assert app.state == "draft" and app.number is None and not app.tasks.exists()
    token = upload(citizen, plain_png())
    applications.attach_upload(citizen, app, "id_card", token)
    with pytest.raises(forms.SubmissionInvalid) as caught:
        applications.submit_application(citizen, app, data=form_data(citizen, purpose="other"))
    assert list(caught.value.errors) == ["purpose_other"]


def test_unknown_fields_and_wrong_types_are_refused(version: Any, citizen: Any) -> None:
    app = applications.save_draft(citizen, MATTER, form_data(citizen))
    applications.attach_upload(citizen, app, "id_card", upload(citizen, plain_png()))
    app.refresh_from_db()
    bad = {**app.data, "id_number": "123", "sneaky": "x"}
    with pytest.raises(forms.SubmissionInvalid) as caught:
        applications.submit_application(citizen, app, data=bad)
    assert "id_number" in caught.value.errors


def test_an_upload_of_another_person_is_refused(version: Any, citizen: Any,
                                                other_citizen: Any) -> None:
    app = applications.save_draft(citizen, MATTER, form_data(citizen))
    theirs = upload(other_citizen, plain_png())
    with pytest.raises(ValidationError):
        applications.attach_upload(citizen, app, "id_card", theirs)
    with pytest.raises(ValidationError):
        applications.submit_application(citizen, app,
                                        data=form_data(citizen, id_card=[theirs]))


def test_two_step_approval_issues_the_licence_and_writes_the_ledger(
        version: Any, citizen: Any, officer: Any) -> None:
    app = submitted(citizen)
    app = approve_all(app, officer)
    assert app.state == "approved" and app.decided_at is not None
    licence = licences.find_by_identifier(app.licence_identifier)
    assert licence is not None and licence.type.code == "no_criminal_record"
    assert licences.licences_of(citizen).filter(pk=licence.pk).exists()
    assert licence.fields["purpose"] == "入职"
    entries = [e for e in ledger.entries("main") if e.entry_type == "application.decided"]
    assert len(entries) == 1
    record = entries[0].record or ""
    assert app.number in record and licence.identifier in record
    assert citizen.id_number not in record and citizen.real_name not in record
    events = [e.kind for e in applications.timeline(app, public_only=True)]
    assert events[0] == "submitted" and events[-1] == "decided"


def test_rejection_needs_a_reason_and_ends_the_flow(version: Any, citizen: Any,
                                                    officer: Any) -> None:
    app = submitted(citizen)
    task = applications.open_tasks(app)[0]
    with pytest.raises(ValidationError):
        applications.decide_task(officer, task.pk, "reject", "", app.row_version)
    app = applications.decide_task(officer, task.pk, "reject", "材料不符合要求", app.row_version)
    assert app.state == "rejected" and app.licence_identifier == ""
    assert app.outcome_reason == "材料不符合要求"
    assert not applications.open_tasks(app)


def test_an_application_keeps_its_version_after_a_new_one_is_published(
        version: Any, citizen: Any, officer: Any) -> None:
    app = submitted(citizen)
    newer = publish_matter(licence={})
    assert newer.pk != version.pk
    assert app.version_pk == version.pk
    app = approve_all(app, officer)
    assert app.licence_identifier  # the old version's licence mapping still applies


def test_an_unpublished_matter_takes_no_new_drafts_but_running_ones_finish(
        version: Any, citizen: Any, officer: Any) -> None:
    from yiwang.industry.services import service as catalogue

    app = submitted(citizen)
    catalogue.unpublish_matter(catalogue.get_matter(MATTER))
    with pytest.raises(ValidationError):
        applications.save_draft(citizen, MATTER, {})
    assert approve_all(app, officer).state == "approved"


def test_withdrawal_takes_the_tasks_out_of_the_inbox(version: Any, citizen: Any,
                                                     officer: Any) -> None:
    app = submitted(citizen)
    applications.withdraw_application(citizen, app, reason="不需要了")
    app.refresh_from_db()
    assert app.state == "withdrawn"
    assert applications.inbox(officer).count == 0
    with pytest.raises(ValidationError):
        applications.withdraw_application(citizen, app)


def test_evaluation_once_after_the_decision(version: Any, citizen: Any, officer: Any) -> None:
    app = submitted(citizen)
    with pytest.raises(ValidationError):
        applications.evaluate_application(citizen, app, score=5)
    app = approve_all(app, officer)
    with pytest.raises(ValidationError):
        applications.evaluate_application(citizen, app, score=9)
    evaluation = applications.evaluate_application(citizen, app, score=4, comment="很快")
    assert evaluation.score == 4
    with pytest.raises(ValidationError):
        applications.evaluate_application(citizen, app, score=5)


def test_ocr_mismatch_is_stored_for_applicant_and_officer(version: Any, citizen: Any,
                                                          officer: Any) -> None:
    from yiwang.industry.applications.tests.conftest import id_card_png

    app = submitted(citizen, image=id_card_png(citizen), name="李大明")
    material = app.materials.get()
    assert material.ocr_kind == "id_card"
    assert material.ocr["fields"].get("id_number") == citizen.id_number
    fields = {m["field"] for m in material.mismatches}
    assert fields == {"name"}


def test_a_scanned_pdf_of_the_id_card_is_read_by_ocr(city: Any, citizen: Any) -> None:
    """A PDF material (a card scanned on an A4 page) is read through its page picture and
    compared with the form like a photo; a PDF made of text is stored without a reading."""
    import copy

    from yiwang.enablement.ai import testing as ai_testing
    from yiwang.industry.applications.tests.conftest import (
        FORM,
        form_data,
        id_card_png,
        publish_matter,
        upload,
    )

    form = copy.deepcopy(FORM)
    for component in form["components"]:
        if component["key"] == "id_card":
            component["accept"] = ["image/png", "image/jpeg", "application/pdf"]
    publish_matter(form=form)
    app = applications.save_draft(citizen, MATTER, form_data(citizen, name="李大明"))
    scan = ai_testing.scanned_pdf(id_card_png(citizen), on_a4=True)
    applications.attach_upload(citizen, app, "id_card", upload(citizen, scan, "id.pdf"))
    app.refresh_from_db()
    app = applications.submit_application(citizen, app)
    material = app.materials.get()
    assert material.content_type == "application/pdf"
    assert material.ocr_kind == "id_card"
    assert material.ocr["fields"].get("id_number") == citizen.id_number
    assert {m["field"] for m in material.mismatches} == {"name"}
