"""The GIS platform's own layers (图层): city components (部件: manholes, street lights,
bins, hydrants…) and points of interest (学校, 医院, 公园…), each feature with its
geometry, a bounding box for the spatial index, and its place on the grid. Regions and
grids are layers too, kept by the regions app."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

validate_code = RegexValidator(r"^[a-z][a-z0-9_-]{0,47}$",
                               _("编码只能由小写字母、数字、下划线和连字符组成（以字母开头）"),
                               code="invalid_code")


class LayerKind(models.TextChoices):
    COMPONENT = "component", _("城市部件")
    POI = "poi", _("兴趣点")
    OTHER = "other", _("其他")


class Layer(models.Model):
    """A layer of features of one kind (a component class or a kind of POI)."""

    code = models.CharField(_("图层编码"), max_length=48, unique=True, validators=[validate_code])
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=128, blank=True)
    kind = models.CharField(_("类型"), max_length=16, choices=LayerKind.choices)
    description = models.CharField(_("说明"), max_length=255, blank=True)
    # for components: the case category a problem with one of them is filed under
    category_code = models.CharField(_("对应案卷类别"), max_length=64, blank=True)
    department_code = models.CharField(_("权属部门"), max_length=64, blank=True)
    public = models.BooleanField(_("对外公开"), default=True)
    style = models.JSONField(_("样式"), default=dict, blank=True)  # {"color": "#…", "icon": …}
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("图层")
        verbose_name_plural = _("图层")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class Feature(models.Model):
    """One feature of a layer: a GeoJSON geometry (Point, LineString or Polygon and their
    Multi- forms, WGS84), its bounding box (the spatial index: two composite indexes, as
    for grids), a representative point, and the grid it lies in."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="features")
    code = models.CharField(_("编码"), max_length=64)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    properties = models.JSONField(_("属性"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=16, blank=True)
    geometry = models.JSONField(_("几何（GeoJSON）"))
    lon = models.FloatField(editable=False)
    lat = models.FloatField(editable=False)
    min_lon = models.FloatField(editable=False)
    min_lat = models.FloatField(editable=False)
    max_lon = models.FloatField(editable=False)
    max_lat = models.FloatField(editable=False)
    grid_code = models.CharField(_("所在网格"), max_length=15, blank=True, db_index=True)
    district_code = models.CharField(_("所在区县"), max_length=12, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("要素")
        verbose_name_plural = _("要素")
        ordering = ["layer_id", "code"]
        constraints = [models.UniqueConstraint(fields=["layer", "code"],
                                               name="gis_feature_code_unique")]
        indexes = [
            models.Index(fields=["layer", "min_lon", "max_lon"], name="gis_feature_lon"),
            models.Index(fields=["layer", "min_lat", "max_lat"], name="gis_feature_lat"),
        ]

    def __str__(self) -> str:
        return f"{self.layer_id}/{self.code}"
