"""City-management cases (案卷) following the digital city-management method (数字化城市管理,
万米单元网格): categories of components (部件) and events (事件) with their filing condition,
time limit, closing condition and responsible unit; cases with their place on the grid,
their state, deadline and timeline; who answers for which grid.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto.fields import EncryptedTextField


class CategoryKind(models.TextChoices):
    COMPONENT = "component", _("部件")
    EVENT = "event", _("事件")


class LimitUnit(models.TextChoices):
    WORKING_HOURS = "wh", _("工作时")
    WORKING_DAYS = "wd", _("工作日")


class CaseCategory(models.Model):
    """A row of the category table (案卷类别): a major class (大类, no parent) or a minor
    class (小类) under it, with what it takes to file and close a case of it, its time
    limit and the unit that answers for it by default (a grid-specific answer comes from
    the organisation's responsibilities for the category's code)."""

    code = models.CharField(_("类别代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=128, blank=True)
    kind = models.CharField(_("部件/事件"), max_length=16, choices=CategoryKind.choices)
    parent = models.ForeignKey("self", verbose_name=_("大类"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    filing_condition = models.CharField(_("立案条件"), max_length=255, blank=True)
    closing_condition = models.CharField(_("结案条件"), max_length=255, blank=True)
    time_limit = models.PositiveIntegerField(_("处置时限"), default=3)
    limit_unit = models.CharField(_("时限单位"), max_length=2, choices=LimitUnit.choices,
                                  default=LimitUnit.WORKING_DAYS)
    department_code = models.CharField(_("默认责任单位"), max_length=64, blank=True)
    # Open311 service-definition attributes: [{"code", "description", "datatype",
    # "required", "values": [{"key", "name"}]}] — what a report of this kind must say
    attributes = models.JSONField(_("附加信息项"), default=list, blank=True)
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    urgent = models.BooleanField(_("紧急"), default=False)
    active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("案卷类别")
        verbose_name_plural = _("案卷类别")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def limit_label(self) -> str:
        return f"{self.time_limit}{self.get_limit_unit_display()}"


class Source(models.TextChoices):
    CITIZEN = "citizen", _("市民上报")
    OPEN311 = "open311", _("Open311 接口")
    INSPECTOR = "inspector", _("监督员巡查")
    IOT = "iot", _("物联感知")
    AI = "ai", _("视频智能识别")
    HOTLINE = "hotline", _("12345 热线")


class State(models.TextChoices):
    REPORTED = "reported", _("待受理")
    FILED = "filed", _("已立案")
    DISPATCHED = "dispatched", _("已派遣")
    HANDLING = "handling", _("处置中")
    RETURNED = "returned", _("已退回")
    HANDLED = "handled", _("已处置")
    CLOSED = "closed", _("已结案")
    NOT_FILED = "not_filed", _("不予立案")
    DUPLICATE = "duplicate", _("重复上报")


OPEN_STATES = (State.REPORTED, State.FILED, State.DISPATCHED, State.HANDLING, State.RETURNED,
               State.HANDLED)
#: States in which the handling clock runs (dispatched, not yet reported handled).
CLOCK_STATES = (State.DISPATCHED, State.HANDLING)


class Case(models.Model):
    """A city-management case: what, where (on the grid), from whom, in what state, with
    which unit and person, by when."""

    number = models.CharField(_("案卷编号"), max_length=24, unique=True)
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("问题描述"), max_length=2000, blank=True)
    category = models.ForeignKey(CaseCategory, verbose_name=_("类别"), on_delete=models.PROTECT,
                                 related_name="cases")
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices,
                             default=State.REPORTED)
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    grid_code = models.CharField(_("网格"), max_length=15, db_index=True)
    community_code = models.CharField(_("社区"), max_length=12)
    street_code = models.CharField(_("街道"), max_length=12, db_index=True)
    district_code = models.CharField(_("区县"), max_length=12, db_index=True)
    # who reported
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上报人"), null=True,
                                 blank=True, on_delete=models.PROTECT, related_name="+")
    reporter_name = EncryptedTextField(_("上报人姓名"), blank=True,
                                       purpose="city.case.reporter_name")
    reporter_phone = EncryptedTextField(_("上报人电话"), blank=True,
                                        purpose="city.case.reporter_phone")
    external_ref = models.CharField(_("来源关联"), max_length=64, blank=True, db_index=True)
    attributes = models.JSONField(_("附加信息"), default=dict, blank=True)
    duplicate_of = models.ForeignKey("self", verbose_name=_("重复于"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="duplicates")
    # who answers
    department_code = models.CharField(_("责任单位"), max_length=64, blank=True, db_index=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("处置人"), null=True,
                                 blank=True, on_delete=models.PROTECT, related_name="+")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("核查监督员"),
                                  null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    # clock
    reported_at = models.DateTimeField(_("上报时间"), db_index=True)
    filed_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("处置期限"), null=True, blank=True, db_index=True)
    handled_at = models.DateTimeField(_("处置完成时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True, db_index=True)
    # 12345 calls: what the caller was told (答复), before the call-back (回访)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    reply = models.TextField(_("答复内容"), blank=True)
    warned_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("超期时间"), null=True, blank=True)
    closed_on_time = models.BooleanField(_("按期结案"), null=True, blank=True)
    return_count = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    rework_count = models.PositiveSmallIntegerField(_("返工次数"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("延期次数"), default=0)
    duplicate_count = models.PositiveIntegerField(_("重复上报数"), default=0)
    # outcome
    outcome = models.CharField(_("处理结果"), max_length=500, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    evaluation = models.CharField(_("评价"), max_length=500, blank=True)
    row_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("案卷")
        verbose_name_plural = _("案卷")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["state", "category", "lon"], name="city_case_nearby"),
            models.Index(fields=["department_code", "state"], name="city_case_dept_state"),
            models.Index(fields=["district_code", "reported_at"], name="city_case_district"),
            models.Index(fields=["state", "district_code", "street_code", "due_at"],
                         name="city_case_state_area"),
        ]
        permissions = [
            ("dispatch_case", _("受理、立案、派遣案卷（指挥中心）")),
            ("verify_case", _("核查结案（监督员）")),
            ("take_calls", _("热线受理与回访（12345 话务员）")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="city_case_satisfaction_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class CaseEvent(models.Model):
    """One step of a case's timeline: who did what, when, with a note and photos."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("动作"), max_length=32)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(_("操作人"), max_length=64)
    department_code = models.CharField(_("部门"), max_length=64, blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    photos = models.JSONField(_("照片"), default=list, blank=True)  # upload tokens
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    at = models.DateTimeField(_("时间"))
    ledger_index = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("案卷环节")
        verbose_name_plural = _("案卷环节")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"


class DutyRole(models.TextChoices):
    HANDLER = "handler", _("处置责任人")
    INSPECTOR = "inspector", _("网格监督员")


class GridDuty(models.Model):
    """Who answers for a grid (网格责任人): the department's person who handles its cases,
    or the inspector (监督员) who patrols it and verifies them."""

    grid_code = models.CharField(_("网格"), max_length=15, db_index=True)
    department_code = models.CharField(_("部门"), max_length=64, blank=True)
    role = models.CharField(_("职责"), max_length=16, choices=DutyRole.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("人员"),
                             on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("网格责任")
        verbose_name_plural = _("网格责任")
        constraints = [models.UniqueConstraint(fields=["grid_code", "department_code", "role",
                                                       "user"], name="city_duty_unique")]

    def __str__(self) -> str:
        return f"{self.grid_code} {self.role} {self.user_id}"


class Open311Client(models.Model):
    """A third-party application allowed to create requests through the Open311 API (its
    ``api_key``; only the key's SHA-256 is stored)."""

    name = models.CharField(_("应用名称"), max_length=64)
    contact = models.CharField(_("联系人"), max_length=64, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_hint = models.CharField(_("密钥尾号"), max_length=8, editable=False)
    active = models.BooleanField(_("启用"), default=True)
    requests_per_minute = models.PositiveIntegerField(_("每分钟请求上限"), default=60)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 应用")
        verbose_name_plural = _("Open311 应用")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CaseStat(models.Model):
    """Counts of case events per local day, region (the case's community, street, district
    and city: one row each) and dimension — the cockpit's indicators read these few rows
    instead of counting cases.
    ``dimension`` is ``total`` (key ""), ``category`` (minor class code),
    ``major`` (major class code), ``source``, ``department`` or ``hotspot`` (key
    ``community code|minor class code``: the places and kinds of high-frequency events)."""

    day = models.DateField()
    region_code = models.CharField(max_length=12)
    dimension = models.CharField(max_length=16)
    key = models.CharField(max_length=100, blank=True)
    reported = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    filed = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    reworked = models.PositiveIntegerField(default=0)
    extended = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    evaluations = models.PositiveIntegerField(default=0)
    satisfaction_sum = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("案卷统计")
        verbose_name_plural = _("案卷统计")
        permissions = [("view_cockpit", _("查看数字驾驶舱"))]
        # region, dimension, then the day range: a cockpit query reads one slice of days
        constraints = [models.UniqueConstraint(fields=["region_code", "dimension", "day", "key"],
                                               name="city_stat_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.region_code} {self.dimension}:{self.key}"


class CaseSequence(models.Model):
    """The serial of case numbers per district and day."""

    district_code = models.CharField(max_length=12)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district_code", "day"],
                                               name="city_case_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.district_code} {self.day}: {self.last}"


class StatsVersion(models.Model):
    """How many times statistics rows of a past day changed (a late event, a simulation at
    past times, a rebuild): the cockpit keeps the sums of past days in a cache under this
    version, so such a change is seen at once and nothing else recomputes them."""

    key = models.CharField(max_length=16, primary_key=True)
    version = models.BigIntegerField(default=0)
    # random per database: a cache shared by several databases (tests) never mixes them up
    epoch = models.CharField(max_length=16)

    def __str__(self) -> str:
        return f"{self.key} {self.epoch}.{self.version}"
