"""Context for the structured approval-flow editor (``workflow/editor.html``)."""

from __future__ import annotations

import json
from typing import Any

from yiwang.enablement.workflow import bpmn_build, diagram


def department_choices() -> list[dict[str, Any]]:
    """Every active department with its positions, for the editor's selects."""
    from yiwang.platform.orgs import service as orgs

    out = []
    for dept in orgs.list_departments().prefetch_related("positions"):
        positions = sorted(
            dept.positions.all(), key=lambda p: (p.sort_order is None, p.sort_order or 0, p.code)
        )
        out.append(
            {
                "code": dept.code,
                "name": dept.name,
                "name_en": dept.name_en,
                "positions": [{"code": p.code, "name": p.name} for p in positions],
            }
        )
    return out


def editor_context(
    spec: dict[str, Any] | None,
    *,
    bpmn: str | None,
    field_name: str,
    import_url: str,
    departments: Any,
) -> dict[str, Any]:
    """See ``service.editor_context``."""
    if spec is None and bpmn:
        spec = bpmn_build.embedded_spec(bpmn)
    readonly_svg = ""
    if spec is None and bpmn:
        # drawn in Camunda Modeler: shown as a diagram; the editor starts a new spec if used
        readonly_svg = diagram.svg_from_bpmn(bpmn)
    if departments is None:
        departments = department_choices()
    return {
        "spec_json": json.dumps(spec or {"version": 1, "steps": []}, ensure_ascii=False),
        "field_name": field_name,
        "departments_json": json.dumps(departments, ensure_ascii=False),
        "import_url": import_url,
        "imported_svg": readonly_svg,
        "has_imported_bpmn": bool(bpmn and readonly_svg),
    }
