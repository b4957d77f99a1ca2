"""Models of the portal: 政务公开 — the city's policy documents (政策文件) and notices
(通知公告), written and published by departments in the workbench.

Other apps go through ``service.py``. The body is plain text (paragraphs separated by blank
lines), never HTML: pages escape it and only add the paragraph and line breaks.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ArticleKind(models.TextChoices):
    POLICY = "policy", _("政策文件")
    NOTICE = "notice", _("通知公告")


class ArticleState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已撤回")


class Topic(models.TextChoices):
    """主题分类: what a reader looks for, whichever department wrote it."""

    BUSINESS = "business", _("营商环境")
    EMPLOYMENT = "employment", _("就业创业")
    SOCIAL_SECURITY = "social_security", _("社会保障")
    TAX = "tax", _("税费")
    EDUCATION = "education", _("教育")
    HEALTH = "health", _("医疗卫生")
    HOUSING = "housing", _("住房")
    URBAN = "urban", _("城市管理")
    TRANSPORT = "transport", _("交通")
    ENVIRONMENT = "environment", _("生态环境")
    PUBLIC_SECURITY = "public_security", _("公安户政")
    SERVICES = "services", _("政务服务")


class Article(models.Model):
    """A policy document or a notice (政务公开信息) of one department."""

    kind = models.CharField(_("类别"), max_length=16, choices=ArticleKind.choices)
    title = models.CharField(_("标题"), max_length=200)
    doc_no = models.CharField(_("文号"), max_length=64, blank=True)
    department_code = models.CharField(_("发布部门"), max_length=64, db_index=True)
    department_name = models.CharField(_("发布部门名称"), max_length=128)
    summary = models.CharField(_("摘要"), max_length=500, blank=True)
    body = models.TextField(_("正文"))
    topic = models.CharField(_("主题分类"), max_length=32, choices=Topic.choices, blank=True)
    state = models.CharField(_("状态"), max_length=16, choices=ArticleState.choices,
                             default=ArticleState.DRAFT)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawal_reason = models.CharField(_("撤回原因"), max_length=200, blank=True)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("创建人"),
                                   null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    row_version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("政务公开信息")
        verbose_name_plural = _("政务公开信息")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["state", "kind", "-published_at"],
                                name="portal_article_public")]
        permissions = [("publish_article", _("发布政务公开信息"))]

    def __str__(self) -> str:
        return self.title
