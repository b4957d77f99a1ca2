"""Citizens' accounts: phone numbers, registration, look-up and password changes."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from yiwang.core.audit.service import AuditEvent
from yiwang.support.identity import accounts, otp
from yiwang.support.identity.models import AccountSession, CodePurpose, Level, User
from yiwang.support.identity.tests.test_signin_support import PASSWORD, last_code, make_citizen

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
GOOD = "lantern-river-42"


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def code_for(phone: str = PHONE) -> str:
    otp.issue(phone, CodePurpose.REGISTER)
    return last_code(phone)


@pytest.mark.parametrize("typed", ["13812345678", "+8613812345678", "0086 138 1234 5678",
                                   "138-1234-5678", "１３８１２３４５６７８", " 13812345678 "])
def test_phone_numbers_are_normalised(typed: str) -> None:
    assert accounts.validate_phone(typed) == "13812345678"


@pytest.mark.parametrize("typed", ["", "1381234567", "138123456789", "12812345678",
                                   "23812345678", "abc", "+1 415 555 0100", None])
def test_other_numbers_are_refused_with_a_clear_message(typed) -> None:
    with pytest.raises(ValidationError) as caught:
        accounts.validate_phone(typed)
    assert "11 位中国大陆手机号码" in caught.value.messages[0]


def test_registration_opens_an_l1_account_with_the_phone_encrypted() -> None:
    user = accounts.register_citizen(PHONE, GOOD, code_for())
    assert user.level == Level.L1 and user.account_type == "citizen"
    assert user.phone == PHONE and user.phone_verified_at is not None
    assert user.username.startswith("u") and len(user.username) == 10
    assert user.check_password(GOOD)
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM identity_user WHERE id = %s", [user.pk])
        assert PHONE not in cursor.fetchone()[0]
    event = AuditEvent.objects.get(action="identity.registered")
    assert event.detail["phone"] == "138****5678"


def test_a_chosen_username_is_kept_lower_case() -> None:
    user = accounts.register_citizen(PHONE, GOOD, code_for(), username="Zhang.San")
    assert user.username == "zhang.san"
    assert accounts.find_account("ZHANG.SAN") == user


@pytest.mark.parametrize(("username", "message"), [
    ("ab", "4 至 30 位"), ("1abc", "以英文字母开头"), ("zhang san", "只能包含"),
    ("taken", "已被使用")])
def test_bad_or_taken_usernames_are_refused(username: str, message: str) -> None:
    make_citizen("taken")
    with pytest.raises(ValidationError) as caught:
        accounts.register_citizen(PHONE, GOOD, "000000", username=username)
    assert message in " ".join(caught.value.messages)


@pytest.mark.parametrize("password", ["short1", "1234567890123", "password123",
                                      "my13812345678pw"])
def test_weak_passwords_are_refused_before_the_code_is_spent(password: str) -> None:
    code = code_for()
    with pytest.raises(ValidationError):
        accounts.register_citizen(PHONE, password, code)
    assert not User.objects.exists()
    accounts.register_citizen(PHONE, GOOD, code)  # the code still works


def test_a_wrong_code_opens_no_account() -> None:
    code = code_for()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(otp.CodeError):
        accounts.register_citizen(PHONE, GOOD, wrong)
    assert not User.objects.exists()


def test_a_registered_phone_cannot_register_again() -> None:
    make_citizen("first", phone=PHONE)
    with pytest.raises(ValidationError) as caught:
        accounts.register_citizen(PHONE, GOOD, code_for())
    assert "已注册" in caught.value.messages[0]
    assert User.objects.count() == 1


def test_accounts_are_found_by_username_or_any_spelling_of_the_phone() -> None:
    user = make_citizen("lisi", phone=PHONE)
    assert accounts.find_account("lisi") == user
    assert accounts.find_account("+86 138 1234 5678") == user
    assert accounts.find_account("13812345679") is None
    assert accounts.find_account("") is None
    assert accounts.find_account("x" * 500) is None


def test_display_label_prefers_the_masked_real_name() -> None:
    user = make_citizen("wangwu")
    assert accounts.display_label(user) == "wangwu"
    user.display_name = "王*"
    assert accounts.display_label(user) == "王*"
    user.display_name = "王芳"  # an official's name as appointed: masked on screens too
    assert accounts.display_label(user) == "王*"


def sessions_of(user: User, n: int) -> list[AccountSession]:
    return [AccountSession.objects.create(sid=f"sid-{user.pk}-{i}", user=user,
                                          auth_time=timezone.now()) for i in range(n)]


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions() -> None:
    user = make_citizen()
    keep, other = sessions_of(user, 2)
    with pytest.raises(ValidationError) as caught:
        accounts.change_password(user, GOOD, old_password="wrong one")
    assert "old_password" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        accounts.change_password(user, PASSWORD, old_password=PASSWORD)
    assert "new_password1" in caught.value.message_dict
    with pytest.raises(ValidationError):
        accounts.change_password(user, "12345678901", old_password=PASSWORD)
    assert accounts.change_password(user, GOOD, old_password=PASSWORD, keep_sid=keep.sid) == 1
    user.refresh_from_db()
    assert user.check_password(GOOD)
    other.refresh_from_db()
    keep.refresh_from_db()
    assert other.ended_at is not None and keep.ended_at is None
    event = AuditEvent.objects.get(action="identity.password_changed")
    assert event.detail == {"sessions_ended": 1, "without_old_password": False}


def test_just_after_signing_in_the_current_password_is_not_needed() -> None:
    user = make_citizen()
    accounts.change_password(user, GOOD, recently_authenticated=True)
    user.refresh_from_db()
    assert user.check_password(GOOD)
