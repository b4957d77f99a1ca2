"""The allow-listed JSON Logic evaluator."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from yiwang.enablement.forms import service as forms
from yiwang.enablement.forms.logic import MAX_DEPTH, MAX_NODES, logic_problems, references


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


# Review 2026-11-27 session 2, M3: the evaluation is bounded, not only the rule.
def test_a_rule_that_doubles_a_string_stops_at_the_string_bound() -> None:
    doubling = {"reduce": [{"merge": [1] * 16},
                           {"cat": [{"var": "accumulator"}, {"var": "accumulator"}]}, "x"]}
    assert logic_problems(doubling) == []
    assert forms.evaluate(doubling, {}) is None  # 2**16 characters > MAX_RESULT_STRING
    eight = {"reduce": [{"merge": [1] * 8},
                        {"cat": [{"var": "accumulator"}, {"var": "accumulator"}]}, "x"]}
    assert forms.evaluate(eight, {}) == "x" * 256


def test_lists_built_by_merge_map_and_filter_stop_at_the_item_bound() -> None:
    from yiwang.enablement.forms.logic import MAX_RESULT_ITEMS
    rows = list(range(MAX_RESULT_ITEMS // 2 + 1))
    assert forms.evaluate({"merge": [{"var": "a"}, {"var": "a"}]}, {"a": rows}) is None
    assert forms.evaluate({"merge": [{"var": "a"}]}, {"a": rows}) == rows
    many = {"a": list(range(MAX_RESULT_ITEMS + 1))}
    assert forms.evaluate({"map": [{"var": "a"}, {"var": ""}]}, many) is None
    assert forms.evaluate({"filter": [{"var": "a"}, True]}, many) is None
    assert forms.evaluate({"filter": [{"var": "a"}, {"<": [{"var": ""}, 3]}]}, many) == [0, 1, 2]


def test_the_evaluation_stops_after_its_operation_budget() -> None:
    from yiwang.enablement.forms.logic import MAX_OPERATIONS
    body = {"+": [{"var": "current"}] * 240}  # 241 operations per item
    rule = {"reduce": [{"var": "rows"}, {"+": [{"var": "accumulator"}, {"-": [body, 0]}]}, 0]}
    assert logic_problems(rule) == []
    few = list(range(MAX_OPERATIONS // 300))
    assert forms.evaluate(rule, {"rows": few}) == sum(240 * n for n in few)
    assert forms.evaluate(rule, {"rows": list(range(MAX_OPERATIONS // 200))}) is None


@pytest.mark.parametrize("inner", ["map", "filter", "reduce", "all", "some", "none"])
def test_refuses_a_scoped_operator_inside_another_ones_item_rule(inner: str) -> None:
    nested = {"map": [{"var": "a"}, {inner: [{"var": "b"}, {"var": ""}]}]}
    assert any("逐项" in p for p in logic_problems(nested))
    # One after the other (the inner list is computed once) is fine.
    chained = {"map": [{inner: [{"var": "b"}, {"var": ""}]}, {"var": ""}]}
    assert logic_problems(chained) == []


def test_memory_error_gives_no_value(monkeypatch: pytest.MonkeyPatch) -> None:
    from yiwang.enablement.forms import logic

    def exhausted(data: object = None, *args: object) -> object:
        raise MemoryError
    monkeypatch.setitem(logic._OPERATIONS, "cat", exhausted)
    assert forms.evaluate({"cat": ["a", "b"]}, {}) is None


# Review 2026-11-27 session 2, M12: == and % as in the browser (JavaScript).
@pytest.mark.parametrize("rule, data, expected", [
    ({"==": [{"var": "n"}, 0]}, {}, False), ({"!=": [{"var": "n"}, 0]}, {}, True),
    ({"==": [{"var": "n"}, 0]}, {"n": None}, False), ({"==": [0, ""]}, {}, True),
    ({"==": ["", False]}, {}, True), ({"==": [None, None]}, {}, True),
    ({"==": ["1", 1]}, {}, True), ({"!=": [" 2 ", 2]}, {}, False),
    ({"%": [-7, 3]}, {}, -1), ({"%": [7, -3]}, {}, 1), ({"%": [-7.5, 2]}, {}, -1.5),
])
def test_equality_and_remainder_follow_javascript(rule: object, data: object,
                                                   expected: object) -> None:
    assert forms.evaluate(rule, data) == expected
