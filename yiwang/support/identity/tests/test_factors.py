"""Which factors an account holds, the admin reset, and device names."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.support.identity import factors, recovery, service, totp
from yiwang.support.identity.models import (
    AccountSession,
    RecoveryCode,
    TotpDevice,
    User,
    WebAuthnCredential,
)
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def events(action: str) -> Any:
    """Audit events of exactly ``action``."""
    return audit.search(audit.AuditFilter(action=action)).filter(action=action)


def make_user(username: str = "zhangsan", **extra: object) -> User:
    return User.objects.create_user(username=username, password="correct horse battery",
                                    **extra)


def confirmed_totp(user: User) -> TotpDevice:
    enrolment = totp.start_enrolment(user)
    totp.confirm_enrolment(user, enrolment.device.pk,
                           pyotp.TOTP(enrolment.device.secret).now())
    return TotpDevice.objects.get(pk=enrolment.device.pk)


def passkey(user: User, credential_id: str = "cred-1") -> WebAuthnCredential:
    return WebAuthnCredential.objects.create(user=user, name="key", credential_id=credential_id,
                                             public_key="pk")


def test_a_new_account_has_no_second_factor() -> None:
    user = make_user()
    assert not factors.has_second_factor(user)
    assert factors.available_second_factors(user) == []


def test_an_unconfirmed_authenticator_does_not_count() -> None:
    user = make_user()
    totp.start_enrolment(user)
    assert not factors.has_second_factor(user)
    assert factors.available_second_factors(user) == []


def test_a_verified_phone_counts_as_the_sms_factor() -> None:
    user = make_user(phone="13812345678", phone_verified_at=timezone.now())
    unverified = make_user("lisi", phone="13912345678")
    assert factors.has_second_factor(user)
    assert factors.available_second_factors(user) == ["sms"]
    assert not factors.has_second_factor(unverified)


def test_factors_are_offered_best_first_and_recovery_only_while_codes_remain() -> None:
    user = make_user(phone="13812345678", phone_verified_at=timezone.now())
    confirmed_totp(user)  # the first authenticator also generates recovery codes
    passkey(user)
    assert factors.available_second_factors(user) == ["passkey", "totp", "sms", "recovery"]
    RecoveryCode.objects.filter(user=user).update(used_at=timezone.now())
    assert factors.available_second_factors(user) == ["passkey", "totp", "sms"]


def test_list_factors_summarises_the_account() -> None:
    user = make_user(phone="13812345678", phone_verified_at=timezone.now())
    confirmed_totp(user)
    totp.start_enrolment(user)  # pending: not listed
    summary = factors.list_factors(user)
    assert summary.has_password
    assert summary.phone_masked == "138****5678"
    assert len(summary.totp_devices) == 1
    assert summary.passkeys == []
    assert (summary.recovery_total, summary.recovery_remaining) == (10, 10)
    assert summary.recovery_generated_at is not None
    assert summary.has_strong_factor


def test_recovery_codes_are_generated_with_the_first_authenticator_only() -> None:
    user = make_user()
    first = factors.ensure_recovery_codes(user)
    assert len(first) == recovery.COUNT
    assert factors.ensure_recovery_codes(user) == []
    assert RecoveryCode.objects.filter(user=user).count() == recovery.COUNT


def test_reset_removes_every_factor_and_ends_sessions(client) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    other = make_user("lisi")
    confirmed_totp(user)
    passkey(user)
    confirmed_totp(other)
    session = sign_in_client(client, user)
    admin = make_user("admin", is_staff=True)

    service.reset_factors(user, actor=admin)

    assert not TotpDevice.objects.filter(user=user).exists()
    assert not WebAuthnCredential.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.filter(user=user).exists()
    assert AccountSession.objects.get(pk=session.pk).ended_at is not None
    assert TotpDevice.objects.filter(user=other).exists()  # nobody else's
    event = events("identity.mfa_reset").get()
    assert event.object_id == str(user.pk)
    assert event.actor_id == str(admin.pk)
    assert event.detail["totp"] == 1 and event.detail["passkeys"] == 1
    assert event.detail["sessions_ended"] == 1


@pytest.mark.parametrize(("agent", "expected"), [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0 Safari/537.36", "Chrome · Windows"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0 Safari/537.36 Edg/124.0", "Edge · Windows"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
     "like Gecko) Mobile/15E148 MicroMessenger/8.0.47", "微信 · iOS"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Safari/605.1.15", "Safari · macOS"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
     "Firefox · Linux"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0 Mobile Safari/537.36", "Chrome · Android"),
    ("curl/8.5.0", ""),
    ("", ""),
])
def test_devices_get_short_recognisable_names(agent: str, expected: str) -> None:
    assert factors.describe_device(agent) == expected
