from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from yiwang.core.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: auditors look, nobody edits."""

    list_display = ("occurred_at", "actor_label", "action", "object_type", "object_id", "zone",
                    "address", "personal_data")
    list_filter = ("action", "zone", "personal_data", "object_type")
    search_fields = ("actor_label", "object_id", "request_id")
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
