"""The perception platform's tables: device types, devices and gateways, readings with their
roll-ups, alarm rules and alarms.

Timestamps of readings are integers: milliseconds since the Unix epoch, UTC (as MQTT
devices and ThingsBoard send them) — compact, fast to index and free of time-zone
conversion on the hot path. Everything a person reads (alarms, health) uses datetimes.
Tables of regional data carry the grid and district codes (shard keys, and what the
cockpit groups by).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

validate_code = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$",
    _("编码只能由字母、数字、点、下划线和连字符组成（以字母或数字开头，最长48位）"),
    code="invalid_code",
)
validate_metric = RegexValidator(
    r"^[a-z][a-z0-9_]{0,31}$",
    _("指标名只能由小写字母、数字和下划线组成（以字母开头，最长32位）"),
    code="invalid_metric",
)


class Severity(models.TextChoices):
    CRITICAL = "critical", _("紧急")
    MAJOR = "major", _("重要")
    MINOR = "minor", _("次要")
    WARNING = "warning", _("提示")


SEVERITY_RANK = {Severity.WARNING: 1, Severity.MINOR: 2, Severity.MAJOR: 3, Severity.CRITICAL: 4}


class RuleKind(models.TextChoices):
    THRESHOLD = "threshold", _("阈值")
    RATE = "rate", _("变化率")
    ABSENCE = "absence", _("无数据")


class Operator(models.TextChoices):
    GT = "gt", ">"
    GE = "ge", "≥"
    LT = "lt", "<"
    LE = "le", "≤"


class DeviceType(models.Model):
    """A kind of sensor (水位计, 井盖传感器, 空气质量监测仪…): what it measures, in what units and
    within what physical range (a value outside it is a faulty reading, not an event), and
    how often it reports."""

    code = models.CharField(_("类型编码"), max_length=48, unique=True, validators=[validate_code])
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=128, blank=True)
    # [{"key": "level", "name": "水位", "name_en": "Water level", "unit": "m",
    #   "min": -5, "max": 50}, …]
    metrics = models.JSONField(_("指标"), default=list)
    interval_seconds = models.PositiveIntegerField(_("上报间隔（秒）"), default=60)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("设备类型")
        verbose_name_plural = _("设备类型")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def metric(self, key: str) -> dict[str, Any] | None:
        """The declaration of metric ``key``, or None."""
        for item in self.metrics:
            if item.get("key") == key:
                return dict(item)
        return None


class Gateway(models.Model):
    """A gateway (物联网关 or a vendor platform) that posts readings for several devices with
    one credential; it may post only for the devices attached to it."""

    code = models.CharField(_("网关编码"), max_length=48, unique=True, validators=[validate_code])
    name = models.CharField(_("名称"), max_length=64)
    department_code = models.CharField(_("所属部门"), max_length=64, db_index=True)
    active = models.BooleanField(_("启用"), default=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)
    token_hint = models.CharField(_("凭证尾号"), max_length=8, blank=True, editable=False)
    last_seen_at = models.DateTimeField(_("最近上报"), null=True, blank=True)
    rejected_count = models.BigIntegerField(_("拒收条数"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("网关")
        verbose_name_plural = _("网关")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Device(models.Model):
    """A registered sensor at a fixed place, owned by a department, with its health: when
    it last reported, how many readings were accepted and rejected, and why."""

    code = models.CharField(_("设备编码"), max_length=48, unique=True, validators=[validate_code])
    name = models.CharField(_("名称"), max_length=64)
    type = models.ForeignKey(DeviceType, verbose_name=_("设备类型"), on_delete=models.PROTECT,
                             related_name="devices")
    gateway = models.ForeignKey(Gateway, verbose_name=_("网关"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="devices")
    department_code = models.CharField(_("权属部门"), max_length=64, db_index=True)
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    grid_code = models.CharField(_("所在网格"), max_length=15, db_index=True)
    community_code = models.CharField(_("所在社区"), max_length=12)
    street_code = models.CharField(_("所在街道"), max_length=12, db_index=True)
    district_code = models.CharField(_("所在区县"), max_length=12, db_index=True)
    address = models.CharField(_("安装位置"), max_length=128, blank=True)
    interval_seconds = models.PositiveIntegerField(
        _("上报间隔（秒）"), null=True, blank=True,
        help_text=_("为空时采用设备类型的上报间隔"))
    active = models.BooleanField(_("启用"), default=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)
    token_hint = models.CharField(_("凭证尾号"), max_length=8, blank=True, editable=False)
    # health (设备健康)
    last_ts = models.BigIntegerField(_("最新读数时间（毫秒）"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("最近上报"), null=True, blank=True)
    latest = models.JSONField(_("最新读数"), default=dict, blank=True)  # {metric: [ts, value]}
    accepted_count = models.BigIntegerField(_("接收条数"), default=0)
    rejected_count = models.BigIntegerField(_("拒收条数"), default=0)
    rejections = models.JSONField(_("拒收原因统计"), default=dict, blank=True)  # {code: n}
    last_rejection = models.CharField(_("最近拒收原因"), max_length=200, blank=True)
    last_rejected_at = models.DateTimeField(_("最近拒收时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("感知设备")
        verbose_name_plural = _("感知设备")
        ordering = ["code"]
        indexes = [models.Index(fields=["active", "last_seen_at"], name="perception_dev_seen")]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def interval(self) -> int:
        """Seconds between reports this device should keep."""
        return int(self.interval_seconds or self.type.interval_seconds)


class Reading(models.Model):
    """One data point: a metric of a device at a time (milliseconds since the epoch, UTC).
    A device cannot send two values of a metric for the same millisecond."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+",
                               db_constraint=False)
    metric = models.CharField(max_length=32)
    ts = models.BigIntegerField()
    value = models.FloatField()

    class Meta:
        verbose_name = _("读数")
        verbose_name_plural = _("读数")
        constraints = [models.UniqueConstraint(fields=["device", "metric", "ts"],
                                               name="perception_reading_unique")]
        indexes = [models.Index(fields=["ts"], name="perception_reading_ts")]

    def __str__(self) -> str:
        return f"{self.device_id}/{self.metric}@{self.ts}={self.value}"


