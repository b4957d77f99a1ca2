"""政务公开: a department's editor writes, publishes, edits and withdraws policy documents and
notices through the service; the public reads the published ones on the portal."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yiwang.core.audit import service as audit
from yiwang.entry.portal import service as portal
from yiwang.entry.portal.testing import (
    HOUSING,
    SOCIAL,
    Newsroom,
    build_newsroom,
    html_lang,
    unlabelled_inputs,
    write_article,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def room() -> Newsroom:
    return build_newsroom()


def text(response: Any) -> str:
    return response.content.decode()


def fields(**changes: Any) -> dict[str, Any]:
    values = {"kind": "policy", "title": "公共租赁住房申请指引", "doc_no": "示建发〔2026〕3号",
              "department_code": HOUSING, "summary": "符合条件的家庭可以网上申请公租房。",
              "body": "第一段。\n\n第二段。", "topic": "housing", "valid_until": None}
    return {**values, **changes}


def test_a_published_policy_is_listed_and_shown_and_a_draft_is_not(public_client, room) -> None:
    draft = portal.save_article(room.editor, **fields(
        body="申请对象：本市户籍、家庭人均收入低于标准的住房困难家庭。\n"
             "材料：身份证、户口本。\n\n<script>alert(1)</script> 以本文为准。",
        valid_until=date(2028, 12, 31)))
    assert draft.state == "draft" and draft.department_name == "示例市住房和城乡建设局"
    assert "公共租赁住房申请指引" not in text(public_client.get("/policies/"))
    assert public_client.get(f"/policies/{draft.pk}/").status_code == 404

    published = portal.publish_article(room.editor, draft, draft.row_version)
    assert published.state == "published" and published.published_at is not None
    listing = text(public_client.get("/policies/"))
    assert f'<a href="/policies/{draft.pk}/">公共租赁住房申请指引</a>' in listing
    assert "示建发〔2026〕3号" in listing and "符合条件的家庭可以网上申请公租房" in listing

    page = text(public_client.get(f"/policies/{draft.pk}/"))
    body = page[page.index('data-testid="article-body"'):]
    # Plain text: paragraphs and line breaks, everything else escaped.
    assert ("<p>申请对象：本市户籍、家庭人均收入低于标准的住房困难家庭。<br>"
            "材料：身份证、户口本。</p>") in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>" not in page
    assert '<dd data-testid="doc-no">示建发〔2026〕3号</dd>' in page
    assert f'href="/departments/{HOUSING}/">示例市住房和城乡建设局</a>' in page
    assert "2028-12-31" in page
    crumbs = page[page.index('class="breadcrumbs"'):page.index("</nav>", page.index("breadcrumbs"))]
    assert '<a href="/policies/">政策文件</a>' in crumbs
    assert '<li aria-current="page">公共租赁住房申请指引</li>' in crumbs
    # A policy is not a notice.
    assert public_client.get(f"/notices/{draft.pk}/").status_code == 404
    assert audit.search(audit.AuditFilter(action="portal.article_published")).count() == 1


def test_a_withdrawn_article_is_gone_from_the_portal(public_client, room) -> None:
    notice = write_article(room.editor, kind="notice", title="城东片区停水通知", publish=True)
    assert public_client.get(f"/notices/{notice.pk}/").status_code == 200
    with pytest.raises(ValidationError) as missing:
        portal.withdraw_article(room.editor, notice, "  ", notice.row_version)
    assert "reason" in missing.value.message_dict
    withdrawn = portal.withdraw_article(room.editor, notice, "停水时间调整，另行通知",
                                       notice.row_version)
    assert withdrawn.state == "withdrawn"
    assert withdrawn.withdrawal_reason == "停水时间调整，另行通知"
    assert public_client.get(f"/notices/{notice.pk}/").status_code == 404
    assert "城东片区停水通知" not in text(public_client.get("/notices/"))
    assert "城东片区停水通知" not in text(public_client.get("/"))
    assert portal.get_published(notice.pk) is None
    with pytest.raises(ValidationError) as twice:
        portal.withdraw_article(room.editor, withdrawn, "再撤一次", withdrawn.row_version)
    assert twice.value.code == "state"


def test_invalid_input_gets_a_message_per_field_and_saves_nothing(room) -> None:
    with pytest.raises(ValidationError) as caught:
        portal.save_article(room.editor, **fields(
            kind="memo", title="   ", body="", doc_no="号" * 65, summary="摘" * 501,
            topic="weather", department_code=SOCIAL))
    errors = caught.value.message_dict
    assert set(errors) == {"kind", "title", "body", "doc_no", "summary", "topic",
                           "department_code"}
    assert errors["title"] == ["请填写标题。"] and errors["body"] == ["请填写正文。"]
    assert errors["department_code"] == ["只能以您所在的部门的名义发布。"]
    with pytest.raises(ValidationError) as long_body:
        portal.save_article(room.editor, **fields(body="字" * 50_001))
    assert list(long_body.value.message_dict) == ["body"]
    assert portal.Article.objects.count() == 0
    # 50,000 characters are accepted.
    assert portal.save_article(room.editor, **fields(body="字" * 50_000)).pk


def test_only_editors_of_the_department_write_publish_and_withdraw(room) -> None:
    article = write_article(room.editor)
    with pytest.raises(PermissionDenied):
        portal.publish_article(room.other_editor, article, article.row_version)
    with pytest.raises(PermissionDenied):
        portal.save_article(room.other_editor, pk=article.pk,
                            **fields(department_code=SOCIAL, title="改成人社局的"))
    with pytest.raises(PermissionDenied):  # a member of the department without the right
        portal.save_article(room.clerk, **fields())
    with pytest.raises(PermissionDenied):
        portal.save_article(room.citizen, **fields())
    article.refresh_from_db()
    assert article.state == "draft" and article.title == "公共租赁住房申请指引"
    assert article.department_code == HOUSING


def test_a_stale_version_is_a_conflict(room) -> None:
    article = write_article(room.editor, publish=True)
    seen = article.row_version
    edited = portal.save_article(room.editor, pk=article.pk, expected_version=seen,
                                 **fields(title="公共租赁住房申请指引（修订）"))
    assert edited.state == "published" and edited.row_version == seen + 1
    with pytest.raises(ValidationError) as stale_edit:
        portal.save_article(room.editor, pk=article.pk, expected_version=seen,
                            **fields(title="覆盖别人的修改"))
    assert stale_edit.value.code == "conflict"
    with pytest.raises(ValidationError) as stale_withdraw:
        portal.withdraw_article(room.editor, article, "过时", seen)
    assert stale_withdraw.value.code == "conflict"
    edited.refresh_from_db()
    assert edited.title == "公共租赁住房申请指引（修订）" and edited.state == "published"


@pytest.fixture
def hooks() -> Any:
    """Hooks appended to ``portal.ON_CHANGE`` by the test, taken out after it."""
    added: list[Any] = []

    def add(hook: Any) -> None:
        portal.ON_CHANGE.append(hook)
        added.append(hook)

    yield add
    for hook in added:
        portal.ON_CHANGE.remove(hook)


def test_every_write_calls_the_change_hooks_inside_its_transaction(room, hooks) -> None:
    seen: list[tuple[int, str, str]] = []
    hooks(lambda a: seen.append((a.pk, a.state, a.title)))
    article = portal.save_article(room.editor, **fields())
    article = portal.save_article(room.editor, pk=article.pk, **fields(title="新标题"))
    article = portal.publish_article(room.editor, article, article.row_version)
    portal.withdraw_article(room.editor, article, "有误", article.row_version)
    assert seen == [(article.pk, "draft", "公共租赁住房申请指引"),
                    (article.pk, "draft", "新标题"),
                    (article.pk, "published", "新标题"),
                    (article.pk, "withdrawn", "新标题")]

    def broken(_article: Any) -> None:
        raise RuntimeError("index down")

    # A hook that fails undoes the write: it runs inside the write's transaction.
    hooks(broken)
    with pytest.raises(RuntimeError):
        portal.save_article(room.editor, **fields(title="不应保存"))
    assert not portal.Article.objects.filter(title="不应保存").exists()
    with pytest.raises(RuntimeError):
        portal.publish_article(room.editor, article, article.row_version + 1)
    article.refresh_from_db()
    assert article.state == "withdrawn"


def _publish_many(room: Newsroom) -> list[Any]:
    made = []
    for n in range(23):
        editor, department = ((room.editor, HOUSING) if n % 2 == 0
                              else (room.other_editor, SOCIAL))
        made.append(write_article(editor, title=f"政策{n:02d}号", department_code=department,
                                  topic="housing" if n % 2 == 0 else "social_security",
                                  publish=True))
    # Two of them were published in 2025.
    old = datetime(2025, 6, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    portal.Article.objects.filter(pk__in=[made[0].pk, made[1].pk]).update(published_at=old)
    return made


def titles(html: str) -> list[str]:
    return re.findall(r'<a href="/policies/\d+/">(政策\d\d号)</a>', html)


def test_lists_filter_by_department_topic_and_year_and_paginate(public_client, room) -> None:
    _publish_many(room)
    first = text(public_client.get("/policies/"))
    assert len(titles(first)) == 20 and titles(first)[0] == "政策22号"  # newest first
    assert "共 23 条" in first and 'href="?page=2" rel="next"' in first
    assert len(titles(text(public_client.get("/policies/", {"page": 2})))) == 3

    housing = titles(text(public_client.get("/policies/", {"department": HOUSING})))
    assert len(housing) == 12 and all(int(t[2:4]) % 2 == 0 for t in housing)
    social = titles(text(public_client.get("/policies/", {"topic": "social_security"})))
    assert len(social) == 11 and all(int(t[2:4]) % 2 == 1 for t in social)
    old = titles(text(public_client.get("/policies/", {"year": "2025"})))
    assert sorted(old) == ["政策00号", "政策01号"]
    both = text(public_client.get("/policies/", {"year": "2025", "department": SOCIAL}))
    assert titles(both) == ["政策01号"]
    # The filters offer the years and departments that have articles.
    assert '<option value="2025">2025</option>' in first
    assert f'<option value="{SOCIAL}">示例市人力资源和社会保障局</option>' in first

    none = text(public_client.get("/policies/", {"year": "2019"}))
    assert "没有符合条件的政策文件" in none and titles(none) == []
    assert "暂无已发布的通知公告" in text(public_client.get("/notices/"))


def test_navigation_home_page_and_languages(public_client, room) -> None:
    _publish_many(room)
    write_article(room.editor, kind="notice", title="汛期防汛预警提示", publish=True)
    html = text(public_client.get("/policies/"))
    nav = html[html.index('class="site-nav"'):html.index("</nav>", html.index("site-nav"))]
    assert '<a href="/policies/" aria-current="page">政务公开</a>' in nav
    assert 'aria-current="page">通知公告</a>' in text(public_client.get("/notices/"))
    home = text(public_client.get("/"))
    latest = home[home.index('data-testid="latest-policies"'):]
    latest = latest[:latest.index("</ul>")]
    assert re.findall(r">(政策\d\d号)</a>", latest) == ["政策22号", "政策21号", "政策20号",
                                                       "政策19号", "政策18号"]
    assert "汛期防汛预警提示" in home
    assert '<a href="/policies/">政务公开</a>' in home  # not the current section there
    newest = portal.published_articles("policy")[0]
    for path in ("/policies/", "/notices/", f"/policies/{newest.pk}/"):
        for prefix, lang in (("", "zh-Hans"), ("/en", "en")):
            response = public_client.get(prefix + path)
            assert response.status_code == 200, prefix + path
            assert html_lang(text(response)) == lang
            assert unlabelled_inputs(text(response)) == [], prefix + path


def test_list_query_count_does_not_grow(public_client, room,
                                        django_assert_max_num_queries) -> None:
    _publish_many(room)
    with django_assert_max_num_queries(5):
        public_client.get("/policies/")


def test_a_published_article_is_found_by_search_until_withdrawn(room) -> None:
    from yiwang.support.search import service as search

    draft = write_article(room.editor, title="关于推行不动产“带押过户”的通知",
                          body="买卖二手房时无需先还清贷款。")
    assert search.search("带押过户").total == 0  # a draft is not public
    article = portal.publish_article(room.editor, draft, draft.row_version)
    found = search.search("带押过户", kind="policy")
    assert [i["url"] for i in found.items] == [f"/policies/{article.pk}/"]
    portal.withdraw_article(room.editor, article, "已废止", article.row_version)
    assert search.search("带押过户").total == 0


def test_an_article_whose_kind_changed_leaves_search_when_withdrawn(room) -> None:
    from yiwang.support.search import service as search

    article = write_article(room.editor, title="关于调整防汛值班安排的说明", publish=True)
    article = portal.save_article(
        room.editor, pk=article.pk, kind="notice", title=article.title, doc_no="",
        department_code=article.department_code, summary="", body=article.body, topic="",
        valid_until=None, expected_version=article.row_version)
    portal.withdraw_article(room.editor, article, "已过时", article.row_version)
    assert search.search("防汛值班").total == 0
