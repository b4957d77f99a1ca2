"""The identity provider's own screens, under /account/ on the public listener."""

from django.urls import include, path

app_name = "identity"

urlpatterns = [
    path("", include("yiwang.support.identity.urls_signin")),
    path("", include("yiwang.support.identity.urls_mfa")),
    path("", include("yiwang.support.identity.urls_enterprise")),
]
