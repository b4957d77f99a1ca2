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
    "applications": _("以您的名义查看、填写、提交与撤回您的办件（政务服务申请）"),
    "licences": _("查看您名下的电子证照"),
}

# Scopes of yiwang's own API (not OpenID Connect claims): a mobile app or a partner's client
# asks for them to call /api/v1/ with the access token as a bearer token. They reveal no
# claims in the ID token or userinfo; the API itself checks them.
API_SCOPES: dict[str, str] = {
    "applications": "以本人名义办理办件（申请、材料、提交、撤回）/ the person's applications",
    "licences": "本人名下的电子证照 / the person's licences",
}
APPLICATIONS = "applications"
LICENCES = "licences"

CLAIMS_BY_SCOPE: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "profile": ("name", "preferred_username", "account_type"),
    "identity": ("id_number_masked", "level", "real_name_verified"),
    "phone": ("phone_number_masked", "phone_number_verified"),
    "enterprise": ("act_for",),
    "official": ("department", "positions"),
    "applications": (),
    "licences": (),
}

# Claims of the ID token itself, beside those of the scopes.
ID_TOKEN_CLAIMS = ("iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "azp",
                   "at_hash", "jti")


def known() -> list[str]:
    """Every scope yiwang issues, in a stable order (the API scopes after the configured
    ones, whether or not the settings list them)."""
    configured = list(settings.OIDC_SCOPES)
    return configured + [s for s in API_SCOPES if s not in configured]


def describe(scope: str) -> str:
    """What ``scope`` reveals, in the active language."""
    found = DESCRIPTIONS.get(scope)
    if found is not None:
        return str(found)
    return str(settings.OIDC_SCOPES.get(scope) or API_SCOPES.get(scope, scope))


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
