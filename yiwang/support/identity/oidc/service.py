"""Facade of the OpenID Connect provider inside the identity app.

Other apps reach these through :mod:`yiwang.support.identity.service`, which re-exports them.
"""

from __future__ import annotations

from yiwang.support.identity.oidc import firstparty
from yiwang.support.identity.oidc.bearer import BearerCheck, check_bearer, user_for_bearer
from yiwang.support.identity.oidc.consents import list_consents, revoke_consent
from yiwang.support.identity.oidc.keys import rotate_signing_keys
from yiwang.support.identity.oidc.models import Consent, RelyingParty, SessionClient
from yiwang.support.identity.oidc.relying_parties import (
    get_relying_party,
    list_relying_parties,
    register_relying_party,
    rotate_client_secret,
    set_relying_party_active,
    update_relying_party,
)
from yiwang.support.identity.oidc.tokens import revoke_client_tokens, revoke_user_tokens

__all__ = [
    "BearerCheck",
    "Consent",
    "RelyingParty",
    "SessionClient",
    "check_bearer",
    "firstparty",
    "get_relying_party",
    "list_consents",
    "list_relying_parties",
    "register_relying_party",
    "revoke_client_tokens",
    "revoke_consent",
    "revoke_user_tokens",
    "rotate_client_secret",
    "rotate_signing_keys",
    "set_relying_party_active",
    "update_relying_party",
    "user_for_bearer",
]
