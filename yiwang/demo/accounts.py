"""The demo city's people who sign in: citizens, an enterprise with an agent, relying parties.

Everything goes through the identity service, as a real migration from an older 统一身份
system would: accounts are loaded with phones the old system verified, then real-name
verified against the population registry like anyone's, the enterprise account is opened by
its registered legal representative, who then authorises an agent.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from yiwang.conf.env import kept_in_file
from yiwang.platform.registry import service as registry
from yiwang.support.identity import service as identity

N_CITIZEN_ACCOUNTS = 10  # citizen1..citizen10; the last one stays L1 (not real-name verified)
AGENT_SCOPES = ["apply", "query", "pay"]

ACCOUNT_ADMINS = "账户管理员"
RP_ADMINS = "接入应用管理员"
IDENTITY_GROUPS = {
    ACCOUNT_ADMINS: ["identity.manage_accounts", "identity.reveal_accounts"],
    RP_ADMINS: ["identity.manage_relying_parties"],
}

EXAMPLE_RP_CLIENT_ID = "example-rp"


def _citizen_people() -> list[Any]:
    """The registry persons who get demo accounts: the first enterprise's legal
    representative first (so that citizen1 can open its account), then others."""
    first = registry.list_enterprises().filter(synthetic=True).order_by("id").first()
    people = list(registry.list_persons().filter(synthetic=True).order_by("id")
                  [: N_CITIZEN_ACCOUNTS + 1])
    if first is not None:
        rep = first.legal_representative
        people = [rep, *[p for p in people if p.pk != rep.pk]]
    return people[:N_CITIZEN_ACCOUNTS]


def load_citizen_accounts(password_hash: str) -> list[Any]:
    """citizen1..citizen10 with their registry phones; all but the last real-name verified."""
    users = []
    for n, person in enumerate(_citizen_people(), start=1):
        data = registry.reveal_person(person, ["name", "id_number", "phone"],
                                      purpose="示例数据:开立示例账户 demo accounts")
        user = identity.load_citizen_account(f"citizen{n}", phone=data["phone"],
                                             password_hash=password_hash, source="demo")
        if n < N_CITIZEN_ACCOUNTS and not user.verified_at:
            user = identity.verify_real_name(user, name=data["name"],
                                             id_number=data["id_number"], actor=user)
        users.append(user)
    return users


@transaction.atomic
def load_enterprise(users: list[Any]) -> str:
    """citizen1 opens the first enterprise's account and authorises citizen2 as its agent."""
    first = registry.list_enterprises().filter(synthetic=True).order_by("id").first()
    if first is None or len(users) < 2:
        return ""
    rep, agent = users[0], users[1]
    enterprise = identity.get_enterprise(first.credit_code)
    if enterprise is None:
        enterprise = identity.register_enterprise_account(rep, first.credit_code, actor=rep)
    if identity.mandate_of(agent, enterprise) is None:
        identity.grant_mandate(enterprise, scopes=AGENT_SCOPES, agent_login=agent.username,
                               expires_at=timezone.now() + timedelta(days=365), actor=rep)
    return str(enterprise.name)


@transaction.atomic
def load_identity_groups(admin_usernames: list[str]) -> None:
    """账户管理员 and 接入应用管理员, given to the listed officials (idempotent: adds only)."""
    from django.contrib.auth import get_user_model

    admins = list(get_user_model().objects.filter(username__in=admin_usernames))
    for name, perms in IDENTITY_GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        for dotted in perms:
            app_label, codename = dotted.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
        group.user_set.add(*admins)


def example_rp_secret_path() -> Path:
    return Path(settings.DATA_DIR) / "secrets" / "example_rp_secret"


def load_example_relying_party(actor: Any) -> None:
    """Register examples/relying_party/ as ``example-rp``; keep its secret in var/secrets/."""
    base = str(settings.YIWANG_DEMO_EXAMPLE_RP_URL).rstrip("/")
    wanted = {
        "redirect_uris": f"{base}/callback",
        "post_logout_redirect_uris": f"{base}/",
        "backchannel_logout_uri": f"{base}/backchannel-logout",
    }
    path = example_rp_secret_path()
    rp = identity.get_relying_party(EXAMPLE_RP_CLIENT_ID)
    if rp is None:
        rp, secret = identity.register_relying_party(
            client_id=EXAMPLE_RP_CLIENT_ID, name="示例第三方应用", client_type="confidential",
            allowed_scopes="openid profile identity phone enterprise", actor=actor,
            description="examples/relying_party/ — 演示其他政务系统如何接入统一身份认证",
            **wanted)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        kept_in_file(path, secret or "")
        return
    changed = {k: v for k, v in wanted.items() if getattr(rp, k) != v}
    if changed:
        identity.update_relying_party(rp, actor=actor, **changed)
    if not path.exists():
        kept_in_file(path, identity.rotate_client_secret(rp, actor=actor))
    os.chmod(path, 0o600)
