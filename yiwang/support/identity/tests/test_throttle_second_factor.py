"""Proving the first factor again does not reset the count of guesses at the second one.

Only a finished sign-in clears the account's failure count: whoever knows the password but
not the authenticator must not be able to guess codes, wait out the lock, type the password
again and start afresh — the lock has to grow longer each time.
"""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock

import pyotp
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from yiwang.platform.zones.testing import ListenerClient
from yiwang.support.identity import pipeline, throttle
from yiwang.support.identity.models import AuthThrottle, TotpDevice, User
from yiwang.support.identity.tests.test_signin_support import PASSWORD, last_code, make_citizen
from yiwang.support.identity.tests.test_signin_views import live_session

pytestmark = pytest.mark.django_db

LOGIN = "/account/login/"
SECOND = "/account/login/second-factor/"
SECRET = "A" * 32
PHONE = "13812345678"
WINDOW = 600


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.YIWANG_LOCKOUT_ACCOUNT_FAILURES = 3
    settings.YIWANG_LOCKOUT_ADDRESS_FAILURES = 50
    settings.YIWANG_LOCKOUT_WINDOW_SECONDS = WINDOW


@pytest.fixture
def client() -> Client:
    return ListenerClient(settings.YIWANG_PUBLIC_PORT)


def with_totp(user: User) -> User:
    TotpDevice.objects.create(user=user, name="phone", secret=SECRET,
                              confirmed_at=timezone.now())
    return user


def right_code() -> str:
    return pyotp.TOTP(SECRET).now()


def wrong_code() -> str:
    """A code no step within the accepted drift matches."""
    now = time.time()
    near = {pyotp.TOTP(SECRET).at(now + drift) for drift in (-60, -30, 0, 30, 60)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444",
                                  "555555") if code not in near)


def account_row(user: User) -> AuthThrottle | None:
    return AuthThrottle.objects.filter(key=throttle.account_key(user)).first()


def at(seconds: float):
    """Move the throttle's clock (not the pending sign-in's or the authenticator's)."""
    return mock.patch("django.utils.timezone.now",
                      return_value=timezone.now() + timedelta(seconds=seconds))


def password(client: Client, login: str = "zhangsan"):
    response = client.post(LOGIN, {"login": login, "password": PASSWORD})
    assert response.status_code == 302
    return response


def totp(client: Client, code: str):
    return client.post(SECOND, {"method": "totp", "action": "verify", "code": code})


def guess_until_locked(client: Client) -> list[int]:
    return [totp(client, wrong_code()).status_code for _ in range(3)]


def test_typing_the_password_again_does_not_reset_the_second_factor_lock(client) -> None:
    user = with_totp(make_citizen())
    assert password(client)["Location"] == SECOND
    assert guess_until_locked(client) == [200, 200, 429]
    first = account_row(user)
    assert first is not None and first.locked_until is not None
    first_lock = first.locked_until - timezone.now()
    assert first_lock <= timedelta(seconds=WINDOW)

    with at(WINDOW + 1):  # the first lock is over
        assert password(client)["Location"] == SECOND  # the right password again
        row = account_row(user)
        assert row is not None and row.failures == 3  # ... cleared nothing at the account
        assert guess_until_locked(client) == [200, 200, 429]
        second = account_row(user)
        assert second is not None and second.locked_until is not None
        second_lock = second.locked_until - timezone.now()
    assert second_lock > first_lock  # the lock grows: 20 minutes after 10
    assert second_lock == 2 * timedelta(seconds=WINDOW)

    # During that lock even the right code is refused, however often the password is typed.
    with at(WINDOW + 2):
        client.post(LOGIN, {"login": "zhangsan", "password": PASSWORD})
        refused = totp(client, right_code())
    assert refused.status_code == 429
    assert live_session(client) is None


def test_a_finished_sign_in_clears_the_counts(client) -> None:
    user = with_totp(make_citizen())
    password(client)
    assert [totp(client, wrong_code()).status_code for _ in range(2)] == [200, 200]
    password(client)  # the right password: the account still has its two failures
    row = account_row(user)
    assert row is not None and row.failures == 2
    done = totp(client, right_code())
    assert done.status_code == 302 and live_session(client).user == user
    assert account_row(user) is None
    assert not AuthThrottle.objects.filter(key__in=[
        throttle.login_key("zhangsan"), throttle.login_key("zhangsan", "sms")]).exists()


def test_a_right_factor_while_the_sign_in_is_pending_leaves_the_count(client) -> None:
    """Factor modules clear the count when a code is right; mid-sign-in that must wait for
    the pipeline to sign the person in."""
    user = with_totp(make_citizen())
    password(client)
    totp(client, wrong_code())
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore(
        client.cookies["yiwang_public"].value)
    request = mock.Mock(session=store, META={"REMOTE_ADDR": "127.0.0.1"})
    throttle.succeed(request, user)
    assert pipeline.PENDING_KEY in store and account_row(user).failures == 1
    throttle.succeed(None, user)  # no pending sign-in (e.g. re-authentication): clears
    assert account_row(user) is None


def test_an_sms_code_before_the_authenticator_does_not_reset_its_count(client) -> None:
    user = with_totp(make_citizen(phone=PHONE))
    client.post("/account/login/sms/", {"phone": PHONE})
    sent = client.post("/account/login/sms/code/", {"action": "verify",
                                                    "code": last_code(PHONE)})
    assert sent["Location"] == SECOND  # an authenticator was set up: it must be used
    assert guess_until_locked(client) == [200, 200, 429]
    with at(WINDOW + 1):
        client.post("/account/login/sms/", {"phone": PHONE})
        again = client.post("/account/login/sms/code/", {"action": "verify",
                                                         "code": last_code(PHONE)})
        assert again["Location"] == SECOND
        assert account_row(user).failures == 3


def test_an_sms_code_sign_in_on_its_own_still_clears_the_locks(client) -> None:
    """A citizen whose phone is the only factor is signed in by the code: that clears the
    account's count and its names' (the owner's way out of a password lock)."""
    user = make_citizen(phone=PHONE)
    for _ in range(3):
        client.post(LOGIN, {"login": "zhangsan", "password": "wrong"})
    assert account_row(user).locked_until is not None
    client.post("/account/login/sms/", {"phone": PHONE})
    done = client.post("/account/login/sms/code/", {"action": "verify",
                                                    "code": last_code(PHONE)})
    assert done.status_code == 302 and live_session(client).user == user
    assert account_row(user) is None
    assert not AuthThrottle.objects.filter(key=throttle.login_key("zhangsan")).exists()
