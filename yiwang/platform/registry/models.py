"""Base registries (基础库): the population (人口库) and legal entities (法人库).

Issue 3's identity service checks real-name registrations against this population
registry (a plugin with this local implementation, filled by the demo city). Personal data
is encrypted at rest; lookups by ID number or phone go through blind indexes.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto.fields import EncryptedTextField


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Person(models.Model):
    """A natural person in the population registry (自然人)."""

    name = models.CharField(_("姓名"), max_length=64, db_index=True)
    id_number = EncryptedTextField(_("公民身份号码"))
    id_number_index = models.CharField(max_length=64, unique=True, editable=False)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_year = models.PositiveSmallIntegerField(_("出生年份"))
    phone = EncryptedTextField(_("手机号码"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    address = EncryptedTextField(_("住址"), blank=True)
    region_code = models.CharField(_("所在社区"), max_length=12, db_index=True)
    grid_code = models.CharField(_("所在网格"), max_length=15, blank=True, db_index=True)
    synthetic = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("自然人")
        verbose_name_plural = _("自然人")
        ordering = ("region_code", "id")

    def __str__(self) -> str:
        return self.name


class EnterpriseStatus(models.TextChoices):
    ACTIVE = "active", _("存续")
    CANCELLED = "cancelled", _("注销")
    REVOKED = "revoked", _("吊销")


class Enterprise(models.Model):
    """A legal person (法人) identified by its unified social credit code."""

    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=128, db_index=True)
    kind = models.CharField(_("类型"), max_length=32)
    industry = models.CharField(_("行业"), max_length=32, blank=True)
    legal_representative = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="represented", verbose_name=_("法定代表人")
    )
    registered_capital = models.DecimalField(_("注册资本（万元）"), max_digits=14, decimal_places=2,
                                             null=True, blank=True)
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    address = models.CharField(_("住所"), max_length=200, blank=True)
    region_code = models.CharField(_("所在区域"), max_length=12, db_index=True)
    status = models.CharField(_("状态"), max_length=16, choices=EnterpriseStatus.choices,
                              default=EnterpriseStatus.ACTIVE)
    synthetic = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("法人")
        verbose_name_plural = _("法人")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class IdentifierSequence(models.Model):
    """The last serial handed out in one scope of newly allocated identifiers (a county's
    credit codes of one organisation type, a county's ID numbers of one birth date and sex).
    Incremented with a conditional ``UPDATE … SET last = last + 1``: two allocations at once
    never get one serial."""

    scope = models.CharField(max_length=40, unique=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("编码序号")
        verbose_name_plural = _("编码序号")

    def __str__(self) -> str:
        return f"{self.scope}: {self.last}"


class Registration(models.Model):
    """What a registration made (a new market entity, a newborn), by the key of the act that
    made it (e.g. ``application:<receipt number>``): asking again with the same key returns
    the same record instead of registering a second one."""

    key = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=32)
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("登记记录")
        verbose_name_plural = _("登记记录")

    def __str__(self) -> str:
        return self.key


class GuardianKind(models.TextChoices):
    PARENT = "parent", _("父母")
    OTHER = "other", _("其他法定监护人")


class Guardianship(models.Model):
    """A guardian (监护人) of a ward (被监护人), on a basis (依据: 出生登记 and the receipt
    number, a court's decision …), from ``starts_on`` until the day before ``ends_on`` (the
    ward's 18th birthday for a minor), or until ended early (``ended_on``). At most one
    unended record per guardian and ward."""

    guardian = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="wardships",
                                 verbose_name=_("监护人"))
    ward = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="guardianships",
                             verbose_name=_("被监护人"))
    kind = models.CharField(_("监护类型"), max_length=16, choices=GuardianKind.choices)
    basis = models.CharField(_("监护依据"), max_length=64)
    reference = models.CharField(_("依据编号"), max_length=64, blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("终止日期"))
    ended_on = models.DateField(_("提前终止日期"), null=True, blank=True)
    end_reason = models.CharField(_("终止原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("监护关系")
        verbose_name_plural = _("监护关系")
        ordering = ("ward_id", "id")
        constraints = [
            models.UniqueConstraint(fields=["guardian", "ward"],
                                    condition=models.Q(ended_on__isnull=True),
                                    name="registry_one_open_guardianship"),
        ]

    def __str__(self) -> str:
        return f"guardianship {self.pk}"
