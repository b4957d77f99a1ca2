"""check_definition: what the builder may produce."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from yiwang.enablement.forms import service as forms
from yiwang.enablement.forms import testing
from yiwang.enablement.forms.definition import is_safe_pattern


def problems(definition: Any) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        forms.check_definition(definition)
    return exc.value.messages


def form(*components: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "components": list(components)}


def test_sample_definition_is_valid_and_normalisation_is_stable() -> None:
    once = forms.check_definition(testing.sample_definition())
    assert forms.check_definition(once) == once
    first = once["components"][1]["components"][0]
    assert first == {"type": "text", "key": "name", "label": "姓名", "label_en": "Name",
                     "required": True, "prefill": "profile.name",
                     "validate": {"max_length": 30}}
    lease = next(c for c in once["components"] if c["key"] == "lease")
    assert lease["max_bytes"] == 10 * 1024 * 1024
    assert forms.field_keys(once)[:4] == ["name", "id_number", "phone", "kind"]


def test_every_type_of_the_palette_is_known() -> None:
    assert set(forms.COMPONENT_TYPES) >= {"text", "id_number", "credit_code", "address",
                                          "map_point", "file", "signature", "table"}


@pytest.mark.parametrize("definition, expected", [
    ("not a dict", "JSON 对象"),
    ({"version": 2, "components": []}, "version 须为 1"),
    ({"version": 1, "components": [], "script": "x"}, "不支持属性：script"),
    (form({"type": "html", "key": "a", "label": "A"}), "不支持的组件类型“html”"),
    (form({"type": "text", "key": "Name", "label": "A"}), "键“Name”无效"),
    (form({"type": "text", "key": "a", "label": "A"}, {"type": "number", "key": "a",
                                                       "label": "B"}), "键“a”重复"),
    (form({"type": "text", "key": "a", "label": "A", "onclick": "x"}),
     "不支持属性“onclick”"),
    (form({"type": "text", "key": "a"}), "须有名称"),
    (form({"type": "text", "key": "a", "label": "A", "required": "yes"}), "true 或 false"),
    (form({"type": "choice", "key": "a", "label": "A", "options": []}), "选项不能为空"),
    (form({"type": "choice", "key": "a", "label": "A", "options": [
        {"value": "x", "label": "X"}, {"value": "x", "label": "Y"}]}), "选项值“x”重复"),
    (form({"type": "table", "key": "t", "label": "T", "components": [
        {"type": "file", "key": "f", "label": "F"}]}), "表格的列只能是"),
    (form({"type": "table", "key": "t", "label": "T", "components": []}), "至少有一列"),
    (form({"type": "text", "key": "a", "label": "A", "conditional": {"log": 1}}),
     "不允许的运算符“log”"),
    (form({"type": "text", "key": "a", "label": "A",
           "conditional": {"==": [{"var": "b"}, 1]}}), "引用了不存在的字段“b”"),
    (form({"type": "text", "key": "a", "label": "A", "validate": {"pattern": "(a+)+$"}}),
     "不是可用的正则表达式"),
    (form({"type": "text", "key": "a", "label": "A", "validate": {"rule": True}}),
     "须附带 validate.message"),
    (form({"type": "text", "key": "a", "label": "A", "validate": {"min": 1}}),
     "validate 不支持“min”"),
    (form({"type": "number", "key": "a", "label": "A", "validate": {"min": 5, "max": 1}}),
     "validate.min 不能大于 validate.max"),
    (form({"type": "text", "key": "a", "label": "A", "prefill": "profile.password"}),
     "预填来源“profile.password”无效"),
    (form({"type": "file", "key": "a", "label": "A", "accept": ["text/html"]}),
     "须为以下类型"),
    (form({"type": "phone", "key": "a", "label": "A", "calculate": {"var": "a"}}),
     "不支持属性“calculate”"),
    (form({"type": "number", "key": "a", "label": "A", "calculate": {"var": "b"}},
          {"type": "number", "key": "b", "label": "B", "calculate": {"var": "a"}}),
     "计算公式循环引用"),
])
def test_problems_are_named(definition: Any, expected: str) -> None:
    found = problems(definition)
    assert any(expected in p for p in found), found


def test_every_problem_is_reported_with_its_component() -> None:
    found = problems(form({"type": "text", "key": "a"},
                          {"type": "bogus", "key": "b", "label": "B"},
                          {"type": "number", "key": "c", "label": "C", "validate": {"max": "x"}}))
    assert found[0].startswith("components[0]（a）：")
    assert found[1].startswith("components[1]：")
    assert found[2].startswith("components[2]（c）：")


def test_table_columns_may_refer_to_their_row_and_the_form() -> None:
    forms.check_definition(form(
        {"type": "number", "key": "rate", "label": "单价"},
        {"type": "table", "key": "items", "label": "明细", "components": [
            {"type": "number", "key": "qty", "label": "数量"},
            {"type": "number", "key": "amount", "label": "金额",
             "calculate": {"*": [{"var": "qty"}, {"var": "rate"}]}},
        ]}))
    assert any("不存在的字段“qty”" in p for p in problems(form(
        {"type": "number", "key": "total", "label": "合计", "calculate": {"var": "qty"}},
        {"type": "table", "key": "items", "label": "明细", "components": [
            {"type": "number", "key": "qty", "label": "数量"}]})))


def test_too_many_components() -> None:
    many = [{"type": "text", "key": f"f{i}", "label": "F"} for i in range(400)]
    assert any("组件过多" in p for p in problems(form(*many)))


@pytest.mark.parametrize("pattern, safe", [
    (r"[A-Z]{2}\d{4}", True), (r"(ab|cd)+", True), (r"(a+)+", False), (r"(a|a)*b", False),
    (r"(aa|aab?)*b", False), (r"(ab|cd){1,3}", True), (r"(\d{3}-)?\d{8}", True),
    (r"(\w+\s?)*$", False), (r"(a)\1", False), (r"[", False), (r"(?=a+)a", True),
])
def test_pattern_safety(pattern: str, safe: bool) -> None:
    assert is_safe_pattern(pattern) is safe


# Review 2026-11-27 session 2, M4: polynomial backtracking through adjacent repeats.
@pytest.mark.parametrize("pattern, safe", [
    (r"\d*\d*\d*\d*", False), (r".*.*.*=.*", False), (r"\d*-?\d*-?\d*", False),
    (r"\d*-?\d*", False), (r".+@.+", False), (r"\d*1\d*", False), (r"\d+\s*\d+", False),
    (r"[\u4e00-\u9fa5]+·?[\u4e00-\u9fa5]+", False), (r"(?i)[a-z]+[A-Z]+", False),
    (r"\d*[٣]+", False), (r"(\d{3}-)?\d*\d+", False),
    (r"[^@]+@[^@]+", True), (r"\w+@\w+\.\w+", True), (r"\d+(\.\d{1,2})?", True),
    (r"\d+(\.\d+)?", True), (r"[a-z]+[A-Z]+", True), (r"\s*\S+\s*", True),
    (r"[\u4e00-\u9fa5]+(·[\u4e00-\u9fa5]+)?", True), (r"1[3-9]\d{9}", True),
    (r"\d{6}(19|20)\d{2}\d{3}[\dX]", True), (r"[A-Z]{2}-\d+", True),
])
def test_pattern_safety_of_adjacent_repeats(pattern: str, safe: bool) -> None:
    assert is_safe_pattern(pattern) is safe


def test_a_value_matched_against_a_pattern_is_bounded() -> None:
    from yiwang.enablement.forms.values import MAX_PATTERN_VALUE, Bad, check
    comp = {"type": "textarea", "key": "note", "label": "说明", "validate": {"pattern": r"[a-z]+"}}
    assert check(comp, "a" * MAX_PATTERN_VALUE) == "a" * MAX_PATTERN_VALUE
    with pytest.raises(Bad, match="过长"):
        check(comp, "a" * (MAX_PATTERN_VALUE + 1))
    without = {"type": "textarea", "key": "note", "label": "说明", "validate": {}}
    assert check(without, "a" * (MAX_PATTERN_VALUE + 1))


# Review 2026-11-27 session 2 (status at 7674366): bounded repeats of variable width.
@pytest.mark.parametrize("pattern, safe", [
    (r"(?:\d\d?){1,30}x", False), (r"(?:\d?){25}\d{25}", False), (r"\d?" * 25 + r"\d{25}", False),
    (r"\d{0,1000}\d{0,1000}", False), (r"(ab?){2,5}", False),
    (r"0\d{2,3}-?\d{7,8}(-\d{1,6})?", True), (r"\d{0,30}-\d{0,30}-\d{0,30}", True),
    (r"[\u4e00-\u9fa5]{2,20}", True), (r"\d?\d?\d?x", True), (r"(ab|cd){1,3}", True),
])
def test_pattern_safety_of_bounded_repeats(pattern: str, safe: bool) -> None:
    assert is_safe_pattern(pattern) is safe
