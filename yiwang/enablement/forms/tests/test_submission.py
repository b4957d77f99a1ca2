"""validate_submission: what a person may submit, and the messages they get."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from yiwang.enablement.forms import service as forms
from yiwang.enablement.forms import testing
from yiwang.platform.regions import testing as regions_testing

pytestmark = pytest.mark.django_db


@pytest.fixture
def definition() -> dict[str, Any]:
    regions_testing.make_chain()
    return forms.check_definition(testing.sample_definition())


def errors_of(definition: dict[str, Any], data: Any, **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(forms.SubmissionInvalid) as exc:
        forms.validate_submission(definition, data, **kwargs)
    return exc.value.errors


def with_(**changes: Any) -> dict[str, Any]:
    data = testing.sample_data()
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_valid_data_is_cleaned_and_calculations_are_recomputed(definition: dict) -> None:
    sent = with_(total_area=99999, phone="+86 138 0013 8000", credit_code=" "
                 + testing.CREDIT_CODE.lower() + " ")
    cleaned = forms.validate_submission(definition, sent)
    assert cleaned["rooms"][1]["area"] == 12.5            # "12.5" typed → a number
    assert cleaned["total_area"] == 32.5                  # the client's 99999 is ignored
    assert cleaned["phone"] == "13800138000"
    assert cleaned["credit_code"] == testing.CREDIT_CODE
    assert "members" not in cleaned and "notes" not in cleaned
    assert list(cleaned)[:3] == ["name", "id_number", "phone"]   # document order


def test_regions_are_looked_up_in_one_query(definition: dict,
                                            django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        forms.validate_submission(definition, testing.sample_data())
    with django_assert_num_queries(0):
        forms.validate_submission(definition, testing.sample_data(), partial=True)


def test_required_fields(definition: dict) -> None:
    errors = errors_of(definition, {})
    assert errors["name"] == ["请填写“姓名”"]
    assert errors["kind"] == ["请选择“经营者类型”"]
    assert errors["lease"] == ["请上传“经营场所使用证明”"]
    assert errors["signature"] == ["请在“申请人签名”处签名"]
    assert "members" not in errors      # hidden: kind is not "family"
    assert "notes" not in errors and "location" not in errors


@pytest.mark.parametrize("changes, path, message", [
    ({"id_number": "110101199003070012"}, "id_number", "“身份证号码”有误：校验位错误：应为 1"),
    ({"id_number": "110101202003070016"}, "id_number", "持有人须年满 18 周岁"),
    ({"credit_code": "91339901MA2B3C4D5X"}, "credit_code", "“统一社会信用代码”有误"),
    ({"phone": "1380013800"}, "phone", "11 位手机号码或带区号的固定电话"),
    ({"phone": "0571-87654321"}, None, None),
    ({"start_date": "2026-02-30"}, "start_date", "不是有效日期，请按 2026-01-31 的格式填写"),
    ({"start_date": "2019-12-31"}, "start_date", "“开业日期”不能早于 2020-01-01"),
    ({"staff": "3.5"}, "staff", "“从业人数”须为整数"),
    ({"staff": -1}, "staff", "“从业人数”不能小于 0"),
    ({"staff": 51}, "staff", "个体工商户从业人数一般不超过 50 人，超过请办理企业登记"),
    ({"staff": "三"}, "staff", "“从业人数”须为数字，例如 12 或 12.5"),
    ({"staff": True}, "staff", "“从业人数”须为数字"),
    ({"staff": float("nan")}, "staff", "须为有限的数字"),
    ({"kind": "company"}, "kind", "只能从这些选项中选择：个人经营、家庭经营"),
    ({"scope": ["retail", "food", "repair"]}, "scope", "“经营范围”最多选择 2 项"),
    ({"scope": ["cinema"]}, "scope", "只能从这些选项中选择"),
    ({"shop_name": "Zhang"}, "shop_name", "字号名称只能使用汉字"),
    ({"shop_name": "张"}, "shop_name", "“字号名称”至少 2 个字"),
    ({"name": "张" * 31}, "name", "“姓名”最多 30 个字，现在 31 个字"),
    ({"name": "张\x00三"}, "name", "不可见的控制字符"),
    ({"name": ["张三"]}, "name", "“姓名”须为文字"),
    ({"premises": {"region": "339901001999", "detail": "x"}}, "premises.region",
     "行政区划 339901001999 不存在"),
    ({"premises": {"region": "339901000000", "detail": "x"}}, "premises.region",
     "请选择到街道一级"),
    ({"premises": {"region": "3399", "detail": "x"}}, "premises.region", "12 位区划代码"),
    ({"premises": {"region": "339901001000", "detail": ""}}, "premises.detail", "详细地址"),
    ({"premises": {"region": "339901001000", "detail": "x", "zip": "1"}}, "premises",
     "无法识别的部分：zip"),
    ({"premises": "湖滨路 1 号"}, "premises", "须为地址"),
    ({"location": {"lng": 121.5, "lat": 30.1}}, "location.lng", "不在示例市范围内"),
    ({"location": {"lng": 200, "lat": 30.1}}, "location.lng", "经度须在 -180 到 180 之间"),
    ({"location": {"lng": 120.1, "lat": -91}}, "location.lat", "纬度须在 -90 到 90 之间"),
    ({"location": {"lng": 120.1}}, "location.lat", "须同时填写经度和纬度"),
    ({"lease": ["../../etc/passwd"]}, "lease", "无效的文件"),
    ({"lease": [testing.TOKEN + str(i) for i in range(4)]}, "lease", "最多上传 3 个文件"),
    ({"signature": "data:image/png;base64,AAAA"}, "signature", "签名无效"),
    ({"rooms": [{"room": "a", "area": 5}] * 6}, "rooms", "“经营用房”最多 5 行，现在 6 行"),
    ({"rooms": [{"room": "a", "area": 5}, {"room": "b", "area": "x"}]}, "rooms[1].area",
     "经营用房第 2 行：“面积”须为数字"),
    ({"rooms": [{"room": "a", "area": 5}, {"area": 3}]}, "rooms[1].room",
     "经营用房第 2 行：请填写“房间”"),
    ({"rooms": [{"room": "a", "area": 5, "floor": 2}]}, "rooms[0].floor",
     "“经营用房”没有“floor”这一列"),
    ({"rooms": ["a"]}, "rooms[0]", "第 1 行须为对象"),
    ({"rooms": {"room": "a"}}, "rooms", "须为表格行的列表"),
    ({"bogus": 1}, "bogus", "表单中没有“bogus”这一项，请删除它"),
])
def test_checks_and_messages(definition: dict, changes: dict, path: str | None,
                             message: str | None) -> None:
    if path is None:
        forms.validate_submission(definition, with_(**changes))
        return
    errors = errors_of(definition, with_(**changes))
    assert path in errors, errors
    assert any(message in m for m in errors[path]), errors[path]


def test_a_condition_shows_and_hides(definition: dict) -> None:
    errors = errors_of(definition, with_(kind="family"))
    assert errors == {"members": ["请填写“家庭成员”"]}
    errors = errors_of(definition, with_(kind="family", members=[
        {"member_name": "李四", "member_id": "bad"}]))
    assert list(errors) == ["members[0].member_id"]
    assert errors["members[0].member_id"][0].startswith("家庭成员第 1 行：“身份证号码”有误")
    # Hidden again: whatever was sent for it is dropped without complaint.
    cleaned = forms.validate_submission(definition, with_(kind="person", members="garbage"))
    assert "members" not in cleaned


def test_keys_satisfied_elsewhere_are_not_missing(definition: dict) -> None:
    data = with_(lease=...)
    assert "lease" in errors_of(definition, data)
    cleaned = forms.validate_submission(definition, data, present={"lease"})
    assert "lease" not in cleaned


def test_partial_skips_required_and_format_checks_but_not_types(definition: dict) -> None:
    draft = {"name": "张三", "id_number": "1101", "start_date": "2026-02", "staff": 900}
    errors = errors_of(definition, draft, partial=True)
    assert list(errors) == ["start_date"]      # a date that cannot be a date
    draft["start_date"] = "2026-02-01"
    cleaned = forms.validate_submission(definition, draft, partial=True)
    assert cleaned["id_number"] == "1101" and cleaned["staff"] == 900
    assert errors_of(definition, {"bogus": 1}, partial=True) == {
        "bogus": ["表单中没有“bogus”这一项，请删除它"]}


def test_not_an_object() -> None:
    errors = errors_of({"version": 1, "components": []}, ["x"])
    assert errors == {"__all__": ["提交的数据须为 JSON 对象"]}


def test_many_unknown_keys_are_summarised() -> None:
    errors = errors_of({"version": 1, "components": []}, {f"k{i}": i for i in range(100)})
    assert len(errors) == 21 and "有 100 项不属于这个表单" in errors["__all__"][0]


def test_english_labels_when_english_is_active(definition: dict) -> None:
    with translation.override("en"):
        errors = errors_of(definition, with_(name=...))
        assert "Name" in errors["name"][0]
        errors = errors_of(definition, with_(staff=60))
        assert errors["staff"] == ["Over 50 staff: register a company instead"]


def test_calculations_feed_conditions_and_hidden_sections_drop_their_fields() -> None:
    definition = forms.check_definition({"version": 1, "components": [
        {"type": "number", "key": "price", "label": "单价"},
        {"type": "number", "key": "qty", "label": "数量"},
        {"type": "number", "key": "total", "label": "合计",
         "calculate": {"*": [{"var": "price"}, {"var": "qty"}]}},
        {"type": "section", "key": "big", "label": "大额",
         "conditional": {">": [{"var": "total"}, 1000]}, "components": [
             {"type": "text", "key": "reason", "label": "大额原因", "required": True}]},
        {"type": "text", "key": "grade", "label": "等级",
         "calculate": {"if": [{">": [{"var": "total"}, 1000]}, "A", "B"]}},
        {"type": "number", "key": "ratio", "label": "比例",
         "calculate": {"/": [{"var": "price"}, {"var": "qty"}]}},
    ]})
    out = forms.validate_submission(definition, {"price": "10", "qty": 5, "reason": "x"})
    assert out == {"price": 10, "qty": 5, "total": 50, "grade": "B", "ratio": 2}
    assert errors_of(definition, {"price": 300, "qty": 5}) == {"reason": ["请填写“大额原因”"]}
    out = forms.validate_submission(definition, {"price": 300, "qty": 0, "reason": "x"})
    assert out == {"price": 300, "qty": 0, "total": 0, "grade": "B"}   # 300/0: no ratio


def test_row_calculations_and_column_conditions() -> None:
    definition = forms.check_definition({"version": 1, "components": [
        {"type": "number", "key": "rate", "label": "单价"},
        {"type": "table", "key": "items", "label": "明细", "components": [
            {"type": "choice", "key": "unit", "label": "单位", "options": [
                {"value": "kg", "label": "千克"}, {"value": "other", "label": "其他"}]},
            {"type": "text", "key": "unit_name", "label": "单位名称", "required": True,
             "conditional": {"==": [{"var": "unit"}, "other"]}},
            {"type": "number", "key": "qty", "label": "数量", "required": True},
            {"type": "number", "key": "amount", "label": "金额",
             "calculate": {"*": [{"var": "qty"}, {"var": "rate"}]}},
        ]},
        {"type": "number", "key": "total", "label": "合计", "calculate": {
            "reduce": [{"var": "items"}, {"+": [{"var": "accumulator"},
                                                 {"var": "current.amount"}]}, 0]}},
    ]})
    out = forms.validate_submission(definition, {"rate": 2, "items": [
        {"unit": "kg", "unit_name": "dropped", "qty": 3, "amount": 1e9},
        {"unit": "other", "unit_name": "箱", "qty": "4"}]})
    assert out["items"] == [{"unit": "kg", "qty": 3, "amount": 6},
                            {"unit": "other", "unit_name": "箱", "qty": 4, "amount": 8}]
    assert out["total"] == 14
    errors = errors_of(definition, {"rate": 2, "items": [{"unit": "other", "qty": 1}]})
    assert errors == {"items[0].unit_name": ["明细第 1 行：请填写“单位名称”"]}


def test_columns_may_use_form_calculations_and_totals_may_sum_calculated_columns() -> None:
    definition = forms.check_definition({"version": 1, "components": [
        {"type": "number", "key": "base", "label": "基价"},
        {"type": "number", "key": "rate", "label": "单价",
         "calculate": {"*": [{"var": "base"}, 2]}},
        {"type": "table", "key": "items", "label": "明细", "components": [
            {"type": "number", "key": "qty", "label": "数量"},
            {"type": "number", "key": "amount", "label": "金额",
             "calculate": {"*": [{"var": "qty"}, {"var": "rate"}]}}]},
        {"type": "number", "key": "total", "label": "合计", "calculate": {
            "reduce": [{"var": "items"}, {"+": [{"var": "accumulator"},
                                                 {"var": "current.amount"}]}, 0]}},
    ]})
    out = forms.validate_submission(definition, {"base": 1.5, "items": [{"qty": 2}, {"qty": 1}]})
    assert out["rate"] == 3 and out["items"][0]["amount"] == 6 and out["total"] == 9


def test_file_fields_follow_visibility() -> None:
    definition = forms.check_definition({"version": 1, "components": [
        {"type": "choice", "key": "agent", "label": "是否代办", "options": [
            {"value": "yes", "label": "是"}, {"value": "no", "label": "否"}]},
        {"type": "file", "key": "power", "label": "授权委托书", "required": True,
         "material": "M002", "conditional": {"==": [{"var": "agent"}, "yes"]}},
        {"type": "signature", "key": "sign", "label": "签名"},
    ]})
    assert [f["key"] for f in forms.file_fields(definition, {"agent": "no"})] == ["sign"]
    fields = forms.file_fields(definition, {"agent": "yes"})
    assert fields[0] == {"key": "power", "type": "file", "label": "授权委托书", "label_en": "",
                         "required": True, "material": "M002",
                         "accept": ["image/jpeg", "image/png", "application/pdf"],
                         "max_bytes": 10 * 1024 * 1024, "max_files": 5, "help": ""}
    assert fields[1]["max_files"] == 1 and fields[1]["accept"] == ["image/png"]


def test_prefill_reads_the_named_sources(definition: dict) -> None:
    extra = {"type": "text", "key": "shop_owner", "label": "经营者",
             "prefill": "licence:business_licence.legal_representative"}
    definition = forms.check_definition({**definition,
                                         "components": [*definition["components"], extra]})
    values = forms.prefill(definition, {
        "profile": {"name": "张三", "id_number": testing.ID_NUMBER, "phone": ["not text"],
                    "address": "湖滨路 1 号"},
        "enterprise": {"credit_code": testing.CREDIT_CODE},
        "licence": {"business_licence": {"legal_representative": "张三"}},
    })
    assert values == {"name": "张三", "id_number": testing.ID_NUMBER,
                      "credit_code": testing.CREDIT_CODE, "shop_owner": "张三"}
    premises = dict(next(c for c in definition["components"] if c["key"] == "premises"),
                    prefill="profile.address")
    with_address = forms.check_definition({"version": 1, "components": [premises]})
    assert forms.prefill(with_address, {"profile": {"address": "湖滨路 1 号"}}) == {
        "premises": {"region": "", "detail": "湖滨路 1 号"}}
    assert forms.prefill(definition, {}) == {}


def test_describe_shows_labels(definition: dict) -> None:
    shown = forms.describe(definition, testing.sample_data())
    by_key = {item["key"]: item for item in shown}
    assert by_key["scope"]["display"] == "零售"
    assert by_key["premises"]["display"] == "东湖街道 湖滨路 1 号"
    assert by_key["rooms"]["rows"] == [["前厅", "20 平方米"], ["仓库", "12.5 平方米"]]
    assert by_key["total_area"]["display"] == "32.5 平方米"
    assert by_key["lease"]["tokens"] == [testing.TOKEN]
    assert "members" not in by_key


def test_the_rules_of_one_submission_share_a_bounded_budget(
        definition: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    # Review 2026-11-27 session 2, M3: each rule is bounded, and so are all of them together
    # (a table's column rules run once per row).
    from yiwang.enablement.forms import logic
    assert forms.validate_submission(definition, testing.sample_data())
    monkeypatch.setattr(logic, "MAX_SHARED_OPERATIONS", 5)
    errors = errors_of(definition, testing.sample_data())
    assert any("计算量超出上限" in m for m in errors["__all__"])
    # Outside a submission a rule has its own budget only.
    assert forms.evaluate({"+": [1, 2, 3, 4, 5, 6, 7]}, {}) == 28
