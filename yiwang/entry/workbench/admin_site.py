"""The Django admin, for system administrators only (superusers), on the internal zone.

Officials are staff accounts (the workbench needs ``is_staff``), so Django's default rule
would let every official into the admin. Day-to-day work happens in the workbench.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def _level(request: HttpRequest) -> int:
    # Imported late: this module is loaded while Django sets up the apps.
    from yiwang.support.identity import service as identity

    return identity.level_of(request)


class YiwangAdminSite(AdminSite):
    site_header = _("一网 系统管理")
    site_title = _("一网 系统管理")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser and _level(request) >= 3)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """No password form of its own: sign in through the workbench (the provider, with
        two factors). A signed-in official who is not a superuser gets 403, not a loop."""
        if request.user.is_authenticated and _level(request) >= 3:
            raise PermissionDenied("the admin is for system administrators")
        from django.contrib.auth.views import redirect_to_login

        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(target, reverse("workbench:login"))

    def logout(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        from django.shortcuts import redirect

        return redirect("workbench:logout")


class YiwangAdminConfig(AdminConfig):
    default_site = "yiwang.entry.workbench.admin_site.YiwangAdminSite"
