"""The OpenID Connect provider, on django-oauth-toolkit (ADR 11)."""
from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "yiwang.support.identity.oidc"
    label = "oidc"
    verbose_name = "OpenID Connect"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from yiwang.support.identity import sessions
        from yiwang.support.identity.oidc import tokens

        # Ending an identity-provider session revokes its tokens and logs its relying
        # parties out over the back channel.
        sessions.on_session_end(tokens.session_ended)
