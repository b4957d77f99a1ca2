"""The server-rendered form and the builder's markup."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.template.loader import render_to_string

from yiwang.enablement.forms import service as forms
from yiwang.enablement.forms import testing
from yiwang.enablement.forms.tests.pages import page_html


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.items.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, Any]]]:
    parser = Elements()
    parser.feed(html)
    return parser.items


@pytest.fixture
def definition() -> dict[str, Any]:
    return forms.check_definition(testing.sample_definition())


def render(definition: dict, **context: Any) -> str:
    return render_to_string("forms/render.html", {"definition": definition, **context})


def test_every_input_has_a_label_and_ids_are_unique(definition: dict) -> None:
    html = render(definition, data=testing.sample_data(), prefix="f-")
    items = elements(html)
    ids = [a["id"] for _, a in items if a.get("id")]
    assert len(ids) == len(set(ids))
    labelled = {a["for"] for t, a in items if t == "label"}
    for tag, attrs in items:
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden",
                                                                                "radio",
                                                                                "checkbox"):
            assert attrs.get("id") in labelled, attrs
        if tag == "input" and attrs.get("type") in ("radio", "checkbox"):
            assert attrs["id"] in labelled, attrs


def test_values_names_and_round_trip(definition: dict) -> None:
    html = render(definition, data=testing.sample_data(), prefix="f-")
    names = {a["name"] for t, a in elements(html) if a.get("name")}
    assert {"f-name", "f-premises.region", "f-premises.detail", "f-location.lng",
            "f-rooms[0].room", "f-rooms[1].area", "f-lease", "f-lease__upload",
            "f-signature__signature_png", "f-scope", "f-scope.present"} <= names
    assert "f-total_area" not in names          # calculated: shown, never posted
    assert 'value="湖滨路 1 号"' in html and 'value="12.5"' in html
    assert "f-rooms[__index__].room" in html      # the row template for render.js


def test_errors_are_shown_beside_their_field_and_in_the_summary(definition: dict) -> None:
    errors = {"name": ["请填写“姓名”"], "rooms[1].area": ["经营用房第 2 行：“面积”须为数字"],
              "premises.region": ["区划不存在"], "bogus": ["表单中没有“bogus”这一项"]}
    html = render(definition, data=testing.sample_data(), errors=errors, prefix="f-")
    assert 'href="#id_f-name"' in html and 'href="#id_f-rooms__1__area"' in html
    assert 'href="#id_f-premises__region"' in html
    assert "表单中没有“bogus”这一项" in html       # no field for it: summary only
    name_input = next(a for t, a in elements(html) if a.get("id") == "id_f-name")
    assert name_input["aria-invalid"] == "true"
    assert name_input["aria-describedby"] == "id_f-name__error"
    assert "请修改以下内容后再提交" in html


def test_submission_invalid_is_accepted_as_errors(definition: dict) -> None:
    exc = forms.SubmissionInvalid({"name": ["请填写“姓名”"]})
    html = render_to_string("forms/render.html", {"definition": definition, "errors": exc})
    assert 'href="#id_name"' in html


def test_conditions_and_calculations_reach_the_browser(definition: dict) -> None:
    html = render(definition)
    members = next(a for t, a in elements(html) if a.get("data-key") == "members")
    assert json.loads(members["data-conditional"]) == {"==": [{"var": "kind"}, "family"]}
    total = next(a for t, a in elements(html) if a.get("data-key") == "total_area")
    assert "reduce" in json.loads(total["data-calculate"])


def test_english_labels(definition: dict) -> None:
    from django.utils import translation

    with translation.override("en"):
        html = render(definition)
    assert "Shop name" in html and "Retail" in html


def test_builder_markup() -> None:
    html = page_html(builder=True, definition=testing.sample_definition(),
                     builder_errors=["components[0]：不支持的组件类型"])
    items = elements(html)
    testids = {a.get("data-testid") for _, a in items}
    assert {"canvas", "palette-text", "palette-table", "palette-signature", "raw-json",
            "builder-output", "preview", "builder-errors"} <= testids
    output = next(a for _, a in items if a.get("data-testid") == "builder-output")
    assert output["name"] == "form_definition"
    assert json.loads(output["value"])["components"][1]["key"] == "applicant"
    config = json.loads(re.search(r'<script id="fb-config" type="application/json">(.*?)</script>',
                                  html, re.S)[1])
    assert config["types"]["id_number"] == "身份证号码"
    assert "log" not in config["operators"] and "reduce" in config["operators"]
