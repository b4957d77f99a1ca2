"""Template tags of the form renderer and builder: ``{% load yiwang_forms %}``."""

from __future__ import annotations

import json
from typing import Any

from django import template

from yiwang.enablement.forms import components as C
from yiwang.enablement.forms import widgets

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
def builder_palette() -> list[str]:
    """The allow-listed component types, in palette order."""
    return list(C.TYPES)


@register.filter
def as_definition_json(value: Any) -> str:
    """A definition as JSON text for the builder's hidden input (a string is kept as is)."""
    if isinstance(value, str):
        return value
    return json.dumps(value or {"version": 1, "components": []}, ensure_ascii=False)
