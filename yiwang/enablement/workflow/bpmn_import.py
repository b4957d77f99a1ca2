"""Importing BPMN files drawn in Camunda Modeler 5 (the supported subset; see bpmn_meta)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from lxml import etree

from yiwang.enablement.workflow import bpmn_build, bpmn_meta, engine, xmlsafe


def import_bpmn(xml: str | bytes) -> dict[str, Any]:
    """See ``service.import_bpmn``."""
    try:
        root = xmlsafe.parse(xml)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_bpmn") from None
    bpmn_build.strip_embedded_spec(root)  # the editor's spec comes only from build_bpmn
    meta = bpmn_meta.read(root, translate=True)
    normalised = etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()
    engine.parse(normalised)  # SpiffWorkflow's own checks (e.g. a gateway flow without condition)
    tasks = [
        {
            "spec": t.id,
            "name": t.name,
            "department": t.department,
            "position": t.position,
            "days": t.days,
            "countersign_group": t.countersign,
        }
        for t in meta.tasks.values()
    ]
    timers = [
        {
            "id": t.id,
            "attached_to": t.attached_to,
            "action": t.action,
            "to_position": t.to_position,
            "interrupting": t.interrupting,
            "duration": t.duration,
        }
        for t in meta.timers.values()
    ]
    return {"bpmn": normalised, "process_id": meta.process_id, "tasks": tasks, "timers": timers}
