"""Models of unified search: the documents every module publishes into the index, the
synonyms editors maintain, and the queries that found nothing (for editors to act on).

The full-text index itself belongs to the backend: an FTS5 table ``search_fts`` on SQLite,
a ``tsv`` column with a GIN index on PostgreSQL (both created by migration 0002), kept in
step with ``Document`` in the same transaction.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    SERVICE = "service", _("办事服务")
    FAQ = "faq", _("常见问题")
    POLICY = "policy", _("政策文件")
    NOTICE = "notice", _("通知公告")
    CREDIT = "credit", _("信用公示")


class Document(models.Model):
    """One searchable thing: a service and its guide, a FAQ, a policy, a notice, a credit
    publicity record. ``title_tokens``, ``tokens``, ``pinyin`` and ``tags`` are what the
    backend indexes (the FTS5 table's external content)."""

    key = models.CharField(max_length=128, unique=True)  # "<kind>:<the module's id>"
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices, db_index=True)
    title = models.CharField(_("标题"), max_length=300, db_index=True)  # prefix suggestions
    body = models.TextField(_("正文"), blank=True)
    url = models.CharField(max_length=300)
    department_code = models.CharField(_("部门"), max_length=32, blank=True, db_index=True)
    department_name = models.CharField(max_length=128, blank=True)
    region_code = models.CharField(_("区划"), max_length=12, blank=True)
    audience = models.CharField(_("服务对象"), max_length=8, blank=True)
    published_on = models.DateField(_("发布日期"), null=True, blank=True)
    visible_until = models.DateField(null=True, blank=True)  # not shown from this day
    title_tokens = models.TextField(blank=True)
    tokens = models.TextField(blank=True)  # of the body
    pinyin = models.TextField(blank=True)
    tags = models.CharField(max_length=200, blank=True)  # k_<kind> d_<department> a_<…>
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("搜索文档")
        verbose_name_plural = _("搜索文档")
        permissions = [("manage_search", _("维护搜索同义词和查看无结果搜索"))]

    def __str__(self) -> str:
        return self.key


class Synonym(models.Model):
    """A colloquial or old term and what it means here (良民证 → 无犯罪记录证明)."""

    term = models.CharField(_("词语"), max_length=32, unique=True)
    targets = models.CharField(_("同义于"), max_length=255)  # separated by spaces or ;
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("同义词")
        verbose_name_plural = _("同义词")
        ordering = ["term"]

    def __str__(self) -> str:
        return f"{self.term} → {self.targets}"


class Miss(models.Model):
    """A query that found nothing, counted (what people look for that is not there)."""

    query = models.CharField(max_length=100, unique=True)
    count = models.PositiveIntegerField(default=1)
    last_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("无结果搜索")
        verbose_name_plural = _("无结果搜索")

    def __str__(self) -> str:
        return self.query
