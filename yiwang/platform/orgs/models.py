"""Departments (部门), positions (岗位), memberships (任职), matter categories (事项类别)
and responsibilities (职责分工).

Private to the app: other apps use ``service.py``. Regions are referenced by their code (the
primary key of ``regions.Region``), which is also the shard key of these tables.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, validate_slug
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core.identifiers.service import InvalidIdentifier, validate_credit_code
from yiwang.platform.regions import service as regions


def validate_credit_code_field(value: str) -> None:
    """Model validator: a GB 32100 unified social credit code (统一社会信用代码)."""
    try:
        validate_credit_code(value)
    except InvalidIdentifier as exc:
        raise ValidationError(exc.template, code=exc.part, params=exc.params or None) from None


validate_category_code = RegexValidator(
    re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
    _("类别代码只能由字母、数字、点、下划线和连字符组成"),
    code="invalid_code",
)


class DepartmentKind(models.TextChoices):
    GOVERNMENT = "government", _("政府部门")
    INSTITUTION = "institution", _("事业单位")
    INTERNAL = "internal", _("内设机构")  # 科室, 处室
    PARTY = "party", _("党群机关")
    OTHER = "other", _("其他")


class CategoryKind(models.TextChoices):
    SERVICE = "service", _("政务服务事项")
    EVENT = "event", _("城市管理事件")
    COMPONENT = "component", _("城市管理部件")
    OTHER = "other", _("其他")


class Department(models.Model):
    """A government department or public institution, or one of their internal units
    (科室) when ``parent`` is set."""

    code = models.SlugField(_("部门代码"), max_length=64, unique=True,
                            validators=[validate_slug])
    name = models.CharField(_("名称"), max_length=128)
    name_en = models.CharField(_("英文名称"), max_length=255, blank=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True,
                                   validators=[validate_credit_code_field])
    # The government the department belongs to (its level: city, district, street…).
    region = models.ForeignKey("regions.Region", verbose_name=_("所属行政区划"),
                               on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey("self", verbose_name=_("上级部门"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="units")
    kind = models.CharField(_("类型"), max_length=16, choices=DepartmentKind.choices,
                            default=DepartmentKind.GOVERNMENT)
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    description = models.TextField(_("简介"), blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["region_id", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"], condition=~Q(credit_code=""),
                name="orgs_department_credit_code_unique",
                violation_error_message=_("该统一社会信用代码已被其他部门使用"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # Keep the shard key of positions and memberships in step with the department.
        Position.objects.filter(department=self).exclude(region_code=self.region_id).update(
            region_code=self.region_id)
        Membership.objects.filter(department=self).exclude(region_code=self.region_id).update(
            region_code=self.region_id)

    def clean(self) -> None:
        seen, parent = {self.pk}, self.parent if self.parent_id else None
        while parent is not None:
            if parent.pk in seen:
                raise ValidationError({"parent": _("上级部门不能是本部门或其下级单位")})
            seen.add(parent.pk)
            parent = parent.parent
        if (self.parent_id and self.region_id and self.parent
                and not regions.covers(self.parent.region_id, self.region_id)):
            raise ValidationError({"region": _("下级单位的区划须在上级部门的区划之内")})


class Position(models.Model):
    """A post in a department: 局长, 科长, 审批员, 网格员…"""

    department = models.ForeignKey(Department, verbose_name=_("部门"), on_delete=models.PROTECT,
                                   related_name="positions")
    code = models.SlugField(_("岗位代码"), max_length=64)
    name = models.CharField(_("名称"), max_length=64)
    rank = models.CharField(_("职级"), max_length=32, blank=True)  # e.g. 正科级
    # Where the post comes in its department's list (head first); ``rank`` is a civil
    # service grade, free text that does not sort.
    sort_order = models.PositiveSmallIntegerField(
        _("排序"), null=True, blank=True,
        help_text=_("岗位在本部门中的显示顺序,小的在前;不填的排在最后。"),
    )
    region_code = models.CharField(_("区划代码"), max_length=12, db_index=True, editable=False)

    class Meta:
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")
        ordering = ["department_id", F("sort_order").asc(nulls_last=True), "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "code"], name="orgs_position_code_unique",
                violation_error_message=_("该部门已有相同代码的岗位"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.region_code = self.department.region_id
        super().save(*args, **kwargs)


class Membership(models.Model):
    """An official's appointment to a department (and position). An official may hold
    several; at most one open membership is primary. It counts on day D when
    ``started_on <= D`` and (no ``ended_on`` or ``D < ended_on``): ``ended_on`` is the
    first day the official no longer holds it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("人员"),
                             on_delete=models.PROTECT, related_name="org_memberships")
    department = models.ForeignKey(Department, verbose_name=_("部门"), on_delete=models.PROTECT,
                                   related_name="memberships")
    position = models.ForeignKey(Position, verbose_name=_("岗位"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="memberships")
    is_primary = models.BooleanField(_("主要任职"), default=False)
    started_on = models.DateField(_("任职日期"), default=timezone.localdate)
    ended_on = models.DateField(_("离任日期"), null=True, blank=True)
    region_code = models.CharField(_("区划代码"), max_length=12, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("任职")
        verbose_name_plural = _("任职")
        ordering = ["department_id", "started_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_primary=True, ended_on__isnull=True),
                name="orgs_membership_one_open_primary",
                violation_error_message=_("一人只能有一个未结束的主要任职"),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="orgs_membership_ends_after_start",
                violation_error_message=_("离任日期不能早于任职日期"),
            ),
        ]
        indexes = [models.Index(fields=["user", "ended_on"], name="orgs_membership_user")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.department}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.region_code = self.department.region_id
        super().save(*args, **kwargs)


class MatterCategory(models.Model):
    """A generic tree of categories of matters (事项) and events (事件): service matters,
    city-management components (部件) and events… later modules fill it."""

    code = models.CharField(_("类别代码"), max_length=64, unique=True,
                            validators=[validate_category_code])
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=128, blank=True)
    parent = models.ForeignKey("self", verbose_name=_("上级类别"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    kind = models.CharField(_("类型"), max_length=16, choices=CategoryKind.choices,
                            default=CategoryKind.OTHER)
    # Materialised path of codes from the root ("city/city.street_order/"), for ancestors.
    path = models.CharField(max_length=1000, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("事项类别")
        verbose_name_plural = _("事项类别")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        old_path = self.path
        parent_path = self.parent.path if self.parent_id and self.parent else ""
        self.path = f"{parent_path}{self.code}/"
        self.depth = self.path.count("/") - 1
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:  # moved: carry the subtree along
            MatterCategory.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                path=Concat(Value(self.path), Substr("path", len(old_path) + 1)),
                depth=F("depth") + (self.path.count("/") - old_path.count("/")),
            )

    def clean(self) -> None:
        if self.parent_id and self.pk and self.parent and self.path and (
                self.parent.path.startswith(self.path)):
            raise ValidationError({"parent": _("上级类别不能是本类别或其下级")})

    @property
    def lineage(self) -> list[str]:
        """Codes from the root down to this category (inclusive)."""
        return self.path.rstrip("/").split("/")


class Responsibility(models.Model):
    """Who answers for a category of matters in an area (职责分工): a department, or one
    position of it, for a region and everything below it. ``category`` None means every
    category. Valid from ``valid_from`` through ``valid_to`` inclusive."""

    department = models.ForeignKey(Department, verbose_name=_("部门"), on_delete=models.PROTECT,
                                   related_name="responsibilities")
    position = models.ForeignKey(Position, verbose_name=_("岗位"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="responsibilities")
    region = models.ForeignKey("regions.Region", verbose_name=_("负责区域"),
                               on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(MatterCategory, verbose_name=_("事项类别"), null=True,
                                 blank=True, on_delete=models.PROTECT,
                                 related_name="responsibilities")
    valid_from = models.DateField(_("生效日期"), default=timezone.localdate)
    valid_to = models.DateField(_("失效日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("职责分工")
        verbose_name_plural = _("职责分工")
        ordering = ["region_id", "department_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="orgs_responsibility_valid_range",
                violation_error_message=_("失效日期不能早于生效日期"),
            ),
        ]
        indexes = [models.Index(fields=["region", "category"], name="orgs_resp_region_cat")]

    def __str__(self) -> str:
        what = self.category.name if self.category is not None else _("全部事项")
        return f"{self.department} · {what} · {self.region_id}"
