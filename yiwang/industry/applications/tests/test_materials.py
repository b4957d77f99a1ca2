"""Materials: a failed write saves nothing (review M4) and every file keeps the rule of its
field — ``accept`` and ``max_bytes`` — at every way in, with the error under the field's key
(review M1, L6)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from yiwang.core.uploads import service as uploads
from yiwang.industry.applications import service as applications
from yiwang.industry.applications.tests.conftest import (
    FORM,
    MATTER,
    form_data,
    plain_png,
    publish_matter,
    submitted,
    upload,
)
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db
BASE = "/api/v1/applications"


def portal(name: str, *args: Any) -> str:
    return reverse(f"applications_portal:{name}", args=args, urlconf="yiwang.urls.public")


def a_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def big_png() -> bytes:
    import random

    from PIL import Image

    rng = random.Random(5)
    image = Image.new("RGB", (120, 120))
    image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256))
                   for _ in range(120 * 120)])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _in_correction(citizen: Any, officer: Any) -> Any:
    app = submitted(citizen)
    task = applications.open_tasks(app)[0]
    applications.claim_task(officer, task.pk, app.row_version)
    app.refresh_from_db()
    app = applications.request_correction(officer, task.pk, "请补正", app.row_version)
    app.refresh_from_db()
    return app


# --- M4: nothing half-saved -----------------------------------------------------------------

def test_a_refused_correction_page_leaves_no_material_and_no_change(
        public_client: Any, version: Any, citizen: Any, officer: Any) -> None:
    app = _in_correction(citizen, officer)
    before = (app.row_version, app.data, app.materials.count())
    sign_in_client(public_client, citizen)
    refused = public_client.post(portal("correct", app.pk), {
        "name": citizen.real_name, "id_number": citizen.id_number, "purpose": "other",
        # purpose_other is missing: the correction is refused
        "id_card.present": "1", "id_card": app.data["id_card"],
        "id_card__upload": SimpleUploadedFile("new.png", plain_png(), "image/png")})
    assert refused.status_code == 400
    assert "purpose_other" in refused.context["errors"]
    app.refresh_from_db()
    assert (app.row_version, app.data, app.materials.count()) == before
    assert app.state == "correction"
    # The new file was stored but never claimed: the daily purge removes it.
    assert uploads.StoredUpload.objects.filter(claimed=False).count() == 1
    # Sent again, valid: the file is attached with the correction, in one write.
    sent = public_client.post(portal("correct", app.pk), {
        "name": citizen.real_name, "id_number": citizen.id_number, "purpose": "job",
        "id_card.present": "1", "id_card": app.data["id_card"],
        "id_card__upload": SimpleUploadedFile("new.png", plain_png(), "image/png")})
    assert sent.status_code == 302
    app.refresh_from_db()
    assert app.state == "in_review" and app.materials.count() == 2
    assert len(app.data["id_card"]) == 2


def test_a_refused_correction_through_the_service_claims_nothing(
        version: Any, citizen: Any, officer: Any) -> None:
    app = _in_correction(citizen, officer)
    before = (app.row_version, app.materials.count())
    token = upload(citizen, plain_png())
    data = {**app.data, "id_card": [*app.data["id_card"], token], "purpose": "other"}
    with pytest.raises(ValidationError):
        applications.submit_correction(citizen, app, data=data)
    app.refresh_from_db()
    assert (app.row_version, app.materials.count()) == before
    assert uploads.get_upload(token).claimed is False


def test_submit_with_an_invalid_upload_saves_nothing(version: Any, citizen: Any,
                                                     other_citizen: Any) -> None:
    app = applications.save_draft(citizen, MATTER, form_data(citizen))
    theirs = upload(other_citizen, plain_png())
    mine = upload(citizen, plain_png())
    with pytest.raises(ValidationError) as caught:
        applications.submit_application(citizen, app,
                                        data=form_data(citizen, id_card=[mine, theirs]))
    assert "id_card" in caught.value.message_dict
    app.refresh_from_db()
    assert app.state == "draft" and app.materials.count() == 0 and app.row_version == 1
    assert uploads.get_upload(mine).claimed is False


def test_the_apply_page_says_when_the_draft_was_saved_but_not_submitted(
        public_client: Any, version: Any, citizen: Any) -> None:
    sign_in_client(public_client, citizen)
    page = public_client.post(portal("apply", MATTER), {
        "action": "submit", "name": citizen.real_name, "id_number": citizen.id_number,
        "purpose": "job", "id_card.present": "1"})  # no ID card: refused
    assert page.status_code == 400
    html = page.content.decode()
    assert 'data-testid="saved-not-submitted"' in html and "草稿已保存" in html
    assert applications.applications_of(citizen, state="draft").count() == 1
    refused = public_client.post(portal("apply", MATTER), {
        "action": "save", "name": citizen.real_name, "id_number": "not a number",
        "purpose": "job", "id_card.present": "1",
        "id_card__upload": SimpleUploadedFile("id.pdf", a_pdf(), "application/pdf")})
    assert refused.status_code == 400
    assert 'data-testid="saved-not-submitted"' not in refused.content.decode()


# --- M1 / L6: the field's rule, under the field's key ----------------------------------------

def test_the_portal_refuses_a_type_the_field_does_not_take(public_client: Any, version: Any,
                                                           citizen: Any) -> None:
    sign_in_client(public_client, citizen)
    page = public_client.post(portal("apply", MATTER), {
        "action": "save", **form_data(citizen), "id_card.present": "1",
        "id_card__upload": SimpleUploadedFile("id.pdf", a_pdf(), "application/pdf")})
    assert page.status_code == 400
    assert "id_card" in page.context["errors"] and "__all__" not in page.context["errors"]
    assert "身份证正面" in page.context["errors"]["id_card"][0]
    assert applications.applications_of(citizen, state="draft").count() == 0


def test_the_api_refuses_a_type_the_field_does_not_take(public_client: Any, version: Any,
                                                        citizen: Any) -> None:
    sign_in_client(public_client, citizen)
    pk = public_client.post(f"{BASE}/drafts", {"matter_code": MATTER, "data": {}},
                            content_type="application/json").json()["id"]
    refused = public_client.post(f"{BASE}/{pk}/materials", {
        "key": "id_card", "file": SimpleUploadedFile("id.pdf", a_pdf(), "application/pdf")})
    assert refused.status_code == 400 and "id_card" in refused.json()["errors"]


def test_attach_and_submit_refuse_a_stored_upload_breaking_the_rule(version: Any,
                                                                    citizen: Any) -> None:
    app = applications.save_draft(citizen, MATTER, form_data(citizen))
    pdf_token = upload(citizen, a_pdf(), "id.pdf")  # accepted with the defaults
    with pytest.raises(ValidationError) as attached:
        applications.attach_upload(citizen, app, "id_card", pdf_token)
    assert "id_card" in attached.value.message_dict
    with pytest.raises(ValidationError) as sent:
        applications.submit_application(citizen, app,
                                        data=form_data(citizen, id_card=[pdf_token]))
    assert "id_card" in sent.value.message_dict
    assert app.materials.count() == 0


def test_max_bytes_of_the_field_is_enforced(version: Any, citizen: Any) -> None:
    small = {**FORM, "components": [
        *FORM["components"][:-1],
        {**FORM["components"][-1], "max_bytes": 2048}]}
    publish_matter(form=small)
    app = applications.save_draft(citizen, MATTER, form_data(citizen))
    content = big_png()
    assert len(content) > 2048
    with pytest.raises(ValidationError) as refused:
        applications.accept_material(citizen, app, "id_card", content, "big.png")
    assert "id_card" in refused.value.message_dict
    token = upload(citizen, content)
    with pytest.raises(ValidationError) as attached:
        applications.attach_upload(citizen, app, "id_card", token)
    assert "id_card" in attached.value.message_dict
    assert applications.file_rule({"type": "file", "max_bytes": 10 ** 9})[1] == \
        uploads.DEFAULT_MAX_BYTES


def test_a_signature_takes_png_only() -> None:
    accept, _limit = applications.file_rule({"type": "signature"})
    assert accept == ("image/png",)
    accept, _limit = applications.file_rule({"type": "file", "accept": ["image/png",
                                                                        "text/html"]})
    assert accept == ("image/png",)
