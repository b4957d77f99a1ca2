"""Authenticator apps (动态口令，TOTP — RFC 6238): enrolment, verification, removal.

Enrolment makes an unconfirmed device with a fresh 160-bit secret; it counts only after the
person typed a code from their app (:func:`confirm_enrolment`). Verification accepts the
code of the current 30-second step and of one step either side (clock drift), and each step
works once: the device's ``last_step`` moves forward in a conditional UPDATE, so a code
that was used — or any code older than it — is refused even by concurrent requests.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyotp
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.support.identity.models import TotpDevice

ISSUER = "一网通办"
DIGITS = 6
INTERVAL = 30
VALID_WINDOW = 1  # steps either side of now
SECRET_LENGTH = 32  # base32 characters: 160 bits, as RFC 4226 recommends
MAX_DEVICES = 5
UNCONFIRMED_MAX_AGE_SECONDS = 3600


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the QR code's URI and the secret to type by hand."""

    device: TotpDevice
    uri: str
    secret_groups: str


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)


def _now() -> float:
    return time.time()


def current_step(at: float | None = None) -> int:
    """The RFC 6238 time step of ``at`` (now by default)."""
    return int((_now() if at is None else at) // INTERVAL)


def _normalise(code: str) -> str:
    text = "".join(str(code or "").split())
    # Full-width digits typed on a Chinese keyboard count as digits.
    return "".join(chr(ord(c) - 0xFEE0) if "０" <= c <= "９" else c for c in text)


def _matching_step(secret: str, code: str, now: float) -> int | None:
    if not (code.isascii() and code.isdigit()):
        return None  # e.g. Arabic-Indic digits: never a code, and compare_digest needs ASCII
    totp = _totp(secret)
    step = current_step(now)
    found = None
    for candidate in range(step - VALID_WINDOW, step + VALID_WINDOW + 1):
        # Compare every candidate (constant work whichever matches).
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            found = candidate if found is None else max(found, candidate)
    return found


def _group(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(device: TotpDevice) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app scans."""
    return _totp(device.secret).provisioning_uri(
        name=device.user.get_username(), issuer_name=ISSUER)


@transaction.atomic
def start_enrolment(user: Any, *, name: str = "") -> Enrolment:
    """Begin adding an authenticator app: a new unconfirmed device with a fresh secret.

    Earlier unconfirmed attempts of ``user`` are discarded. Raises ``ValidationError`` when
    the account already has the most devices allowed.
    """
    TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).delete()
    if TotpDevice.objects.filter(user=user).count() >= MAX_DEVICES:
        raise ValidationError(_("最多可绑定 %(count)d 个身份验证器，请先删除不再使用的。")
                              % {"count": MAX_DEVICES})
    name = (name or "").strip()[:64] or _("身份验证器")
    device = TotpDevice.objects.create(user=user, name=name,
                                       secret=pyotp.random_base32(SECRET_LENGTH))
    return Enrolment(device=device, uri=provisioning_uri(device),
                     secret_groups=_group(device.secret))


def pending_enrolment(user: Any, device_id: int) -> Enrolment | None:
    """The unconfirmed device ``device_id`` of ``user`` while it may still be confirmed."""
    cutoff = timezone.now() - timedelta(seconds=UNCONFIRMED_MAX_AGE_SECONDS)
    device = TotpDevice.objects.filter(pk=device_id, user=user, confirmed_at__isnull=True,
                                       created_at__gte=cutoff).select_related("user").first()
    if device is None:
        return None
    return Enrolment(device=device, uri=provisioning_uri(device),
                     secret_groups=_group(device.secret))


def confirm_enrolment(user: Any, device_id: int, code: str, *, name: str = "",
                      request: HttpRequest | None = None) -> list[str]:
    """Finish adding an authenticator once ``code`` from it is right.

    Returns new recovery codes to show once when this is the person's first authenticator
    (else ``[]``). Raises ``ValidationError`` for a wrong or expired code. Audited as
    ``identity.mfa_added``.
    """
    from yiwang.support.identity import factors

    enrolment = pending_enrolment(user, device_id)
    if enrolment is None:
        raise ValidationError(_("这次绑定已失效，请重新开始。"))
    device = enrolment.device
    factors.throttle_check(request, user)
    step = _matching_step(device.secret, _normalise(code), _now())
    if step is None:
        factors.throttle_fail(request, user, method="totp", reason="enrolment")
        raise ValidationError(_("验证码不正确。请输入身份验证器中当前显示的 6 位数字。"))
    factors.throttle_succeed(request, user)
    with transaction.atomic():
        updated = TotpDevice.objects.filter(pk=device.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now(), last_step=step, last_used_at=timezone.now(),
            name=(name or "").strip()[:64] or device.name)
        if not updated:
            raise ValidationError(_("这次绑定已失效，请重新开始。"))
        audit.record("identity.mfa_added", user, actor=user,
                     detail={"factor": "totp", "device": device.pk})
        return factors.ensure_recovery_codes(user)


def verify(user: Any, code: str, *, request: HttpRequest | None = None) -> bool:
    """Whether ``code`` is a current, unused code of one of ``user``'s confirmed authenticators.

    Accepts one step of clock drift either way. A code is accepted once: the step it belongs
    to and every earlier one are then refused. Throttled by the sign-in guessing limits (per
    account, and per address when ``request`` is given): raises the throttle's ``Locked``
    (a ``ValidationError``) while locked, so callers must not count failures again.
    Failures are audited by the throttle (``identity.sign_in_failed``), replays also as
    ``identity.totp_replayed``.
    """
    from yiwang.support.identity import factors

    if user is None or not getattr(user, "pk", None):
        return False
    factors.throttle_check(request, user)
    text = _normalise(code)
    now = _now()
    replayed = False
    if len(text) == DIGITS and text.isdigit():
        for device in TotpDevice.objects.filter(user=user, confirmed_at__isnull=False):
            step = _matching_step(device.secret, text, now)
            if step is None:
                continue
            # The conditional UPDATE is the replay guard: only one request moves last_step.
            if TotpDevice.objects.filter(pk=device.pk, last_step__lt=step).update(
                    last_step=step, last_used_at=timezone.now()):
                factors.throttle_succeed(request, user)
                return True
            replayed = True
    if replayed:
        audit.record("identity.totp_replayed", user, actor=user)
    factors.throttle_fail(request, user, method="totp", reason="replayed" if replayed else "")
    return False


def list_devices(user: Any) -> list[TotpDevice]:
    """``user``'s confirmed authenticators, oldest first."""
    return list(TotpDevice.objects.filter(user=user, confirmed_at__isnull=False)
                .order_by("created_at", "id"))


@transaction.atomic
def remove_device(user: Any, device_id: int, *, actor: Any) -> None:
    """Remove one of ``user``'s authenticators (the view demands a recent sign-in first).

    Raises ``TotpDevice.DoesNotExist`` for a device that is not ``user``'s. Audited as
    ``identity.mfa_removed``.
    """
    device = TotpDevice.objects.get(pk=device_id, user=user)
    device.delete()
    audit.record("identity.mfa_removed", user, actor=actor,
                 detail={"factor": "totp", "device": device_id})


@transaction.atomic
def rename_device(user: Any, device_id: int, name: str, *, actor: Any) -> TotpDevice:
    """Give one of ``user``'s authenticators a new name."""
    name = (name or "").strip()[:64]
    if not name:
        raise ValidationError(_("请填写名称。"))
    device = TotpDevice.objects.get(pk=device_id, user=user, confirmed_at__isnull=False)
    TotpDevice.objects.filter(pk=device.pk).update(name=name)
    device.name = name
    return device
