"""Models of the social credit platform (社会信用): credit subjects, the administrative
licences and penalties of double publicity (双公示), red and black lists, objections (异议),
credit repair (信用修复) and the rules of the market-regulation risk classes.

A natural person's name and ID number are encrypted at rest; the publicity pages show them
masked (``name_masked``, ``code_masked``). Enterprises' names and credit codes are public
data. Other apps go through ``service.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto.fields import EncryptedTextField


class SubjectKind(models.TextChoices):
    LEGAL = "legal", _("法人及非法人组织")
    BUSINESS = "business", _("个体工商户")
    PERSON = "person", _("自然人")


class RiskClass(models.TextChoices):
    A = "A", _("A 类（低风险）")
    B = "B", _("B 类（一般风险）")
    C = "C", _("C 类（较高风险）")
    D = "D", _("D 类（高风险）")


class Subject(models.Model):
    """信用主体: an enterprise or organisation (by its unified social credit code) or a
    natural person (by a blind index of the ID number)."""

    key = models.CharField(max_length=64, unique=True)  # the credit code, or "P" + index
    kind = models.CharField(_("主体类别"), max_length=16, choices=SubjectKind.choices)
    name = EncryptedTextField(_("名称"), purpose="credit.subject_name")
    name_masked = models.CharField(_("名称（公示）"), max_length=128, db_index=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    id_number = EncryptedTextField(_("身份证件号码"), blank=True, purpose="credit.id_number")
    code_masked = models.CharField(_("代码（公示）"), max_length=32)
    region_code = models.CharField(_("行政区划"), max_length=12, blank=True)
    risk_class = models.CharField(_("风险分类"), max_length=1, choices=RiskClass.choices,
                                  blank=True, db_index=True)
    risk_facts = models.JSONField(_("分类依据"), default=dict, blank=True)
    risk_rules_version = models.PositiveIntegerField(null=True, blank=True)
    risk_at = models.DateTimeField(_("分类时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("信用主体")
        verbose_name_plural = _("信用主体")
        ordering = ["name_masked", "id"]

    def __str__(self) -> str:
        return self.name_masked

    @property
    def public_code(self) -> str:
        return self.credit_code or self.code_masked


class RecordKind(models.TextChoices):
    LICENSING = "licensing", _("行政许可")
    PENALTY = "penalty", _("行政处罚")


class Publication(models.TextChoices):
    PUBLISHED = "published", _("公示中")
    SUSPENDED = "suspended", _("异议处理中（暂停公示）")
    REPAIRED = "repaired", _("已信用修复（停止公示）")
    REVOKED = "revoked", _("已撤销")
    REMOVED = "removed", _("已移出")


class Severity(models.TextChoices):
    GENERAL = "general", _("一般失信行为")
    SERIOUS = "serious", _("严重失信行为")


class LicensingCategory(models.TextChoices):
    ORDINARY = "普通", _("普通")
    SPECIAL = "特许", _("特许")
    APPROVAL = "认可", _("认可")
    VERIFICATION = "核准", _("核准")
    REGISTRATION = "登记", _("登记")
    OTHER = "其他", _("其他")


class PenaltyCategory(models.TextChoices):
    WARNING = "警告", _("警告")
    CRITICISM = "通报批评", _("通报批评")
    FINE = "罚款", _("罚款")
    CONFISCATE_GAINS = "没收违法所得", _("没收违法所得")
    CONFISCATE_PROPERTY = "没收非法财物", _("没收非法财物")
    LICENCE = "暂扣或吊销许可证", _("暂扣许可证件、降低资质等级、吊销许可证件")
    RESTRICT = "限制开展生产经营活动", _("限制开展生产经营活动、责令停产停业、责令关闭、限制从业")
    DETENTION = "行政拘留", _("行政拘留")
    OTHER = "其他", _("其他")


class Record(models.Model):
    """A 双公示 record: an administrative licence or penalty decision, with the fields of the
    national data standard (行政许可、行政处罚信息数据标准). Published from its decision date
    until ``publish_until`` (a licence: while it is valid), unless an objection suspends it,
    repair ends it early, or the authority revokes it."""

    audit_writes = False  # the service records its own audit events

    kind = models.CharField(_("类别"), max_length=16, choices=RecordKind.choices)
    subject = models.ForeignKey(Subject, verbose_name=_("行政相对人"), on_delete=models.PROTECT,
                                related_name="records")
    representative = EncryptedTextField(_("法定代表人"), blank=True,
                                        purpose="credit.representative")
    doc_name = models.CharField(_("决定文书名称"), max_length=128)
    doc_no = models.CharField(_("决定文书号"), max_length=64)
    category = models.CharField(_("许可类别/处罚类别"), max_length=128)
    content = models.TextField(_("许可内容/处罚内容"))
    legal_basis = models.TextField(_("依据"))
    # licensing
    licence_name = models.CharField(_("许可证书名称"), max_length=128, blank=True)
    licence_no = models.CharField(_("许可编号"), max_length=128, blank=True)
    # penalty
    violation_type = models.CharField(_("违法行为类型"), max_length=128, blank=True)
    facts = models.TextField(_("违法事实"), blank=True)
    fine_wan = models.DecimalField(_("罚款金额（万元）"), max_digits=14, decimal_places=6,
                                   null=True, blank=True)
    confiscated_wan = models.DecimalField(_("没收违法所得、没收非法财物的金额（万元）"),
                                          max_digits=14, decimal_places=6, null=True,
                                          blank=True)
    revoked_licence = models.CharField(_("暂扣或吊销证照名称及编号"), max_length=200,
                                       blank=True)
    severity = models.CharField(_("失信程度"), max_length=16, choices=Severity.choices,
                                blank=True)
    decided_on = models.DateField(_("决定日期"))
    valid_from = models.DateField(_("有效期自"), null=True, blank=True)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    publish_until = models.DateField(_("公示截止期"), null=True, blank=True, db_index=True)
    authority_code = models.CharField(_("决定机关"), max_length=32, db_index=True)
    authority_name = models.CharField(_("决定机关名称"), max_length=128)
    authority_credit_code = models.CharField(_("决定机关统一社会信用代码"), max_length=18,
                                             blank=True)
    source_name = models.CharField(_("数据来源单位"), max_length=128)
    source_credit_code = models.CharField(_("数据来源单位统一社会信用代码"), max_length=18,
                                          blank=True)
    source_ref = models.CharField(_("业务关联"), max_length=64, blank=True)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    publication = models.CharField(_("公示状态"), max_length=16, choices=Publication.choices,
                                   default=Publication.PUBLISHED, db_index=True)
    publication_note = models.CharField(_("状态说明"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("归集时间"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    ledger_hash = models.CharField(max_length=64, blank=True)
    row_version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("双公示信息")
        verbose_name_plural = _("双公示信息")
        ordering = ["-decided_on", "-id"]
        permissions = [("publish_record", _("归集和撤销双公示信息")),
                       ("manage_list", _("认定和移出红黑名单")),
                       ("review_dispute", _("处理信用异议和信用修复")),
                       ("manage_risk_rules", _("维护风险分类规则")),
                       ("check_credit", _("信用核查"))]
        constraints = [models.UniqueConstraint(fields=["kind", "authority_code", "doc_no"],
                                               name="credit_record_one_decision")]
        indexes = [models.Index(fields=["publication", "kind", "-decided_on"],
                                name="credit_record_public_idx")]

    def __str__(self) -> str:
        return self.doc_no


class ListType(models.TextChoices):
    RED = "red", _("红名单（守信激励）")
    BLACK = "black", _("黑名单（严重失信主体名单）")


class ListEntry(models.Model):
    """A subject on a red or black list: by whose decision, on what legal basis, from when
    until when. Off publicity on its expiry date; removed by the daily job (or early, by an
    upheld objection, repair or revocation)."""

    audit_writes = False

    list_type = models.CharField(_("名单类型"), max_length=8, choices=ListType.choices)
    list_name = models.CharField(_("名单名称"), max_length=100)
    subject = models.ForeignKey(Subject, verbose_name=_("主体"), on_delete=models.PROTECT,
                                related_name="list_entries")
    reason = models.TextField(_("列入事由"))
    legal_basis = models.TextField(_("认定依据"))
    decision_no = models.CharField(_("认定文书号"), max_length=64)
    decided_on = models.DateField(_("认定日期"))
    authority_code = models.CharField(_("认定部门"), max_length=32, db_index=True)
    authority_name = models.CharField(_("认定部门名称"), max_length=128)
    measures = models.TextField(_("奖惩措施"), blank=True)
    publish_from = models.DateField(_("列入日期"))
    expires_on = models.DateField(_("移出日期"), db_index=True)
    repairable = models.BooleanField(_("可申请信用修复"), default=True)
    publication = models.CharField(_("公示状态"), max_length=16, choices=Publication.choices,
                                   default=Publication.PUBLISHED, db_index=True)
    removed_on = models.DateField(_("实际移出日期"), null=True, blank=True)
    publication_note = models.CharField(_("状态说明"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    ledger_hash = models.CharField(max_length=64, blank=True)
    row_version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("红黑名单")
        verbose_name_plural = _("红黑名单")
        ordering = ["-publish_from", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["authority_code", "decision_no", "subject"],
                                    name="credit_list_one_decision"),
            models.CheckConstraint(condition=Q(expires_on__gt=models.F("publish_from")),
                                   name="credit_list_expires_after_listing"),
        ]

    def __str__(self) -> str:
        return f"{self.list_name}: {self.subject}"


class DisputeKind(models.TextChoices):
    OBJECTION = "objection", _("信用异议")
    REPAIR = "repair", _("信用修复")


class DisputeState(models.TextChoices):
    PENDING = "pending", _("待处理")
    UPHELD = "upheld", _("异议成立 / 准予修复")
    DISMISSED = "dismissed", _("异议不成立 / 不予修复")


class Dispute(models.Model):
    """An objection (异议: the subject says a record is wrong; publication is suspended
    until it is decided) or an application for credit repair (信用修复: the subject has put
    things right; publicity ends early when it is granted), about one record or list entry."""

    audit_writes = False

    kind = models.CharField(_("类型"), max_length=16, choices=DisputeKind.choices)
    number = models.CharField(_("编号"), max_length=24, unique=True)
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="disputes")
    record = models.ForeignKey(Record, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="disputes")
    entry = models.ForeignKey(ListEntry, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="disputes")
    authority_code = models.CharField(_("处理部门"), max_length=32, db_index=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    statement = EncryptedTextField(_("理由"), purpose="credit.dispute")
    corrections = EncryptedTextField(_("整改情况"), blank=True, purpose="credit.dispute")
    commitment = models.BooleanField(_("已作出信用承诺"), default=False)
    state = models.CharField(_("状态"), max_length=16, choices=DisputeState.choices,
                             default=DisputeState.PENDING, db_index=True)
    filed_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    due_at = models.DateTimeField(_("办理期限"))
    decided_at = models.DateTimeField(_("办理时间"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decision_note = models.TextField(_("办理意见"), blank=True)
    row_version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("信用异议与修复")
        verbose_name_plural = _("信用异议与修复")
        ordering = ["-filed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(record__isnull=False, entry__isnull=True)
                           | Q(record__isnull=True, entry__isnull=False)),
                name="credit_dispute_one_target"),
            # one pending dispute of a kind per target
            models.UniqueConstraint(fields=["kind", "record"],
                                    condition=Q(state="pending", record__isnull=False),
                                    name="credit_dispute_one_pending_record"),
            models.UniqueConstraint(fields=["kind", "entry"],
                                    condition=Q(state="pending", entry__isnull=False),
                                    name="credit_dispute_one_pending_entry"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def target(self) -> Record | ListEntry:
        found = self.record or self.entry
        assert found is not None
        return found


class RiskRules(models.Model):
    """One version of the rules of the risk classes (A/B/C/D): ``rules`` is a list of
    ``{"class": "D", "when": <JSON Logic over the subject's facts>, "label": "..."}``,
    tried in order; a subject no rule matches is ``default_class``."""

    version = models.PositiveIntegerField(unique=True)
    rules = models.JSONField(_("规则"))
    default_class = models.CharField(_("默认分类"), max_length=1, choices=RiskClass.choices,
                                     default=RiskClass.A)
    note = models.CharField(_("修订说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("风险分类规则")
        verbose_name_plural = _("风险分类规则")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"
