"""Unified search on the backend of the database in use (FTS5 on SQLite, full text on
PostgreSQL): segmentation, synonyms, pinyin, filters and facets, highlights, suggestions,
incremental changes and queries that cannot be searched."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from yiwang.support.search import service as search
from yiwang.support.search.models import Document, Miss

pytestmark = pytest.mark.django_db


def doc(key: str, title: str, body: str = "", kind: str = "service", **extra: Any) -> Any:
    return search.DocumentInput(key=f"{kind}:{key}", kind=kind, title=title, body=body,
                                url=f"/x/{key}/", **extra)


@pytest.fixture
def corpus() -> None:
    search.index_documents([
        doc("wfz", "无犯罪记录证明开具", "为本市户籍居民开具无犯罪记录证明,用于就业、出国等。",
            department_code="gaj", department_name="公安局", audience="person",
            words=("无犯罪记录证明",)),
        doc("birth", "出生一件事",
            "新生儿出生后,一次办理出生医学证明、户口登记、社保卡和医保参保。",
            department_code="wjw", department_name="卫健委", audience="person"),
        doc("gt", "个体工商户设立登记", "开办个体工商户,领取营业执照。",
            department_code="scjg", department_name="市场监管局", audience="legal"),
        doc("yyzz", "营业执照遗失补领", "营业执照丢失后如何申请补领。", kind="faq",
            department_code="scjg", department_name="市场监管局"),
        doc("n1", "关于停水的通知", "因管网维修,示例路片区 12 月 1 日停水。", kind="notice",
            department_code="slj", department_name="水务局"),
    ])


def keys(result: Any) -> list[str]:
    return [i["key"] for i in result.items]


def test_colloquial_questions_find_the_service(corpus: None) -> None:
    assert keys(search.search("孩子刚出生要办什么"))[0] == "service:birth"
    assert keys(search.search("营业执照丢了怎么办"))[0] == "faq:yyzz"


def test_synonyms_widen_the_query(corpus: None) -> None:
    assert "service:wfz" not in keys(search.search("良民证"))
    search.save_synonym("良民证", "无犯罪记录证明")
    found = search.search("良民证在哪里开")
    assert keys(found)[0] == "service:wfz"
    assert "<mark>无犯罪记录证明</mark>" in found.items[0]["title_html"]


def test_pinyin_and_initials_find_titles(corpus: None) -> None:
    assert keys(search.search("wfzjl"))[0] == "service:wfz"
    assert keys(search.search("chusheng"))[0] == "service:birth"
    assert search.suggest("gtgs")[0]["title"] == "个体工商户设立登记"


def test_suggestions_complete_a_title_as_typed(corpus: None) -> None:
    titles = [s["title"] for s in search.suggest("营业执")]
    assert titles == ["营业执照遗失补领"]
    assert search.suggest("!!!") == []


def test_filters_and_facets(corpus: None) -> None:
    found = search.search("营业执照")
    assert {k["code"]: k["count"] for k in found.kinds} == {"service": 1, "faq": 1}
    assert {d["code"] for d in found.departments} == {"scjg"}
    only = search.search("营业执照", kind="faq")
    assert keys(only) == ["faq:yyzz"] and only.total == 1
    # the kind facet keeps the other kinds' counts, to switch to them
    assert {k["code"] for k in only.kinds} == {"service", "faq"}
    assert search.search("营业执照", department="slj").total == 0


def test_highlights_are_escaped(corpus: None) -> None:
    search.index_documents([doc("x", "<script>营业执照</script>", "a < b 营业执照")])
    found = next(i for i in search.search("营业执照").items if i["key"] == "service:x")
    assert "<script>" not in found["title_html"] and "&lt;script&gt;" in found["title_html"]
    assert "<mark>营业执照</mark>" in found["snippet_html"]


def test_changes_are_indexed_at_once(corpus: None) -> None:
    search.index_documents([doc("n1", "关于恢复供水的通知", "示例路片区已恢复供水。",
                                kind="notice")])
    assert search.search("停水").total == 0
    assert keys(search.search("恢复供水")) == ["notice:n1"]
    assert Document.objects.filter(key="notice:n1").count() == 1
    search.remove_documents(["notice:n1"])
    assert search.search("供水").total == 0


def test_an_expired_document_is_not_shown(corpus: None) -> None:
    today = timezone.localdate()
    search.index_documents([doc("c1", "星辰商贸公司 行政处罚", "罚款", kind="credit",
                                visible_until=today),
                            doc("c2", "星辰商贸公司 行政许可", "许可", kind="credit",
                                visible_until=today + timedelta(days=1))])
    assert keys(search.search("星辰商贸公司")) == ["credit:c2"]


def test_queries_that_cannot_be_searched_are_answered_plainly(corpus: None) -> None:
    for bad, code in (("x" * 10000, "too_long"), ("!!!。。。???", "empty"), ("   ", "empty")):
        with pytest.raises(ValidationError) as caught:
            search.search(bad)
        assert caught.value.code == code
    assert search.search('"营业执照" OR *').total >= 1  # FTS syntax is only text here
    assert search.search("怎么办").total == 0


def test_queries_that_find_nothing_are_counted(corpus: None) -> None:
    search.search("火星移民")
    search.search("火星移民")
    assert Miss.objects.get(query="火星移民").count == 2
    assert search.misses()[0].query == "火星移民"


def test_reindex_rebuilds_from_the_sources(corpus: None) -> None:
    search.register_source("notice", lambda: [doc("n2", "关于开展防汛演练的通知",
                                                   kind="notice")])
    try:
        assert search.reindex(["notice"]) == {"notice": 1}
        assert search.search("停水").total == 0  # the stale one is gone
        assert keys(search.search("防汛")) == ["notice:n2"]
    finally:
        search.register_source("notice", lambda: [])


def test_common_words_are_not_ranked_over_every_match(monkeypatch: Any, db: Any) -> None:
    """At scale BM25 ranks only candidates (rare words, words in titles): here with a
    budget of 5 documents instead of 2,000, on SQLite's backend."""
    from django.db import connection

    from yiwang.support.search import backends

    if connection.vendor != "sqlite":
        pytest.skip("the candidate budget is the FTS5 backend's")
    monkeypatch.setattr(backends, "BUDGET", 5)
    monkeypatch.setattr(backends, "FACET_DEPTH", 10)
    backends._df_cache.clear()
    search.index_documents([doc(f"n{n}", f"第 {n} 号通知", "关于公司年报的通知。", kind="notice")
                            for n in range(30)])
    search.index_documents([doc("rare", "企业年报公示", "公司年报和火山灰报送。", kind="notice")])
    found = search.search("公司 火山灰")
    assert found.items[0]["key"] == "notice:rare"  # the rare word's document, ranked
    assert found.total == 31 and found.capped
    newest = search.search("公司")  # only a common word: the newest first, unranked
    assert newest.items[0]["key"] == "notice:rare" and newest.total == 31
    assert newest.items[1]["key"] == "notice:n29"


def test_personal_data_in_a_query_that_found_nothing_is_masked(corpus: None) -> None:
    search.search("我的手机13812345678收不到验证码")
    stored = Miss.objects.get().query
    assert "13812345678" not in stored and "138****5678" in stored
