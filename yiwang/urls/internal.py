"""The internal zone (政务内网): workbench, Django admin and metrics."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("yiwang.core.health.urls")),
    path("", include("yiwang.core.health.urls_internal")),
    path("api/v1/", include("yiwang.entry.api.urls_internal")),
    path("ogcapi/", include("yiwang.entry.api.ogcapi")),
    path("ledger/", include("yiwang.enablement.ledger.urls")),
    path("trust/", include("yiwang.support.trust.urls")),
    *i18n_patterns(
        path("admin/", admin.site.urls),
        path("", include("yiwang.entry.workbench.urls")),
        prefix_default_language=False,
    ),
]

handler403 = "yiwang.entry.workbench.views.permission_denied"
