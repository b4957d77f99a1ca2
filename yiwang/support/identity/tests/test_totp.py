"""Authenticator apps (TOTP): enrolment, replay-safe verification, throttling, screens."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.support.identity import totp
from yiwang.support.identity.models import AccountSession, RecoveryCode, TotpDevice, User
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def events(action: str) -> Any:
    """Audit events of exactly ``action``."""
    return audit.search(audit.AuditFilter(action=action)).filter(action=action)

NOW = 1_700_000_000.0  # a fixed instant: step 56666666


def make_user(username: str = "zhangsan") -> User:
    return User.objects.create_user(username=username, password="correct horse battery")


def code_at(secret: str, at: float) -> str:
    return pyotp.TOTP(secret).at(at)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [NOW]
    monkeypatch.setattr(totp, "_now", lambda: now[0])
    return now


@pytest.fixture
def device(clock: list[float]) -> TotpDevice:
    user = make_user()
    enrolment = totp.start_enrolment(user, name="我的手机")
    TotpDevice.objects.filter(pk=enrolment.device.pk).update(confirmed_at=timezone.now())
    return TotpDevice.objects.get(pk=enrolment.device.pk)


# --- enrolment -----------------------------------------------------------------------------


def test_enrolment_gives_an_otpauth_uri_and_a_grouped_secret() -> None:
    user = make_user()
    enrolment = totp.start_enrolment(user)
    assert enrolment.uri.startswith("otpauth://totp/")
    assert f"secret={enrolment.device.secret}" in enrolment.uri
    assert "zhangsan" in enrolment.uri
    assert enrolment.secret_groups.replace(" ", "") == enrolment.device.secret
    assert len(enrolment.device.secret) == 32
    assert enrolment.device.confirmed_at is None


def test_confirming_with_the_right_code_enables_it_and_gives_recovery_codes(clock) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    enrolment = totp.start_enrolment(user)
    codes = totp.confirm_enrolment(user, enrolment.device.pk,
                                   code_at(enrolment.device.secret, NOW), name="办公手机")
    device = TotpDevice.objects.get(pk=enrolment.device.pk)
    assert device.confirmed_at is not None
    assert device.name == "办公手机"
    assert len(codes) == 10
    assert RecoveryCode.objects.filter(user=user).count() == 10
    assert events("identity.mfa_added").filter(detail__factor="totp").count() == 1
    # A second authenticator leaves the recovery codes alone.
    second = totp.start_enrolment(user)
    assert totp.confirm_enrolment(user, second.device.pk,
                                  code_at(second.device.secret, NOW)) == []


def test_a_wrong_code_does_not_enable_it(clock) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    enrolment = totp.start_enrolment(user)
    right = code_at(enrolment.device.secret, NOW)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationError):
        totp.confirm_enrolment(user, enrolment.device.pk, wrong)
    assert TotpDevice.objects.get(pk=enrolment.device.pk).confirmed_at is None


def test_the_enrolment_code_cannot_be_used_again_to_sign_in(clock) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    enrolment = totp.start_enrolment(user)
    code = code_at(enrolment.device.secret, NOW)
    totp.confirm_enrolment(user, enrolment.device.pk, code)
    assert totp.verify(user, code) is False


def test_someone_elses_enrolment_cannot_be_confirmed(clock) -> None:  # type: ignore[no-untyped-def]
    owner, intruder = make_user(), make_user("lisi")
    enrolment = totp.start_enrolment(owner)
    with pytest.raises(ValidationError):
        totp.confirm_enrolment(intruder, enrolment.device.pk,
                               code_at(enrolment.device.secret, NOW))


def test_a_new_enrolment_replaces_an_unfinished_one() -> None:
    user = make_user()
    first = totp.start_enrolment(user)
    second = totp.start_enrolment(user)
    assert not TotpDevice.objects.filter(pk=first.device.pk).exists()
    assert first.device.secret != second.device.secret


def test_at_most_five_authenticators(clock) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    for _ in range(totp.MAX_DEVICES):
        enrolment = totp.start_enrolment(user)
        TotpDevice.objects.filter(pk=enrolment.device.pk).update(confirmed_at=timezone.now())
    with pytest.raises(ValidationError):
        totp.start_enrolment(user)


# --- verification -------------------------------------------------------------------------


def test_the_current_code_is_accepted_once(device: TotpDevice) -> None:
    code = code_at(device.secret, NOW)
    assert totp.verify(device.user, code) is True
    assert totp.verify(device.user, code) is False  # replay
    device.refresh_from_db()
    assert device.last_step == totp.current_step(NOW)
    assert device.last_used_at is not None
    assert events("identity.totp_replayed").count() == 1


def test_one_step_of_drift_either_way_is_accepted(device: TotpDevice, clock) -> None:  # type: ignore[no-untyped-def]
    assert totp.verify(device.user, code_at(device.secret, NOW - 30)) is True
    assert totp.verify(device.user, code_at(device.secret, NOW + 30)) is True


def test_codes_two_steps_away_are_refused(device: TotpDevice) -> None:
    assert totp.verify(device.user, code_at(device.secret, NOW - 60)) is False
    assert totp.verify(device.user, code_at(device.secret, NOW + 90)) is False


def test_an_older_code_is_refused_after_a_newer_one(device: TotpDevice) -> None:
    assert totp.verify(device.user, code_at(device.secret, NOW)) is True
    assert totp.verify(device.user, code_at(device.secret, NOW - 30)) is False


def test_the_conditional_update_refuses_a_step_used_meanwhile(device: TotpDevice) -> None:
    # Another request won the race for this step between our read and our write.
    TotpDevice.objects.filter(pk=device.pk).update(last_step=totp.current_step(NOW))
    assert totp.verify(device.user, code_at(device.secret, NOW)) is False


def test_codes_typed_with_spaces_or_full_width_digits_work(device: TotpDevice) -> None:
    code = code_at(device.secret, NOW)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert totp.verify(device.user, f" {full_width[:3]} {full_width[3:]} ") is True


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", None])
def test_malformed_codes_are_refused(device: TotpDevice, bad: str | None) -> None:
    assert totp.verify(device.user, bad) is False  # type: ignore[arg-type]


def test_an_unconfirmed_device_never_verifies(clock) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    enrolment = totp.start_enrolment(user)
    assert totp.verify(user, code_at(enrolment.device.secret, NOW)) is False


def test_another_persons_code_does_not_work(device: TotpDevice, clock) -> None:  # type: ignore[no-untyped-def]
    other = make_user("lisi")
    assert totp.verify(other, code_at(device.secret, NOW)) is False


def test_guessing_locks_the_account_even_for_the_right_code(device: TotpDevice,
                                                            settings) -> None:  # type: ignore[no-untyped-def]
    settings.YIWANG_LOCKOUT_ACCOUNT_FAILURES = 3
    wrong = f"{(int(code_at(device.secret, NOW)) + 1) % 1_000_000:06d}"
    for _ in range(3):
        assert totp.verify(device.user, wrong) is False
    with pytest.raises(ValidationError):
        totp.verify(device.user, code_at(device.secret, NOW))
    assert events("identity.locked").exists()


def test_remove_and_rename_only_touch_ones_own_devices(device: TotpDevice) -> None:
    other = make_user("lisi")
    with pytest.raises(TotpDevice.DoesNotExist):
        totp.remove_device(other, device.pk, actor=other)
    with pytest.raises(TotpDevice.DoesNotExist):
        totp.rename_device(other, device.pk, "x", actor=other)
    totp.rename_device(device.user, device.pk, "旧手机", actor=device.user)
    assert TotpDevice.objects.get(pk=device.pk).name == "旧手机"
    totp.remove_device(device.user, device.pk, actor=device.user)
    assert not TotpDevice.objects.filter(pk=device.pk).exists()
    assert events("identity.mfa_removed").filter(detail__factor="totp").count() == 1


# --- screens ---------------------------------------------------------------------------------


def test_enrolment_page_shows_a_qr_code_and_the_secret(public_client) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    sign_in_client(public_client, user, amr=["pwd"])
    response = public_client.get(reverse("identity:totp_add"))
    assert response.status_code == 200
    body = response.content.decode()
    device = TotpDevice.objects.get(user=user)
    assert "<svg" in body and "<script" not in body.split("<main", 1)[1].split("</main>")[0]
    assert " ".join(device.secret[i:i + 4] for i in range(0, 32, 4)) in body
    assert "no-store" in response["Cache-Control"]


def test_enrolling_through_the_page_shows_the_recovery_codes(public_client) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    sign_in_client(public_client, user, amr=["pwd"])
    public_client.get(reverse("identity:totp_add"))
    device = TotpDevice.objects.get(user=user)
    response = public_client.post(reverse("identity:totp_add"), {
        "device": device.pk, "code": pyotp.TOTP(device.secret).now(), "name": "手机"})
    assert response.status_code == 200
    body = response.content.decode()
    shown = re.findall(r"<code>([a-z0-9-]{14})</code>", body)
    assert len(shown) == 10
    assert "no-store" in response["Cache-Control"]
    assert TotpDevice.objects.get(pk=device.pk).confirmed_at is not None


def test_a_wrong_code_on_the_page_says_so(public_client) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    sign_in_client(public_client, user, amr=["pwd"])
    public_client.get(reverse("identity:totp_add"))
    device = TotpDevice.objects.get(user=user)
    right = pyotp.TOTP(device.secret).now()
    response = public_client.post(reverse("identity:totp_add"), {
        "device": device.pk, "code": f"{(int(right) + 500) % 1_000_000:06d}"})
    assert response.status_code == 400
    assert "验证码不正确" in response.content.decode()
    assert TotpDevice.objects.get(pk=device.pk).confirmed_at is None


def test_removing_needs_a_recent_sign_in(public_client, device: TotpDevice) -> None:  # type: ignore[no-untyped-def]
    session = sign_in_client(public_client, device.user)
    AccountSession.objects.filter(pk=session.pk).update(
        auth_time=timezone.now() - timedelta(minutes=11))
    response = public_client.post(reverse("identity:totp_remove", args=[device.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:reauth"))
    assert TotpDevice.objects.filter(pk=device.pk).exists()


def test_removing_with_a_recent_sign_in(public_client, device: TotpDevice) -> None:  # type: ignore[no-untyped-def]
    sign_in_client(public_client, device.user)
    response = public_client.post(reverse("identity:totp_remove", args=[device.pk]))
    assert response.status_code == 302
    assert not TotpDevice.objects.filter(pk=device.pk).exists()


def test_another_persons_device_is_a_404(public_client, device: TotpDevice) -> None:  # type: ignore[no-untyped-def]
    intruder = make_user("lisi")
    sign_in_client(public_client, intruder)
    assert public_client.post(
        reverse("identity:totp_remove", args=[device.pk])).status_code == 404
    assert public_client.post(reverse("identity:totp_rename", args=[device.pk]),
                              {"name": "x"}).status_code == 404
    assert TotpDevice.objects.get(pk=device.pk).name == "我的手机"


def test_removing_with_get_is_not_allowed(public_client, device: TotpDevice) -> None:  # type: ignore[no-untyped-def]
    sign_in_client(public_client, device.user)
    assert public_client.get(
        reverse("identity:totp_remove", args=[device.pk])).status_code == 405


def test_reauthentication_with_a_code_refreshes_the_session(public_client, device: TotpDevice,
                                                            clock) -> None:  # type: ignore[no-untyped-def]
    session = sign_in_client(public_client, device.user, amr=["pwd"])
    old = timezone.now() - timedelta(minutes=30)
    AccountSession.objects.filter(pk=session.pk).update(auth_time=old)
    page = public_client.get(reverse("identity:reauth"), {"next": reverse("identity:security")})
    assert page.status_code == 200
    response = public_client.post(reverse("identity:reauth"), {
        "method": "totp", "code": code_at(device.secret, NOW),
        "next": reverse("identity:security")})
    assert response.status_code == 302
    assert response["Location"] == reverse("identity:security")
    session = AccountSession.objects.filter(user=device.user, ended_at__isnull=True).get()
    assert session.auth_time > old
    assert "otp" in session.amr


def test_reauthentication_with_a_wrong_password_is_refused(public_client, device) -> None:  # type: ignore[no-untyped-def]
    session = sign_in_client(public_client, device.user, amr=["pwd"])
    old = timezone.now() - timedelta(minutes=30)
    AccountSession.objects.filter(pk=session.pk).update(auth_time=old)
    response = public_client.post(reverse("identity:reauth"), {
        "method": "password", "password": "wrong", "next": "https://evil.example/"})
    assert response.status_code == 400
    assert AccountSession.objects.get(pk=session.pk).auth_time == old
    ok = public_client.post(reverse("identity:reauth"), {
        "method": "password", "password": "correct horse battery",
        "next": "https://evil.example/"})
    assert ok.status_code == 302
    assert ok["Location"] == reverse("identity:security")  # never an open redirect
