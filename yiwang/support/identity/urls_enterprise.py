"""URL patterns of the enterprise screens (法人账户、授权委托), included by urls.py under the
``identity`` namespace at /account/."""

from django.urls import path

from yiwang.support.identity.views import enterprise

urlpatterns = [
    path("enterprise/", enterprise.enterprise_home, name="enterprise"),
    path("enterprise/register/", enterprise.enterprise_register, name="enterprise_register"),
    path("enterprise/switch/", enterprise.switch, name="switch_identity"),
    path("enterprise/<str:credit_code>/", enterprise.enterprise_detail,
         name="enterprise_detail"),
    path("enterprise/<str:credit_code>/grant/", enterprise.enterprise_grant,
         name="enterprise_grant"),
    path("enterprise/<str:credit_code>/mandates/<int:pk>/revoke/", enterprise.mandate_revoke,
         name="mandate_revoke"),
]
