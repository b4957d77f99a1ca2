"""One-time codes: single use, short-lived, few attempts, newest only, hashed."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from yiwang.support.identity import otp, sms
from yiwang.support.identity.models import CodePurpose, OneTimeCode
from yiwang.support.identity.tests.test_signin_support import last_code

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.YIWANG_OTP_TTL_SECONDS = 300


def later(seconds: float):
    return mock.patch("django.utils.timezone.now",
                      return_value=timezone.now() + timedelta(seconds=seconds))


def refused(code: str, purpose: str = CodePurpose.SIGN_IN, phone: str = PHONE) -> otp.CodeError:
    with pytest.raises(otp.CodeError) as caught:
        otp.verify(phone, purpose, code)
    return caught.value


def test_a_code_works_once() -> None:
    otp.issue(PHONE, CodePurpose.SIGN_IN)
    code = last_code(PHONE)
    assert len(code) == 6 and code.isdigit()
    row = otp.verify(PHONE, CodePurpose.SIGN_IN, code)
    assert row.used_at is not None
    error = refused(code)
    assert error.reason == "used"
    assert "已经用过" in error.messages[0]


def test_full_width_digits_and_spaces_are_accepted() -> None:
    otp.issue(PHONE, CodePurpose.SIGN_IN)
    code = last_code(PHONE)
    typed = " ".join(chr(ord(c) + 0xFEE0) for c in code)  # ０１２… as an input method types
    otp.verify(PHONE, CodePurpose.SIGN_IN, typed)


def test_an_expired_code_says_so() -> None:
    otp.issue(PHONE, CodePurpose.SIGN_IN)
    code = last_code(PHONE)
    with later(301):
        error = refused(code)
    assert error.reason == "expired"
    assert "已过期" in error.messages[0]


def test_wrong_codes_count_down_then_the_code_is_dead() -> None:
    otp.issue(PHONE, CodePurpose.SIGN_IN)
    code = last_code(PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    messages = [refused(wrong).messages[0] for _ in range(otp.MAX_ATTEMPTS)]
    assert "还可以再试 4 次" in messages[0]
    assert "还可以再试 1 次" in messages[3]
    assert "次数过多" in messages[4]
    error = refused(code)  # even the right code, now
    assert error.reason == "too_many"


def test_a_new_code_ends_the_older_ones() -> None:
    otp.issue(PHONE, CodePurpose.SIGN_IN)
    first = last_code(PHONE)
    with later(61):
        otp.issue(PHONE, CodePurpose.SIGN_IN)
        second = last_code(PHONE)
        if first != second:
            assert refused(first).reason == "wrong"
        otp.verify(PHONE, CodePurpose.SIGN_IN, second)
        assert OneTimeCode.objects.filter(used_at__isnull=True, expires_at__gt=timezone.now()
                                          ).count() == 0


def test_codes_are_per_purpose() -> None:
    otp.issue(PHONE, CodePurpose.REGISTER)
    code = last_code(PHONE)
    assert refused(code, CodePurpose.SIGN_IN).reason == "missing"
    otp.verify(PHONE, CodePurpose.REGISTER, code)


def test_only_a_keyed_hash_is_stored() -> None:
    otp.issue(PHONE, CodePurpose.SIGN_IN)
    code = last_code(PHONE)
    row = OneTimeCode.objects.get()
    assert code not in row.code_hash and PHONE not in row.target_index
    assert len(row.code_hash) == 64


def test_a_code_for_an_unknown_number_is_issued_but_never_sent() -> None:
    otp.issue(PHONE, CodePurpose.SIGN_IN, deliver=False)
    assert sms.latest_code(PHONE) is None
    assert OneTimeCode.objects.count() == 1
    error = refused("123456")
    assert error.reason in {"wrong", "missing"}
    assert "验证码不正确" in error.messages[0]
    with pytest.raises(sms.SmsRateLimited):  # and it counted against the phone's limit
        otp.issue(PHONE, CodePurpose.SIGN_IN, deliver=False)


def test_badly_typed_codes_are_told_without_using_an_attempt() -> None:
    otp.issue(PHONE, CodePurpose.SIGN_IN)
    for typed in ("", "12345", "1234567", "abcdef"):
        assert refused(typed).reason == "format"
    assert OneTimeCode.objects.get().attempts == 0


def test_a_bad_number_cannot_hold_a_code() -> None:
    assert refused("123456", phone="not a phone").reason == "missing"


def test_purge_removes_codes_ended_a_day_ago() -> None:
    otp.issue(PHONE, CodePurpose.SIGN_IN)
    with later(86400 + 301):
        assert otp.purge() == 1
