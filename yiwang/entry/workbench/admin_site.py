"""The Django admin, for system administrators only (superusers), on the internal zone.

Officials are staff accounts (the workbench needs ``is_staff``), so Django's default rule
would let every official into the admin. Day-to-day work happens in the workbench.
"""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class YiwangAdminSite(AdminSite):
    site_header = _("一网 系统管理")
    site_title = _("一网 系统管理")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)


class YiwangAdminConfig(AdminConfig):
    default_site = "yiwang.entry.workbench.admin_site.YiwangAdminSite"
