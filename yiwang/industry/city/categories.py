"""The category table (案卷类别): major classes (大类) of components (部件) and events (事件),
minor classes (小类) under them with their filing condition, time limit, closing condition
and default responsible unit. Each category also exists as an organisation matter category
with the same code, so that grid- or district-specific responsibilities (职责分工) can be
assigned for it.

``data/categories.json`` is the standard table the demo loads (after GB/T 30428.2's
classes; the codes are readable dotted names, not the standard's numeric codes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.industry.city.models import CaseCategory, CategoryKind, LimitUnit
from yiwang.platform.orgs import service as orgs

STANDARD = Path(__file__).parent / "data" / "categories.json"
FIELDS = ("name", "name_en", "kind", "filing_condition", "closing_condition", "time_limit",
          "limit_unit", "department_code", "urgent", "active", "sort_order", "attributes",
          "keywords")
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")


def _check(row: Mapping[str, Any]) -> None:
    if row.get("kind") not in CategoryKind.values:
        raise ValidationError({"kind": [_("类型须为部件或事件")]})
    unit = row.get("limit_unit", LimitUnit.WORKING_DAYS)
    if unit not in LimitUnit.values:
        raise ValidationError({"limit_unit": [_("时限单位须为工作时或工作日")]})
    limit = row.get("time_limit", 3)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 365:
        raise ValidationError({"time_limit": [_("处置时限须为1至365的整数")]})
    _check_attributes(row.get("attributes", []))
    department = row.get("department_code") or ""
    if department and orgs.get_department(department) is None:
        raise ValidationError({"department_code": [
            _("部门 %(code)s 不存在") % {"code": department}]})


def _check_attributes(attributes: Any) -> None:
    """The Open311 service-definition attributes of a category."""
    def bad(message: str) -> ValidationError:
        return ValidationError({"attributes": [message]})

    if not isinstance(attributes, list):
        raise bad(_("附加信息项须为列表"))
    seen: set[str] = set()
    for item in attributes:
        if not isinstance(item, dict):
            raise bad(_("附加信息项须为对象"))
        code = item.get("code")
        if not isinstance(code, str) or not code.isidentifier() or len(code) > 32:
            raise bad(_("附加信息项代码须为字母、数字和下划线"))
        if code in seen:
            raise bad(_("附加信息项 %(code)s 重复") % {"code": code})
        seen.add(code)
        if item.get("datatype") not in DATATYPES:
            raise bad(_("附加信息项 %(code)s 的数据类型不正确") % {"code": code})
        if not str(item.get("description") or "").strip():
            raise bad(_("附加信息项 %(code)s 须有说明") % {"code": code})
        if item["datatype"].endswith("valuelist"):
            values = item.get("values")
            if not isinstance(values, list) or not values or not all(
                    isinstance(v, dict) and v.get("key") and v.get("name") for v in values):
                raise bad(_("附加信息项 %(code)s 须列出可选值（key 与 name）") % {"code": code})


@transaction.atomic
def save_category(row: Mapping[str, Any], actor: Any = None) -> CaseCategory:
    """Create or update one category from a row (``code``, ``name``, ``kind``,
    ``parent``, the conditions, ``time_limit`` with ``limit_unit`` wh/wd,
    ``department_code``, ``urgent``)."""
    code = str(row.get("code") or "")
    _check(row)
    parent = None
    if row.get("parent"):
        parent = CaseCategory.objects.filter(code=row["parent"], parent__isnull=True).first()
        if parent is None:
            raise ValidationError({"parent": [_("大类 %(code)s 不存在") % {"code": row["parent"]}]})
    category = CaseCategory.objects.filter(code=code).first() or CaseCategory(code=code)
    for name in FIELDS:
        if name in row:
            setattr(category, name, row[name])
    category.parent = parent
    category.full_clean()
    category.save()
    matter = orgs.get_category(code)
    if matter is None:
        orgs.create_category(code, category.name, parent_code=parent.code if parent else None,
                             kind=category.kind, name_en=category.name_en)
    audit.record("city.category_saved", category, actor=actor, detail={"code": code})
    return category


def load_categories(rows: Iterable[Mapping[str, Any]] | None = None) -> int:
    """Load (create or update) categories; the standard table when ``rows`` is None."""
    if rows is None:
        rows = json.loads(STANDARD.read_text(encoding="utf-8"))["categories"]
    count = 0
    with transaction.atomic():
        for row in rows:
            save_category(row)
            count += 1
    return count


def tree() -> list[dict[str, Any]]:
    """Active major classes with their active minor classes, in order."""
    majors: dict[int, dict[str, Any]] = {}
    rows = list(CaseCategory.objects.filter(active=True).order_by("sort_order", "code"))
    for row in rows:
        if row.parent_id is None:
            majors[row.pk] = {"category": row, "children": []}
    for row in rows:
        if row.parent_id in majors:
            majors[row.parent_id]["children"].append(row)
    return list(majors.values())
