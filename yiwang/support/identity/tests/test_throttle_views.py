"""Lockout on the sign-in pages without linking an account's names (username ↔ phone).

A lock shows at the login name that was guessed at; the account behind it is protected at
its other names silently: the password is not checked there, and the answer is the one any
other name gets.
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from yiwang.core.audit.service import AuditEvent
from yiwang.platform.zones.testing import ListenerClient
from yiwang.support.identity.models import User
from yiwang.support.identity.tests.test_signin_support import (
    PASSWORD,
    last_code,
    make_citizen,
    without_tokens,
)
from yiwang.support.identity.tests.test_signin_views import live_session

pytestmark = pytest.mark.django_db

LOGIN = "/account/login/"
PHONE = "13812345678"  # zhangsan's
OTHER_PHONE = "13700000000"  # nobody's
WRONG = "not the password"
INVALID = "手机号码、用户名或密码不正确。"
LOCKED = "尝试失败的次数过多"


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.YIWANG_LOCKOUT_ACCOUNT_FAILURES = 3
    settings.YIWANG_LOCKOUT_ADDRESS_FAILURES = 50
    settings.YIWANG_LOCKOUT_WINDOW_SECONDS = 600


@pytest.fixture
def client() -> Client:
    return ListenerClient(settings.YIWANG_PUBLIC_PORT)


def post(client: Client, login: str, password: str = WRONG):
    return client.post(LOGIN, {"login": login, "password": password})


def page(response, *names: str) -> str:
    """The page as a probe sees it, with the typed name and the CSRF token blanked."""
    html = without_tokens(response.content.decode())
    for name in names:
        html = html.replace(name, "NAME")
    return html


def assert_same_answer(first, second, names=(PHONE, OTHER_PHONE)) -> None:
    assert first.status_code == second.status_code
    assert page(first, *names) == page(second, *names)


def lock(client: Client, login: str) -> None:
    answers = [post(client, login).status_code for _ in range(3)]
    assert answers == [200, 200, 429]


def later(seconds: float):
    return mock.patch("django.utils.timezone.now",
                      return_value=timezone.now() + timedelta(seconds=seconds))


def test_a_locked_username_does_not_show_at_its_phone(client) -> None:
    make_citizen(phone=PHONE)
    lock(client, "zhangsan")
    assert LOCKED in post(client, "zhangsan", PASSWORD).content.decode()
    # Probing phones: the account's phone answers exactly like a phone of no account.
    mine, other = post(client, PHONE), post(client, OTHER_PHONE)
    assert mine.status_code == 200 and INVALID in mine.content.decode()
    assert LOCKED not in mine.content.decode()
    assert_same_answer(mine, other)
    # The right password through the phone is refused the same way, and not even checked.
    with mock.patch.object(User, "check_password", autospec=True) as checked, \
            mock.patch("yiwang.support.identity.views.signin.check_password",
                       return_value=False) as dummy:
        right = post(client, PHONE, PASSWORD)
    assert checked.call_count == 0 and dummy.call_count == 1  # the dummy hash: same time
    other = post(client, OTHER_PHONE, PASSWORD)
    assert_same_answer(right, other)
    assert right.status_code == 200 and INVALID in right.content.decode()
    assert live_session(client) is None
    # Each phone then locks after its own three failures, the real one like the other.
    assert_same_answer(post(client, PHONE, PASSWORD), post(client, OTHER_PHONE, PASSWORD))
    fourth_mine, fourth_other = post(client, PHONE), post(client, OTHER_PHONE)
    assert fourth_mine.status_code == 429
    assert_same_answer(fourth_mine, fourth_other)
    reasons = list(AuditEvent.objects.filter(action="identity.sign_in_failed",
                                             detail__reason="account_locked")
                   .values_list("detail__method", flat=True))
    assert reasons == ["password"] * 3  # the phone's refusals while its lock was not shown


def test_a_locked_phone_does_not_show_at_its_username(client) -> None:
    make_citizen(phone=PHONE)
    lock(client, PHONE)
    names = ("zhangsan", "nobody")
    assert_same_answer(post(client, "zhangsan"), post(client, "nobody"), names)
    with mock.patch.object(User, "check_password", autospec=True) as checked:
        right = post(client, "zhangsan", PASSWORD)
    assert checked.call_count == 0
    assert right.status_code == 200 and INVALID in right.content.decode()
    assert_same_answer(right, post(client, "nobody", PASSWORD), names)
    assert live_session(client) is None
    # the lock ends after the window, for every name
    with later(601):
        assert post(client, "zhangsan", PASSWORD).status_code == 302


def test_guesses_spread_over_the_names_get_no_more_tries(client) -> None:
    make_citizen(phone=PHONE)
    assert [post(client, name).status_code for name in ("zhangsan", PHONE, "ZhangSan")] \
        == [200, 200, 200]
    # Three guesses at the account in all, no name at its limit: the phone (one failure)
    # shows no lock but checks no password; the username shows its own lock at its third.
    with mock.patch.object(User, "check_password", autospec=True) as checked:
        by_phone = post(client, PHONE, PASSWORD)
        by_name = post(client, "zhangsan", PASSWORD)
    assert checked.call_count == 0
    assert by_phone.status_code == 200 and INVALID in by_phone.content.decode()
    assert by_name.status_code == 429 and LOCKED in by_name.content.decode()
    assert live_session(client) is None


def test_unknown_names_lock_exactly_like_real_ones(client) -> None:
    make_citizen(phone=PHONE)
    real = [post(client, "zhangsan") for _ in range(4)]
    unknown = [post(client, "nobody") for _ in range(4)]
    for first, second in zip(real, unknown, strict=True):
        assert_same_answer(first, second, ("zhangsan", "nobody"))
    assert [r.status_code for r in unknown] == [200, 200, 429, 429]


def test_the_address_lock_is_unchanged(client, settings) -> None:
    settings.YIWANG_LOCKOUT_ADDRESS_FAILURES = 4
    make_citizen(phone=PHONE)
    answers = [post(client, name).status_code for name in ("a-name", "b-name", "c-name",
                                                           "d-name")]
    assert answers == [200, 200, 200, 429]
    # any name, right password or not, from this address; another address may go on
    assert post(client, "zhangsan", PASSWORD).status_code == 429
    elsewhere = ListenerClient(settings.YIWANG_PUBLIC_PORT, REMOTE_ADDR="203.0.113.9")
    assert elsewhere.post(LOGIN, {"login": "zhangsan", "password": PASSWORD}
                          ).status_code == 302


def test_the_owner_signs_in_by_sms_code_and_that_clears_the_locks(client) -> None:
    user = make_citizen(phone=PHONE)
    lock(client, PHONE)  # someone guessed at the password with the phone number
    assert client.post("/account/login/sms/", {"phone": PHONE}).status_code == 302
    done = client.post("/account/login/sms/code/", {"action": "verify",
                                                    "code": last_code(PHONE)})
    assert done.status_code == 302 and live_session(client).user == user
    # the lock was recorded among the account's security events
    locked = AuditEvent.objects.filter(action="identity.locked", object_id=str(user.pk))
    assert set(locked.values_list("detail__scope", flat=True)) == {"login", "account"}
    # and the password works again at every name
    fresh = ListenerClient(settings.YIWANG_PUBLIC_PORT)
    assert post(fresh, PHONE, PASSWORD).status_code == 302
    assert post(ListenerClient(settings.YIWANG_PUBLIC_PORT), "zhangsan",
                PASSWORD).status_code == 302


def test_wrong_sms_codes_do_not_lock_the_password(client) -> None:
    make_citizen(phone=PHONE)
    client.post("/account/login/sms/", {"phone": PHONE})
    codes = [client.post("/account/login/sms/code/", {"action": "verify", "code": "000000"})
             for _ in range(3)]
    assert codes[-1].status_code == 429
    assert post(ListenerClient(settings.YIWANG_PUBLIC_PORT), "zhangsan",
                PASSWORD).status_code == 302
