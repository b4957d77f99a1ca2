"""政务公开: the departments' policy documents (政策文件) and notices (通知公告).

An official with ``portal.publish_article`` writes an article for one of their departments
(a draft), publishes it to the portal, edits it while it is published, and withdraws it
(撤回) with a reason: the portal then answers 404 for it. Every write is audited, carries the
version the official's page showed (a stale one is refused with code ``conflict``), and
calls the hooks of :data:`ON_CHANGE` inside its transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.entry.portal.models import Article, ArticleKind, ArticleState, Topic
from yiwang.platform.orgs import service as orgs

PUBLISH_PERMISSION = "portal.publish_article"
TITLE_MAX = 200
DOC_NO_MAX = 64
SUMMARY_MAX = 500
BODY_MAX = 50_000
REASON_MAX = 200

# Called with the article after each write (created, edited, published, withdrawn), inside
# the write's transaction, so that what a hook writes commits or rolls back with it. The
# unified search appends its indexer here; a hook that raises undoes the write.
ON_CHANGE: list[Callable[[Article], None]] = []


def _changed(article: Article) -> None:
    for hook in list(ON_CHANGE):
        hook(article)


def _scope(user: Any) -> list[str] | None:
    """The department codes ``user`` writes for (None: every department, a superuser)."""
    return None if user.is_superuser else orgs.unit_codes_of(user)


def may_write(user: Any, department_code: str) -> bool:
    """Whether ``user`` may write, publish and withdraw the articles of the department."""
    if user is None or not user.is_authenticated or not user.has_perm(PUBLISH_PERMISSION):
        return False
    scope = _scope(user)
    return scope is None or department_code in scope


def _writer_or_403(user: Any, department_code: str) -> None:
    if not may_write(user, department_code):
        raise PermissionDenied(_("您不能以该部门的名义发布政务公开信息。"))


def _conflict() -> ValidationError:
    return ValidationError(_("该信息刚被其他人修改过，请刷新页面后再操作。"), code="conflict")


def _detail(article: Article) -> dict[str, Any]:
    return {"kind": article.kind, "title": article.title[:100], "doc_no": article.doc_no,
            "department": article.department_code, "state": article.state}


def _clean(user: Any, *, kind: str, title: str, doc_no: str, department_code: str,
           summary: str, body: str, topic: str, valid_until: date | None
           ) -> dict[str, Any]:
    """The fields to store, or ValidationError with a message per field."""
    errors: dict[str, list[ValidationError]] = {}

    def fail(field: str, message: str, code: str) -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    kind = (kind or "").strip()
    if kind not in ArticleKind.values:
        fail("kind", _("请选择类别：政策文件或通知公告。"), "invalid")
    title = " ".join((title or "").split())
    if not title:
        fail("title", _("请填写标题。"), "required")
    elif len(title) > TITLE_MAX:
        fail("title", _("标题不能超过 %(n)s 个字。") % {"n": TITLE_MAX}, "max_length")
    doc_no = (doc_no or "").strip()
    if len(doc_no) > DOC_NO_MAX:
        fail("doc_no", _("文号不能超过 %(n)s 个字符。") % {"n": DOC_NO_MAX}, "max_length")
    department_code = (department_code or "").strip()
    department = orgs.get_department(department_code) if department_code else None
    if not department_code:
        fail("department_code", _("请选择发布部门。"), "required")
    elif department is None:
        fail("department_code", _("没有这个部门。"), "invalid")
    elif not may_write(user, department_code):
        fail("department_code", _("只能以您所在的部门的名义发布。"), "forbidden")
    summary = (summary or "").strip()
    if len(summary) > SUMMARY_MAX:
        fail("summary", _("摘要不能超过 %(n)s 个字。") % {"n": SUMMARY_MAX}, "max_length")
    # Plain text: line ends normalised, paragraphs kept as the author separated them.
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        fail("body", _("请填写正文。"), "required")
    elif len(body) > BODY_MAX:
        fail("body", _("正文不能超过 %(n)s 个字，现有 %(m)s 个字。")
             % {"n": BODY_MAX, "m": len(body)}, "max_length")
    topic = (topic or "").strip()
    if topic and topic not in Topic.values:
        fail("topic", _("请从列表中选择主题分类。"), "invalid")
    if valid_until is not None and not isinstance(valid_until, date):
        fail("valid_until", _("请按“年-月-日”的格式填写日期。"), "invalid")
    if errors:
        raise ValidationError(errors)
    assert department is not None  # checked above (for the type checker)
    return {
        "kind": kind, "title": title, "doc_no": doc_no, "department_code": department.code,
        "department_name": department.name, "summary": summary, "body": body, "topic": topic,
        # 有效期 belongs to policies; a notice has none.
        "valid_until": valid_until if kind == ArticleKind.POLICY else None,
    }


def save_article(user: Any, *, pk: int | None = None, kind: str, title: str, doc_no: str,
                 department_code: str, summary: str, body: str, topic: str,
                 valid_until: date | None, expected_version: int | None = None) -> Article:
    """Create a draft (``pk`` None) or edit an article, published or not.

    Raises ValidationError with a message per field (``kind``, ``title``, ``doc_no``,
    ``department_code``, ``summary``, ``body``, ``topic``, ``valid_until``), or with code
    ``conflict`` when ``expected_version`` is not the article's version any more;
    PermissionDenied when the user may not write for the article's department."""
    existing = None
    if pk is not None:
        existing = Article.objects.get(pk=pk)
        _writer_or_403(user, existing.department_code)
    elif not user.has_perm(PUBLISH_PERMISSION):
        raise PermissionDenied(_("您没有发布政务公开信息的权限。"))
    fields = _clean(user, kind=kind, title=title, doc_no=doc_no,
                    department_code=department_code, summary=summary, body=body, topic=topic,
                    valid_until=valid_until)
    with transaction.atomic(), audit.together():
        if existing is None:
            article = Article.objects.create(**fields, created_by=user)
            action = "portal.article_created"
        else:
            version = existing.row_version if expected_version is None else expected_version
            changed = Article.objects.filter(pk=existing.pk, row_version=version).update(
                **fields, row_version=version + 1, updated_at=timezone.now())
            if not changed:
                raise _conflict()
            article = Article.objects.get(pk=existing.pk)
            action = "portal.article_updated"
        audit.record(action, article, actor=user, detail=_detail(article))
        _changed(article)
    return article


