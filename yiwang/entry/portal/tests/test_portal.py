"""The public portal, as a visitor of the public listener (政务外网) sees it."""

from __future__ import annotations

import re

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

from yiwang.entry.portal import modules
from yiwang.entry.portal.testing import (
    DEPARTMENT,
    MEMBER_NAME,
    OTHER_DISTRICT,
    SmallCity,
    build_small_city,
    html_lang,
    unlabelled_inputs,
)
from yiwang.platform.regions.testing import CITY, COMMUNITY, DISTRICT, PROVINCE

pytestmark = pytest.mark.django_db


@pytest.fixture
def city() -> SmallCity:
    return build_small_city()


def pages(city: SmallCity) -> list[str]:
    return [
        "/", f"/regions/{CITY}/", f"/regions/{COMMUNITY}/", f"/grids/{city.grids[0]}/",
        "/departments/", f"/departments/{DEPARTMENT}/", "/unavailable/services/",
        "/about/", "/accessibility/", "/privacy/",
    ]


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def svg_links(html: str) -> list[str]:
    svg = re.search(r"<svg.*?</svg>", html, re.S)
    assert svg, "no SVG map on the page"
    return re.findall(r'<a class="map-shape[^"]*" href="([^"]+)"', svg.group(0))


def test_pages_render_in_chinese_and_in_english(public_client, city) -> None:
    for path in pages(city):
        zh = public_client.get(path)
        assert zh.status_code == 200, path
        assert html_lang(text(zh)) == "zh-Hans", path
        assert unlabelled_inputs(text(zh)) == [], path
        en = public_client.get("/en" + path)
        assert en.status_code == 200, path
        assert html_lang(text(en)) == "en", path
        assert unlabelled_inputs(text(en)) == [], path


def test_layout_has_skip_link_landmarks_and_no_inline_style_or_script(public_client, city) -> None:
    html = text(public_client.get("/"))
    assert '<a href="#main-content" class="skip-link">' in html
    assert 'id="main-content"' in html
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in html
    assert "style=" not in html and "<style" not in html
    # no inline script: only the search box's suggestions and the chat widget, from files
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/search/suggest.js" defer>',
        '<script src="/static/assistant/chat.js" defer>']
    csp = public_client.get("/").headers["Content-Security-Policy"]
    assert "style-src 'self'" in csp


def test_static_stylesheet_is_served(public_client) -> None:
    response = public_client.get("/static/yiwang/css/site.css")
    assert response.status_code == 200
    assert b":focus-visible" in b"".join(response.streaming_content)


def switch_link(html: str) -> str:
    link = re.search(r'<nav class="lang-switch".*?<a href="([^"]*)"', html, re.S)
    assert link, "no language switch"
    return link.group(1).replace("&amp;", "&")


def test_language_switch_is_a_link_to_the_same_page_in_the_other_language(
        public_client, city) -> None:
    chinese = text(public_client.get("/departments/", {"q": "城市"}))
    assert '<html lang="zh-Hans"' in chinese
    assert 'lang="en" hreflang="en">English</a>' in chinese
    target = switch_link(chinese)
    assert target == "/en/departments/?q=%E5%9F%8E%E5%B8%82"

    english = text(public_client.get(target))
    assert '<html lang="en"' in english
    assert 'lang="zh-Hans" hreflang="zh-Hans">中文</a>' in english
    assert switch_link(english) == "/departments/?q=%E5%9F%8E%E5%B8%82"


def test_the_language_comes_from_the_url_only(public_client) -> None:
    """Neither Accept-Language nor an old language cookie changes what a URL shows."""
    public_client.cookies["django_language"] = "en"
    response = public_client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert '<html lang="zh-Hans"' in text(response)
    assert response["Content-Language"] == "zh-hans"
    assert public_client.get("/en/")["Content-Language"] == "en"


def test_language_switch_on_a_404_page_moves_the_prefix(public_client) -> None:
    assert switch_link(text(public_client.get("/nowhere/"))) == "/en/nowhere/"
    assert switch_link(text(public_client.get("/en/nowhere/"))) == "/nowhere/"


