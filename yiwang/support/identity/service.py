"""Public facade of the identity app (统一身份认证).

Other apps import this module only. Writes go through the verb-named functions re-exported
here from the identity app's modules; each is one transaction and raises
``ValidationError`` with a message a person can act on.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from yiwang.support.identity.assurance import (
    ACR_VALUES,
    account_level,
    acr_name,
    parse_acr,
    required_level,
)
from yiwang.support.identity.models import AccountSession, AccountType, Level, User
from yiwang.support.identity.rights import snapshot as access_snapshot
from yiwang.support.identity.sessions import (
    current as current_session,
)
from yiwang.support.identity.sessions import (
    end_session,
    end_user_sessions,
    join_session,
    leave_session,
    level_of,
    list_sessions,
    on_session_end,
    sign_in,
    sign_out,
    step_up,
)

__all__ = [
    "ACR_VALUES",
    "OFFICIAL_LEVEL",
    "AccountSession",
    "AccountType",
    "Level",
    "access_snapshot",
    "account_level",
    "acr_name",
    "count_officials",
    "create_official",
    "current_session",
    "end_session",
    "end_user_sessions",
    "get_user",
    "join_session",
    "leave_session",
    "level_of",
    "list_sessions",
    "on_session_end",
    "parse_acr",
    "required_level",
    "sign_in",
    "sign_out",
    "step_up",
]


# Officials work at L3 (more than one factor): the workbench and the internal API require it.
OFFICIAL_LEVEL = 3


def get_user(user_id: int) -> User | None:
    """The account with this id, or None."""
    return get_user_model().objects.filter(pk=user_id).first()


@transaction.atomic
def create_official(username: str, display_name: str, *, password: str | None = None,
                    password_hash: str | None = None, superuser: bool = False,
                    phone: str = "") -> User:
    """Create (or update) an official's account that may sign in to the workbench.

    Give ``password`` (hashed here) or an already computed ``password_hash`` (bulk loads
    hash once: a strong hash takes a noticeable fraction of a second). Officials are
    appointed, so their identity counts as verified (L2) by the personnel department.
    """
    if (password is None) == (password_hash is None):
        raise ValueError("give exactly one of password and password_hash")
    user, _ = User.objects.get_or_create(username=username)
    user.display_name = display_name
    user.account_type = AccountType.OFFICIAL
    user.is_staff = True
    user.is_superuser = superuser
    user.verified_at = user.verified_at or timezone.now()
    user.verified_by = user.verified_by or "hr"
    user.level = Level.L2
    if phone:
        from yiwang.core.crypto.service import blind_index

        user.phone = phone
        user.phone_index = blind_index(phone, "identity.phone")
        user.phone_verified_at = user.phone_verified_at or timezone.now()
    if password is not None:
        user.set_password(password)
    else:
        user.password = password_hash or ""
    user.save()
    return user


def count_officials() -> int:
    """How many active official accounts exist."""
    return User.objects.filter(account_type=AccountType.OFFICIAL, is_active=True).count()


# --- enterprise and account administration (法人、授权委托、账户管理) -------------------------
# Imported here, at the end, so that this section stays apart from the others'.

from yiwang.support.identity.admin_ops import (  # noqa: E402
    MANAGE_ACCOUNTS,
    MANAGE_RELYING_PARTIES,
    REVEAL_ACCOUNTS,
    AccountDetail,
    AccountPage,
    AccountRow,
    account_detail,
    approximate_total,
    classify_query,
    deactivate_account,
    end_account_sessions,
    find_account,
    get_account,
    masked_account,
    may_manage_relying_party,
    reactivate_account,
    relying_party_departments,
    reset_account_factors,
    reveal_account,
    search_accounts,
)
from yiwang.support.identity.admin_ops import (  # noqa: E402
    REVEALABLE as REVEALABLE_ACCOUNT_FIELDS,
)
from yiwang.support.identity.enterprise import (  # noqa: E402
    SCOPES as MANDATE_SCOPES,
)
from yiwang.support.identity.enterprise import (  # noqa: E402
    ActingIdentity,
    acting_for_session,
    acting_identities,
    current_acting,
    get_enterprise,
    grant_mandate,
    has_scope,
    managing_mandate,
    mandate_of,
    mandates_for,
    mandates_of_enterprise,
    register_enterprise_account,
    revoke_mandate,
    switch_identity,
)
from yiwang.support.identity.models import (  # noqa: E402
    EnterpriseAccount,
    EnterpriseStatus,
    Mandate,
    MandateRole,
)

__all__ += [
    "MANAGE_ACCOUNTS",
    "MANAGE_RELYING_PARTIES",
    "MANDATE_SCOPES",
    "REVEALABLE_ACCOUNT_FIELDS",
    "REVEAL_ACCOUNTS",
    "AccountDetail",
    "AccountPage",
    "AccountRow",
    "ActingIdentity",
    "EnterpriseAccount",
    "EnterpriseStatus",
    "Mandate",
    "MandateRole",
    "account_detail",
    "acting_for_session",
    "acting_identities",
    "approximate_total",
    "classify_query",
    "current_acting",
    "deactivate_account",
    "end_account_sessions",
    "find_account",
    "get_account",
    "get_enterprise",
    "grant_mandate",
    "has_scope",
    "managing_mandate",
    "mandate_of",
    "mandates_for",
    "mandates_of_enterprise",
    "masked_account",
    "may_manage_relying_party",
    "reactivate_account",
    "register_enterprise_account",
    "relying_party_departments",
    "reset_account_factors",
    "reveal_account",
    "revoke_mandate",
    "search_accounts",
    "switch_identity",
]


# --- factors (多因素认证：TOTP, passkeys, recovery codes, QR login) ---------------------------
# Imported here, at the end, so that this section stays apart from the others'.

from yiwang.support.identity.factors import (  # noqa: E402
    FactorSummary,
    available_second_factors,
    describe_device,
    has_second_factor,
    list_factors,
    reset_factors,
)
from yiwang.support.identity.qrlogin import (  # noqa: E402
    purge_expired as purge_expired_qr_tickets,
)

__all__ += [
    "FactorSummary",
    "available_second_factors",
    "describe_device",
    "has_second_factor",
    "list_factors",
    "purge_expired_qr_tickets",
    "reset_factors",
]


# --- OpenID Connect provider (relying parties, tokens, consents, first-party sign-in) ------
# Imported here, at the end, so that this section stays apart from the others'.

from yiwang.support.identity.oidc.service import (  # noqa: E402
    BearerCheck,
    Consent,
    RelyingParty,
    SessionClient,
    check_bearer,
    firstparty,
    get_relying_party,
    list_consents,
    list_relying_parties,
    register_relying_party,
    revoke_client_tokens,
    revoke_consent,
    revoke_user_tokens,
    rotate_client_secret,
    rotate_signing_keys,
    set_relying_party_active,
    update_relying_party,
    user_for_bearer,
)

__all__ += [
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


# --- sign-in (accounts, SMS codes, real-name verification, the sign-in pipeline) ----------
# Imported here, at the end, so that this section stays apart from the others'.

from yiwang.support.identity.accounts import (  # noqa: E402
    change_password,
    display_label,
    load_citizen_account,
    register_citizen,
    validate_phone,
)
from yiwang.support.identity.accounts import (  # noqa: E402
    find_account as find_account_by_login,
)
from yiwang.support.identity.guards import signed_in_required  # noqa: E402
from yiwang.support.identity.pipeline import safe_next  # noqa: E402
from yiwang.support.identity.realname import verify_real_name  # noqa: E402
from yiwang.support.identity.sms import SmsError  # noqa: E402
from yiwang.support.identity.sms import latest_code as latest_sms_code  # noqa: E402
from yiwang.support.identity.sms import send as send_sms  # noqa: E402

__all__ += [
    "SmsError",
    "change_password",
    "display_label",
    "find_account_by_login",
    "latest_sms_code",
    "load_citizen_account",
    "register_citizen",
    "safe_next",
    "send_sms",
    "signed_in_required",
    "validate_phone",
    "verify_real_name",
]

from datetime import timedelta  # noqa: E402


def rate_limit(key: str, *, limit: int, window: timedelta | int) -> bool:
    """Count one use of ``key`` (e.g. ``f"ocr:user:{user.pk}"``) in a fixed window of
    ``window`` (seconds or a timedelta); ``True`` when allowed, ``False`` once ``limit`` uses
    fell in this window (the refused use is not counted). Durable counters shared by every
    process (``throttle.hit``); the key is stored as a keyed hash, so it may hold an address.
    A ``limit`` of 0 or less allows everything."""
    from yiwang.core.crypto.service import blind_index
    from yiwang.support.identity import throttle

    if limit <= 0:
        return True
    span = window if isinstance(window, timedelta) else timedelta(seconds=window)
    return throttle.hit("rate:" + blind_index(key, "identity.rate_limit")[:40], limit=limit,
                        window=span) == 0


__all__ += ["rate_limit"]
