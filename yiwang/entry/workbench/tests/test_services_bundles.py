"""The bundle editor (一件事一次办) of the workbench: list, create, edit, coverage of member
fields by the shared form, publication refused while a required member field has no source,
and the department rule (an official of another department cannot see or edit a bundle)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse as _reverse

from yiwang.core.audit import service as audit
from yiwang.demo.testing import make_demo_departments
from yiwang.entry.portal.testing import unlabelled_inputs
from yiwang.industry.services import service
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import testing as regions_testing
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db

EDITOR = ("services.change_matter", "services.publish_matter")
MEMBER_A = {"version": 1, "components": [
    {"type": "text", "key": "child_name", "label": "新生儿姓名", "required": True},
    {"type": "text", "key": "nickname", "label": "小名", "required": False}]}
MEMBER_B = {"version": 1, "components": [
    {"type": "text", "key": "baby", "label": "姓名", "required": True},
    {"type": "text", "key": "address", "label": "户籍地址", "required": True}]}
SHARED = {"version": 1, "components": [
    {"type": "text", "key": "child_name", "label": "新生儿姓名", "required": True},
    {"type": "text", "key": "address", "label": "住址", "required": True}]}
FLOW = {"version": 1, "steps": [{"kind": "task", "id": "review", "name": "审查",
                                  "department": "$matter", "position": None, "days": 3}]}


def url(name: str, *args: Any) -> str:
    return _reverse(name, args=args or None, urlconf="yiwang.urls.internal")


def official(username: str, department: str, *perms: str) -> Any:
    user = identity.create_official(username, f"官员{username}", password="y" * 20)
    orgs.add_member(user, department_code=department)
    for dotted in perms:
        label, codename = dotted.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=label,
                                                         codename=codename))
    return get_user_model().objects.get(pk=user.pk)


def live(code: str, department: str, form: dict[str, Any]) -> service.ServiceVersion:
    matter = service.create_matter(code=code, name=f"事项{code}", department_code=department,
                                   audience="person")
    draft = service.save_draft(service.create_draft(matter), form=form, flow_spec=FLOW)
    return service.publish_version(draft)


@pytest.fixture
def city(db: Any) -> None:
    regions_testing.make_chain(geometry=False)
    for code, name in (("wjw", "卫健委"), ("gaj", "公安局")):
        orgs.create_department(code=code, name=name, region_code=regions_testing.CITY)
    live("BIRTH-A", "wjw", MEMBER_A)
    live("BIRTH-B", "gaj", MEMBER_B)


@pytest.fixture
def health(city: Any) -> Any:
    return official("wjw.editor", "wjw", *EDITOR)


@pytest.fixture
def police(city: Any) -> Any:
    return official("gaj.editor", "gaj", *EDITOR)


def post_data(**overrides: Any) -> dict[str, Any]:
    data = {"code": "birth", "name": "出生一件事", "name_en": "Birth", "department": "wjw",
            "life_event": "", "audience": "person", "summary": "", "summary_en": "",
            "promised_days": "5", "shared_materials": "birth_cert",
            "members": ["BIRTH-A", "BIRTH-B"], "form_definition": json.dumps(SHARED)}
    data.update(overrides)
    return data


def save(**maps: str) -> service.Bundle:
    return service.save_bundle(
        code="birth", name="出生一件事", department_code="wjw", form=SHARED,
        members=[{"matter": "BIRTH-A", "map": {"child_name": "child_name"}},
                 {"matter": "BIRTH-B", "map": dict(maps)}])


# --- access ------------------------------------------------------------------------------

def test_anonymous_signs_in_and_an_official_without_the_permission_is_refused(
        internal_client: Any, city: Any) -> None:
    save(baby="child_name", address="address")
    for page in (url("workbench:services_bundles"), url("workbench:services_bundle_create"),
                 url("workbench:services_bundle_edit", "birth")):
        assert internal_client.get(page).status_code == 302, page
    sign_in_client(internal_client, official("wjw.reader", "wjw", "audit.view_auditevent"))
    for page in (url("workbench:services_bundles"), url("workbench:services_bundle_edit",
                                                        "birth")):
        assert internal_client.get(page).status_code == 403, page


def test_another_department_cannot_see_or_edit_the_bundle(internal_client: Any,
                                                          police: Any) -> None:
    save(baby="child_name", address="address")
    sign_in_client(internal_client, police)
    listing = internal_client.get(url("workbench:services_bundles")).content.decode()
    assert "出生一件事" not in listing and 'data-testid="bundles-empty"' in listing
    edit = url("workbench:services_bundle_edit", "birth")
    assert internal_client.get(edit).status_code == 403
    assert internal_client.post(edit, post_data(name="改名")).status_code == 403
    assert internal_client.post(url("workbench:services_bundle_publish", "birth"),
                                {"action": "publish"}).status_code == 403
    bundle = service.get_bundle("birth")
    assert bundle is not None and bundle.name == "出生一件事" and not bundle.published
    # Nor can a bundle be created for a department the official is not in.
    response = internal_client.post(url("workbench:services_bundle_create"),
                                    post_data(code="other"))
    assert response.status_code == 200 and service.get_bundle("other") is None


def test_an_editor_without_publish_sees_but_cannot_save(internal_client: Any,
                                                        city: Any) -> None:
    save(baby="child_name", address="address")
    sign_in_client(internal_client, official("wjw.writer", "wjw", "services.change_matter"))
    edit = url("workbench:services_bundle_edit", "birth")
    page = internal_client.get(edit).content.decode()
    assert 'data-testid="bundle-publish"' not in page
    response = internal_client.post(edit, post_data(name="改名"))
    assert response.status_code == 200 and "发布和撤下政务服务事项" in response.content.decode()
    assert service.get_bundle("birth").name == "出生一件事"


# --- create, edit, coverage ----------------------------------------------------------------

def test_create_a_bundle_same_key_fields_are_proposed_and_saved_explicitly(
        internal_client: Any, health: Any) -> None:
    sign_in_client(internal_client, health)
    page = internal_client.get(url("workbench:services_bundle_create")).content.decode()
    assert "BIRTH-A" in page and "BIRTH-B" in page  # the live matters to choose from
    assert 'data-testid="members-empty"' in page and unlabelled_inputs(page) == []
    response = internal_client.post(url("workbench:services_bundle_create"),
                                    post_data(**{"map__BIRTH-B__baby": "child_name"}))
    assert response.status_code == 302, response.content.decode()[:2000]
    bundle = service.get_bundle("birth")
    assert bundle is not None and bundle.department_code == "wjw"
    assert bundle.shared_materials == ["birth_cert"] and bundle.promised_days == 5
    maps = {m["matter"]: m["map"] for m in bundle.members}
    # child_name (A) and address (B) had a shared field of the same key: saved as explicit.
    assert maps == {"BIRTH-A": {"child_name": "child_name"},
                    "BIRTH-B": {"baby": "child_name", "address": "address"}}
    assert audit.search(audit.AuditFilter(action="services.bundle_saved")).exists()


def test_editor_shows_covered_and_missing_fields(internal_client: Any, health: Any) -> None:
    save(baby="child_name")  # BIRTH-B's address has no explicit source
    sign_in_client(internal_client, health)
    page = internal_client.get(url("workbench:services_bundle_edit", "birth")).content.decode()
    assert 'data-testid="builder-output"' in page  # the shared form is the drag-and-drop builder
    assert unlabelled_inputs(page) == []
    assert 'name="map__BIRTH-B__baby" value="child_name"' in page
    # Proposed by key in the editor, but not yet saved:
    assert "同名字段" in page
    # A shared form without "address": the required field is reported missing, the optional
    # one is just not mapped.
    shared = {"version": 1, "components": [SHARED["components"][0]]}
    response = internal_client.post(url("workbench:services_bundle_edit", "birth"), post_data(
        action="refresh", form_definition=json.dumps(shared),
        **{"map__BIRTH-B__baby": "child_name"}))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="bundle-blocking"' in page
    status = page.split('data-testid="status-BIRTH-B-address"')[1][:200]
    assert "缺少来源(必填)" in status
    status = page.split('data-testid="status-BIRTH-A-nickname"')[1][:200]
    assert "未对应(选填)" in status
    saved = service.get_bundle("birth").form  # refresh saves nothing
    assert [c["key"] for c in saved["components"]] == ["child_name", "address"]


def test_a_member_republished_without_a_mapped_field_is_flagged(internal_client: Any,
                                                                 health: Any) -> None:
    """Review: a member department renames a field; the editor names the stale mapping and
    the new required field without a source, and publishing is refused."""
    save(baby="child_name", address="address")
    matter = service.get_matter("BIRTH-B")
    renamed = {"version": 1, "components": [
        {"type": "text", "key": "baby_name", "label": "婴儿姓名", "required": True},
        MEMBER_B["components"][1]]}
    service.publish_version(service.save_draft(service.create_draft(matter), form=renamed,
                                               flow_spec=FLOW))
    sign_in_client(internal_client, health)
    page = internal_client.get(url("workbench:services_bundle_edit", "birth")).content.decode()
    assert "<code>baby</code>" in page.split('data-testid="member-stale-BIRTH-B"')[1][:400]
    assert "baby" in page.split('data-testid="bundle-warnings"')[1][:600]
    assert "缺少来源(必填)" in page.split('data-testid="status-BIRTH-B-baby_name"')[1][:200]
    internal_client.post(url("workbench:services_bundle_publish", "birth"), {"action": "publish"})
    assert service.published_bundle("birth") is None


def test_bad_input_is_shown_and_nothing_is_saved(internal_client: Any, health: Any) -> None:
    save(baby="child_name", address="address")
    sign_in_client(internal_client, health)
    edit = url("workbench:services_bundle_edit", "birth")
    for data, text in (
            (post_data(members=["BIRTH-A"]), "至少包含两个事项"),
            (post_data(**{"map__BIRTH-B__baby": "{not json"}), "不是有效的 JSON"),
            (post_data(**{"map__BIRTH-B__baby": "nowhere"}), "没有的字段"),
            (post_data(**{"map__BIRTH-B__baby": '{"eval": ["x"]}'}), "不允许的运算符"),
            (post_data(form_definition="{"), "不是有效的 JSON")):
        response = internal_client.post(edit, data)
        assert response.status_code == 200
        assert text in response.content.decode(), text
    bundle = service.get_bundle("birth")
    assert {m["matter"] for m in bundle.members} == {"BIRTH-A", "BIRTH-B"}
    assert bundle.members[1]["map"]["baby"] == "child_name"


# --- publication -------------------------------------------------------------------------

def test_publish_is_refused_while_a_required_member_field_has_no_source(
        internal_client: Any, health: Any) -> None:
    save(baby="child_name")  # address (required in BIRTH-B) is not mapped
    sign_in_client(internal_client, health)
    publish = url("workbench:services_bundle_publish", "birth")
    response = internal_client.post(publish, {"action": "publish"}, follow=True)
    assert "户籍地址" in response.content.decode() and "没有来源" in response.content.decode()
    assert service.published_bundle("birth") is None
    save(baby="child_name", address="address")
    assert internal_client.post(publish, {"action": "publish"}).status_code == 302
    assert service.published_bundle("birth") is not None
    page = internal_client.get(url("workbench:services_bundle_edit", "birth")).content.decode()
    assert 'data-testid="bundle-unpublish"' in page
    internal_client.post(publish, {"action": "unpublish"})
    assert service.published_bundle("birth") is None


def test_a_json_logic_source_is_saved_and_counts_as_covered(internal_client: Any,
                                                             health: Any) -> None:
    save(baby="child_name", address="address")
    sign_in_client(internal_client, health)
    rule = '{"cat": [{"var": "child_name"}, "(新生儿)"]}'
    constant = '{"cat": ["示例路1号"]}'  # no variable: always has a value
    response = internal_client.post(url("workbench:services_bundle_edit", "birth"),
                                     post_data(**{"map__BIRTH-B__baby": rule,
                                                  "map__BIRTH-B__address": constant}))
    assert response.status_code == 302
    bundle = service.get_bundle("birth")
    assert bundle.members[1]["map"]["baby"] == {"cat": [{"var": "child_name"}, "(新生儿)"]}
    page = internal_client.get(url("workbench:services_bundle_edit", "birth")).content.decode()
    assert "✓" in page.split('data-testid="status-BIRTH-B-baby"')[1][:120]
    assert "✓" in page.split('data-testid="status-BIRTH-B-address"')[1][:120]
    assert 'data-testid="bundle-blocking"' not in page


def test_bpmn_import_tells_a_script_client_it_failed(internal_client: Any, health: Any) -> None:
    """Review L2: a refused BPMN file is a 400 with the messages, not ``{"ok": true}``."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    matter = service.create_matter(code="BPMN-1", name="流程", department_code="wjw",
                                   audience="person")
    draft = service.create_draft(matter)
    sign_in_client(internal_client, health)
    bpmn_url = url("workbench:services_version_bpmn", draft.pk)
    response = internal_client.post(bpmn_url, {"bpmn": SimpleUploadedFile("x.bpmn", b"<no/>")},
                                     HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["ok"] is False and body["errors"]
    response = internal_client.post(bpmn_url, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "1 MB" in response.json()["errors"][0]


def test_list_pages_and_links(internal_client: Any, health: Any,
                              django_assert_max_num_queries: Any) -> None:
    save(baby="child_name", address="address")
    for n in range(3):
        service.save_bundle(code=f"b{n}", name=f"一件事{n}", department_code="wjw", form=SHARED,
                            members=[{"matter": "BIRTH-A", "map": {}},
                                     {"matter": "BIRTH-B", "map": {}}])
    sign_in_client(internal_client, health)
    with django_assert_max_num_queries(12):  # 12 measured with one bundle; no more with four
        page = internal_client.get(url("workbench:services_bundles")).content.decode()
    assert 'data-testid="bundle-open-birth"' in page and 'data-testid="bundle-open-b2"' in page
    catalogue = internal_client.get(url("workbench:services")).content.decode()
    assert url("workbench:services_bundle_edit", "birth") in catalogue


def test_the_demo_birth_bundle_is_covered_and_publishes(internal_client: Any, db: Any) -> None:
    """The real data: the demo's 出生一件事 (constant JSON Logic sources included) shows no
    missing required field and publishes again from the editor."""
    from yiwang.demo import services as demo

    make_demo_departments()
    demo.load_services(lambda label, total: (lambda n: None))
    sign_in_client(internal_client, official("wjw.demo", "wjw", *EDITOR))
    page = internal_client.get(url("workbench:services_bundle_edit", "birth")).content.decode()
    assert page.count('data-testid="member-map-') == 4
    assert 'data-testid="bundle-blocking"' not in page and "✗" not in page
    response = internal_client.post(url("workbench:services_bundle_publish", "birth"),
                                    {"action": "publish"}, follow=True)
    assert "一件事已发布" in response.content.decode()
