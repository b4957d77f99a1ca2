"""Protocol endpoints of the OpenID Connect provider (/oidc/ and /.well-known/)."""

urlpatterns: list = []
