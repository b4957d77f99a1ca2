"""Template tags of the form renderer and builder: ``{% load yiwang_forms %}``."""

from __future__ import annotations

import json
from typing import Any

from django import template

from yiwang.enablement.forms import components as C
from yiwang.enablement.forms import widgets
from yiwang.enablement.forms.builder_text import builder_messages
from yiwang.enablement.forms.definition import MAX_SECTION_DEPTH, PREFILL_SOURCES
from yiwang.enablement.forms.logic import OPERATORS

register = template.Library()


@register.simple_tag
def form_context(definition: Any, data: Any = None, errors: Any = None, prefix: str = ""
                 ) -> dict[str, Any]:
    """``{% form_context definition data errors prefix as form %}``: fields and error summary
    prepared for ``forms/render.html``. ``errors`` is ``SubmissionInvalid.errors`` (or any
    mapping of field path to messages)."""
    if hasattr(errors, "errors") and isinstance(errors.errors, dict):
        errors = errors.errors
    return widgets.prepare(definition or {}, data or {}, errors or {}, prefix or "")


@register.simple_tag
def builder_palette() -> list[dict[str, str]]:
    """The allow-listed component types, in palette order, with their names."""
    labels = C.type_labels()
    return [{"type": t, "label": labels[t]} for t in C.TYPES]


@register.simple_tag
def builder_config() -> dict[str, Any]:
    """What builder.js needs from the server: type names, which types go where, prefill
    sources, the JSON Logic allow-list, limits, and the builder's UI strings (translated)."""
    return {
        "types": C.type_labels(),
        "value_types": sorted(C.VALUE_TYPES), "cell_types": sorted(C.CELL_TYPES),
        "calculable_types": sorted(C.CALCULABLE_TYPES),
        "prefill_sources": list(PREFILL_SOURCES), "operators": sorted(OPERATORS),
        "upload_types": list(C.UPLOAD_TYPES), "phone_kinds": list(C.PHONE_KINDS),
        "address_levels": list(C.ADDRESS_LEVELS), "widgets": list(C.CHOICE_WIDGETS),
        "max_section_depth": MAX_SECTION_DEPTH,
        "messages": builder_messages(),
    }


@register.filter
def as_definition_json(value: Any) -> str:
    """A definition as JSON text for the builder's hidden input (a string is kept as is)."""
    if isinstance(value, str):
        return value
    return json.dumps(value or {"version": 1, "components": []}, ensure_ascii=False)