def _transition(user: Any, article: Article, expected_version: int | None, *,
                allowed_from: tuple[str, ...], wrong_state: str, **changes: Any) -> Article:
    """Move the article to a new state if it is still at the expected version (the caller
    holds the transaction)."""
    _writer_or_403(user, article.department_code)
    current = Article.objects.select_for_update().get(pk=article.pk)
    version = current.row_version if expected_version is None else expected_version
    if current.row_version != version:
        raise _conflict()
    if current.state not in allowed_from:
        raise ValidationError(wrong_state, code="state")
    changed = Article.objects.filter(pk=current.pk, row_version=version).update(
        **changes, row_version=version + 1, updated_at=timezone.now())
    if not changed:
        raise _conflict()
    return Article.objects.get(pk=current.pk)


def publish_article(user: Any, article: Article, expected_version: int | None, *,
                    published_at: datetime | None = None) -> Article:
    """Publish a draft (or publish a withdrawn article again): the portal shows it from now
    on, dated now — or ``published_at``, for a document that was published before it came
    here (an import, the demo); a date in the future counts as now."""
    now = timezone.now()
    when = now if published_at is None else min(published_at, now)
    with transaction.atomic(), audit.together():
        done = _transition(user, article, expected_version,
                           allowed_from=(ArticleState.DRAFT, ArticleState.WITHDRAWN),
                           wrong_state=_("该信息已经发布。"),
                           state=ArticleState.PUBLISHED, published_at=when,
                           withdrawn_at=None, withdrawal_reason="")
        audit.record("portal.article_published", done, actor=user, detail=_detail(done))
        _changed(done)
    return done


def withdraw_article(user: Any, article: Article, reason: str,
                     expected_version: int | None) -> Article:
    """Withdraw (撤回) a published article, with the reason: the portal no longer shows it."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": [ValidationError(_("请填写撤回原因。"),
                                                          code="required")]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [ValidationError(
            _("撤回原因不能超过 %(n)s 个字。") % {"n": REASON_MAX}, code="max_length")]})
    with transaction.atomic(), audit.together():
        done = _transition(user, article, expected_version,
                           allowed_from=(ArticleState.PUBLISHED,),
                           wrong_state=_("只有已发布的信息才能撤回。"),
                           state=ArticleState.WITHDRAWN, withdrawn_at=timezone.now(),
                           withdrawal_reason=reason)
        audit.record("portal.article_withdrawn", done, actor=user,
                     detail={**_detail(done), "reason": reason})
        _changed(done)
    return done


def published_articles(kind: str | None = None) -> QuerySet[Article]:
    """The published articles (of ``kind``), newest first."""
    found = Article.objects.filter(state=ArticleState.PUBLISHED)
    if kind is not None:
        found = found.filter(kind=kind)
    return found.order_by("-published_at", "-id")


def get_published(pk: int) -> Article | None:
    """The published article ``pk``, or None (a draft, a withdrawn one, or none at all)."""
    return published_articles().filter(pk=pk).first()


def department_articles(department_codes: list[str] | None) -> QuerySet[Article]:
    """Every article (drafts, published, withdrawn) of the departments, last edited first;
    None: of every department."""
    found = Article.objects.all()
    if department_codes is not None:
        found = found.filter(department_code__in=department_codes)
    return found.order_by("-updated_at", "-id")


def departments_of_writer(user: Any) -> list[Any]:
    """The departments ``user`` may write for, for a form's choices (every department for a
    superuser)."""
    if not user.has_perm(PUBLISH_PERMISSION):
        return []
    if user.is_superuser:
        return list(orgs.list_departments())
    return list(orgs.list_departments().filter(code__in=orgs.unit_codes_of(user)))
