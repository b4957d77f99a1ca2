"""Protocol endpoints of the OpenID Connect provider (/oidc/ and /.well-known/)."""

from django.urls import path

from yiwang.support.identity.oidc.views import authorize, consents, logout, protocol

app_name = "oidc"

urlpatterns = [
    path(".well-known/openid-configuration", protocol.discovery, name="discovery"),
    path(".well-known/oauth-authorization-server", protocol.discovery,
         name="authorization_server_metadata"),
    path("oidc/authorize/", authorize.AuthorizeView.as_view(), name="authorize"),
    path("oidc/token/", protocol.TokenEndpoint.as_view(), name="token"),
    path("oidc/userinfo/", protocol.UserInfoEndpoint.as_view(), name="userinfo"),
    path("oidc/jwks/", protocol.jwks, name="jwks"),
    path("oidc/logout/", logout.end_session, name="logout"),
    path("oidc/revoke/", protocol.RevokeEndpoint.as_view(), name="revoke"),
    path("oidc/introspect/", protocol.introspect, name="introspect"),
    path("oidc/consents/", consents.consents_page, name="consents"),
    path("oidc/consents/<int:pk>/revoke/", consents.consent_revoke, name="consent_revoke"),
]