@pytest.mark.parametrize("slug", sorted(modules.UNBUILT))
def test_not_yet_available_pages_say_so_honestly(public_client, slug) -> None:
    response = public_client.get(f"/unavailable/{slug}/")
    assert response.status_code == 200
    html = text(response)
    assert '<meta name="robots" content="noindex">' in html
    assert "暂未开放" in html and "正在建设中" in html
    assert str(modules.UNBUILT[slug].name) in html
    assert str(modules.UNBUILT[slug].summary) in html
    assert 'href="/"' in html


def test_unknown_module_is_404(public_client) -> None:
    assert public_client.get("/unavailable/no-such-module/").status_code == 404


def test_home_links_life_events_and_search_to_the_catalogue(public_client, city) -> None:
    html = text(public_client.get("/"))
    for event in [*modules.PERSONAL_EVENTS, *modules.ENTERPRISE_EVENTS]:
        assert f'href="/services/?event={event.slug}"' in html
        assert str(event.name) in html
    assert 'action="/search/" method="get"' in html  # unified search, with suggestions
    assert 'data-suggest="/search/suggest"' in html
    # the old notice page of unified search now leads to it
    moved = public_client.get("/unavailable/search/")
    assert moved.status_code == 301 and moved["Location"] == "/search/"


def test_home_life_events_are_the_catalogues() -> None:
    import json
    from pathlib import Path

    import yiwang.demo

    packs = Path(yiwang.demo.__file__).parent / "packs" / "life-events.json"
    codes = {e["code"] for e in json.loads(packs.read_text())["life_events"]}
    home = {e.slug for e in [*modules.PERSONAL_EVENTS, *modules.ENTERPRISE_EVENTS]}
    assert home <= codes, home - codes


def test_home_shows_city_overview_counts(public_client, city) -> None:
    html = text(public_client.get("/"))
    overview = html[html.index("城市概况"):]
    # 2 districts, 1 street, 1 community, 6 grids, 1 department
    for label, count in [("区县", 2), ("街道", 1), ("社区", 1), ("网格", 6), ("部门", 1)]:
        assert re.search(rf"<dt>{label}</dt><dd>{count}</dd>", overview), label


def test_home_without_regions_still_renders(public_client) -> None:
    response = public_client.get("/")
    assert response.status_code == 200
    assert "尚未载入区划数据" in text(response)


def test_region_index_starts_at_the_city(public_client, city) -> None:
    response = public_client.get("/regions/")
    assert response.status_code == 302
    assert response["Location"] == f"/regions/{CITY}/"


def test_region_page_has_breadcrumbs_map_links_and_table(public_client, city) -> None:
    html = text(public_client.get(f"/regions/{CITY}/"))
    crumbs = html[html.index('class="breadcrumbs"'):html.index("</nav>", html.index(
        'class="breadcrumbs"'))]
    assert 'href="/"' in crumbs and f'href="/regions/{PROVINCE}/">示例省</a>' in crumbs
    assert '<li aria-current="page">示例市</li>' in crumbs
    links = svg_links(html)
    assert sorted(links) == [f"/regions/{DISTRICT}/", f"/regions/{OTHER_DISTRICT}/"]
    assert "<title>东城区</title>" in html and "<title>西城区</title>" in html
    # The text alternative: the same children in a table, with their own child counts.
    table = html[html.index("<table"):]
    assert f'<a href="/regions/{DISTRICT}/">东城区</a>' in table
    assert f'<a href="/regions/{OTHER_DISTRICT}/">西城区</a>' in table
    assert re.search(r'<td class="num">1</td>', table)


def test_region_page_of_a_district_breadcrumbs_its_ancestors(public_client, city) -> None:
    html = text(public_client.get(f"/regions/{DISTRICT}/"))
    crumbs = html[html.index('class="breadcrumbs"'):]
    for code, name in [(PROVINCE, "示例省"), (CITY, "示例市")]:
        assert f'<a href="/regions/{code}/">{name}</a>' in crumbs
    assert crumbs.index("示例省") < crumbs.index("示例市") < crumbs.index("东城区")


def test_community_page_maps_its_grids(public_client, city) -> None:
    html = text(public_client.get(f"/regions/{COMMUNITY}/"))
    assert sorted(svg_links(html)) == sorted(f"/grids/{code}/" for code in city.grids)
    assert "6 个网格" in html


def test_grid_page_marks_the_grid_on_its_communitys_map(public_client, city) -> None:
    grid = city.grids[0]
    html = text(public_client.get(f"/grids/{grid}/"))
    assert f'<a href="/regions/{COMMUNITY}/">湖畔社区</a>' in html
    assert re.search(rf'class="map-shape map-shape--current" href="/grids/{grid}/" '
                     r'aria-current="page"', html)
    assert len(svg_links(html)) == 6


