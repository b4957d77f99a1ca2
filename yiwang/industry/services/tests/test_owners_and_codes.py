"""Review fixes (session 2): a bundle stays with its department (H1); codes are URL-safe (M1)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from yiwang.industry.services import service
from yiwang.industry.services.tests.conftest import live_version, make_official

pytestmark = pytest.mark.django_db
FORM = {"version": 1, "components": [{"type": "text", "key": "name", "label": "姓名",
                                      "required": True}]}
PUBLISH = ("services.change_matter", "services.publish_matter")


def _bundle_pack(department: str) -> dict[str, Any]:
    return {"format": service.FORMAT, "format_version": service.FORMAT_VERSION,
            "kind": "bundle", "life_events": [],
            "bundle": {"code": "birth", "name": "出生一件事", "department": department,
                       "audience": "person", "form": FORM, "published": True,
                       "members": [{"matter": "A", "map": {"child": "name"}},
                                   {"matter": "B", "map": {"child": "name"}}]}}


@pytest.fixture
def member(city: Any) -> None:
    form = {"version": 1, "components": [
        {"type": "text", "key": "child", "label": "姓名", "required": True}]}
    for code in ("A", "B"):
        matter = service.create_matter(code=code, name=code, department_code="wjw",
                                       audience="person")
        live_version(matter, form=form)


def test_another_department_cannot_take_a_bundle_over(member: Any) -> None:
    owner = make_official("wjw.head", "wjw", *PUBLISH)
    intruder = make_official("scjg.head", "scjg", *PUBLISH)
    service.import_definition(_bundle_pack("wjw"), actor=owner)
    taken = _bundle_pack("scjg")
    taken["bundle"]["name"] = "被改掉的一件事"
    with pytest.raises(ValidationError) as caught:
        service.import_definition(taken, actor=intruder)
    assert caught.value.code == "not_allowed"
    bundle = service.get_bundle("birth")
    assert bundle.department_code == "wjw" and bundle.name == "出生一件事"
    # Not even a system load moves it; its own department still edits it.
    with pytest.raises(ValidationError):
        service.import_definition(copy.deepcopy(taken))
    again = _bundle_pack("wjw")
    again["bundle"]["name"] = "出生一件事(新版)"
    service.import_definition(again, actor=owner)
    assert service.get_bundle("birth").name == "出生一件事(新版)"


@pytest.mark.parametrize("code", ["X/1", "a b", "", "-x", "事项1", "x" * 41, "a?b"])
def test_codes_that_cannot_be_in_a_url_are_refused(city: Any, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        service.create_matter(code=code, name="甲", department_code="wjw", audience="person")
    assert caught.value.code == "code"
    with pytest.raises(ValidationError):
        service.save_bundle(code=code, name="x", department_code="wjw", form=FORM, members=[])


def test_codes_of_the_catalogue_reverse(city: Any) -> None:
    for code in ("339900-SCJG-XK-001", "TEST_1.2", "birth"):
        service.create_matter(code=code, name="甲", department_code="wjw", audience="person")
        assert reverse("services_portal:matter", args=[code], urlconf="yiwang.urls.public")


def test_a_member_version_that_breaks_a_published_bundle_is_refused(member: None) -> None:
    """Review M11: republishing a member with a renamed required field is refused, naming
    the bundle; a compatible version is published."""
    bundle = service.import_definition(_bundle_pack("wjw"))
    assert service.published_bundle(bundle.code) is not None
    matter = service.get_matter("B")
    renamed = {"version": 1, "components": [
        {"type": "text", "key": "baby_name", "label": "姓名", "required": True}]}
    with pytest.raises(ValidationError) as caught:
        live_version(matter, form=renamed)
    text = " ".join(caught.value.message_dict["bundles"])
    assert "出生一件事" in text and "baby_name" in text
    assert service.published_version("B").form["components"][0]["key"] == "child"
    service.ServiceVersion.objects.filter(matter=matter, state="draft").delete()
    extended = {"version": 1, "components": [
        {"type": "text", "key": "child", "label": "姓名", "required": True},
        {"type": "text", "key": "note", "label": "备注", "required": False}]}
    assert live_version(matter, form=extended).state == "published"


def test_a_member_renames_a_required_field_without_the_bundle_going_offline(
        member: None) -> None:
    """Review M14: 卫健委 maps both names (the new one is in B's draft), 公安局 publishes,
    卫健委 removes the old name; the bundle stays published throughout."""
    bundle = service.import_definition(_bundle_pack("wjw"))
    matter = service.get_matter("B")
    renamed = {"version": 1, "components": [
        {"type": "text", "key": "baby_name", "label": "姓名", "required": True}]}
    draft = service.save_draft(service.create_draft(matter), form=renamed)
    both = [{"matter": "A", "map": {"child": "name"}},
            {"matter": "B", "map": {"child": "name", "baby_name": "name"}}]
    bundle = service.save_bundle(code="birth", name="出生一件事", department_code="wjw",
                                 form=FORM, members=both)
    service.publish_bundle(bundle)
    assert service.bundle_warnings(bundle) == []
    service.publish_version(draft)  # the old name is mapped but gone: dropped, not refused
    assert service.published_version("B").number == draft.number
    assert any("child" in w for w in service.bundle_warnings(bundle))
    live = service.published_bundle("birth")
    assert live is not None
    b = next(m for m in live.members if m.matter_code == "B")
    assert service.project_member_data(b, {"name": "小明"}) == {"baby_name": "小明"}
    bundle = service.save_bundle(code="birth", name="出生一件事", department_code="wjw",
                                 form=FORM, members=[both[0], {"matter": "B",
                                                               "map": {"baby_name": "name"}}])
    service.publish_bundle(bundle)
    assert service.bundle_warnings(bundle) == []
    assert service.get_bundle("birth").published
    # a name neither the live version nor a draft has is still refused
    with pytest.raises(ValidationError):
        service.save_bundle(code="birth", name="出生一件事", department_code="wjw", form=FORM,
                            members=[both[0], {"matter": "B", "map": {"nick": "name"}}])


def test_a_bundle_map_naming_no_field_of_the_member_is_refused(member: None) -> None:
    pack = _bundle_pack("wjw")
    pack["bundle"]["members"][1]["map"] = {"child": "name", "nickname": "name"}
    with pytest.raises(ValidationError) as caught:
        service.import_definition(pack)
    assert any("nickname" in m for m in caught.value.message_dict["members"])


@pytest.mark.parametrize("members", [["A", "B"], [{"matter": "A", "map": ["child"]}, "B"]])
def test_malformed_bundle_members_get_a_message(member: None, members: Any) -> None:
    pack = _bundle_pack("wjw")
    pack["bundle"]["members"] = members
    with pytest.raises(ValidationError) as caught:
        service.import_definition(pack)
    assert any("成员事项必须是" in m for m in caught.value.message_dict["members"])


def test_a_pack_does_not_overwrite_a_draft_being_edited(city: Any) -> None:
    """Review M8: a draft that differs from the live version and from the pack is kept and
    the import refused with a message naming it; a draft equal to the pack is published."""
    matter = service.create_matter(code="C", name="丙", department_code="wjw",
                                   audience="person")
    live_version(matter, form=FORM)
    pack = service.export_definition(matter)
    draft = service.create_draft(matter)
    work = {"version": 1, "components": [*FORM["components"], {
        "type": "text", "key": "unsaved_work", "label": "草稿字段", "required": False}]}
    service.save_draft(draft, form=work)
    changed = copy.deepcopy(pack)
    changed["version"]["form"]["components"][0]["label"] = "申请人姓名"
    with pytest.raises(ValidationError) as caught:
        service.import_definition(changed)
    assert caught.value.code == "draft_exists" and "第2版" in caught.value.messages[0]
    draft.refresh_from_db()
    assert "unsaved_work" in str(draft.form)
    service.import_definition(pack)  # equal to the live version: nothing to do
    same = copy.deepcopy(pack)
    same["version"]["form"] = work
    service.import_definition(same)
    assert "unsaved_work" in str(service.published_version("C").form)


@pytest.mark.parametrize("events", [["birth"], [{"code": "x", "audience": "person"}],
                                    [{"code": "x", "name": "X", "audience": "person",
                                      "order": "first"}], {"code": "x"}])
def test_malformed_life_events_get_a_message(city: Any, events: Any) -> None:
    pack = {"format": service.FORMAT, "format_version": service.FORMAT_VERSION,
            "kind": "matter", "life_events": events, "matter": {"code": "D"}}
    with pytest.raises(ValidationError) as caught:
        service.import_definition(pack)
    assert caught.value.code == "life_events"


def test_an_officials_pack_cannot_add_a_life_event(member: None) -> None:
    """Review L4: a new life event (主题) in an official's pack is refused; a system load (the
    demo) and a superuser add it."""
    owner = make_official("wjw.head", "wjw", *PUBLISH)
    pack = _bundle_pack("wjw")
    pack["life_events"] = [{"code": "wedding", "name": "结婚", "audience": "person"}]
    with pytest.raises(ValidationError) as caught:
        service.import_definition(pack, actor=owner)
    assert caught.value.code == "life_event_unknown"
    assert service.get_life_event("wedding") is None and service.get_bundle("birth") is None
    service.import_definition(pack)
    assert service.get_life_event("wedding") is not None
    service.import_definition(pack, actor=owner)  # it exists now: fine
