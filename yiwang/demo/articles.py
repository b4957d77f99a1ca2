"""Demo 政务公开 of 示例市: policy documents (政策文件) and notices (通知公告) of the demo
departments, written for this fictional city (no real document is copied), about what
people look for — 出生“一件事”, 个体工商户, 灵活就业参保, 失业保险金, 养老金, 公积金提取,
带押过户, 无犯罪记录证明(良民证), 身份证异地换领, 护照, 营业执照补领, 企业开办, 12345,
停水, 防汛, 公租房, 个税汇算, 医保异地备案, 扬尘治理, 信用修复…

The editors are each department's 科长 (or its head where it has no 科长), in the group
政务公开编辑 (``portal.publish_article``). Every article is written and published through
the portal's service, dated when the document says it was published; one is left as a
draft and one is withdrawn, so that the workbench shows every state.

Idempotent: policies are recognised by their 文号, notices by their title.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from yiwang.demo.article_texts import NOTICES, POLICIES, Doc
from yiwang.entry.portal import service as portal
from yiwang.platform.orgs import service as orgs

Progress = Callable[[str, int], Callable[[int], None]]

EDITORS = "政务公开编辑"
EDITOR_POSITIONS = ("section_chief", "head")  # the first a department has
LOCAL = ZoneInfo("Asia/Shanghai")


def _editors() -> dict[str, Any]:
    """Each department's editor (its 科长, else its head), in the group 政务公开编辑."""
    group, _created = Group.objects.get_or_create(name=EDITORS)
    group.permissions.add(Permission.objects.get(content_type__app_label="portal",
                                                 codename="publish_article"))
    editors: dict[str, Any] = {}
    for department in orgs.list_departments():
        members = list(orgs.members_of(department))
        for position in EDITOR_POSITIONS:
            found = next((m.user for m in members
                          if m.position is not None and m.position.code == position), None)
            if found is not None:
                editors[department.code] = found
                break
    group.user_set.add(*editors.values())
    # Fresh objects: the permissions cached on the old ones predate the group.
    fresh = get_user_model().objects.in_bulk([u.pk for u in editors.values()])
    return {code: fresh[user.pk] for code, user in editors.items()}


def _exists(doc: Doc) -> bool:
    found = portal.Article.objects.filter(kind=doc.kind)
    return (found.filter(doc_no=doc.doc_no) if doc.doc_no
            else found.filter(title=doc.title)).exists()


def _load(doc: Doc, editor: Any) -> None:
    article = portal.save_article(
        editor, kind=doc.kind, title=doc.title, doc_no=doc.doc_no,
        department_code=doc.department, summary=doc.summary, body=doc.body, topic=doc.topic,
        valid_until=doc.valid_until)
    if doc.state == "draft":
        return
    article = portal.publish_article(
        editor, article, article.row_version,
        published_at=datetime.combine(doc.published, time(9, 30), LOCAL))
    if doc.state == "withdrawn":
        portal.withdraw_article(editor, article, doc.withdrawal_reason, article.row_version)


def load_articles(progress: Progress) -> dict[str, int]:
    """The demo's policy documents and notices (those not loaded yet)."""
    docs = [*POLICIES, *NOTICES]
    tick = progress("政务公开 policies and notices", len(docs))
    editors = _editors()
    made = 0
    for doc in docs:
        editor = editors.get(doc.department)
        if editor is not None and not _exists(doc):
            _load(doc, editor)
            made += 1
        tick(1)
    return {"editors": len(editors), "articles": made}
