from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "yiwang.support.identity.oidc"
    label = "oidc"
    verbose_name = "OpenID Connect"
    default_auto_field = "django.db.models.BigAutoField"
