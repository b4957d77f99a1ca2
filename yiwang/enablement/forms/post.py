"""From the HTML names of a rendered form (``forms/render.html``) back to nested data."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext

from yiwang.enablement.forms import components as C
from yiwang.enablement.forms.errors import SubmissionInvalid
from yiwang.enablement.forms.submission import _fields
from yiwang.enablement.forms.values import label

SIGNATURE_SUFFIX = "__signature_png"
UPLOAD_SUFFIX = "__upload"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_URL_PREFIX = "data:image/png;base64,"
MAX_ROW_INDEX = 999_999


def _text(post: Any, name: str) -> str | None:
    value = post.get(name)
    return value if isinstance(value, str) else None


def _cell(comp: dict[str, Any], post: Any, name: str) -> Any:
    if comp["type"] == "choice" and comp.get("multiple"):
        return [v for v in post.getlist(name) if v]
    return _text(post, name)


def _table(comp: dict[str, Any], post: Any, name: str) -> list[dict[str, Any]] | None:
    pattern = re.compile(rf"^{re.escape(name)}\[(\d{{1,6}})\]\.([a-z][a-z0-9_]{{0,62}})$")
    columns = {c["key"]: c for c in comp.get("components", [])}
    indices: set[int] = set()
    limit = 2 * C.MAX_MAX_ROWS
    for html_name in post:
        match = pattern.match(html_name)
        if match and match[2] in columns and int(match[1]) <= MAX_ROW_INDEX:
            indices.add(int(match[1]))
            if len(indices) > limit:
                break
    if not indices and f"{name}.present" not in post:
        return None
    rows = []
    for index in sorted(indices):
        row = {}
        for key, column in columns.items():
            if "calculate" in column:
                continue
            value = _cell(column, post, f"{name}[{index}].{key}")
            if value not in (None, "", []):
                row[key] = value
        if row:  # blank rows (added and left empty) are dropped
            rows.append(row)
    return rows


def parse_post(definition: Mapping[str, Any], post: Any, *, prefix: str = "") -> dict[str, Any]:
    """See ``service.parse_post``."""
    data: dict[str, Any] = {}
    for field in _fields(definition.get("components")):
        comp = field.comp
        if "calculate" in comp:
            continue
        key, kind = comp["key"], comp["type"]
        name = prefix + key
        value: Any = None
        if kind == "table":
            value = _table(comp, post, name)
        elif kind == "address":
            region, detail = _text(post, f"{name}.region"), _text(post, f"{name}.detail")
            if region is not None or detail is not None:
                value = {"region": (region or "").strip(), "detail": detail or ""}
        elif kind == "map_point":
            lng, lat = _text(post, f"{name}.lng"), _text(post, f"{name}.lat")
            if (lng or "").strip() or (lat or "").strip():
                value = {"lng": lng or "", "lat": lat or ""}
        elif kind == "file" or (kind == "choice" and comp.get("multiple")):
            # Unchecked boxes send nothing: "<name>.present" says the field was on the page.
            if name in post or f"{name}.present" in post:
                value = [v for v in post.getlist(name) if v]
        else:
            value = _text(post, name)
        if value is not None:
            data[key] = value
    return data


def _signature_png(comp: dict[str, Any], text: str) -> bytes:
    limit = comp.get("max_bytes", C.SIGNATURE_MAX_BYTES)
    bad = SubmissionInvalid({comp["key"]: [
        gettext("“%(label)s”的签名图片无效，请清除后重新签名") % {"label": label(comp)}]})
    if not text.startswith(DATA_URL_PREFIX) or len(text) > limit * 4 // 3 + 64:
        raise bad
    try:
        png = base64.b64decode(text[len(DATA_URL_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise bad from None
    if not png.startswith(PNG_MAGIC) or len(png) > limit:
        raise bad
    return png


def incoming_files(definition: Mapping[str, Any], post: Any, files: Any, *, prefix: str = ""
                   ) -> dict[str, list[tuple[str, Any]]]:
    """See ``service.incoming_files``."""
    found: dict[str, list[tuple[str, Any]]] = {}
    for field in _fields(definition.get("components")):
        comp = field.comp
        name = prefix + comp["key"]
        if comp["type"] == "file" and files is not None:
            uploads = [(getattr(f, "name", "") or "upload", f)
                       for f in files.getlist(name + UPLOAD_SUFFIX) if f]
            limit = comp.get("max_files", C.DEFAULT_MAX_FILES)
            if len(uploads) > limit:
                raise SubmissionInvalid({comp["key"]: [
                    gettext("“%(label)s”最多上传 %(n)d 个文件")
                    % {"label": label(comp), "n": limit}]})
            if uploads:
                found[comp["key"]] = uploads
        elif comp["type"] == "signature":
            text = post.get(name + SIGNATURE_SUFFIX)
            if isinstance(text, str) and text.strip():
                found[comp["key"]] = [("signature.png", _signature_png(comp, text.strip()))]
    return found
