"""Relying parties (接入应用): registering, changing, enabling and listing them.

A client secret is shown once, when it is made (registration, rotation); only its keyed
hash is stored. Redirect addresses must be absolute, without fragments or user names, and
HTTPS in production. Addresses the provider calls itself (back-channel logout, the sector
identifier document) must also pass the outbound rule of :mod:`outbound`. A pairwise
relying party's sector is fixed as :mod:`sectors` describes. Every write is audited
(``oidc.relying_party_*``).

Registering and changing a relying party check everything first — the outbound rule's DNS
look-ups and the sector identifier document go over the network — and only then open the
transaction that writes: no database transaction (nor a lock it holds) waits on another
server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret

from yiwang.core.audit import service as audit
from yiwang.platform.orgs import service as orgs
from yiwang.support.identity.oidc import keys, outbound, scopes, sectors, tokens
from yiwang.support.identity.oidc.models import RelyingParty, SubjectType

EDITABLE = ("name", "description", "redirect_uris", "post_logout_redirect_uris",
            "backchannel_logout_uri", "allowed_scopes", "subject_type", "sector_identifier_uri",
            "min_level", "first_party", "department_code", "allow_client_credentials")


def _error(message: str, code: str, field: str | None = None) -> ValidationError:
    error = ValidationError(message, code=code)
    return ValidationError({field: [error]}) if field else error


def _allowed_schemes() -> list[str]:
    provider: dict[str, Any] = settings.OAUTH2_PROVIDER
    configured = provider.get("ALLOWED_REDIRECT_URI_SCHEMES", ["https"])
    return [str(s) for s in configured]


def _check_uri(uri: str, field: str) -> str:
    parts = urlsplit(uri)
    schemes = _allowed_schemes()
    if parts.scheme not in schemes or not parts.hostname:
        if schemes == ["https"]:
            message = _("地址 %(uri)s 无效：必须是以 https:// 开头的完整网址。")
        else:
            message = _("地址 %(uri)s 无效：必须是以 https:// 或 http:// 开头的完整网址。")
        raise _error(message % {"uri": uri[:200]}, "bad_uri", field)
    if parts.fragment or "#" in uri:
        raise _error(_("地址 %(uri)s 不能包含 # 片段。") % {"uri": uri[:200]}, "fragment", field)
    if parts.username or parts.password or "@" in parts.netloc:
        raise _error(_("地址 %(uri)s 不能包含用户名或密码。") % {"uri": uri[:200]}, "userinfo",
                     field)
    return uri


def _check_outbound(uri: str, field: str) -> str:
    try:
        outbound.check_registration(uri)
    except outbound.OutboundRefused as exc:
        raise _error(exc.message, f"outbound_{exc.reason}", field) from None
    return uri


def _uris(value: str | Iterable[str], field: str) -> str:
    items = value.split() if isinstance(value, str) else [str(v).strip() for v in value]
    checked = [_check_uri(uri, field) for uri in items if uri]
    return " ".join(dict.fromkeys(checked))


def _scopes(value: str | Iterable[str]) -> str:
    items = value.split() if isinstance(value, str) else list(value)
    unknown = [s for s in items if s not in scopes.known()]
    if unknown:
        raise _error(_("未知的授权范围：%(names)s。可选：%(known)s。")
                     % {"names": "、".join(unknown), "known": "、".join(scopes.known())},
                     "unknown_scope", "allowed_scopes")
    return " ".join(scopes.normalise([*items, scopes.OPENID]))


def _clean(values: dict[str, Any], client_type: str) -> dict[str, Any]:
    """Check and normalise the editable fields in ``values`` (in place, returned)."""
    if "name" in values:
        values["name"] = str(values["name"]).strip()
        if not values["name"]:
            raise _error(_("请填写应用名称。"), "name_required", "name")
        if len(values["name"]) > 255:
            raise _error(_("应用名称最多 255 个字。"), "name_too_long", "name")
    if "description" in values:
        values["description"] = str(values["description"]).strip()[:200]
    if "redirect_uris" in values:
        values["redirect_uris"] = _uris(values["redirect_uris"], "redirect_uris")
    if "post_logout_redirect_uris" in values:
        values["post_logout_redirect_uris"] = _uris(values["post_logout_redirect_uris"],
                                                    "post_logout_redirect_uris")
    for name in ("backchannel_logout_uri", "sector_identifier_uri"):
        if name in values:
            values[name] = str(values[name] or "").strip()
            if values[name]:
                _check_outbound(_check_uri(values[name], name), name)
    if "allowed_scopes" in values:
        values["allowed_scopes"] = _scopes(values["allowed_scopes"])
    if "subject_type" in values and values["subject_type"] not in SubjectType.values:
        raise _error(_("用户标识类型只能是 public 或 pairwise。"), "subject_type", "subject_type")
    if "min_level" in values:
        try:
            values["min_level"] = int(values["min_level"])
        except (TypeError, ValueError):
            values["min_level"] = 0
        if values["min_level"] not in (1, 2, 3):
            raise _error(_("最低认证等级只能是 1、2 或 3。"), "min_level", "min_level")
    if values.get("department_code"):
        code = str(values["department_code"]).strip()
        if orgs.get_department(code) is None:
            raise _error(_("部门代码 %(code)s 不存在。") % {"code": code}, "department",
                         "department_code")
        values["department_code"] = code
    if values.get("allow_client_credentials") and client_type != RelyingParty.CLIENT_CONFIDENTIAL:
        raise _error(_("只有机密客户端（能保管密钥的服务端应用）才能使用客户端凭证模式。"),
                     "public_service_account", "allow_client_credentials")
    return values


def _check_complete(rp: RelyingParty) -> None:
    if not rp.redirect_uris and not rp.allow_client_credentials:
        raise _error(_("请至少填写一个登录后的返回地址。"), "redirect_required", "redirect_uris")


def _describe(rp: RelyingParty) -> dict[str, Any]:
    return {"client_id": rp.client_id, "client_type": rp.client_type,
            "scopes": rp.allowed_scopes, "min_level": rp.min_level,
            "first_party": rp.first_party, "subject_type": rp.subject_type,
            "redirect_uris": rp.redirect_uris.split(), "sector": rp.sector,
            "client_credentials": rp.allow_client_credentials}


def register_relying_party(
    *, name: str, client_type: str, redirect_uris: str | Iterable[str],
    post_logout_redirect_uris: str | Iterable[str] = "", backchannel_logout_uri: str = "",
    allowed_scopes: str | Iterable[str] = "openid profile", subject_type: str = "public",
    sector_identifier_uri: str = "", min_level: int = 1, first_party: bool = False,
    department_code: str = "", actor: Any, description: str = "",
    allow_client_credentials: bool = False, client_id: str = "",
) -> tuple[RelyingParty, str | None]:
    """Register a relying party; returns it and its client secret (confidential clients
    only — shown this once, stored hashed) or None for public clients.

    ``client_id`` is generated unless given (a fixed, readable id for platform apps and
    automation, e.g. ``yiwang-workbench``: letters, digits, ``.``, ``_`` and ``-``).

    A pairwise relying party's sector is fixed here (see :mod:`sectors`): the host of its
    redirect URIs, or of ``sector_identifier_uri`` (required when the redirect URIs are on
    several hosts; its JSON document must list them all). Checked first (over the network,
    see the module docstring), then written in one transaction."""
    if client_type not in (RelyingParty.CLIENT_CONFIDENTIAL, RelyingParty.CLIENT_PUBLIC):
        raise _error(_("客户端类型只能是 confidential(机密)或 public(公开)。"), "client_type",
                     "client_type")
    values = _clean({
        "name": name, "description": description, "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": post_logout_redirect_uris,
        "backchannel_logout_uri": backchannel_logout_uri, "allowed_scopes": allowed_scopes,
        "subject_type": subject_type, "sector_identifier_uri": sector_identifier_uri,
        "min_level": min_level, "first_party": bool(first_party),
        "department_code": department_code,
        "allow_client_credentials": bool(allow_client_credentials),
    }, client_type)
    if client_id:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{2,99}", client_id):
            raise _error(_("客户端标识只能包含英文字母、数字和 . _ -，长度 3 至 100 位。"),
                         "client_id", "client_id")
        if RelyingParty.objects.filter(client_id=client_id).exists():
            raise _error(_("该客户端标识已被使用。"), "client_id_taken", "client_id")
        values["client_id"] = client_id
    secret = generate_client_secret()
    rp = RelyingParty(client_type=client_type, client_secret=secret, hash_client_secret=True,
                      authorization_grant_type=RelyingParty.GRANT_AUTHORIZATION_CODE,
                      algorithm=keys.ALGORITHM, skip_authorization=False, **values)
    _check_complete(rp)
    claim = sectors.settle(rp, None, actor=actor)
    with transaction.atomic():
        if claim:
            sectors.claim(rp)
        rp.save()
        audit.record("oidc.relying_party_registered", rp, actor=actor, detail=_describe(rp))
    return rp, secret if client_type == RelyingParty.CLIENT_CONFIDENTIAL else None


def update_relying_party(rp: RelyingParty, *, actor: Any, **changes: Any) -> RelyingParty:
    """Change the editable settings of ``rp`` (names as in :func:`register_relying_party`).

    A pairwise relying party keeps its sector: a new redirect URI on another host must be
    listed in its ``sector_identifier_uri`` document (see :mod:`sectors`). Checked first
    (over the network, see the module docstring), then written in one transaction."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise TypeError(f"update_relying_party: cannot change {', '.join(unknown)}")
    values = _clean(dict(changes), rp.client_type)
    before = sectors.Before.of(rp)
    changed = [k for k, v in values.items() if getattr(rp, k) != v]
    for key, value in values.items():
        setattr(rp, key, value)
    _check_complete(rp)
    claim = sectors.settle(rp, before, actor=actor)
    with transaction.atomic():
        if claim:
            sectors.claim(rp)
        rp.save()
        audit.record("oidc.relying_party_updated", rp, actor=actor,
                     detail={"client_id": rp.client_id, "changed": changed, "sector": rp.sector})
    return rp


