"""Query counts of the upload step (a file for a file field through the API, and the service
functions under it), so that they cannot silently grow back (issue 5, session 3)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.core.uploads import service as uploads
from yiwang.industry.applications import service as applications
from yiwang.industry.applications.tests.conftest import (
    FORM,
    MATTER,
    form_data,
    plain_png,
    publish_matter,
    upload,
)
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db
BASE = "/api/v1/applications"

#: FORM with a photo: a material that OCR does not read (the benchmark's upload)
PHOTO_FORM: dict[str, Any] = {**FORM, "components": [*FORM["components"], {
    "type": "file", "key": "photo", "label": "照片", "label_en": "Photo",
    "material": "photo", "accept": ["image/png", "image/jpeg"]}]}


@pytest.fixture
def photo_version(city: Any) -> Any:
    return publish_matter(form=PHOTO_FORM)


def test_uploading_a_photo_through_the_api_makes_at_most_so_many_queries(
        public_client: Any, photo_version: Any, citizen: Any) -> None:
    app = applications.save_draft(citizen, MATTER, form_data(citizen))
    sign_in_client(public_client, citizen)
    def post() -> Any:
        return public_client.post(f"{BASE}/{app.pk}/materials", {
            "key": "photo", "file": SimpleUploadedFile("photo.png", plain_png(),
                                                       content_type="image/png")})

    assert post().status_code == 201  # the first: the published version read and kept
    with CaptureQueriesContext(connection) as ctx:
        answer = post()
    assert answer.status_code == 201, answer.content
    sql = "\n".join(q["sql"][:120] for q in ctx.captured_queries)
    # Session (2), the application (1), rate and quota (1), the upload with its two audit
    # events (3), the upload read again by attach_upload (1; not by upload_material), the
    # application's conditional update (1), the claim and its audit event (2), the material
    # (1); each transaction a savepoint pair here (the test's own transaction is the outer).
    assert len(ctx.captured_queries) <= 15, sql
    app.refresh_from_db()
    assert len(app.data["photo"]) == app.materials.filter(key="photo").count() == 2
    stored = uploads.get_upload(app.data["photo"][1])
    assert stored is not None and stored.claimed


def test_accepting_an_upload_makes_four_queries(photo_version: Any, citizen: Any) -> None:
    with CaptureQueriesContext(connection) as ctx:
        uploads.accept_upload(plain_png(), filename="p.png", owner_key=f"user:{citizen.pk}",
                              purpose="test", actor=citizen)
    sql = [q["sql"] for q in ctx.captured_queries]
    # Rate and quota in one aggregate, the row and its two audit events (in a savepoint).
    assert len([q for q in sql if "SAVEPOINT" not in q]) == 4, sql


def test_claiming_an_upload_read_in_the_request_updates_it_once(
        photo_version: Any, citizen: Any) -> None:
    owner = f"user:{citizen.pk}"
    stored = uploads.accept_upload(plain_png(), filename="p.png", owner_key=owner,
                                   purpose="test", actor=citizen)
    with CaptureQueriesContext(connection) as ctx:
        uploads.claim_upload(stored, owner)
    sql = [q["sql"] for q in ctx.captured_queries]
    assert len(sql) == 2 and sql[0].startswith("UPDATE"), sql  # the claim and its audit
    assert uploads.get_upload(stored.token).claimed  # type: ignore[union-attr]
    with CaptureQueriesContext(connection) as ctx:
        uploads.claim_upload(stored, owner)  # claimed already: nothing to do
    assert not ctx.captured_queries


# --- record(): the materials read again only when they may have changed ----------------------

def test_a_draft_saved_without_a_file_drops_its_material(version: Any, citizen: Any) -> None:
    first, second = upload(citizen, plain_png()), upload(citizen, plain_png())
    app = applications.save_draft(citizen, MATTER, form_data(citizen, id_card=[first, second]))
    assert set(app.materials.values_list("upload_token", flat=True)) == {first, second}
    app.refresh_from_db()
    app = applications.save_draft(citizen, MATTER, form_data(citizen, id_card=[second]),
                                  application=app)
    assert list(app.materials.values_list("upload_token", flat=True)) == [second]


def test_a_new_draft_does_not_read_its_materials_back(version: Any, citizen: Any) -> None:
    token = upload(citizen, plain_png())
    with CaptureQueriesContext(connection) as ctx:
        app = applications.save_draft(citizen, MATTER, form_data(citizen, id_card=[token]))
    assert not [q for q in ctx.captured_queries
                if q["sql"].startswith('SELECT "applications_material"')]
    assert list(app.materials.values_list("upload_token", flat=True)) == [token]


def test_materials_changed_after_prepare_are_read_again(version: Any, citizen: Any) -> None:
    """A write whose swap did not start from the version prepare() saw (another write came
    in between) reads the materials again: the one attached since, not in its data, goes."""
    from django.db import transaction

    from yiwang.industry.applications import materials
    from yiwang.industry.applications.common import locked, swap_version

    kept = upload(citizen, plain_png())
    app = applications.save_draft(citizen, MATTER, form_data(citizen, id_card=[kept]))
    app.refresh_from_db()
    prepared = materials.prepare(citizen, version, app, form_data(citizen, id_card=[kept]))
    assert prepared.seen == (app.pk, app.row_version) and prepared.known == {kept}
    since = upload(citizen, plain_png())
    applications.attach_upload(citizen, app, "id_card", since)  # row_version + 1
    with transaction.atomic():
        swap_version(app.pk, None)
        current = locked(app.pk)
        assert not materials.unchanged_since_prepared(current, prepared)
        materials.record(citizen, current, prepared)
    assert list(app.materials.values_list("upload_token", flat=True)) == [kept]


# --- upload_material(): accept and attach in one ---------------------------------------------

def test_upload_material_accepts_and_attaches_with_the_checks(
        photo_version: Any, citizen: Any, other_citizen: Any) -> None:
    from django.core.exceptions import PermissionDenied, ValidationError

    from yiwang.industry.applications import materials

    app = applications.save_draft(citizen, MATTER, form_data(citizen))
    material = materials.upload_material(citizen, app, "photo", plain_png(), "p.png")
    stored = uploads.get_upload(material.upload_token)
    assert stored is not None and stored.claimed and stored.owner_key == f"user:{citizen.pk}"
    assert app.data["photo"] == [material.upload_token]  # the caller's row is the stored one
    app.refresh_from_db()
    assert app.data["photo"] == [material.upload_token] and app.row_version == 2
    with pytest.raises(PermissionDenied):
        materials.upload_material(other_citizen, app, "photo", plain_png(), "p.png")
    with pytest.raises(ValidationError) as caught:
        materials.upload_material(citizen, app, "photo", b"not an image", "p.png")
    assert "photo" in caught.value.message_dict
    with pytest.raises(ValidationError):
        materials.upload_material(citizen, app, "no_such_field", plain_png(), "p.png")
    before = uploads.StoredUpload.objects.count()
    applications.Application.objects.filter(pk=app.pk).update(state="submitted")
    app.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        materials.upload_material(citizen, app, "photo", plain_png(), "p.png")
    assert "当前状态下不能再添加材料" in str(caught.value)
    assert uploads.StoredUpload.objects.count() == before  # refused before storing


def test_attaching_to_a_row_changed_since_it_was_read_reads_it_again(
        photo_version: Any, citizen: Any) -> None:
    from yiwang.industry.applications import materials

    app = applications.save_draft(citizen, MATTER, form_data(citizen))
    first = materials.upload_material(citizen, app, "photo", plain_png(), "p.png")
    stale = applications.Application.objects.get(pk=app.pk)
    materials.upload_material(citizen, app, "photo", plain_png(), "p.png")
    # ``stale`` names one file: the conditional update misses, the locked row is used.
    third = materials.upload_material(citizen, stale, "photo", plain_png(), "p.png")
    stale.refresh_from_db()
    assert len(stale.data["photo"]) == 3 and stale.data["photo"][0] == first.upload_token
    assert stale.data["photo"][2] == third.upload_token and stale.row_version == 4
    assert stale.materials.filter(key="photo").count() == 3
