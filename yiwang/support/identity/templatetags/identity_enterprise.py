"""Template tags of the enterprise screens: the identity switcher any portal page includes."""

from __future__ import annotations

from typing import Any

from django import template

from yiwang.support.identity import enterprise as ent

register = template.Library()


@register.simple_tag(takes_context=True)
def identity_switcher(context: Any) -> dict[str, Any] | None:
    """What the switcher shows: whom the request acts as and the enterprises it may act for
    (None when nobody is signed in or the person holds no live mandate)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return None
    identities = ent.acting_identities(user)
    if not identities:
        return None
    return {"identities": identities, "acting": ent.current_acting(request),
            "next": request.get_full_path()}
