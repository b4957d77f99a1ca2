"""政务公开 in the workbench, as a department's editor uses it: write a policy, publish it,
edit it while published, withdraw it — and the public portal follows; what others (another
department, an official without the right, a citizen) cannot do."""

from __future__ import annotations

import re
from typing import Any

import pytest

from yiwang.entry.portal import service as portal
from yiwang.entry.portal.testing import (
    HOUSING,
    SOCIAL,
    Newsroom,
    build_newsroom,
    unlabelled_inputs,
    write_article,
)
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def room() -> Newsroom:
    return build_newsroom()


def _text(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.status_code
    return response.content.decode()


def form(**changes: str) -> dict[str, str]:
    return {"kind": "policy", "department_code": HOUSING, "title": "公共租赁住房申请指引",
            "doc_no": "示建发〔2026〕3号", "topic": "housing",
            "summary": "符合条件的家庭可以网上申请公租房。",
            "body": "申请对象：住房困难家庭。\r\n\r\n申请材料：身份证、户口本。",
            "valid_until": "2028-12-31", **changes}


def test_an_editor_writes_publishes_edits_and_withdraws_a_policy(
        internal_client, public_client, room) -> None:
    sign_in_client(internal_client, room.editor)
    empty = _text(internal_client.get("/articles/"))
    assert 'data-testid="articles-empty"' in empty and "本部门还没有政务公开信息" in empty
    new = _text(internal_client.get("/articles/new/", {"kind": "notice"}))
    assert unlabelled_inputs(new) == []
    assert '<option value="notice" selected>' in new

    created = internal_client.post("/articles/new/", form())
    assert created.status_code == 302
    article = portal.Article.objects.get()
    assert created["Location"] == f"/articles/{article.pk}/"
    assert article.state == "draft" and article.department_name == "示例市住房和城乡建设局"
    assert article.body == "申请对象：住房困难家庭。\n\n申请材料：身份证、户口本。"
    assert public_client.get(f"/policies/{article.pk}/").status_code == 404  # a draft

    page = _text(internal_client.get(f"/articles/{article.pk}/"))
    assert unlabelled_inputs(page) == [] and 'data-testid="publish-form"' in page
    assert 'value="公共租赁住房申请指引"' in page and 'value="2028-12-31"' in page
    published = _text(internal_client.post(f"/articles/{article.pk}/publish/",
                                           {"expected_version": article.row_version},
                                           follow=True))
    assert "已发布" in published and 'data-state="published"' in published
    assert f"/policies/{article.pk}/" in published  # where the public sees it
    assert "公共租赁住房申请指引" in _text(public_client.get("/policies/"))

    article.refresh_from_db()
    edited = internal_client.post(f"/articles/{article.pk}/", form(
        title="公共租赁住房申请指引（2026年修订）", expected_version=str(article.row_version)))
    assert edited.status_code == 302
    assert "（2026年修订）" in _text(public_client.get(f"/policies/{article.pk}/"))
    listing = _text(internal_client.get("/articles/", {"state": "published"}))
    assert "（2026年修订）" in listing
    assert "（2026年修订）" not in _text(internal_client.get("/articles/", {"state": "draft"}))

    article.refresh_from_db()
    refused = _text(internal_client.post(f"/articles/{article.pk}/withdraw/", {
        "reason": "", "expected_version": article.row_version}, follow=True))
    assert "请填写撤回原因" in refused
    withdrawn = _text(internal_client.post(f"/articles/{article.pk}/withdraw/", {
        "reason": "政策已调整", "expected_version": article.row_version}, follow=True))
    assert 'data-state="withdrawn"' in withdrawn and "政策已调整" in withdrawn
    assert public_client.get(f"/policies/{article.pk}/").status_code == 404


def test_an_invalid_form_is_a_400_with_messages_and_keeps_what_was_typed(
        internal_client, room) -> None:
    sign_in_client(internal_client, room.editor)
    response = internal_client.post("/articles/new/", form(
        title="", body="  ", doc_no="示建发〔2026〕" + "9" * 60, summary="已经写好的摘要"))
    html = _text(response, 400)
    assert 'data-testid="errors"' in html
    assert "标题：请填写标题。" in html and "正文：请填写正文。" in html
    assert "文号不能超过 64 个字符" in html
    assert "已经写好的摘要" in html and 'value="2028-12-31"' in html
    assert re.search(r'id="id_title"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*'
                     r'id="id_title"', html)
    bad_date = _text(internal_client.post("/articles/new/", form(valid_until="31/12/2028")),
                     400)
    assert "请按“年-月-日”的格式填写日期" in bad_date
    foreign = _text(internal_client.post("/articles/new/", form(department_code=SOCIAL)), 400)
    assert "只能以您所在的部门的名义发布" in foreign
    assert portal.Article.objects.count() == 0


def test_another_departments_editor_gets_404_and_cannot_publish(internal_client, room) -> None:
    article = write_article(room.editor)
    sign_in_client(internal_client, room.other_editor)
    assert "公共租赁住房申请指引" not in _text(internal_client.get("/articles/"))
    assert internal_client.get(f"/articles/{article.pk}/").status_code == 404
    assert internal_client.post(f"/articles/{article.pk}/", form(
        department_code=SOCIAL, expected_version=str(article.row_version))).status_code == 404
    assert internal_client.post(f"/articles/{article.pk}/publish/", {
        "expected_version": article.row_version}).status_code == 404
    article.refresh_from_db()
    assert article.state == "draft" and article.department_code == HOUSING


def test_citizens_and_officials_without_the_right_cannot_reach_the_pages(
        internal_client, room) -> None:
    article = write_article(room.editor)
    assert internal_client.get("/articles/").status_code == 302  # anonymous: sign in first
    sign_in_client(internal_client, room.citizen)
    for path in ("/articles/", "/articles/new/", f"/articles/{article.pk}/"):
        assert internal_client.get(path).status_code == 403, path
    assert internal_client.post(f"/articles/{article.pk}/publish/").status_code == 403
    sign_in_client(internal_client, room.clerk)  # 住建局, without portal.publish_article
    assert internal_client.get("/articles/").status_code == 403
    assert 'href="/articles/"' not in _text(internal_client.get("/"))
    sign_in_client(internal_client, room.editor)
    home = _text(internal_client.get("/"))
    nav = home[home.index('class="wb-sidenav"'):home.index("</nav>", home.index("wb-sidenav"))]
    assert '<a href="/articles/">政务公开</a>' in nav
    article.refresh_from_db()
    assert article.state == "draft"


def test_a_stale_page_is_told_someone_else_changed_the_article(internal_client, room) -> None:
    article = write_article(room.editor)
    seen = article.row_version
    portal.save_article(room.editor, pk=article.pk, expected_version=seen, kind="policy",
                        title="同事先改了标题", doc_no="", department_code=HOUSING, summary="",
                        body="正文", topic="", valid_until=None)
    sign_in_client(internal_client, room.editor)
    stale = _text(internal_client.post(f"/articles/{article.pk}/", form(
        title="我的修改", expected_version=str(seen))), 400)
    assert "该信息刚被其他人修改过" in stale and 'value="我的修改"' in stale
    publish = _text(internal_client.post(f"/articles/{article.pk}/publish/",
                                         {"expected_version": seen}, follow=True))
    assert "该信息刚被其他人修改过" in publish
    article.refresh_from_db()
    assert article.title == "同事先改了标题" and article.state == "draft"


def test_the_list_filters_and_paginates(internal_client, room) -> None:
    for n in range(27):
        write_article(room.editor, title=f"通知{n:02d}", kind="notice")
    write_article(room.editor, title="住房公积金提取政策", doc_no="示建发〔2026〕8号",
                  publish=True)
    write_article(room.other_editor, title="人社局的通知", kind="notice",
                  department_code=SOCIAL)
    sign_in_client(internal_client, room.editor)
    first = _text(internal_client.get("/articles/"))
    assert len(re.findall(r'data-testid="article-row"', first)) == 25
    assert "共 28 条" in first and "人社局的通知" not in first
    second = _text(internal_client.get("/articles/", {"page": 2}))
    assert len(re.findall(r'data-testid="article-row"', second)) == 3
    policies = _text(internal_client.get("/articles/", {"kind": "policy"}))
    assert re.findall(r'data-testid="article-row"', policies) == ['data-testid="article-row"']
    by_doc_no = _text(internal_client.get("/articles/", {"q": "〔2026〕8号"}))
    assert "住房公积金提取政策" in by_doc_no and "通知00" not in by_doc_no
    paged = _text(internal_client.get("/articles/", {"kind": "notice"}))
    assert "kind=notice&amp;page=2" in paged
    nothing = _text(internal_client.get("/articles/", {"q": "没有这个"}))
    assert "没有符合条件的信息" in nothing
