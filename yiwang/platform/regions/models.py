"""The administrative tree (行政区划) and the grids (网格) below communities.

Private to the app: other apps use ``service.py``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yiwang.platform.regions import codes, geometry
from yiwang.platform.regions.codes import Level


class Region(models.Model):
    """One division of the administrative tree: province, city, district, street or
    community. Its primary key is the 12-digit division code, so every foreign key to a
    region stores the code itself (the shard key of regional tables)."""

    code = models.CharField(_("区划代码"), max_length=12, primary_key=True,
                            validators=[codes.validate_code])
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=128, blank=True)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices, db_index=True)
    parent = models.ForeignKey("self", verbose_name=_("上级区划"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    # Materialised path: the codes from the root down to this region, each followed by "/".
    # Descendants are the rows whose path starts with this one (an indexed prefix search).
    path = models.CharField(_("路径"), max_length=80, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("深度"), default=0, editable=False)
    geometry = models.JSONField(_("边界（GeoJSON）"), null=True, blank=True)
    min_lon = models.FloatField(null=True, blank=True, editable=False)
    min_lat = models.FloatField(null=True, blank=True, editable=False)
    max_lon = models.FloatField(null=True, blank=True, editable=False)
    max_lat = models.FloatField(null=True, blank=True, editable=False)
    centroid_lon = models.FloatField(_("中心经度"), null=True, blank=True, editable=False)
    centroid_lat = models.FloatField(_("中心纬度"), null=True, blank=True, editable=False)
    population = models.PositiveIntegerField(_("人口"), null=True, blank=True)
    # From the geometry (on the sphere) when there is one, else as given.
    area_km2 = models.FloatField(_("面积（平方公里）"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    # Columns computed by derive(), never entered.
    DERIVED_FIELDS: ClassVar[list[str]] = [
        "path", "depth", "min_lon", "min_lat", "max_lon", "max_lat", "centroid_lon",
        "centroid_lat",
    ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.derive()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Check the code's structure against the level and the parent, and the geometry."""
        errors: dict[str, list[ValidationError]] = {}
        try:
            level = codes.level_of(self.code)
        except ValidationError as exc:
            raise ValidationError({"code": exc.error_list}) from None
        if self.level and self.level != level:
            errors.setdefault("level", []).append(ValidationError(
                gettext("代码 %(code)s 表示%(expected)s级，与所填层级“%(level)s”不符"),
                code="level_mismatch",
                params={"code": self.code, "expected": Level(level).label,
                        "level": Level(self.level).label if self.level in Level.values
                        else self.level},
            ))
        if self.parent_id is not None:
            expected = codes.structural_parent(self.code)
            if self.parent_id != expected:
                errors.setdefault("parent", []).append(ValidationError(
                    gettext("代码 %(code)s 的上级区划应为 %(expected)s，而不是 %(parent)s"),
                    code="parent_mismatch",
                    params={"code": self.code, "expected": expected or "-",
                            "parent": self.parent_id},
                ))
        if self.geometry is not None:
            try:
                geometry.parse_geometry(self.geometry)
            except ValidationError as exc:
                errors.setdefault("geometry", []).extend(exc.error_list)
        if errors:
            raise ValidationError(errors)

    def derive(self, parent_path: str | None = None) -> None:
        """Fill the derived columns: level, path, depth, bounding box, centroid, area.

        ``parent_path`` spares a query when the caller knows it (bulk loads)."""
        self.level = self.level or codes.level_of(self.code)
        if self.parent_id is None:
            self.path = f"{self.code}/"
        else:
            if parent_path is None:
                parent_path = self.parent.path if self.parent else ""
            self.path = f"{parent_path}{self.code}/"
        self.depth = self.path.count("/") - 1
        if self.geometry is not None:
            figures = geometry.figures(geometry.parse_geometry(self.geometry))
            self.geometry = geometry.clean_geojson(self.geometry)
            self.min_lon, self.min_lat = figures.min_lon, figures.min_lat
            self.max_lon, self.max_lat = figures.max_lon, figures.max_lat
            self.centroid_lon, self.centroid_lat = figures.centroid_lon, figures.centroid_lat
            self.area_km2 = figures.area_km2
        else:
            self.min_lon = self.min_lat = self.max_lon = self.max_lat = None
            self.centroid_lon = self.centroid_lat = None

    @property
    def ancestor_codes(self) -> list[str]:
        """Codes from the root down to the parent."""
        return self.path.rstrip("/").split("/")[:-1]


