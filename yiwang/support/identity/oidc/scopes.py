"""The scopes relying parties may ask for, what each reveals, and the claims it carries."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

OPENID = "openid"

# What the consent screen says each scope reveals (the settings hold a bilingual summary
# for the configuration reference; these follow the page's language).
DESCRIPTIONS: dict[str, Promise] = {
    "openid": _("确认您是谁：一个代表您的标识（必需）"),
    "profile": _("姓名、用户名与账户类型"),
    "identity": _("脱敏的身份证号与认证等级"),
    "phone": _("脱敏的手机号码"),
    "enterprise": _("您当前代表的企业、身份与授权范围"),
    "official": _("所在部门与岗位"),
}

CLAIMS_BY_SCOPE: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "profile": ("name", "preferred_username", "account_type"),
    "identity": ("id_number_masked", "level", "real_name_verified"),
    "phone": ("phone_number_masked", "phone_number_verified"),
    "enterprise": ("act_for",),
    "official": ("department", "positions"),
}

# Claims of the ID token itself, beside those of the scopes.
ID_TOKEN_CLAIMS = ("iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "azp",
                   "at_hash", "jti")


def known() -> list[str]:
    """Every scope yiwang issues, in a stable order."""
    return list(settings.OIDC_SCOPES)


def describe(scope: str) -> str:
    """What ``scope`` reveals, in the active language."""
    found = DESCRIPTIONS.get(scope)
    return str(found) if found is not None else str(settings.OIDC_SCOPES.get(scope, scope))


def normalise(scopes: Iterable[str]) -> list[str]:
    """Known scopes only, each once, in the order of :func:`known`."""
    wanted = set(scopes)
    return [s for s in known() if s in wanted]


def all_claims() -> list[str]:
    """Every claim yiwang may issue (for ``claims_supported``)."""
    names: list[str] = []
    for group in (*CLAIMS_BY_SCOPE.values(), ID_TOKEN_CLAIMS):
        names.extend(n for n in group if n not in names)
    return names
