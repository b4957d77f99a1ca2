"""Names and labels in the page's language, shared by the portal and the workbench.

Proper names (地名、机构名) come from the data: a region or department shows its ``name_en`` on
English pages when it has one, else its Chinese ``name``. Grids (网格) have no English name
of their own: theirs is built from their community's (``Heping Community Grid 3``).

Labels that the apps below define once, with one Chinese word for several meanings, get a
translation per meaning here (``pgettext``): 区县 is "District" as a region's level but
"Districts" when counting them; 注销 is a closed business as an enterprise's status but
"Closing a business" as a life event. The models' own choices keep their plain msgids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import get_language, pgettext_lazy

from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import service as regions
from yiwang.platform.registry import service as registry

GRID = "grid"  # the level of a grid in the region browser (below 社区)

LEVEL_LABELS: dict[str, Promise] = {
    regions.Level.PROVINCE: pgettext_lazy("region level", "省"),
    regions.Level.CITY: pgettext_lazy("region level", "市"),
    regions.Level.DISTRICT: pgettext_lazy("region level", "区县"),
    regions.Level.STREET: pgettext_lazy("region level", "街道"),
    regions.Level.COMMUNITY: pgettext_lazy("region level", "社区"),
    GRID: pgettext_lazy("region level", "网格"),
}

# How a number of regions (or grids, departments) is labelled: "Districts: 4".
COUNT_LABELS: dict[str, Promise] = {
    regions.Level.CITY: pgettext_lazy("number of", "市"),
    regions.Level.DISTRICT: pgettext_lazy("number of", "区县"),
    regions.Level.STREET: pgettext_lazy("number of", "街道"),
    regions.Level.COMMUNITY: pgettext_lazy("number of", "社区"),
    GRID: pgettext_lazy("number of", "网格"),
    "departments": pgettext_lazy("number of", "部门"),
}

DEPARTMENT_KINDS: dict[str, Promise] = {
    orgs.DepartmentKind.GOVERNMENT: pgettext_lazy("department type", "政府部门"),
    orgs.DepartmentKind.INSTITUTION: pgettext_lazy("department type", "事业单位"),
    orgs.DepartmentKind.INTERNAL: pgettext_lazy("department type", "内设机构"),
    orgs.DepartmentKind.PARTY: pgettext_lazy("department type", "党群机关"),
    orgs.DepartmentKind.OTHER: pgettext_lazy("department type", "其他"),
}

ENTERPRISE_STATUSES: dict[str, Promise] = {
    registry.EnterpriseStatus.ACTIVE: pgettext_lazy("enterprise status", "存续"),
    registry.EnterpriseStatus.CANCELLED: pgettext_lazy("enterprise status", "注销"),
    registry.EnterpriseStatus.REVOKED: pgettext_lazy("enterprise status", "吊销"),
}


def level_label(level: str) -> str:
    """A region's level as a label of one region (Level: District)."""
    label = LEVEL_LABELS.get(level)
    return str(label) if label is not None else regions.level_label(level)


def department_kind_label(kind: str) -> str:
    """A department's type (类型) as a label of one department."""
    label = DEPARTMENT_KINDS.get(kind)
    return str(label) if label is not None else str(kind)


def enterprise_status_label(status: str) -> str:
    """An enterprise's registration status (登记状态)."""
    label = ENTERPRISE_STATUSES.get(status)
    return str(label) if label is not None else str(status)


def english_active() -> bool:
    """Whether the page is in English (the language comes from the URL)."""
    return (get_language() or "").split("-")[0] == "en"


def grid_number(code: str) -> int:
    """A grid's number within its community: the last 3 digits of its code."""
    digits = str(code)[-3:]
    return int(digits) if digits.isdigit() else 0


def grid_name_en(code: str, community_name_en: str) -> str:
    """The English name of a grid: its community's English name and its number ("" when the
    community has no English name)."""
    if not community_name_en:
        return ""
    return f"{community_name_en} Grid {grid_number(code)}"


def local_name(obj: Any) -> str:
    """The name of a region, grid or department (a model instance, or a mapping or object
    with ``name`` and ``name_en``) in the active language: ``name_en`` on English pages when
    it is not empty, else ``name``. A string is returned as it is."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, Mapping):
        name, english = obj.get("name"), obj.get("name_en")
    else:
        name, english = getattr(obj, "name", None), getattr(obj, "name_en", None)
    if name is None:
        return str(obj)
    if not english_active():
        return str(name)
    if not english and isinstance(obj, regions.Grid):
        english = grid_name_en(obj.code, obj.community.name_en)
    return str(english or name)
