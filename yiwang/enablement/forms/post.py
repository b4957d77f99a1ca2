"""HTML POST parsing (being written)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SIGNATURE_SUFFIX = "__signature_png"
UPLOAD_SUFFIX = "__upload"


def parse_post(definition: Mapping[str, Any], post: Any, *, prefix: str = "") -> dict[str, Any]:
    raise NotImplementedError


def incoming_files(definition: Mapping[str, Any], post: Any, files: Any, *, prefix: str = ""
                   ) -> dict[str, list[tuple[str, Any]]]:
    raise NotImplementedError