@transaction.atomic
def rotate_client_secret(rp: RelyingParty, *, actor: Any) -> str:
    """Give a confidential client a new secret (shown once); the old one stops working."""
    if rp.client_type != RelyingParty.CLIENT_CONFIDENTIAL:
        raise _error(_("公开客户端没有密钥。"), "public_client")
    secret = generate_client_secret()
    rp.client_secret = secret
    rp.hash_client_secret = True
    rp.save(update_fields=["client_secret", "hash_client_secret", "updated", "updated_at_rp"])
    audit.record("oidc.client_secret_rotated", rp, actor=actor, detail={"client_id": rp.client_id})
    return secret


@transaction.atomic
def set_relying_party_active(rp: RelyingParty, active: bool, *, actor: Any) -> RelyingParty:
    """Enable or disable ``rp``. A disabled relying party cannot sign anybody in, and the
    tokens it holds are revoked at once."""
    rp.active = bool(active)
    rp.save(update_fields=["active", "updated", "updated_at_rp"])
    revoked = 0 if active else tokens.revoke_client_tokens(rp)
    audit.record("oidc.relying_party_enabled" if active else "oidc.relying_party_disabled",
                 rp, actor=actor, detail={"client_id": rp.client_id, "tokens_revoked": revoked})
    return rp


def list_relying_parties(department_code: str | None = None) -> list[RelyingParty]:
    """Registered relying parties by name (only one department's, when given)."""
    qs = RelyingParty.objects.all()
    if department_code:
        qs = qs.filter(department_code=department_code)
    return list(qs.order_by("name", "id"))


def get_relying_party(client_id: str) -> RelyingParty | None:
    """The relying party with this client id, or None."""
    return RelyingParty.objects.filter(client_id=str(client_id)[:255]).first()
