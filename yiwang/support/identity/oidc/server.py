"""The oauthlib server yiwang runs: PKCE with S256 only (never ``plain``)."""

from __future__ import annotations

from typing import Any

from oauthlib.openid import Server


class S256OnlyServer(Server):
    """oauthlib's OpenID Connect server with the ``plain`` PKCE method removed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for grant in {*self.grant_types.values(), *self.response_types.values()}:
            for candidate in (grant, getattr(grant, "default_grant", None),
                              getattr(grant, "oidc_grant", None)):
                methods = getattr(candidate, "_code_challenge_methods", None)
                if isinstance(methods, dict):
                    methods.pop("plain", None)