class Grid(models.Model):
    """A grid cell (网格) of a community: the unit of grid management (网格化管理).

    Its code is the community code followed by a 3-digit number."""

    code = models.CharField(_("网格编码"), max_length=15, primary_key=True,
                            validators=[codes.validate_grid_code])
    name = models.CharField(_("名称"), max_length=64)
    community = models.ForeignKey(Region, verbose_name=_("所属社区"), on_delete=models.PROTECT,
                                  related_name="grids",
                                  limit_choices_to={"level": Level.COMMUNITY})
    # Shard keys (分片键): the county and street codes, taken from the grid code.
    district_code = models.CharField(_("区县代码"), max_length=12, db_index=True,
                                     editable=False)
    street_code = models.CharField(_("街道代码"), max_length=12, db_index=True, editable=False)
    geometry = models.JSONField(_("边界（GeoJSON）"))
    min_lon = models.FloatField(editable=False)
    min_lat = models.FloatField(editable=False)
    max_lon = models.FloatField(editable=False)
    max_lat = models.FloatField(editable=False)
    area_km2 = models.FloatField(_("面积（平方公里）"), editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["code"]
        indexes = [
            # Bounding-box prefilter of the database fallback of grid_at.
            models.Index(fields=["min_lon", "max_lon"], name="grid_bbox_lon"),
            models.Index(fields=["min_lat", "max_lat"], name="grid_bbox_lat"),
        ]

    DERIVED_FIELDS: ClassVar[list[str]] = [
        "district_code", "street_code", "min_lon", "min_lat", "max_lon", "max_lat", "area_km2",
    ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.derive()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Check the code against the community, and the geometry."""
        errors: dict[str, list[ValidationError]] = {}
        try:
            codes.check_grid_code(self.code)
        except ValidationError as exc:
            raise ValidationError({"code": exc.error_list}) from None
        if self.community_id is not None and self.community_id != self.code[:12]:
            errors["community"] = [ValidationError(
                gettext("网格编码 %(code)s 的前12位须为所属社区代码 %(community)s"),
                code="community_mismatch",
                params={"code": self.code, "community": self.community_id},
            )]
        try:
            geometry.parse_geometry(self.geometry)
        except ValidationError as exc:
            errors["geometry"] = exc.error_list
        if errors:
            raise ValidationError(errors)

    def derive(self) -> None:
        """Fill the derived columns: shard codes, bounding box, area."""
        self.community_id = self.community_id or self.code[:12]
        self.district_code = codes.truncate(self.code[:12], Level.DISTRICT)
        self.street_code = codes.truncate(self.code[:12], Level.STREET)
        figures = geometry.figures(geometry.parse_geometry(self.geometry))
        self.geometry = geometry.clean_geojson(self.geometry)
        self.min_lon, self.min_lat = figures.min_lon, figures.min_lat
        self.max_lon, self.max_lat = figures.max_lon, figures.max_lat
        self.area_km2 = figures.area_km2


class GridIndexVersion(models.Model):
    """One row whose token changes whenever grids change, so that every process knows when
    to rebuild its in-memory grid index. A random token (not a counter) cannot be reused
    after a rolled-back change."""

    key = models.CharField(max_length=16, primary_key=True)
    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("网格索引版本")
        verbose_name_plural = _("网格索引版本")

    def __str__(self) -> str:
        return f"{self.key}: {self.token}"
