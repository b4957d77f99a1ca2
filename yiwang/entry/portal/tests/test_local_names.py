"""Proper names and labels in the page's language: English pages show the English names of
regions, grids and departments, and one Chinese word with several meanings gets the
translation of the meaning at hand. Chinese pages do not change."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.utils import translation

from yiwang.entry.portal import labels, modules
from yiwang.entry.portal.testing import DEPARTMENT, SmallCity, build_small_city
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import service as regions
from yiwang.platform.regions.testing import CITY, COMMUNITY, DISTRICT, PROVINCE, STREET

pytestmark = pytest.mark.django_db


@pytest.fixture
def city() -> SmallCity:
    return build_small_city()


def text(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return response.content.decode()


def between(html: str, start: str, end: str) -> str:
    at = html.index(start)
    return html[at:html.index(end, at)]


def dd_after(html: str, label: str) -> str:
    found = re.search(rf"<dt>{re.escape(label)}</dt><dd[^>]*>(.*?)</dd>", html, re.S)
    assert found, label
    return found.group(1)


# --- the filter --------------------------------------------------------------------------

def test_local_name_is_the_english_name_on_english_pages_only(city) -> None:
    district = regions.get_region(DISTRICT)
    template = Template("{% load yiwang_ui %}{{ region|local_name }}")
    with translation.override("zh-hans"):
        assert template.render(Context({"region": district})) == "东城区"
    with translation.override("en"):
        assert template.render(Context({"region": district})) == "Dongcheng District"
        # No English name: the Chinese one; strings and mappings work too.
        assert labels.local_name(regions.create_region("339901002000", "西湖街道")) == "西湖街道"
        assert labels.local_name({"name": "甲", "name_en": "A"}) == "A"
        assert labels.local_name({"name": "甲", "name_en": ""}) == "甲"
        assert labels.local_name("示例") == "示例"
        assert labels.local_name(None) == ""


def test_a_grid_is_named_after_its_community_in_english(city) -> None:
    grid = regions.get_grid(city.grids[2])
    with translation.override("en"):
        assert labels.local_name(grid) == "Hupan Community Grid 3"
    with translation.override("zh-hans"):
        assert labels.local_name(grid) == "第3网格"
    assert labels.grid_name_en(f"{COMMUNITY}012", "Hupan Community") == "Hupan Community Grid 12"
    assert labels.grid_name_en(f"{COMMUNITY}012", "") == ""


# --- region pages ------------------------------------------------------------------------

def test_english_region_page_names_everything_in_english(public_client, city) -> None:
    html = text(public_client.get(f"/en/regions/{CITY}/"))
    crumbs = between(html, 'class="breadcrumbs"', "</nav>")
    assert f'<a href="/en/regions/{PROVINCE}/">Shili Province</a>' in crumbs
    assert '<li aria-current="page">Shili City</li>' in crumbs
    assert '<h1>Shili City <span class="hint" lang="zh-Hans">示例市</span></h1>' in html
    assert "<title>Shili City - " in html
    svg = between(html, "<svg", "</svg>")
    assert "Map of the subdivisions of Shili City" in svg
    assert "<title>Dongcheng District</title>" in svg
    assert '<text class="map-label"' in svg and ">Dongcheng District</text>" in svg
    assert "<title>西城区</title>" not in svg and "<title>Xicheng District</title>" in svg
    table = between(html, "<table", "</table>")
    assert f'<a href="/en/regions/{DISTRICT}/">Dongcheng District</a>' in table
    assert '<td lang="zh-Hans">东城区</td>' in table  # the Chinese name beside it
    assert "Chinese name" in table
    assert not re.search(r"[\u4e00-\u9fff]", re.sub(r'<[^>]*lang="zh-Hans"[^>]*>[^<]*<', "",
                                                     crumbs + svg))


def test_chinese_region_page_is_unchanged(public_client, city) -> None:
    html = text(public_client.get(f"/regions/{CITY}/"))
    assert f'<a href="/regions/{PROVINCE}/">示例省</a>' in html
    assert '<h1>示例市 <span class="hint" lang="en">Shili City</span></h1>' in html
    assert "<title>东城区</title>" in html and "示例市的下级区划地图" in html
    table = between(html, "<table", "</table>")
    assert f'<a href="/regions/{DISTRICT}/">东城区</a>' in table
    assert '<td lang="en">Dongcheng District</td>' in table and "英文名称" in table
    assert dd_after(html, "层级") == "市"
    assert dd_after(html, "区县") == "2"


def test_english_community_page_names_its_grids(public_client, city) -> None:
    html = text(public_client.get(f"/en/regions/{COMMUNITY}/"))
    assert "Map of the grids of Hupan Community" in html
    assert "<title>Hupan Community Grid 1</title>" in html
    table = between(html, "<table", "</table>")
    assert f'<a href="/en/grids/{city.grids[0]}/">Hupan Community Grid 1</a>' in table
    assert '<h2 id="children-heading">Grids</h2>' in html
    assert 'role="region" aria-label="Grids" tabindex="0"' in html


def test_english_grid_page(public_client, city) -> None:
    html = text(public_client.get(f"/en/grids/{city.grids[1]}/"))
    assert "<h1>Hupan Community Grid 2</h1>" in html
    assert f'<a href="/en/regions/{COMMUNITY}/">Hupan Community</a>' in html
    assert f'<a href="/en/regions/{STREET}/">Donghu Subdistrict</a>' in html
    assert "<title>Hupan Community Grid 2</title>" in html
    assert "<h2>Grids of Hupan Community</h2>" in html
    zh = text(public_client.get(f"/grids/{city.grids[1]}/"))
    assert "<h1>第2网格</h1>" in zh and "<title>第2网格</title>" in zh


def test_a_level_is_singular_and_a_count_plural(public_client, city) -> None:
    html = text(public_client.get(f"/en/regions/{DISTRICT}/"))
    assert dd_after(html, "Level") == "District"
    assert dd_after(html, "Streets") == "1"
    assert dd_after(html, "Communities") == "1"
    assert dd_after(html, "Grids") == "6"
    city_page = text(public_client.get(f"/en/regions/{CITY}/"))
    assert dd_after(city_page, "Level") == "City"
    assert dd_after(city_page, "Districts") == "2"
    rows = between(city_page, "<tbody>", "</tbody>")
    assert "<td>District</td>" in rows and "Districts" not in rows
    home = text(public_client.get("/en/"))
    overview = home[home.index("The city in figures"):]
    for label, count in [("Districts", 2), ("Streets", 1), ("Communities", 1), ("Grids", 6),
                         ("Departments", 1)]:
        assert re.search(rf"<dt>{label}</dt><dd>{count}</dd>", overview), label


def test_english_region_page_falls_back_to_chinese_names(public_client) -> None:
    build_small_city()
    regions.create_region("339901002000", "西湖街道")  # no English name
    html = text(public_client.get(f"/en/regions/{DISTRICT}/"))
    table = between(html, "<table", "</table>")
    assert '<a href="/en/regions/339901002000/">西湖街道</a>' in table


# --- departments -------------------------------------------------------------------------

def test_english_department_pages(public_client, city) -> None:
    html = text(public_client.get(f"/en/departments/{DEPARTMENT}/"))
    assert "<h1>Urban Management Bureau</h1>" in html
    assert "<title>Urban Management Bureau - " in html
    assert '<li aria-current="page">Urban Management Bureau</li>' in html
    assert '<a href="/en/departments/">Government departments</a>' in html  # crumb and nav
    assert dd_after(html, "Type") == "Government department"
    assert dd_after(html, "Chinese name") == "示例市城市管理局"
    assert f'<a href="/en/regions/{CITY}/">Shili City</a>' in html
    listing = text(public_client.get("/en/departments/"))
    assert "<h1>Government departments</h1>" in listing
    assert f'<a href="/en/departments/{DEPARTMENT}/">Urban Management Bureau</a>' in listing
    assert "<td>Shili City</td>" in listing
    assert '<div class="table-scroll" role="region" aria-label="Departments" tabindex="0">' in (
        listing)


def test_chinese_department_page_is_unchanged(public_client, city) -> None:
    html = text(public_client.get(f"/departments/{DEPARTMENT}/"))
    assert "<h1>示例市城市管理局</h1>" in html
    assert dd_after(html, "类型") == "政府部门"
    assert dd_after(html, "英文名称") == "Urban Management Bureau"
    assert f'<a href="/regions/{CITY}/">示例市</a>' in html


def test_department_without_an_english_name_keeps_its_chinese_one(public_client, city) -> None:
    orgs.create_department("jgswj", "机关事务局", region_code=CITY,
                           kind=orgs.DepartmentKind.INSTITUTION)
    html = text(public_client.get("/en/departments/jgswj/"))
    assert "<h1>机关事务局</h1>" in html
    assert dd_after(html, "Type") == "Public institution"


# --- one Chinese word, several meanings --------------------------------------------------

def test_contextual_labels_in_english() -> None:
    with translation.override("en"):
        assert labels.level_label("district") == "District"
        assert str(labels.COUNT_LABELS["district"]) == "Districts"
        assert labels.level_label("grid") == "Grid"
        assert str(labels.COUNT_LABELS["grid"]) == "Grids"
        assert labels.department_kind_label("government") == "Government department"
        assert labels.enterprise_status_label("cancelled") == "Deregistered"
        close = next(e for e in modules.ENTERPRISE_EVENTS if e.slug == "close")
        assert str(close.name) == "Closing a business"
    with translation.override("zh-hans"):
        assert labels.level_label("district") == "区县"
        assert str(labels.COUNT_LABELS["district"]) == "区县"
        assert labels.department_kind_label("government") == "政府部门"
        assert labels.enterprise_status_label("cancelled") == "注销"
    for level in regions.Level:
        assert level in labels.LEVEL_LABELS
    for kind in orgs.DepartmentKind:
        assert kind in labels.DEPARTMENT_KINDS


def test_english_home_page_has_the_life_event_and_the_navigation(public_client, city) -> None:
    html = text(public_client.get("/en/"))
    assert ">Closing a business</a>" in html
    assert ">Government departments</a>" in html
