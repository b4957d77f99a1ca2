"""Server-side validation of a submission (being written)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def validate_submission(definition: Mapping[str, Any], data: Any, *, partial: bool = False
                        ) -> dict[str, Any]:
    raise NotImplementedError


def file_fields(definition: Mapping[str, Any], data: Mapping[str, Any]) -> list[dict[str, Any]]:
    raise NotImplementedError


def prefill(definition: Mapping[str, Any], sources: Mapping[str, Any]) -> dict[str, Any]:
    raise NotImplementedError


def describe(definition: Mapping[str, Any], data: Mapping[str, Any]) -> list[dict[str, Any]]:
    raise NotImplementedError
