"""Test helpers for the web entries (portal and workbench): a small city with a department,
HTML checks (every form input has a label), and 政务公开: two departments with an article
editor each, a citizen, and articles written and published through the service."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from yiwang.core.identifiers.service import generate_credit_code
from yiwang.entry.portal import service as portal
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import service as regions
from yiwang.platform.regions.testing import (
    CITY,
    COMMUNITY,
    DISTRICT,
    PROVINCE,
    STREET,
    box,
    make_chain,
    tile_grids,
)
from yiwang.support.identity import service as identity

OTHER_DISTRICT = "339902000000"
DEPARTMENT = "csglj"
MEMBER_NAME = "林晓岚"
PASSWORD = "a-long-password-1"  # noqa: S105 - test accounts only
# The English names of the small city's regions (its grids have none of their own).
ENGLISH_NAMES = {
    PROVINCE: "Shili Province",
    CITY: "Shili City",
    DISTRICT: "Dongcheng District",
    STREET: "Donghu Subdistrict",
    COMMUNITY: "Hupan Community",
}


@dataclass
class SmallCity:
    regions: dict[str, Any]
    department: Any
    official: Any
    grids: list[str] = field(default_factory=list)


def build_small_city(*, departments: int = 0) -> SmallCity:
    """province → city → two districts → street → community with 3 × 2 grids, a city
    department (城市管理局) with a position and one official member (林晓岚), and
    ``departments`` more departments named 测试部门NN. The regions have English names
    (``ENGLISH_NAMES``), the second district too."""
    made = make_chain()
    regions.load_regions({"code": r.code, "name": r.name, "name_en": ENGLISH_NAMES[r.code],
                          "level": r.level, "geometry": r.geometry} for r in made.values())
    regions.create_region(OTHER_DISTRICT, "西城区", name_en="Xicheng District",
                          geometry=box(119.7, 29.7, 119.8, 30.5))
    rows = tile_grids(COMMUNITY, 3, 2, step=0.05)
    regions.load_grids(rows)
    rng = random.Random(7)  # noqa: S311 - reproducible test data, not a secret
    department = orgs.create_department(
        DEPARTMENT, "示例市城市管理局", region_code=CITY, name_en="Urban Management Bureau",
        credit_code=generate_credit_code("339900", authority="1", org_type="1", rng=rng),
        phone="0571-19900001", address="示例市人民路 1 号",
    )
    orgs.create_position(department, "inspector", "网格巡查员", rank="科员")
    official = identity.create_official("lin.xiaolan", MEMBER_NAME, password=PASSWORD)
    orgs.add_member(official, DEPARTMENT, position_code="inspector", primary=True)
    for n in range(departments):
        orgs.create_department(f"test-{n:02d}", f"测试部门{n:02d}", region_code=DISTRICT)
    return SmallCity(made, department, official, [r["code"] for r in rows])


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.label_for: set[str] = set()
        self.inputs: list[dict[str, str | None]] = []
        self.html_lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.html_lang = attributes.get("lang")
        elif tag == "label" and attributes.get("for"):
            self.label_for.add(str(attributes["for"]))
        elif tag in ("input", "select", "textarea"):
            attributes["_tag"] = tag
            self.inputs.append(attributes)


def unlabelled_inputs(html: str) -> list[dict[str, str | None]]:
    """The form fields (not hidden, not buttons) without a ``<label for>`` or aria-label."""
    parser = _FormParser()
    parser.feed(html)
    missing = []
    for field_ in parser.inputs:
        if field_.get("type") in ("hidden", "submit", "button", "reset", "image"):
            continue
        if field_.get("aria-label") or field_.get("aria-labelledby"):
            continue
        if field_.get("id") and field_["id"] in parser.label_for:
            continue
        missing.append(field_)
    return missing


def html_lang(html: str) -> str | None:
    """The ``lang`` attribute of the page's ``<html>`` element."""
    parser = _FormParser()
    parser.feed(html)
    return parser.html_lang


# --- 政务公开 ---------------------------------------------------------------------------------

HOUSING, SOCIAL = "zjj", "rsj"  # the two departments of the article tests


@dataclass
class Newsroom:
    editor: Any  # 住建局, may publish
    other_editor: Any  # 人社局, may publish
    clerk: Any  # 住建局, without the permission
    citizen: Any


def _official(username: str, department: str, *perms: str) -> Any:
    user = identity.create_official(username, username, password=PASSWORD)
    orgs.add_member(user, department)
    for dotted in perms:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
    return get_user_model().objects.get(pk=user.pk)  # no stale permission cache


def build_newsroom() -> Newsroom:
    """The city's regions (no geometry), 住建局 and 人社局 with an editor each
    (``portal.publish_article``), a clerk of 住建局 without it and a citizen."""
    make_chain(geometry=False)
    orgs.create_department(HOUSING, "示例市住房和城乡建设局", region_code=CITY)
    orgs.create_department(SOCIAL, "示例市人力资源和社会保障局", region_code=CITY)
    citizen = get_user_model().objects.create_user(username="citizen.a", password=PASSWORD)
    citizen.account_type = "citizen"
    citizen.save()
    return Newsroom(
        editor=_official("zjj.editor", HOUSING, portal.PUBLISH_PERMISSION),
        other_editor=_official("rsj.editor", SOCIAL, portal.PUBLISH_PERMISSION),
        clerk=_official("zjj.clerk", HOUSING),
        citizen=citizen,
    )


def write_article(user: Any, *, kind: str = "policy", title: str = "公共租赁住房申请指引",
                  department_code: str = HOUSING, publish: bool = False, **fields: Any) -> Any:
    """An article of ``user``'s department (a draft, or published with ``publish``)."""
    values: dict[str, Any] = {
        "doc_no": "示建发〔2026〕3号" if kind == "policy" else "", "summary": "",
        "body": "第一段。\n\n第二段。", "topic": "housing", "valid_until": None, **fields}
    article = portal.save_article(user, kind=kind, title=title,
                                  department_code=department_code, **values)
    if publish:
        article = portal.publish_article(user, article, article.row_version)
    return article