class Period(models.TextChoices):
    HOUR = "h", _("小时")
    DAY = "d", _("天")


class Rollup(models.Model):
    """The downsampled series (降采样): count, sum, min, max and last value of a metric of a
    device per hour and per day (UTC buckets, start in milliseconds), kept after the raw
    readings are gone."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+",
                               db_constraint=False)
    metric = models.CharField(max_length=32)
    period = models.CharField(max_length=1, choices=Period.choices)
    bucket = models.BigIntegerField()
    count = models.IntegerField()
    total = models.FloatField()
    minimum = models.FloatField()
    maximum = models.FloatField()
    last_ts = models.BigIntegerField()
    last_value = models.FloatField()

    class Meta:
        verbose_name = _("读数汇总")
        verbose_name_plural = _("读数汇总")
        constraints = [models.UniqueConstraint(fields=["device", "metric", "period", "bucket"],
                                               name="perception_rollup_unique")]
        indexes = [models.Index(fields=["period", "bucket"], name="perception_rollup_bucket")]

    def __str__(self) -> str:
        return f"{self.device_id}/{self.metric}/{self.period}@{self.bucket}"


class Rule(models.Model):
    """An alarm rule (告警规则) on a metric of one device or of every device of a type.

    - threshold: the value compared with ``value`` by ``operator``; the alarm clears when the
      comparison with ``clear_value`` (default ``value``: no hysteresis) no longer holds;
    - rate: the change per ``seconds`` seconds between consecutive readings, compared with
      ``value`` (negative for a fall);
    - absence: no reading of the device for ``seconds`` seconds.
    """

    name = models.CharField(_("规则名称"), max_length=64)
    device = models.ForeignKey(Device, verbose_name=_("设备"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="rules")
    device_type = models.ForeignKey(DeviceType, verbose_name=_("设备类型"), null=True,
                                    blank=True, on_delete=models.CASCADE, related_name="rules")
    metric = models.CharField(_("指标"), max_length=32, blank=True, validators=[validate_metric])
    kind = models.CharField(_("规则类型"), max_length=16, choices=RuleKind.choices)
    operator = models.CharField(_("比较"), max_length=2, choices=Operator.choices,
                                default=Operator.GT)
    value = models.FloatField(_("阈值"), null=True, blank=True)
    clear_value = models.FloatField(_("恢复阈值"), null=True, blank=True)
    seconds = models.PositiveIntegerField(_("时间窗（秒）"), null=True, blank=True)
    severity = models.CharField(_("级别"), max_length=16, choices=Severity.choices,
                                default=Severity.MAJOR)
    # What the city side should open a case as (事件类别代码), empty: alarm only.
    category_code = models.CharField(_("立案类别"), max_length=64, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("告警规则")
        verbose_name_plural = _("告警规则")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(device__isnull=False, device_type__isnull=True)
                           | Q(device__isnull=True, device_type__isnull=False)),
                name="perception_rule_one_target",
                violation_error_message=_("规则须且只能针对一台设备或一种设备类型"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Alarm(models.Model):
    """An alarm (告警) raised by a rule on a device. While it is open (not cleared) the
    same rule on the same device updates it (count, last value) instead of raising another
    (de-duplication); it is acknowledged by a person and cleared automatically when the
    condition ends, or by a person."""

    device = models.ForeignKey(Device, verbose_name=_("设备"), on_delete=models.PROTECT,
                               related_name="alarms")
    rule = models.ForeignKey(Rule, verbose_name=_("规则"), null=True, on_delete=models.SET_NULL,
                             related_name="alarms")
    rule_name = models.CharField(_("规则名称"), max_length=64)
    kind = models.CharField(_("规则类型"), max_length=16, choices=RuleKind.choices)
    metric = models.CharField(_("指标"), max_length=32, blank=True)
    severity = models.CharField(_("级别"), max_length=16, choices=Severity.choices)
    message = models.CharField(_("告警内容"), max_length=255)
    value = models.FloatField(_("触发值"), null=True, blank=True)
    last_value = models.FloatField(_("最新值"), null=True, blank=True)
    count = models.PositiveIntegerField(_("触发次数"), default=1)
    # copied from the device (who sees it, where it is)
    department_code = models.CharField(_("权属部门"), max_length=64, db_index=True)
    grid_code = models.CharField(_("所在网格"), max_length=15)
    district_code = models.CharField(_("所在区县"), max_length=12, db_index=True)
    category_code = models.CharField(_("立案类别"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("开始时间"), db_index=True)
    last_at = models.DateTimeField(_("最近触发"))
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("确认人"),
                                        null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    cleared_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    cleared_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("手动清除人"),
                                   null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    # what the alarm handlers (the city side) made of it: "case:…" references
    handled_ref = models.CharField(_("处置关联"), max_length=64, blank=True)
    handler_error = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("告警")
        verbose_name_plural = _("告警")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["device", "rule"],
                                    condition=Q(cleared_at__isnull=True),
                                    name="perception_one_open_alarm"),
        ]
        indexes = [models.Index(fields=["cleared_at", "severity"], name="perception_alarm_open")]

    def __str__(self) -> str:
        return f"{self.rule_name} · {self.device_id}"

    @property
    def status(self) -> str:
        """ThingsBoard's four states: active/cleared × unacknowledged/acknowledged."""
        state = "cleared" if self.cleared_at else "active"
        return f"{state}_{'ack' if self.acknowledged_at else 'unack'}"


