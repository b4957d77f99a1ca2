"""The allow-listed JSON Logic evaluator."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from yiwang.enablement.forms import service as forms
from yiwang.enablement.forms.logic import MAX_DEPTH, MAX_NODES, references


def test_evaluates_the_usual_operators() -> None:
    data = {"kind": "family", "rooms": [{"area": 20}, {"area": 12.5}], "age": 17}
    assert forms.evaluate({"==": [{"var": "kind"}, "family"]}, data) is True
    assert forms.evaluate({"if": [{">=": [{"var": "age"}, 18]}, "adult", "minor"]}, data) == "minor"
    total = {"reduce": [{"var": "rooms"}, {"+": [{"var": "accumulator"}, {"var": "current.area"}]},
                        0]}
    assert forms.evaluate(total, data) == 32.5
    assert forms.evaluate({"in": ["fam", {"var": "kind"}]}, data) is True
    assert forms.evaluate({"cat": ["a", 1]}, {}) == "a1"
    assert forms.evaluate({"missing": ["kind", "nope"]}, data) == ["nope"]


@pytest.mark.parametrize("rule", [
    {"log": "x"},                      # writes to stdout: not allowed
    {"eval": "1"},
    {"var": "a", "x": 1},              # two keys: ambiguous
    {"==": [{"unknown.op": [1]}, 1]},  # nested
])
def test_refuses_operators_outside_the_allow_list(rule: object) -> None:
    with pytest.raises(ValidationError):
        forms.evaluate(rule, {})


def test_refuses_deep_and_big_rules() -> None:
    deep: object = 1
    for _ in range(MAX_DEPTH + 2):
        deep = {"!": [deep]}
    with pytest.raises(ValidationError, match="嵌套"):
        forms.evaluate(deep, {})
    big = {"+": list(range(MAX_NODES + 10))}
    with pytest.raises(ValidationError, match="规则过大"):
        forms.evaluate(big, {})
    with pytest.raises(ValidationError, match="字符"):
        forms.evaluate({"cat": ["x" * 5000]}, {})


def test_arithmetic_errors_give_no_value() -> None:
    assert forms.evaluate({"/": [1, 0]}, {}) is None
    assert forms.evaluate({"%": [1, {"var": "zero"}]}, {"zero": 0}) is None
    assert forms.evaluate({"*": [1e308, 10]}, {}) is None
    assert forms.evaluate({"/": [9, 3]}, {}) == 3


def test_check_logic_names_unknown_fields_outside_iteration_scopes() -> None:
    keys = {"rooms", "kind"}
    forms.check_logic({"some": [{"var": "rooms"}, {">": [{"var": "area"}, 5]}]},
                      known_keys=keys)
    forms.check_logic({"==": [{"var": "kind.sub"}, 1]}, known_keys=keys)
    with pytest.raises(ValidationError) as exc:
        forms.check_logic({"==": [{"var": "knd"}, 1]}, known_keys=keys, where="网关条件")
    assert exc.value.messages == ["网关条件：引用了不存在的字段“knd”"]
    with pytest.raises(ValidationError, match="不存在的字段“who”"):
        forms.check_logic({"missing": ["kind", "who"]}, known_keys=keys)


def test_references_skip_iteration_scopes() -> None:
    rule = {"and": [{"var": "a.b"}, {"map": [{"var": "rows"}, {"var": "inner"}]}]}
    assert references(rule) == {"a", "rows"}
