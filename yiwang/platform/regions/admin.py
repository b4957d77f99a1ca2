from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from yiwang.platform.regions.models import Grid, Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "level", "parent", "population", "area_km2")
    list_filter = ("level",)
    search_fields = ("code", "name", "name_en")
    raw_id_fields = ("parent",)
    readonly_fields = ("path", "depth", "min_lon", "min_lat", "max_lon", "max_lat",
                       "centroid_lon", "centroid_lat", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("code", "name", "name_en", "level", "parent", "population",
                           "area_km2")}),
        (_("边界"), {"fields": ("geometry", "min_lon", "min_lat", "max_lon", "max_lat",
                                "centroid_lon", "centroid_lat")}),
        (_("系统"), {"fields": ("path", "depth", "created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # The code is the primary key: a changed code is a new region.
        fields = super().get_readonly_fields(request, obj)
        return ("code", *fields) if obj is not None else fields


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "community", "street_code", "district_code", "area_km2",
                    "updated_at")
    list_filter = ("district_code", "street_code")
    search_fields = ("code", "name", "community__name")
    list_select_related = ("community",)
    raw_id_fields = ("community",)
    readonly_fields = ("district_code", "street_code", "min_lon", "min_lat", "max_lon",
                       "max_lat", "area_km2", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        fields = super().get_readonly_fields(request, obj)
        return ("code", *fields) if obj is not None else fields
