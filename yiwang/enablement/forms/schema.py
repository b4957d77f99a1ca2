"""JSON Schema export (being written)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def to_json_schema(definition: Mapping[str, Any]) -> dict[str, Any]:
    raise NotImplementedError
