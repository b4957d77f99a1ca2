from __future__ import annotations

from django.contrib import admin

from yiwang.platform.orgs.models import (
    Department,
    MatterCategory,
    Membership,
    Position,
    Responsibility,
)


class PositionInline(admin.TabularInline):
    model = Position
    extra = 0
    fields = ("sort_order", "code", "name", "rank")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "region", "parent", "credit_code", "phone", "active")
    list_filter = ("kind", "active", "region__level")
    search_fields = ("code", "name", "name_en", "credit_code")
    list_select_related = ("region", "parent")
    raw_id_fields = ("region", "parent")
    inlines = [PositionInline]


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "department", "rank", "sort_order", "region_code")
    list_filter = ("department",)
    search_fields = ("code", "name", "department__name")
    list_select_related = ("department",)
    raw_id_fields = ("department",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "department", "position", "is_primary", "started_on", "ended_on")
    list_filter = ("is_primary", "department", ("ended_on", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "department__name", "position__name")
    list_select_related = ("user", "department", "position")
    raw_id_fields = ("user", "department", "position")
    date_hierarchy = "started_on"


@admin.register(MatterCategory)
class MatterCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "depth")
    list_filter = ("kind", "depth")
    search_fields = ("code", "name", "name_en")
    list_select_related = ("parent",)
    raw_id_fields = ("parent",)


@admin.register(Responsibility)
class ResponsibilityAdmin(admin.ModelAdmin):
    list_display = ("department", "position", "region", "category", "valid_from", "valid_to")
    list_filter = ("department", "category__kind", ("valid_to", admin.EmptyFieldListFilter))
    search_fields = ("department__name", "region__name", "region__code", "category__name",
                     "note")
    list_select_related = ("department", "position", "region", "category")
    raw_id_fields = ("department", "position", "region", "category")
