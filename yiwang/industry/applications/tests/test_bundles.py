"""一件事一次办: one form fanned out to each member matter's department, tracked as one."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.industry.applications import service as applications
from yiwang.industry.applications.tests.conftest import (
    FORM,
    MATTER,
    form_data,
    make_official,
    plain_png,
    publish_matter,
    upload,
)
from yiwang.industry.services import service as catalogue

pytestmark = pytest.mark.django_db
SECOND = "339900-rsj-0001"
SIMPLE_FORM: dict[str, Any] = {"version": 1, "components": [
    {"type": "text", "key": "full_name", "label": "姓名", "label_en": "Name", "required": True},
    {"type": "id_number", "key": "id_number", "label": "公民身份号码",
     "label_en": "ID number", "required": True},
]}
SIMPLE_FLOW: dict[str, Any] = {"version": 1, "steps": [
    {"kind": "task", "id": "check", "name": "审核", "department": "$matter",
     "position": None, "days": 1}]}


@pytest.fixture
def bundle(version: Any) -> Any:
    publish_matter(SECOND, form=SIMPLE_FORM, flow=SIMPLE_FLOW, licence={}, department="rsj")
    saved = catalogue.save_bundle(
        code="test-bundle", name="测试一件事", department_code="gaj", form=FORM,
        members=[{"matter": MATTER, "map": {k: k for k in ("name", "id_number", "purpose",
                                                              "purpose_other", "id_card")}},
                 {"matter": SECOND, "map": {"full_name": "name", "id_number": "id_number"}}],
        promised_days=10)
    return catalogue.publish_bundle(saved)


def test_a_bundle_fans_out_to_each_department_and_is_tracked_as_one(
        bundle: Any, citizen: Any, officer: Any) -> None:
    labour = make_official("rsj.officer", "rsj")
    token = upload(citizen, plain_png())
    parent = applications.submit_bundle(citizen, "test-bundle",
                                        form_data(citizen, id_card=[token]))
    children = {c.matter_code: c for c in parent.children.all()}
    assert set(children) == {MATTER, SECOND} and parent.number
    assert children[SECOND].department_code == "rsj"
    assert children[SECOND].data == {"full_name": citizen.real_name,
                                     "id_number": citizen.id_number}
    assert applications.inbox(labour).count == 1 and applications.inbox(officer).count == 1
    assert list(applications.applications_of(citizen)) == [parent]  # listed as one
    child = children[SECOND]
    task = applications.open_tasks(child)[0]
    applications.decide_task(labour, task.pk, "approve", "", child.row_version)
    parent.refresh_from_db()
    assert parent.state == "in_review"
    child = children[MATTER]
    for _step in range(2):
        child.refresh_from_db()
        task = applications.open_tasks(child)[0]
        applications.decide_task(officer, task.pk, "approve", "", child.row_version)
    parent.refresh_from_db()
    assert parent.state == "approved"


def test_a_bundle_with_bad_data_names_the_fields_and_saves_nothing(bundle: Any,
                                                                   citizen: Any) -> None:
    from yiwang.enablement.forms import service as forms

    with pytest.raises(forms.SubmissionInvalid) as caught:
        applications.submit_bundle(citizen, "test-bundle", {"name": citizen.real_name})
    assert "id_number" in caught.value.errors
    assert not applications.applications_of(citizen).exists()


def test_withdrawing_a_bundle_withdraws_its_members(bundle: Any, citizen: Any,
                                                     officer: Any) -> None:
    token = upload(citizen, plain_png())
    parent = applications.submit_bundle(citizen, "test-bundle",
                                        form_data(citizen, id_card=[token]))
    applications.withdraw_application(citizen, parent)
    assert set(parent.children.values_list("state", flat=True)) == {"withdrawn"}
    assert applications.inbox(officer).count == 0


def test_the_bundle_page_submits_one_form(public_client: Any, bundle: Any,
                                          citizen: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from yiwang.support.identity.testing import sign_in_client

    url = reverse("applications_portal:apply_bundle", args=["test-bundle"],
                  urlconf="yiwang.urls.public")
    sign_in_client(public_client, citizen)
    page = public_client.get(url).content.decode()
    assert 'data-testid="apply-bundle-form"' in page and "测试一件事" in page
    refused = public_client.post(url, {"name": citizen.real_name})
    assert refused.status_code == 400
    sent = public_client.post(url, {
        "name": citizen.real_name, "id_number": citizen.id_number, "purpose": "job",
        "id_card__upload": SimpleUploadedFile("id.png", plain_png(), content_type="image/png")})
    assert sent.status_code == 302, sent.content.decode()[:1500]
    parent = applications.applications_of(citizen).get()
    assert parent.bundle_code == "test-bundle" and parent.children.count() == 2


def test_the_api_answers_a_bundle_with_its_members(public_client: Any, bundle: Any,
                                                   citizen: Any) -> None:
    """The API reads a bundle's members for its parent (and only there: a member, or an
    application outside a bundle, has none)."""
    from yiwang.support.identity.testing import sign_in_client

    token = upload(citizen, plain_png())
    parent = applications.submit_bundle(citizen, "test-bundle",
                                        form_data(citizen, id_card=[token]))
    sign_in_client(public_client, citizen)
    answer = public_client.get(f"/api/v1/applications/{parent.pk}").json()
    members = sorted(parent.children.values_list("pk", flat=True))
    assert sorted(answer["children"]) == members and len(members) == 2
    member = public_client.get(f"/api/v1/applications/{members[0]}").json()
    assert member["children"] == [] and member["tasks"]
