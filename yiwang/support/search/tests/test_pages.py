"""The search page, the suggestions endpoint and the public API, as people and programs use
them: results with highlights and facets, filters, paging, plain answers to queries that
cannot be searched, and catalogue changes that show at once."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.support.search import service as search

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus() -> None:
    from django.core.cache import cache

    cache.clear()
    search.index_documents([search.DocumentInput(
        key=f"notice:{n}", kind="notice", title=f"关于第 {n} 期停水的通知",
        body="因管网维修,示例路片区停水。<b>请储水</b>", url=f"/notices/{n}/",
        department_code="slj", department_name="水务局") for n in range(1, 26)] + [
        search.DocumentInput(key="service:wfz", kind="service", title="无犯罪记录证明开具",
                             body="用于就业、出国。", url="/services/wfz/",
                             department_code="gaj", department_name="公安局")])
    search.save_synonym("良民证", "无犯罪记录证明")


def test_the_search_page_shows_highlighted_results_and_facets(public_client: Any,
                                                              corpus: None) -> None:
    page = public_client.get("/search/", {"q": "停水"})
    html = page.content.decode()
    assert page.status_code == 200 and html.count('data-testid="search-hit"') == 10
    assert "找到 25 条结果" in html and "<mark>停水</mark>" in html
    assert "&lt;b&gt;请储水&lt;/b&gt;" in html  # the body is escaped, not rendered
    assert 'data-testid="facet-kind-notice">通知公告 (25)' in html
    filtered = public_client.get("/search/", {"q": "停水", "kind": "service"}).content.decode()
    assert 'data-testid="search-empty"' in filtered and "通知公告 (25)" in filtered  # to switch
    second = public_client.get("/search/", {"q": "停水", "page": "3"}).content.decode()
    assert second.count('data-testid="search-hit"') == 5
    synonym = public_client.get("/search/", {"q": "良民证"}).content.decode()
    assert 'data-key="service:wfz"' in synonym and "已包含同义词" in synonym


def test_queries_that_cannot_be_searched(public_client: Any, corpus: None) -> None:
    long = public_client.get("/search/", {"q": "办" * 10000})
    assert long.status_code == 400 and "太长" in long.content.decode()
    marks = public_client.get("/search/", {"q": "?!。,,"})
    assert marks.status_code == 400 and "请输入要搜索的文字" in marks.content.decode()
    nothing = public_client.get("/search/", {"q": "火星移民"})
    assert nothing.status_code == 200 and 'data-testid="search-empty"' in nothing.content.decode()
    assert public_client.get("/search/").status_code == 200


def test_suggestions_and_api(public_client: Any, corpus: None) -> None:
    found = public_client.get("/search/suggest", {"q": "无犯"}).json()["suggestions"]
    assert [s["title"] for s in found] == ["无犯罪记录证明开具"]
    api = public_client.get("/api/v1/search", {"q": "良民证"}).json()
    assert api["items"][0]["key"] == "service:wfz" and "无犯罪记录证明" in api["expansions"]
    assert public_client.get("/api/v1/search", {"q": "x" * 500}).status_code == 400
    typed = public_client.get("/api/v1/search/suggest", {"q": "wfz"}).json()
    assert typed[0]["url"] == "/services/wfz/"
