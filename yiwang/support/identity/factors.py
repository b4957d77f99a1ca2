"""Which authentication factors an account holds (多因素认证), and the admin reset of them.

A *second factor* is anything a person can prove besides their password: a confirmed TOTP
authenticator (动态口令), a passkey (通行密钥), a verified phone for SMS codes (短信验证码),
or, as a last resort, an unused recovery code (恢复码). The sign-in pipeline asks
:func:`available_second_factors` which of them to offer; the security page shows
:func:`list_factors`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from yiwang.core.audit import service as audit
from yiwang.core.masking.service import mask_phone
from yiwang.support.identity.models import RecoveryCode, TotpDevice, WebAuthnCredential

TOTP = "totp"
PASSKEY = "passkey"
SMS = "sms"
RECOVERY = "recovery"

# The order the second-factor page offers them in: strongest and most convenient first.
SECOND_FACTOR_ORDER = (PASSKEY, TOTP, SMS, RECOVERY)


@dataclass(frozen=True)
class FactorSummary:
    """What the security overview (安全设置) shows about one account's factors."""

    has_password: bool
    phone_masked: str
    phone_verified: bool
    totp_devices: list[TotpDevice] = field(default_factory=list)
    passkeys: list[WebAuthnCredential] = field(default_factory=list)
    recovery_total: int = 0
    recovery_remaining: int = 0
    recovery_generated_at: datetime | None = None

    @property
    def has_second_factor(self) -> bool:
        return bool(self.totp_devices or self.passkeys or self.phone_verified)

    @property
    def has_strong_factor(self) -> bool:
        """An authenticator of its own (TOTP or passkey), not just the phone number."""
        return bool(self.totp_devices or self.passkeys)


def _phone_verified(user: Any) -> bool:
    return bool(getattr(user, "phone", "") and getattr(user, "phone_verified_at", None))


def _confirmed_totp(user: Any) -> Any:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False)


def has_second_factor(user: Any) -> bool:
    """Whether ``user`` can prove a second factor: confirmed TOTP, a passkey or a verified phone."""
    if user is None or not getattr(user, "pk", None):
        return False
    return (_phone_verified(user)
            or _confirmed_totp(user).exists()
            or WebAuthnCredential.objects.filter(user=user).exists())


def has_authenticator(user: Any) -> bool:
    """Whether ``user`` has an authenticator of their own (confirmed TOTP or a passkey)."""
    return (_confirmed_totp(user).exists()
            or WebAuthnCredential.objects.filter(user=user).exists())


def available_second_factors(user: Any) -> list[str]:
    """The second factors ``user`` can use now, best first.

    A subset of ``"passkey"``, ``"totp"``, ``"sms"`` and ``"recovery"`` (recovery only while
    unused codes remain).
    """
    if user is None or not getattr(user, "pk", None):
        return []
    found = set()
    if WebAuthnCredential.objects.filter(user=user).exists():
        found.add(PASSKEY)
    if _confirmed_totp(user).exists():
        found.add(TOTP)
    if _phone_verified(user):
        found.add(SMS)
    if RecoveryCode.objects.filter(user=user, used_at__isnull=True).exists():
        found.add(RECOVERY)
    return [name for name in SECOND_FACTOR_ORDER if name in found]


def throttle_check(request: HttpRequest | None, user: Any) -> None:
    """Refuse a guess at ``user``'s factor while the account or the address is locked out.

    Raises the sign-in throttle's ``Locked`` (a ``ValidationError`` with a message to show).
    """
    from yiwang.support.identity import throttle

    throttle.check(request, user)


def throttle_fail(request: HttpRequest | None, user: Any, *, method: str,
                  reason: str = "") -> None:
    """Count a wrong guess at ``user``'s factor (audited by the throttle as a failure)."""
    from yiwang.support.identity import throttle

    throttle.fail(request, user, method=method, reason=reason)


def throttle_succeed(request: HttpRequest | None, user: Any) -> None:
    """Clear the account's failure count after a right guess."""
    from yiwang.support.identity import throttle

    throttle.succeed(request, user)


def list_factors(user: Any) -> FactorSummary:
    """Everything the security page shows about ``user``'s factors (three queries)."""
    codes = list(RecoveryCode.objects.filter(user=user).values_list("used_at", "created_at"))
    phone = str(getattr(user, "phone", "") or "")
    return FactorSummary(
        has_password=bool(user.has_usable_password()),
        phone_masked=mask_phone(phone) if phone else "",
        phone_verified=_phone_verified(user),
        totp_devices=list(_confirmed_totp(user).order_by("created_at", "id")),
        passkeys=list(WebAuthnCredential.objects.filter(user=user).order_by("created_at", "id")),
        recovery_total=len(codes),
        recovery_remaining=sum(1 for used, _ in codes if used is None),
        recovery_generated_at=max((created for _, created in codes), default=None),
    )


def ensure_recovery_codes(user: Any, *, actor: Any = None) -> list[str]:
    """Generate recovery codes when ``user`` has just enabled their first authenticator.

    Returns the new plaintext codes (to show once), or ``[]`` when they already have some.
    """
    from yiwang.support.identity import recovery

    if RecoveryCode.objects.filter(user=user).exists():
        return []
    return recovery.generate(user, actor=actor or user)


@transaction.atomic
def reset_factors(user: Any, *, actor: Any) -> None:
    """Administrative reset (重置多因素): remove TOTP, passkeys and recovery codes, end sessions.

    For a person who lost their phone and their recovery codes, after the administrator
    verified who they are in another way. Audited as ``identity.mfa_reset``.
    """
    from yiwang.support.identity import sessions

    totp = TotpDevice.objects.filter(user=user).count()
    passkeys = WebAuthnCredential.objects.filter(user=user).count()
    codes = RecoveryCode.objects.filter(user=user).count()
    TotpDevice.objects.filter(user=user).delete()
    WebAuthnCredential.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    ended = sessions.end_user_sessions(user, reason="mfa_reset", actor=actor)
    audit.record("identity.mfa_reset", user, actor=actor,
                 detail={"totp": totp, "passkeys": passkeys, "recovery_codes": codes,
                         "sessions_ended": ended})


# --- Devices ---------------------------------------------------------------------------

_BROWSERS = (  # checked in order: many browsers also say "Chrome" and "Safari"
    ("MicroMessenger", "微信"), ("AlipayClient", "支付宝"), ("DingTalk", "钉钉"),
    ("QQBrowser", "QQ浏览器"), ("UCBrowser", "UC浏览器"), ("Edg", "Edge"),
    ("OPR", "Opera"), ("Firefox", "Firefox"), ("HeadlessChrome", "Chrome"),
    ("Chrome", "Chrome"), ("CriOS", "Chrome"), ("Safari", "Safari"),
)
_SYSTEMS = (
    ("HarmonyOS", "HarmonyOS"), ("OpenHarmony", "HarmonyOS"), ("Android", "Android"),
    ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"), ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"),
)


def describe_device(user_agent: str) -> str:
    """A short, recognisable name for a browser from its user agent: ``Chrome · Windows``.

    Deliberately coarse (no versions): enough for a person to recognise their device.
    Empty when nothing is recognised.
    """
    text = str(user_agent or "")
    browser = next((name for token, name in _BROWSERS if token in text), "")
    system = next((name for token, name in _SYSTEMS if token in text), "")
    return " · ".join(part for part in (browser, system) if part)