class Camera(models.Model):
    """A video source (视频源) at a place, with the zones of its view that are inspected: a
    no-stall zone (``static_object``) or a crowding zone (``crowding``), each with its
    polygon in image pixels, its settings and the case category its detections open."""

    code = models.CharField(_("摄像机编码"), max_length=48, unique=True,
                            validators=[validate_code])
    name = models.CharField(_("名称"), max_length=64)
    department_code = models.CharField(_("权属部门"), max_length=64, db_index=True)
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    grid_code = models.CharField(_("所在网格"), max_length=15, db_index=True)
    district_code = models.CharField(_("所在区县"), max_length=12, db_index=True)
    # rtsp://…, http://… (MJPEG) or a file path OpenCV can open
    stream_url = models.CharField(_("视频流地址"), max_length=500)
    # [{"name", "polygon": [[x, y], …], "detect": "static_object" | "crowding",
    #   "dwell_seconds", "min_area", "threshold", "category_code"}]
    zones = models.JSONField(_("识别区域"), default=list)
    active = models.BooleanField(_("启用"), default=True)
    last_frame_at = models.DateTimeField(_("最近分析"), null=True, blank=True)
    frames = models.BigIntegerField(_("已分析帧数"), default=0)
    # the latest still of the view (an encrypted upload token), kept by the video reader
    snapshot = models.CharField(_("最新画面"), max_length=64, blank=True)
    snapshot_at = models.DateTimeField(_("画面时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("视频源")
        verbose_name_plural = _("视频源")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class RollupMark(models.Model):
    """Where the roll-up job stands: the earliest hour bucket (ms) that received readings
    since it last ran (``dirty_from``), so late readings of a past hour are rolled up too."""

    key = models.CharField(max_length=16, primary_key=True)
    dirty_from = models.BigIntegerField(null=True)
    rolled_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("汇总进度")
        verbose_name_plural = _("汇总进度")

    def __str__(self) -> str:
        return f"{self.key}: {self.dirty_from}"


class RegistryVersion(models.Model):
    """One row whose token changes whenever devices, types, gateways or rules change, so
    that every ingesting process knows when to reload its in-memory registry."""

    key = models.CharField(max_length=16, primary_key=True)
    token = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("设备登记版本")
        verbose_name_plural = _("设备登记版本")

    def __str__(self) -> str:
        return f"{self.key}: {self.token}"
