"""The catalogue's service functions: guides, versions, publication, fees, licences."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from yiwang.core.audit import service as audit
from yiwang.enablement.forms import service as forms
from yiwang.industry.services import service
from yiwang.industry.services.tests.conftest import FLOW, FORM, live_version

pytestmark = pytest.mark.django_db


def test_guide_fields_are_checked(matter: service.Matter) -> None:
    with pytest.raises(ValidationError) as caught:
        service.update_guide(matter, statutory_days=5, promised_days=10,
                             materials=[{"code": "a", "name": "甲"}, {"code": "a", "name": "乙"},
                                        {"code": "b", "name": "丙",
                                         "licence_types": ["no_such_type"]}])
    errors = caught.value.message_dict
    assert "承诺办结时限不能超过法定办结时限。" in errors["promised_days"]
    assert any("重复" in m for m in errors["materials"])
    assert any("no_such_type" in m for m in errors["materials"])


def test_search_finds_by_name_keyword_and_summary(matter: service.Matter) -> None:
    service.publish_matter(matter)
    for q in ("个体工商户", "营业执照", "申请设立", "TEST-SCJG"):
        assert [m.code for m in service.list_matters(q=q).object_list] == [matter.code], q
    assert not service.list_matters(q="不动产").object_list
    assert not service.list_matters(department="gaj").object_list


def test_unpublished_matters_are_not_listed(matter: service.Matter) -> None:
    assert not service.list_matters().object_list
    assert service.list_matters(published_only=False).paginator.count == 1


def test_draft_publish_retire(matter: service.Matter) -> None:
    first = live_version(matter)
    assert first.state == "published" and service.published_version(matter.code) == first
    assert matter.__class__.objects.get(pk=matter.pk).published
    draft = service.create_draft(matter)
    assert draft.number == 2 and draft.form == first.form  # a copy of the latest
    assert service.create_draft(matter) == draft  # one draft at a time
    service.publish_version(draft)
    first.refresh_from_db()
    assert first.state == "retired" and first.retired_at is not None
    assert service.published_version(matter.code).number == 2
    published = audit.search(audit.AuditFilter(action="services.version_published"))
    assert published.count() == 2


def test_published_version_is_frozen(matter: service.Matter) -> None:
    version = live_version(matter)
    with pytest.raises(ValidationError, match="不能修改"):
        service.save_draft(version, form=FORM)
    with pytest.raises(ValidationError, match="只能发布草稿"):
        service.publish_version(version)


def test_publish_needs_a_form_and_a_flow(matter: service.Matter) -> None:
    draft = service.create_draft(matter)
    with pytest.raises(ValidationError, match="表单"):
        service.publish_version(draft)
    service.save_draft(draft, form=FORM)
    with pytest.raises(ValidationError, match="审批流程"):
        service.publish_version(draft)


def test_unpublish_withdraws_the_live_version(matter: service.Matter) -> None:
    version = live_version(matter)
    service.unpublish_matter(matter)
    assert service.published_version(matter.code) is None
    version.refresh_from_db()
    assert version.state == "retired"
    assert service.get_version(version.pk) == version  # applications keep theirs


def test_bad_parts_are_named(matter: service.Matter) -> None:
    draft = service.create_draft(matter)
    with pytest.raises(ValidationError) as caught:
        service.save_draft(draft, form={"version": 1, "components": [
            {"type": "script", "key": "x", "label": "x"}]},
            fee_table={"rows": [{"item": "", "amount_fen": -1}]},
            licence={"type": "no_criminal_record", "map": {}})
    errors = caught.value.message_dict
    assert set(errors) >= {"form", "fee_table", "licence"}


def test_fee_table_first_and_collect(matter: service.Matter) -> None:
    rows = [{"when": {"==": [{"var": "kind"}, "family"]}, "item": "家庭经营登记费",
             "amount_fen": 5000},
            {"when": True, "item": "工本费", "amount_fen": 1000}]
    version = live_version(matter, fee_table={"hit_policy": "FIRST", "rows": rows})
    assert service.compute_fee(version, {"kind": "family"}).total_fen == 5000
    assert service.compute_fee(version, {"kind": "personal"}).total_fen == 1000
    draft = service.create_draft(matter)
    draft = service.save_draft(draft, fee_table={"hit_policy": "COLLECT", "rows": rows})
    quote = service.compute_fee(draft, {"kind": "family"})
    assert quote.total_fen == 6000 and [i.item for i in quote.items] == ["家庭经营登记费",
                                                                         "工本费"]


def test_empty_fee_table_is_free(matter: service.Matter) -> None:
    version = live_version(matter, fee_table={})
    quote = service.compute_fee(version, {"kind": "family"})
    assert quote.free and quote.items == ()


def test_fee_conditions_must_name_form_fields(matter: service.Matter) -> None:
    draft = service.create_draft(matter)
    with pytest.raises(ValidationError) as caught:
        service.save_draft(draft, form=FORM, fee_table={"rows": [
            {"when": {"==": [{"var": "nope"}, 1]}, "item": "x", "amount_fen": 1}]})
    assert "fee_table" in caught.value.message_dict


def test_licence_mapping_against_the_type(matter: service.Matter) -> None:
    draft = service.create_draft(matter)
    mapping = {"kind": {"if": [{"==": [{"var": "kind"}, "family"]}, "个体工商户(家庭经营)",
                               "个体工商户(个人经营)"]},
               "legal_representative": "shop_name", "registered_capital": "capital",
               "established_on": {"var": "established_on"}, "address": "address"}
    with pytest.raises(ValidationError) as caught:  # established_on is not a form field
        service.save_draft(draft, form=FORM, licence={"type": "business_licence",
                                                      "map": mapping})
    assert "licence" in caught.value.message_dict
    mapping["established_on"] = "address"
    draft = service.save_draft(draft, form=FORM, flow_spec=FLOW,
                               licence={"type": "business_licence", "map": mapping})
    code, fields = service.licence_fields(draft, {"kind": "family", "shop_name": "张三",
                                                  "capital": 10, "address": "示例路1号"})
    assert code == "business_licence"
    assert fields["kind"] == "个体工商户(家庭经营)" and fields["registered_capital"] == 10


def test_licence_of_another_department_is_refused(matter: service.Matter) -> None:
    draft = service.create_draft(matter)
    with pytest.raises(ValidationError) as caught:
        service.save_draft(draft, form=FORM, licence={"type": "property_certificate",
                                                      "map": {}})
    assert any("发证部门" in m for m in caught.value.message_dict["licence"])


def test_officials_of_another_department_cannot_edit_or_publish(
        matter: service.Matter, market_official: Any, police_official: Any) -> None:
    assert service.may_edit(market_official, matter)
    assert not service.may_edit(police_official, matter)
    with pytest.raises(ValidationError, match="无权"):
        service.update_guide(matter, actor=police_official, summary="越权")
    with pytest.raises(ValidationError, match="无权"):
        service.create_draft(matter, police_official)
    draft = service.create_draft(matter, market_official)
    service.save_draft(draft, form=FORM, flow_spec=FLOW, actor=market_official)
    with pytest.raises(ValidationError, match="无权"):
        service.publish_version(draft, police_official)
    with pytest.raises(ValidationError, match="无权"):
        service.unpublish_matter(matter, police_official)
    assert service.publish_version(draft, market_official).state == "published"


def test_export_import_round_trip(matter: service.Matter) -> None:
    service.ensure_life_event(code="open_business", name="开办", audience="legal")
    service.update_guide(matter, life_event_codes=["open_business"],
                         faq=[{"q": "要多久?", "a": "即办。"}])
    version = live_version(matter, fee_table={"rows": [{"item": "工本费", "amount_fen": 0}]})
    pack = service.export_definition(matter)
    assert pack["format"] == service.FORMAT and pack["version"]["number"] == version.number
    # Importing the same pack changes nothing: no new version.
    service.import_definition(pack)
    assert service.versions_of(matter).count() == 1
    # A changed form gives a new published version.
    pack["version"]["form"]["components"].append(
        {"type": "text", "key": "phone_note", "label": "备注", "required": False})
    service.import_definition(pack)
    assert service.published_version(matter.code).number == 2
    # Into an empty catalogue: the same matter, guide and version.
    pack["matter"]["code"] = "TEST-SCJG-002"
    copy = service.import_definition(pack)
    assert copy.faq == matter.faq and [e.code for e in copy.life_events.all()] == [
        "open_business"]
    assert service.published_version("TEST-SCJG-002").form == forms.check_definition(
        pack["version"]["form"])


def test_import_refuses_what_is_not_a_pack(city: Any) -> None:
    with pytest.raises(ValidationError, match="服务包"):
        service.import_definition({"hello": "world"})
    with pytest.raises(ValidationError, match="版本"):
        service.import_definition({"format": service.FORMAT, "format_version": 99})


def test_bundle_projects_data_onto_members(city: Any) -> None:
    a = service.create_matter(code="A", name="甲", department_code="wjw", audience="person")
    b = service.create_matter(code="B", name="乙", department_code="gaj", audience="person")
    form_a = {"version": 1, "components": [{"type": "text", "key": "child", "label": "姓名",
                                            "required": True}]}
    form_b = {"version": 1, "components": [{"type": "text", "key": "baby_name",
                                            "label": "姓名", "required": True}]}
    live_version(a, form=form_a)
    live_version(b, form=form_b)
    bundle_form = {"version": 1, "components": [
        {"type": "text", "key": "name", "label": "新生儿姓名", "required": True}]}
    bundle = service.save_bundle(code="birth", name="出生一件事", department_code="wjw",
                                 form=bundle_form,
                                 members=[{"matter": "A", "map": {"child": "name"}},
                                          {"matter": "B", "map": {"baby_name": "name"}}])
    assert service.published_bundle("birth") is None
    service.publish_bundle(bundle)
    live = service.published_bundle("birth")
    assert [m.matter_code for m in live.members] == ["A", "B"]
    assert service.project_member_data(live.members[1], {"name": "小明"}) == {
        "baby_name": "小明"}
    with pytest.raises(ValidationError):
        service.save_bundle(code="x", name="x", department_code="wjw", form=bundle_form,
                            members=[{"matter": "A", "map": {"child": "nope"}},
                                     {"matter": "B", "map": {}}])
