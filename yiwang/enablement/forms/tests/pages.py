"""Test-only pages: the builder and the renderer as a page, written to a folder with the static
files beside them, so a browser can open them without a server (file://)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from django.template import Context, Template

STATIC = Path(__file__).resolve().parents[3] / "static"

PAGE = Template("""{% load i18n %}<!doctype html>
<html lang="zh-Hans"><head><meta charset="utf-8"><title>forms test page</title>
<link rel="stylesheet" href="/static/yiwang/css/site.css">
{% if head_script %}<script>{{ head_script|safe }}</script>{% endif %}</head>
<body><main class="main container">
{% if builder %}<form id="builder-form" method="post" action="#">
{% include "forms/builder.html" with field_name="form_definition" errors=builder_errors %}
</form>{% endif %}
{% if render %}<form id="render-form" method="post" action="#" enctype="multipart/form-data">
{% include "forms/render.html" with definition=definition data=data errors=errors prefix=prefix %}
</form>{% endif %}
</main></body></html>""")


def page_html(*, builder: bool = False, render: bool = False, definition: Any = None,
              data: Any = None, errors: Any = None, prefix: str = "",
              builder_errors: Any = None, head_script: str = "") -> str:
    """The HTML of a page with the builder and/or the renderer."""
    return PAGE.render(Context({
        "builder": builder, "render": render, "definition": definition or {},
        "definition_json": json.dumps(definition or {"version": 1, "components": []},
                                      ensure_ascii=False),
        "data": data or {}, "errors": errors or {}, "prefix": prefix,
        "builder_errors": builder_errors or [], "head_script": head_script,
    }))


def write_page(folder: Path, html: str, name: str = "page.html") -> Path:
    """Write ``html`` into ``folder`` with the static files it links, relative to the page."""
    for part in ("forms", "yiwang/css"):
        target = folder / "static" / part
        if not target.exists():
            shutil.copytree(STATIC / part, target)
    path = folder / name
    path.write_text(html.replace('"/static/', '"static/'), encoding="utf-8")
    return path