@pytest.mark.parametrize("path", [
    "/regions/339999000000/", "/regions/not-a-code/", "/regions/12/",
    "/grids/339901001001999/", "/grids/123/", "/departments/no-such-dept/",
])
def test_unknown_codes_are_404(public_client, city, path) -> None:
    response = public_client.get(path)
    assert response.status_code == 404
    html = text(response)
    assert "页面不存在" in html
    assert "Traceback" not in html and "DoesNotExist" not in html


def test_404_page_in_english_has_the_english_lang(public_client) -> None:
    response = public_client.get("/en/no/such/page/")
    assert response.status_code == 404
    assert html_lang(text(response)) == "en"
    assert 'href="/en/"' in text(response)


def test_500_page_does_not_leak_internals() -> None:
    request = RequestFactory().get("/")
    response = server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert "服务出现问题" in html
    assert "Traceback" not in html


def department_links(html: str) -> list[str]:
    return re.findall(r'<a href="/departments/([\w-]+)/">', html)


def test_department_search_and_pagination(public_client) -> None:
    build_small_city(departments=25)
    first = text(public_client.get("/departments/"))
    assert len(department_links(first)) == 20
    assert 'href="?page=2" rel="next"' in first

    second = text(public_client.get("/departments/", {"page": 2}))
    assert len(department_links(second)) == 6  # 26 departments in all
    assert 'aria-current="page">2<' in second

    found = text(public_client.get("/departments/", {"q": "城市管理"}))
    assert f'<a href="/departments/{DEPARTMENT}/">示例市城市管理局</a>' in found
    assert "测试部门" not in found

    many = text(public_client.get("/departments/", {"q": "测试部门"}))
    assert len(department_links(many)) == 20
    assert "q=%E6%B5%8B%E8%AF%95%E9%83%A8%E9%97%A8&amp;page=2" in many  # the query is kept

    none = text(public_client.get("/departments/", {"q": "没有这个部门"}))
    assert "没有找到部门" in none


def test_department_list_query_count_does_not_grow(public_client,
                                                  django_assert_max_num_queries) -> None:
    build_small_city(departments=25)
    with django_assert_max_num_queries(4):
        public_client.get("/departments/")


def test_department_page_shows_public_information_only(public_client, city) -> None:
    html = text(public_client.get(f"/departments/{DEPARTMENT}/"))
    assert "示例市城市管理局" in html
    assert city.department.credit_code in html
    assert "0571-19900001" in html and "示例市人民路 1 号" in html
    assert f'<a href="/regions/{CITY}/">示例市</a>' in html
    assert "网格巡查员" in html  # positions are public
    assert MEMBER_NAME not in html  # the people holding them are not


def test_member_names_never_appear_on_the_portal(public_client, city) -> None:
    for path in pages(city):
        assert MEMBER_NAME not in text(public_client.get(path)), path
        assert "lin.xiaolan" not in text(public_client.get(path)), path


@pytest.mark.parametrize("path", ["/login/", "/logout/", "/en/login/", "/unavailable/cases/",
                                  "/admin/"])
def test_workbench_and_admin_are_not_on_the_public_listener(public_client, path) -> None:
    assert public_client.get(path).status_code == 404


def test_region_pages_make_a_fixed_number_of_queries(public_client, city,
                                                     django_assert_max_num_queries) -> None:
    # Child counts come from one grouped query, not one query per child.
    with django_assert_max_num_queries(12):
        public_client.get(f"/regions/{CITY}/")
    with django_assert_max_num_queries(14):
        public_client.get(f"/regions/{COMMUNITY}/")


def test_region_index_lists_several_top_level_regions(public_client) -> None:
    from yiwang.platform.regions import service as regions
    from yiwang.platform.regions.testing import box

    regions.create_region("330000000000", "示例省", geometry=box(120, 30, 121, 31))
    regions.create_region("340000000000", "邻省", geometry=box(121, 30, 122, 31))
    response = public_client.get("/regions/")
    assert response.status_code == 200
    html = text(response)
    assert '<li aria-current="page">城市区划</li>' in html
    assert sorted(svg_links(html)) == ["/regions/330000000000/", "/regions/340000000000/"]
