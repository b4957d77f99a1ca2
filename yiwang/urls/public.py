"""The public zone (政务外网): portal and public APIs. Nothing internal is routed here."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path

urlpatterns = [
    path("", include("yiwang.core.health.urls")),
    path("api/v1/", include("yiwang.entry.api.urls_public")),
    path("open311/v2/", include("yiwang.entry.api.open311")),
    path("ogcapi/", include("yiwang.entry.api.ogcapi")),
    path("", include("yiwang.support.identity.oidc.urls")),  # /oidc/..., /.well-known/...
    path("ledger/", include("yiwang.enablement.ledger.urls")),
    path("trust/", include("yiwang.support.trust.urls")),
    path("credentials/", include("yiwang.support.licences.urls")),
    *i18n_patterns(
        path("account/", include("yiwang.support.identity.urls")),
        path("licences/", include("yiwang.support.licences.urls_portal")),
        path("services/", include("yiwang.industry.services.urls_portal")),
        path("applications/", include("yiwang.industry.applications.urls_portal")),
        path("reports/", include("yiwang.industry.city.urls_portal")),
        path("notifications/", include("yiwang.support.notify.urls_portal")),
        path("pay/", include("yiwang.support.payments.urls_portal")),
        path("credit/", include("yiwang.support.credit.urls_portal")),
        path("search/", include("yiwang.support.search.urls_portal")),
        path("assistant/", include("yiwang.support.assistant.urls_portal")),
        path("", include("yiwang.entry.portal.urls")),
        prefix_default_language=False,
    ),
]

handler404 = "yiwang.entry.portal.views.not_found"
