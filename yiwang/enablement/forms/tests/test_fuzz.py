"""Malformed input never raises anything but the documented errors."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yiwang.enablement.forms import service as forms
from yiwang.enablement.forms import testing

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    | st.sampled_from(["", "12", "2026-02-30", "339901001000", testing.TOKEN, "family",
                       "retail", testing.ID_NUMBER, "1e400", "-0", "\x00"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["region", "detail", "lng", "lat", "room", "area",
                                       "member_id", "x"]) | st.text(max_size=5),
                      children, max_size=4),
    max_leaves=12,
)
DEFINITION = forms.check_definition(testing.sample_definition())
KEYS = [*forms.field_keys(DEFINITION), "bogus", "total_area"]
submissions = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=len(KEYS))


@pytest.mark.django_db
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(data=submissions | json_values, partial=st.booleans())
def test_validate_submission_raises_only_submission_invalid(data: Any, partial: bool) -> None:
    try:
        cleaned = forms.validate_submission(DEFINITION, data, partial=partial)
    except forms.SubmissionInvalid as exc:
        assert exc.errors and all(isinstance(m, str) and m for v in exc.errors.values()
                                  for m in v)
    else:
        assert set(cleaned) <= set(KEYS) - {"bogus"}
        # What passed once passes again unchanged (the cleaned form is a fixed point).
        assert forms.validate_submission(DEFINITION, cleaned, partial=partial) == cleaned


@settings(max_examples=300)
@given(data=submissions)
def test_other_readers_never_raise(data: Any) -> None:
    forms.file_fields(DEFINITION, data)
    forms.prefill(DEFINITION, {"profile": data, "licence": data})


operators = st.sampled_from([*sorted(forms.LOGIC_OPERATORS), "log", "eval", "__class__"])
rules = st.recursive(
    json_values,
    lambda children: st.builds(lambda op, args: {op: args}, operators,
                               st.lists(children, max_size=3) | children),
    max_leaves=20,
)


@settings(max_examples=500)
@given(rule=rules, data=json_values)
def test_evaluate_raises_only_validation_error(rule: Any, data: Any) -> None:
    with contextlib.suppress(ValidationError):
        forms.evaluate(rule, data)


components = st.fixed_dictionaries(
    {"type": st.sampled_from([*forms.COMPONENT_TYPES, "bogus"]),
     "key": st.sampled_from(["a", "b", "c", "Bad", ""])},
    optional={"label": st.text(max_size=5) | st.integers(), "required": json_values,
              "options": json_values, "components": json_values, "validate": json_values,
              "conditional": rules, "calculate": rules, "prefill": json_values,
              "max_rows": json_values, "accept": json_values, "multiple": json_values},
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(components, max_size=5) | json_values)
def test_check_definition_raises_only_validation_error(items: Any) -> None:
    try:
        checked = forms.check_definition({"version": 1, "components": items})
    except ValidationError as exc:
        assert exc.messages
    else:
        assert forms.check_definition(checked) == checked
        forms.to_json_schema(checked)
