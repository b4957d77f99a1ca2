"""yiwang's OAuth2/OIDC request validator (claims, acr/amr, pairwise subjects)."""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator


class YiwangValidator(OAuth2Validator):
    """Placeholder until the provider module is built; behaves like DOT's validator."""
