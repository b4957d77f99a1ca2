"""The committed API contract: the OpenAPI documents of both zones, under docs/api/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings

from yiwang.entry.api.internal import api as internal_api
from yiwang.entry.api.public import api as public_api

DOCS = Path(settings.BASE_DIR).parent / "docs" / "api"
APIS = {"public": (public_api, "/api/v1/"), "internal": (internal_api, "/api/v1/")}


def document(zone: str) -> dict[str, Any]:
    api, prefix = APIS[zone]
    return api.get_openapi_schema(path_prefix=prefix)  # type: ignore[no-any-return]


def render(zone: str) -> str:
    return json.dumps(document(zone), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def path_of(zone: str) -> Path:
    return DOCS / f"openapi-{zone}.json"
