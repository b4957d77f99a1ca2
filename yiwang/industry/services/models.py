"""Models of the services app (政务服务事项目录): life events, matters with their service
guide (办事指南), service versions and bundles (一件事一次办).

Other apps go through ``service.py``. A matter's guide is what the public reads; a
``ServiceVersion`` is what an application runs on (form, approval flow, fees, the licence it
issues). A version is immutable once published: an application keeps a foreign key to the
version it was submitted under, so a later version never changes a running case.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Audience(models.TextChoices):
    """服务对象: natural persons (个人) or legal persons and other organisations (法人)."""

    PERSON = "person", _("个人")
    LEGAL = "legal", _("法人")


class MatterKind(models.TextChoices):
    """事项类型 (the national catalogue's ten kinds of 行政权力 plus 公共服务)."""

    LICENSING = "licensing", _("行政许可")
    CONFIRMATION = "confirmation", _("行政确认")
    PAYMENT = "payment", _("行政给付")
    ADJUDICATION = "adjudication", _("行政裁决")
    REWARD = "reward", _("行政奖励")
    OTHER_POWER = "other_power", _("其他行政权力")
    PUBLIC_SERVICE = "public_service", _("公共服务")


class OnlineLevel(models.IntegerChoices):
    """网上办理深度: how far a matter can be handled online."""

    NONE = 0, _("不可网办")
    INFO = 1, _("网上咨询")
    APPOINTMENT = 2, _("网上预约")
    ONE_VISIT = 3, _("最多跑一次")
    FULL = 4, _("全程网办")


class LifeEvent(models.Model):  # 主题/生命周期事件: 出生、上学、就业… / 开办、变更、注销…
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    name_en = models.CharField(_("英文名称"), max_length=80, blank=True)
    audience = models.CharField(_("服务对象"), max_length=8, choices=Audience.choices)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["audience", "order", "code"]
        verbose_name = _("主题")
        verbose_name_plural = _("主题")

    def __str__(self) -> str:
        return self.name


class Matter(models.Model):  # 政务服务事项 with its 办事指南
    """A service matter and its guide.

    ``materials`` is ``[{"code", "name", "name_en", "required", "source" (来源渠道),
    "form" ("paper"/"electronic"/"both"), "copies", "licence_types" [licence type codes that
    replace it — 免提交], "form_key" (the file component of the form that collects it),
    "note"}]``; ``process`` is ``[{"name", "description"}]``; ``channels`` is
    ``[{"kind": "online"|"window"|"mobile", "name", "address", "hours"}]``; ``faq`` is
    ``[{"q", "a"}]``; ``legal_basis`` is ``[{"title", "article"}]`` (设定依据).
    """

    code = models.CharField(_("事项编码"), max_length=40, unique=True)
    name = models.CharField(_("事项名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    kind = models.CharField(_("事项类型"), max_length=16, choices=MatterKind.choices,
                            default=MatterKind.PUBLIC_SERVICE)
    department_code = models.CharField(_("实施主体"), max_length=40, db_index=True)
    audience = models.CharField(_("服务对象"), max_length=8, choices=Audience.choices)
    life_events = models.ManyToManyField(LifeEvent, blank=True, related_name="matters",
                                         verbose_name=_("主题"))
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    online_level = models.PositiveSmallIntegerField(_("网上办理深度"), choices=OnlineLevel.choices,
                                                    default=OnlineLevel.NONE)
    summary = models.TextField(_("事项简介"), blank=True)
    summary_en = models.TextField(_("英文简介"), blank=True)
    # 办事指南
    legal_basis = models.JSONField(_("设定依据"), default=list, blank=True)
    conditions = models.TextField(_("受理条件"), blank=True)
    materials = models.JSONField(_("申请材料"), default=list, blank=True)
    process = models.JSONField(_("办理流程"), default=list, blank=True)
    fee_description = models.TextField(_("收费标准"), blank=True)
    statutory_days = models.PositiveSmallIntegerField(_("法定办结时限(工作日)"), null=True,
                                                      blank=True)
    promised_days = models.PositiveSmallIntegerField(_("承诺办结时限(工作日)"), null=True,
                                                     blank=True)
    visits = models.PositiveSmallIntegerField(_("到现场次数"), default=0)
    channels = models.JSONField(_("办理地点和渠道"), default=list, blank=True)
    consult_phone = models.CharField(_("咨询电话"), max_length=40, blank=True)
    complaint_phone = models.CharField(_("监督投诉电话"), max_length=40, blank=True)
    faq = models.JSONField(_("常见问题"), default=list, blank=True)
    published = models.BooleanField(_("已发布"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("政务服务事项")
        verbose_name_plural = _("政务服务事项")
        permissions = [("publish_matter", _("发布和撤下政务服务事项"))]
        indexes = [models.Index(fields=["published", "audience"])]

    def __str__(self) -> str:
        return self.name


class VersionState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已停用")


class ServiceVersion(models.Model):  # 服务版本
    """What an application of ``matter`` runs on. Editable while a draft; frozen once
    published (``service.save_draft`` refuses anything else), retired when a newer one is
    published or the matter is withdrawn.

    ``fee_table`` is ``{"hit_policy": "FIRST"|"COLLECT", "rows": [{"when": <JSON Logic>,
    "item", "item_en", "amount_fen"}]}`` (no rows = free); ``licence`` is ``{}`` or
    ``{"type": <licence type code>, "map": {<licence field>: <form key or JSON Logic>}}``.
    """

    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    state = models.CharField(_("状态"), max_length=10, choices=VersionState.choices,
                             default=VersionState.DRAFT)
    form = models.JSONField(_("表单"), default=dict, blank=True)
    flow_spec = models.JSONField(_("审批流程"), default=dict, blank=True)
    bpmn = models.TextField(_("BPMN"), blank=True)
    fee_table = models.JSONField(_("收费决策表"), default=dict, blank=True)
    licence = models.JSONField(_("证照模板映射"), default=dict, blank=True)
    note = models.CharField(_("版本说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["matter", "-number"]
        verbose_name = _("服务版本")
        verbose_name_plural = _("服务版本")
        constraints = [
            models.UniqueConstraint(fields=["matter", "number"], name="services_version_number"),
            models.UniqueConstraint(fields=["matter"], condition=models.Q(state="published"),
                                    name="services_one_published_version"),
        ]

    def __str__(self) -> str:
        return f"{self.matter.code} v{self.number}"


class Bundle(models.Model):  # 一件事一次办
    """A bundle of matters applied for at once with one form.

    ``members`` is ``[{"matter": <code>, "map": {<member form key>: <bundle form key or
    JSON Logic>}}]``; ``shared_materials`` lists the material codes collected once for every
    member. Editing changes the draft fields; ``publish`` copies them into ``snapshot`` with
    the member versions of that moment, which is what applications use.
    """

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    life_event = models.ForeignKey(LifeEvent, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="bundles", verbose_name=_("主题"))
    department_code = models.CharField(_("牵头部门"), max_length=40)
    audience = models.CharField(_("服务对象"), max_length=8, choices=Audience.choices,
                                default=Audience.PERSON)
    summary = models.TextField(_("简介"), blank=True)
    summary_en = models.TextField(_("英文简介"), blank=True)
    form = models.JSONField(_("表单"), default=dict, blank=True)
    members = models.JSONField(_("成员事项"), default=list)
    shared_materials = models.JSONField(_("共享材料"), default=list, blank=True)
    promised_days = models.PositiveSmallIntegerField(_("承诺办结时限(工作日)"), null=True,
                                                     blank=True)
    published = models.BooleanField(_("已发布"), default=False)
    snapshot = models.JSONField(_("发布快照"), default=dict, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("一件事")
        verbose_name_plural = _("一件事")

    def __str__(self) -> str:
        return self.name
