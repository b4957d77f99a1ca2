from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from yiwang.enablement.workflow import service as wf

from .test_engine import SPEC

EXAMPLES = Path(__file__).resolve().parents[4] / "examples" / "bpmn"


def test_editor_renders_the_spec_departments_and_import_box(db: Any) -> None:
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions import testing as regions_testing

    regions_testing.make_chain(geometry=False)
    orgs.create_department("scjg", "市场监管局", region_code=regions_testing.CITY)
    orgs.create_position("scjg", "clerk", "窗口<受理>")
    context = wf.editor_context(SPEC, field_name="flow_spec", import_url="/import/")
    departments = json.loads(context["departments_json"])
    assert departments == [
        {
            "code": "scjg",
            "name": "市场监管局",
            "name_en": "",
            "positions": [{"code": "clerk", "name": "窗口<受理>"}],
        }
    ]
    assert "<受理>" not in context["departments_json"]  # cannot close the <script> element
    html = render_to_string("workflow/editor.html", context)
    assert 'name="flow_spec"' in html and 'data-testid="flow-editor"' in html
    assert 'formaction="/import/"' in html and 'formenctype="multipart/form-data"' in html
    assert "&quot;accept&quot;" in html  # the spec, escaped inside the textarea
    assert "workflow/editor.js" in html


def test_editor_in_english_has_english_script_strings(db: Any) -> None:
    with translation.override("en"):
        context = wf.editor_context(None, departments=[])
    assert json.loads(context["spec_json"]) == {"version": 1, "steps": []}
    assert "import_url" in context and context["import_url"] == ""
    html = render_to_string("workflow/editor.html", context)
    assert 'data-testid="wfe-import"' not in html  # no URL, no import box


def test_editor_reopens_a_built_spec_and_shows_imported_bpmn(db: Any) -> None:
    bpmn = wf.build_bpmn(SPEC)
    reopened = wf.editor_context(None, bpmn=bpmn, departments=[])
    assert json.loads(reopened["spec_json"]) == wf.check_spec(SPEC)
    assert reopened["imported_svg"] == ""
    imported = wf.import_bpmn((EXAMPLES / "property-transfer-countersign.bpmn").read_bytes())
    shown = wf.editor_context(None, bpmn=imported["bpmn"], departments=[])
    assert shown["imported_svg"].startswith("<svg") and "登簿" in shown["imported_svg"]
    html = render_to_string("workflow/editor.html", shown)
    assert 'data-testid="wfe-imported-diagram"' in html
