from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from yiwang.support.identity.models import User


@admin.register(User)
class YiwangUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "account_type", "is_staff", "is_active")
    list_filter = ("account_type", "is_staff", "is_active")
    search_fields = ("username", "display_name")
    fieldsets = (*UserAdmin.fieldsets, ("yiwang", {"fields": ("account_type", "display_name")}))
