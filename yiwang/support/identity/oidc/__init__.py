"""The OpenID Connect provider, on django-oauth-toolkit (ADR 11)."""
