"""Portal and workbench pages: apply (draft, submit, errors), receipt, my applications,
progress, correction, evaluation; the inbox and the detail with actions; access rules."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from yiwang.industry.applications import service as applications
from yiwang.industry.applications.tests.conftest import MATTER, plain_png, submitted
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def portal(name: str, *args: Any) -> str:
    return reverse(f"applications_portal:{name}", args=args, urlconf="yiwang.urls.public")


def workbench(name: str, *args: Any) -> str:
    return reverse(f"workbench:{name}", args=args, urlconf="yiwang.urls.internal")


def _png(name: str = "id.png") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, plain_png(), content_type="image/png")


def test_anonymous_visitors_are_sent_to_sign_in(public_client: Any, internal_client: Any,
                                                version: Any) -> None:
    response = public_client.get(portal("apply", MATTER))
    assert response.status_code == 302 and "login" in response["Location"]
    assert public_client.get(portal("mine")).status_code == 302
    assert internal_client.get(workbench("applications_inbox")).status_code == 302


def test_apply_save_draft_then_submit(public_client: Any, version: Any, citizen: Any) -> None:
    sign_in_client(public_client, citizen)
    page = public_client.get(portal("apply", MATTER))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="apply-form"' in html and citizen.real_name in html  # prefilled
    saved = public_client.post(portal("apply", MATTER), {
        "action": "save", "name": citizen.real_name, "id_number": citizen.id_number,
        "purpose": "job"})
    assert saved.status_code == 302
    draft = applications.applications_of(citizen, state="draft").get()
    # Resumed (another device signs in and opens the same page): the draft is there.
    again = public_client.get(portal("apply", MATTER))
    assert f'name="draft" value="{draft.pk}"' in again.content.decode()
    refused = public_client.post(portal("apply", MATTER), {
        "action": "submit", "draft": draft.pk, "name": citizen.real_name,
        "id_number": citizen.id_number, "purpose": "job"})
    assert refused.status_code == 400 and 'data-testid="errors"' in refused.content.decode()
    assert refused.content.decode().count('class="error-summary"') == 1  # one list, not two
    done = public_client.post(portal("apply", MATTER), {
        "action": "submit", "draft": draft.pk, "name": citizen.real_name,
        "id_number": citizen.id_number, "purpose": "job", "id_card__upload": _png()})
    assert done.status_code == 302, done.content.decode()[:2000]
    draft.refresh_from_db()
    assert draft.state == "submitted" and done["Location"].endswith(portal("receipt", draft.pk))
    receipt = public_client.get(done["Location"]).content.decode()
    assert draft.number in receipt
    mine = public_client.get(portal("mine")).content.decode()
    assert draft.number in mine
    progress = public_client.get(portal("detail", draft.pk)).content.decode()
    assert 'data-testid="timeline"' in progress and 'data-state="submitted"' in progress


def test_another_citizens_application_is_a_404(public_client: Any, version: Any,
                                               citizen: Any, other_citizen: Any) -> None:
    app = submitted(citizen)
    sign_in_client(public_client, other_citizen)
    assert public_client.get(portal("detail", app.pk)).status_code == 404
    assert public_client.get(portal("correct", app.pk)).status_code == 404
    assert public_client.post(portal("withdraw", app.pk)).status_code == 404


def test_inbox_detail_and_actions(internal_client: Any, public_client: Any, version: Any,
                                  citizen: Any, officer: Any, stranger_official: Any) -> None:
    app = submitted(citizen)
    sign_in_client(internal_client, officer)
    inbox = internal_client.get(workbench("applications_inbox")).content.decode()
    assert app.number in inbox and 'data-testid="inbox-row"' in inbox
    assert "李**" in inbox and citizen.real_name not in inbox
    detail = internal_client.get(workbench("applications_detail", app.pk))
    assert detail.status_code == 200
    task = applications.open_tasks(app)[0]
    act = workbench("applications_act", app.pk, task.pk, "claim")
    assert internal_client.post(act, {"expected_version": app.row_version}).status_code == 302
    app.refresh_from_db()
    ask = workbench("applications_act", app.pk, task.pk, "correction")
    internal_client.post(ask, {"expected_version": app.row_version, "reason": "照片不清晰"})
    app.refresh_from_db()
    assert app.state == "correction"
    stale = internal_client.post(workbench("applications_act", app.pk, task.pk, "approve"),
                                 {"expected_version": 1}, follow=True)
    assert "刷新" in stale.content.decode()

    sign_in_client(public_client, citizen)
    page = public_client.get(portal("correct", app.pk)).content.decode()
    assert "照片不清晰" in page
    sent = public_client.post(portal("correct", app.pk), {
        "name": citizen.real_name, "id_number": citizen.id_number, "purpose": "job"})
    assert sent.status_code == 302, sent.content.decode()[:1500]
    app.refresh_from_db()
    assert app.state == "in_review"

    internal_client.logout()
    sign_in_client(internal_client, stranger_official)
    assert internal_client.get(workbench("applications_detail", app.pk)).status_code == 404
    empty = internal_client.get(workbench("applications_inbox")).content.decode()
    assert 'data-testid="inbox-empty"' in empty and app.number not in empty


def test_evaluation_page(public_client: Any, version: Any, citizen: Any, officer: Any) -> None:
    app = submitted(citizen)
    for _step in range(2):
        app.refresh_from_db()
        task = applications.open_tasks(app)[0]
        app = applications.decide_task(officer, task.pk, "approve", "", app.row_version)
    sign_in_client(public_client, citizen)
    page = public_client.get(portal("detail", app.pk)).content.decode()
    assert 'data-testid="evaluate-form"' in page and 'data-testid="licence"' in page
    public_client.post(portal("evaluate", app.pk), {"score": "4", "comment": "好"})
    assert 'data-testid="evaluated"' in public_client.get(portal("detail", app.pk)).content \
        .decode()
