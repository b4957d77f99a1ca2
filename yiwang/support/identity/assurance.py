"""Assurance levels (认证等级) and authentication method references (RFC 8176 ``amr``).

An account holds L1 (self-registered, phone verified) or L2 (real-name verified against the
population registry, or appointed as an official). A *session* reaches L3 when an L2
account proved itself with factors of two different kinds in that session (for example a
password and a TOTP code), or with a passkey that verified the user (PIN or biometric).

The ``acr`` values yiwang issues and accepts in ``acr_values`` are ``L1``, ``L2`` and ``L3``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from yiwang.support.identity.models import Level

ACR_VALUES = ("L1", "L2", "L3")

# amr values (RFC 8176) by the kind of factor they prove.
KNOWLEDGE = {"pwd", "pin"}
POSSESSION = {"sms", "otp", "hwk", "swk", "qr", "kba"}
INHERENCE = {"user", "fpt", "face"}
METHODS = {  # yiwang's sign-in method -> amr values it adds
    "password": ["pwd"],
    "sms": ["sms"],
    "totp": ["otp"],
    "passkey": ["hwk"],
    "passkey_uv": ["hwk", "user"],
    "recovery": ["kba"],
    "qr": ["qr"],
}


def acr_name(level: int) -> str:
    """``L1``, ``L2`` or ``L3``."""
    return f"L{int(level)}"


def parse_acr(value: str | None) -> int | None:
    """The level an ``acr`` value names, or None when it is not one of ours."""
    if value and value.strip().upper() in ACR_VALUES:
        return int(value.strip()[1])
    return None


def required_level(acr_values: str | None) -> int | None:
    """The lowest level among the requested ``acr_values`` that yiwang knows, or None.

    ``acr_values`` is a space-separated preference list (OIDC Core 3.1.2.1); any of them
    satisfies the request, so the weakest one we support is what the session must reach.
    """
    levels = [lv for lv in (parse_acr(v) for v in (acr_values or "").split()) if lv]
    return min(levels) if levels else None


def factor_kinds(amr: Iterable[str]) -> set[str]:
    kinds = set()
    for value in amr:
        if value in KNOWLEDGE:
            kinds.add("knowledge")
        elif value in POSSESSION:
            kinds.add("possession")
        elif value in INHERENCE:
            kinds.add("inherence")
    return kinds


def is_multi_factor(amr: Iterable[str]) -> bool:
    """Two different kinds of factor (a passkey with user verification counts as two)."""
    return len(factor_kinds(amr)) >= 2


def account_level(user: Any) -> int:
    """L2 for real-name verified accounts and officials, else L1."""
    if getattr(user, "verified_at", None):
        return int(Level.L2)
    return int(Level.L1)


def session_level(user: Any, amr: Iterable[str], *, cap: int | None = None) -> int:
    """The level a session of ``user`` authenticated with ``amr`` reaches."""
    amr = list(amr)
    level = account_level(user)
    if level >= Level.L2 and is_multi_factor(amr):
        level = int(Level.L3)
    if cap is not None:
        level = min(level, cap)
    return level


def with_mfa_marker(amr: Iterable[str]) -> list[str]:
    """``amr`` in a stable order, with ``mfa`` added when it holds two kinds of factor."""
    values = sorted({v for v in amr if v != "mfa"})
    if is_multi_factor(values):
        values.append("mfa")
    return values


def requires_multi_factor(user: Any) -> bool:
    """Officials must always sign in with more than one factor."""
    from yiwang.support.identity.models import AccountType

    return getattr(user, "account_type", None) == AccountType.OFFICIAL
