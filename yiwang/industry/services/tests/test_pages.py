"""Portal pages (public catalogue, guide, bundle) and the workbench pages of the catalogue,
with their access rules: only the matter's department edits and publishes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse as _reverse

from yiwang.industry.services import service
from yiwang.industry.services.tests.conftest import FLOW, FORM, live_version, make_official
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def portal(name: str, *args: Any) -> str:
    return _reverse(name, args=args or None, urlconf="yiwang.urls.public")


def workbench(name: str, *args: Any) -> str:
    return _reverse(name, args=args or None, urlconf="yiwang.urls.internal")


# --- portal ---------------------------------------------------------------------------------

def test_catalogue_search_browse_and_empty_state(public_client: Any,
                                                 matter: service.Matter) -> None:
    event = service.ensure_life_event(code="open_business", name="开办", name_en="Starting",
                                      audience="legal")
    service.update_guide(matter, life_event_codes=[event.code])
    service.publish_matter(matter)
    page = public_client.get(portal("services_portal:index")).content.decode()
    assert matter.name in page and "开办" in page
    page = public_client.get(portal("services_portal:index") + "?q=营业执照").content.decode()
    assert matter.name in page and "找到 1 个事项" in page
    page = public_client.get(portal("services_portal:index") + "?event=open_business").content
    assert matter.name in page.decode()
    page = public_client.get(portal("services_portal:index") + "?q=火星移民").content.decode()
    assert "没有找到相关事项" in page and "12345" in page
    english = public_client.get("/en/services/?event=open_business").content.decode()
    assert "Starting" in english


def test_guide_shows_every_section_and_apply_only_when_live(public_client: Any,
                                                             matter: service.Matter) -> None:
    service.update_guide(matter, faq=[{"q": "需要多久?", "a": "当场办结。"}],
                         channels=[{"kind": "window", "name": "市民中心", "address": "示例路1号"}],
                         legal_basis=[{"title": "《个体工商户条例》", "article": "第八条"}],
                         materials=[{"code": "id_card", "name": "经营者身份证明",
                                     "required": True, "licence_types": ["business_licence"],
                                     "form": "electronic", "source": "申请人自备"}])
    service.publish_matter(matter)
    url = portal("services_portal:matter", matter.code)
    page = public_client.get(url).content.decode()
    for text in ("基本信息", "设定依据", "《个体工商户条例》", "受理条件", "申请材料", "申请人自备",
                 "可用电子证照代替", "营业执照", "法定办结时限", "15 个工作日", "市民中心",
                 "需要多久?", "本事项暂不支持网上申请"):
        assert text in page, text
    assert 'data-testid="apply-online"' not in page
    live_version(matter)
    page = public_client.get(url).content.decode()
    assert 'data-testid="apply-online"' in page
    assert f"/applications/apply/{matter.code}/" in page


@override_settings(YIWANG_PAGE_CACHE_SECONDS=300)
def test_publishing_shows_at_once(public_client: Any, matter: service.Matter) -> None:
    """Service pages are not page-cached: a withdrawn matter is gone on the next request."""
    live_version(matter)
    url = portal("services_portal:matter", matter.code)
    assert public_client.get(url).status_code == 200
    assert public_client.get(url).status_code == 200
    service.unpublish_matter(matter)
    assert public_client.get(url).status_code == 404
    assert matter.name not in public_client.get(portal("services_portal:index")).content.decode()


def test_unpublished_matter_and_bundle_are_404(public_client: Any,
                                               matter: service.Matter) -> None:
    assert public_client.get(portal("services_portal:matter", matter.code)).status_code == 404
    assert public_client.get(portal("services_portal:bundle", "nope")).status_code == 404


# --- workbench ------------------------------------------------------------------------------

def test_workbench_needs_an_official_with_the_permission(internal_client: Any,
                                                         city: Any) -> None:
    url = workbench("workbench:services")
    assert internal_client.get(url).status_code == 302
    nobody = make_official("scjg.nobody", "scjg", "audit.view_auditevent")
    sign_in_client(internal_client, nobody)
    assert internal_client.get(url).status_code == 403


def test_another_department_cannot_edit_or_publish(internal_client: Any, matter: service.Matter,
                                                   police_official: Any) -> None:
    draft = service.create_draft(matter)
    sign_in_client(internal_client, police_official)
    assert matter.code not in internal_client.get(workbench("workbench:services")).content.decode()
    for url in (workbench("workbench:services_matter", matter.code),
                workbench("workbench:services_guide", matter.code),
                workbench("workbench:services_version", draft.pk)):
        assert internal_client.get(url).status_code == 403, url
    assert internal_client.post(workbench("workbench:services_version_publish",
                                          draft.pk)).status_code == 403
    assert internal_client.post(workbench("workbench:services_publish_matter", matter.code),
                                {"action": "publish"}).status_code == 403
    assert internal_client.post(workbench("workbench:services_version_bpmn",
                                          draft.pk)).status_code == 403
    assert internal_client.post(workbench("workbench:services_version", draft.pk),
                                {"form_definition": "{}"}).status_code == 403
    assert internal_client.get(workbench("workbench:services_export",
                                         matter.code)).status_code == 403
    draft.refresh_from_db()
    matter.refresh_from_db()
    assert draft.state == "draft" and not matter.published


def test_editor_without_publish_permission(internal_client: Any,
                                           matter: service.Matter) -> None:
    editor = make_official("scjg.writer", "scjg", "services.change_matter")
    draft = service.create_draft(matter)
    service.save_draft(draft, form=FORM, flow_spec=FLOW)
    sign_in_client(internal_client, editor)
    assert internal_client.get(workbench("workbench:services_version", draft.pk)).status_code \
        == 200
    assert internal_client.post(workbench("workbench:services_version_publish",
                                          draft.pk)).status_code == 403


def test_administrator_builds_a_new_service(internal_client: Any, public_client: Any,
                                            market_official: Any) -> None:
    """create matter → guide → draft → form → flow → fee table → licence mapping → publish."""
    sign_in_client(internal_client, market_official)
    response = internal_client.post(workbench("workbench:services_create"), {
        "code": "NEW-001", "name": "个体工商户变更登记", "department": "scjg",
        "kind": "licensing", "audience": "legal"})
    assert response.status_code == 302
    guide = {"name": "个体工商户变更登记", "kind": "licensing", "audience": "legal",
             "online_level": "4", "visits": "0", "statutory_days": "15", "promised_days": "3",
             "conditions": "已登记的个体工商户。", "keywords": "变更",
             "faq-q": ["收费吗?", ""], "faq-a": ["不收费。", ""],
             "materials-code": ["licence", ""], "materials-name": ["营业执照", ""],
             "materials-required": ["yes", "yes"], "materials-source": ["", ""],
             "materials-form": ["electronic", "electronic"], "materials-copies": ["1", ""],
             "materials-licence_types": ["business_licence", ""],
             "materials-form_key": ["", ""], "materials-note": ["", ""],
             "channels-kind": ["window"], "channels-name": ["市民中心"],
             "channels-address": ["示例路1号"], "channels-hours": [""]}
    page = internal_client.get(workbench("workbench:services_guide", "NEW-001")).content
    assert 'data-testid="materials-name-1"' in page.decode()
    response = internal_client.post(workbench("workbench:services_guide", "NEW-001"), guide)
    assert response.status_code == 302, response.content.decode()
    saved = service.get_matter("NEW-001")
    assert saved.faq == [{"q": "收费吗?", "a": "不收费。"}]
    assert saved.materials[0]["licence_types"] == ["business_licence"]
    assert saved.channels == [{"kind": "window", "name": "市民中心", "address": "示例路1号",
                               "hours": ""}]
    # A material without a code is named, nothing saved.
    bad = {**guide, "materials-code": ["", ""]}
    page = internal_client.post(workbench("workbench:services_guide", "NEW-001"), bad)
    assert "第1项材料缺少编码" in page.content.decode()
    response = internal_client.post(workbench("workbench:services_new_version", "NEW-001"))
    version_url = response["Location"]
    page = internal_client.get(version_url).content.decode()
    assert 'data-testid="fee-table"' in page and 'data-testid="licence-type"' in page
    # Choosing a licence type shows its fields (no save).
    post = {"form_definition": json.dumps(FORM), "flow_spec": json.dumps(FLOW),
            "fee_hit_policy": "FIRST", "fee_when": [""], "fee_item": [""], "fee_item_en": [""],
            "fee_amount": [""], "licence_type": "business_licence", "action": "refresh"}
    page = internal_client.post(version_url, post).content.decode()
    assert 'data-testid="licence-map-legal_representative"' in page
    # A missing required licence field is named, nothing saved.
    post["action"] = "save"
    page = internal_client.post(version_url, post).content.decode()
    assert "证照必填字段" in page
    post.update({f"licence_map__{k}": v for k, v in {
        "kind": "kind", "legal_representative": "shop_name", "registered_capital": "capital",
        "established_on": "address", "address": "address"}.items()})
    post.update({"fee_when": ['{"==": [{"var": "kind"}, "family"]}', ""],
                 "fee_item": ["登记费", ""], "fee_item_en": ["", ""], "fee_amount": ["12.50", ""]})
    response = internal_client.post(version_url, post)
    assert response.status_code == 302, response.content.decode()
    matter = service.get_matter("NEW-001")
    draft = service.latest_draft(matter)
    assert draft.fee_table["rows"][0]["amount_fen"] == 1250
    assert draft.licence["type"] == "business_licence"
    response = internal_client.post(workbench("workbench:services_version_publish", draft.pk))
    assert response.status_code == 302
    assert service.published_version("NEW-001").number == 1
    page = public_client.get(portal("services_portal:matter", "NEW-001")).content.decode()
    assert "个体工商户变更登记" in page and 'data-testid="apply-online"' in page
    history = internal_client.get(workbench("workbench:services_matter", "NEW-001")).content
    assert "已发布" in history.decode()


def test_export_and_import_a_pack(internal_client: Any, matter: service.Matter,
                                  market_official: Any, police_official: Any) -> None:
    live_version(matter)
    sign_in_client(internal_client, market_official)
    pack = json.loads(internal_client.get(workbench("workbench:services_export",
                                                    matter.code)).content)
    assert pack["matter"]["code"] == matter.code
    sign_in_client(internal_client, police_official)
    pack["matter"]["code"] = "COPY-1"
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("p.json", json.dumps(pack).encode(), "application/json")
    page = internal_client.post(workbench("workbench:services_import"), {"pack": upload})
    assert "无权" in page.content.decode()  # a pack of 市场监管局 into 公安局: refused
    assert service.get_matter("COPY-1") is None


def test_bundle_publish_is_scoped(internal_client: Any, city: Any, police_official: Any) -> None:
    form = {"version": 1, "components": [{"type": "text", "key": "child", "label": "姓名",
                                          "required": True}]}
    for code, dept in (("A", "wjw"), ("B", "gaj")):
        live_version(service.create_matter(code=code, name=code, department_code=dept,
                                           audience="person"), form=form)
    service.save_bundle(code="birth", name="出生一件事", department_code="wjw", form=form,
                        members=[{"matter": "A", "map": {"child": "child"}},
                                 {"matter": "B", "map": {"child": "child"}}])
    url = workbench("workbench:services_bundle_publish", "birth")
    sign_in_client(internal_client, police_official)
    assert internal_client.post(url, {"action": "publish"}).status_code == 403
    health = make_official("wjw.editor", "wjw")
    sign_in_client(internal_client, health)
    page = internal_client.get(workbench("workbench:services")).content.decode()
    assert 'data-testid="bundle-publish-birth"' in page
    assert internal_client.post(url, {"action": "publish"}).status_code == 302
    assert service.published_bundle("birth") is not None


def test_bpmn_import_in_the_version_editor(internal_client: Any, matter: service.Matter,
                                           market_official: Any) -> None:
    """A file drawn in Camunda Modeler replaces the flow; an unsupported one is refused."""
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    examples = Path(__file__).resolve().parents[4] / "examples" / "bpmn"
    draft = service.create_draft(matter)
    service.save_draft(draft, form=FORM)
    sign_in_client(internal_client, market_official)
    url = workbench("workbench:services_version_bpmn", draft.pk)
    bad = (examples / "unsupported-script-and-service.bpmn").read_bytes()
    internal_client.post(url, {"bpmn": SimpleUploadedFile("x.bpmn", bad)})
    draft.refresh_from_db()
    assert not draft.bpmn
    good = (examples / "individual-business-registration.bpmn").read_bytes()
    # Its gateway branches on business_kind and area, which this form does not have.
    response = internal_client.post(url, {"bpmn": SimpleUploadedFile("y.bpmn", good)},
                                    HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert "网关“经营类别？”通往“食品经营”的条件：引用了不存在的字段“business_kind”" in (
        response.json()["errors"])
    draft.refresh_from_db()
    assert not draft.bpmn
    form = {**FORM, "components": [
        *FORM["components"], {"type": "text", "key": "business_kind", "label": "经营类别"},
        {"type": "number", "key": "area", "label": "经营面积"}]}
    service.save_draft(draft, form=form)
    response = internal_client.post(url, {"bpmn": SimpleUploadedFile("y.bpmn", good)})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert "userTask" in draft.bpmn and draft.flow_spec == {}
    # Saving the rest of the draft with the editor's empty spec keeps the imported flow.
    internal_client.post(workbench("workbench:services_version", draft.pk), {
        "form_definition": json.dumps(form), "flow_spec": '{"version": 1, "steps": []}',
        "fee_hit_policy": "FIRST", "action": "save"})
    draft.refresh_from_db()
    assert "userTask" in draft.bpmn


def test_discard_a_draft_with_confirmation_and_only_in_its_department(
        internal_client: Any, matter: service.Matter, market_official: Any,
        police_official: Any) -> None:
    """Review L17: 放弃草稿 asks first, deletes only a draft, only for its department, and
    is audited."""
    from django.core.exceptions import ValidationError

    from yiwang.core.audit import service as audit

    live = live_version(matter, form=FORM, flow_spec=FLOW)
    draft = service.create_draft(matter)
    url = workbench("workbench:services_version", draft.pk)
    sign_in_client(internal_client, police_official)
    assert internal_client.post(url, {"action": "discard_confirmed"}).status_code == 403
    with pytest.raises(ValidationError):
        service.discard_draft(draft, police_official)
    sign_in_client(internal_client, market_official)
    page = internal_client.post(url, {"action": "discard"})
    assert page.status_code == 200 and "确认放弃" in page.content.decode()
    assert service.get_version(draft.pk) is not None  # asked, not yet done
    done = internal_client.post(url, {"action": "discard_confirmed"})
    assert done.status_code == 302 and service.get_version(draft.pk) is None
    assert audit.search(audit.AuditFilter(action="services.draft_discarded")).count() == 1
    # a published version is never discarded
    with pytest.raises(ValidationError):
        service.discard_draft(live, market_official)
    assert internal_client.post(workbench("workbench:services_version", live.pk),
                                {"action": "discard_confirmed"}).status_code == 403
    assert service.get_version(live.pk) is not None


@pytest.mark.parametrize("field,value,message", [
    ("fee_amount", "Infinity", "第1行的金额不是数字"),
    ("fee_amount", "1e999999", "第1行的金额超出范围"),
    ("fee_amount", "1e999990", "第1行的金额超出范围"),  # was half a minute of a worker's CPU
    ("fee_amount", "NaN", "第1行的金额不是数字"),
    # Officials type yuan: the messages speak of yuan, never of fen.
    ("fee_amount", "12.345", "第1行的金额最多两位小数(单位:元)"),
    ("fee_amount", "-1", "第1行的金额必须在0到1000000元之间,最多两位小数"),
    ("fee_amount", "1000000.01", "第1行的金额必须在0到1000000元之间,最多两位小数"),
    ("fee_when", '{"a": 1' + "0" * 5000 + "}", "第1行的条件不是有效的 JSON"),
    ("form_definition", "[" * 100_000 + "]" * 100_000, "表单定义不是有效的 JSON"),
    ("flow_spec", '{"steps": 1' + "0" * 5000 + "}", "审批流程不是有效的 JSON"),
])
def test_editor_input_that_python_cannot_parse_is_named_not_a_500(
        internal_client: Any, matter: service.Matter, market_official: Any,
        field: str, value: str, message: str) -> None:
    """Review L10: an infinite or overflowing amount, an integer past Python's 4,300-digit
    limit and nesting deeper than the recursion limit each get the editor's message; the draft
    is not written."""
    draft = service.create_draft(matter)
    service.save_draft(draft, form=FORM, flow_spec=FLOW)
    sign_in_client(internal_client, market_official)
    post = {"form_definition": json.dumps(FORM), "flow_spec": json.dumps(FLOW),
            "fee_hit_policy": "FIRST", "fee_when": [""], "fee_item": ["登记费"],
            "fee_item_en": [""], "fee_amount": ["1"], "action": "save"}
    post[field] = [value] if field.startswith("fee_") else value
    response = internal_client.post(workbench("workbench:services_version", draft.pk), post)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "单位:分" not in response.content.decode()
    assert not (service.get_version(draft.pk).fee_table or {}).get("rows")  # not saved
