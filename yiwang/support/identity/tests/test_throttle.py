"""Guessing limits: per account (doubling locks), per address, unknown names alike."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.test import RequestFactory
from django.utils import timezone

from yiwang.core.audit.service import AuditEvent
from yiwang.support.identity import throttle
from yiwang.support.identity.models import AuthThrottle
from yiwang.support.identity.tests.test_signin_support import make_citizen

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.YIWANG_LOCKOUT_ACCOUNT_FAILURES = 3
    settings.YIWANG_LOCKOUT_ADDRESS_FAILURES = 10
    settings.YIWANG_LOCKOUT_WINDOW_SECONDS = 600


def request_from(address: str = "198.51.100.7"):
    return RequestFactory().post("/account/login/", REMOTE_ADDR=address)


def at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def fail_times(who, n: int, address: str = "198.51.100.7") -> bool:
    locked = False
    for _ in range(n):
        locked = throttle.fail(request_from(address), who, method="password")
    return locked


def test_an_account_is_locked_after_the_limit_and_released_after_the_window() -> None:
    user = make_citizen()
    assert not fail_times(user, 2)
    throttle.check(request_from(), user)  # two failures: still allowed
    assert fail_times(user, 1)
    with pytest.raises(throttle.Locked) as caught:
        throttle.check(request_from("203.0.113.9"), user)  # from anywhere
    assert 500 <= caught.value.retry_after <= 600
    assert "10 分钟" in " ".join(caught.value.messages)
    with at(timezone.now() + timedelta(seconds=601)):
        throttle.check(request_from(), user)  # the lock has ended


def test_guesses_spread_over_an_accounts_names_lock_it_silently() -> None:
    user = make_citizen(phone="13812345678")
    throttle.fail(request_from(), "zhangsan")
    throttle.fail(request_from(), "+86 138 1234 5678")
    assert throttle.check(request_from(), "13812345678") is False  # two failures: allowed
    throttle.fail(request_from(), "ZhangSan")
    # Three failures at the account: every one of its names must refuse the password
    # without checking it, yet none of them shows a lock (each had fewer than three).
    for name in ("zhangsan", "13812345678", "+86 138-1234-5678"):
        assert throttle.check(request_from("203.0.113.9"), name) is True
        assert throttle.retry_after(request_from(), name) == 0
    # a name of no account, or of another one, is not affected
    make_citizen("lisi", phone="13912345678")
    assert throttle.check(request_from(), "lisi") is False
    assert throttle.check(request_from(), "13912345678") is False
    assert throttle.check(request_from(), "13700000000") is False
    # once the person is identified (a second factor), the account's lock is shown
    with pytest.raises(throttle.Locked):
        throttle.check(request_from(), user)
    with at(timezone.now() + timedelta(seconds=601)):
        assert throttle.check(request_from(), "13812345678") is False


def test_a_name_lock_shows_at_that_name_only() -> None:
    make_citizen(phone="13812345678")
    assert fail_times("zhangsan", 3)
    with pytest.raises(throttle.Locked):
        throttle.check(request_from("203.0.113.9"), "ZHANGSAN ")
    # The phone of the same account answers like any phone that is not locked: no Locked,
    # so probing phones cannot tell which one belongs to the locked username.
    assert throttle.retry_after(request_from(), "13812345678") == 0
    assert throttle.retry_after(request_from(), "13700000000") == 0
    assert throttle.check(request_from(), "13812345678") is True  # silently refused


def test_failures_while_locked_are_not_counted_but_the_name_is() -> None:
    user = make_citizen(phone="13812345678")
    fail_times("zhangsan", 3)
    account = AuthThrottle.objects.get(key=throttle.account_key(user))
    until = account.locked_until
    # the silent refusals at the phone count towards the phone's own lock, like any phone
    assert not throttle.fail(request_from(), "13812345678", reason="account_locked")
    assert not throttle.fail(request_from(), "13812345678", reason="account_locked")
    assert throttle.fail(request_from(), "13812345678", reason="account_locked")
    account.refresh_from_db()
    assert (account.failures, account.locked_until) == (3, until)
    name_row = AuthThrottle.objects.get(key=throttle.login_key("13812345678"))
    assert name_row.failures == 3 and name_row.locked_until is not None


def test_keys_hold_no_name_and_differ_by_name_and_kind() -> None:
    user = make_citizen(phone="13812345678")
    assert throttle.account_key("zhangsan") == throttle.account_key("13812345678") \
        == f"acct:u{user.pk}"
    assert throttle.login_key("zhangsan") != throttle.login_key("13812345678")
    assert throttle.login_key("+86 138 1234 5678") == throttle.login_key("13812345678")
    assert throttle.login_key("ｚhangsan") == throttle.login_key("ZhangSan")  # NFKC, case
    assert throttle.login_key("13812345678", "sms") != throttle.login_key("13812345678")
    assert throttle.login_key(user) == ""
    for key in (throttle.login_key("zhangsan"), throttle.login_key("13812345678")):
        assert "zhangsan" not in key and "1381234" not in key


def test_sms_codes_have_their_own_counter_and_ignore_the_account_lock() -> None:
    make_citizen(phone="13812345678")
    fail_times("13812345678", 3)  # passwords typed with the phone: name and account locked
    with pytest.raises(throttle.Locked):
        throttle.check(request_from(), "13812345678")
    assert throttle.check(request_from(), "13812345678", method="sms") is False
    for _ in range(3):
        locked = throttle.fail(request_from(), "13812345678", method="sms")
    assert locked
    with pytest.raises(throttle.Locked):
        throttle.check(request_from(), "13812345678", method="sms")


def test_success_clears_the_account_and_all_its_names() -> None:
    user = make_citizen(phone="13812345678")
    fail_times("zhangsan", 3)
    fail_times("13812345678", 2)
    fail_times("13812345678", 1, address="203.0.113.9")
    throttle.fail(request_from(), "13812345678", method="sms")
    throttle.succeed(request_from(), user)
    assert throttle.check(request_from("192.0.2.1"), "zhangsan") is False
    assert throttle.check(request_from("192.0.2.1"), "13812345678") is False
    assert not AuthThrottle.objects.filter(key__startswith="login:").exists()
    assert not AuthThrottle.objects.filter(key=throttle.account_key(user)).exists()
    assert AuthThrottle.objects.get(key=throttle.address_key(request_from())).failures == 6


def test_each_further_lock_lasts_twice_as_long_up_to_a_day(settings) -> None:
    user = make_citizen()
    start = timezone.now()
    lengths = []
    moment = start
    for _round in range(9):
        with at(moment):
            fail_times(user, 3)
        row = AuthThrottle.objects.get(key=throttle.account_key(user))
        lengths.append(row.locked_until - moment)
        moment = row.locked_until + timedelta(seconds=1)
    assert lengths[:4] == [timedelta(minutes=10), timedelta(minutes=20),
                           timedelta(minutes=40), timedelta(minutes=80)]
    assert lengths[-1] == timedelta(days=1)


def test_a_quiet_day_after_a_lock_forgets_it() -> None:
    user = make_citizen()
    fail_times(user, 3)
    row = AuthThrottle.objects.get(key=throttle.account_key(user))
    with at(row.locked_until + timedelta(days=1, seconds=1)):
        fail_times(user, 3)
        row.refresh_from_db()
        assert row.locked_until - timezone.now() == timedelta(minutes=10)


def test_failures_outside_the_window_do_not_add_up() -> None:
    user = make_citizen()
    fail_times(user, 2)
    with at(timezone.now() + timedelta(seconds=601)):
        assert not fail_times(user, 2)
        throttle.check(request_from(), user)


def test_an_unknown_name_is_counted_and_locked_like_an_account() -> None:
    assert not fail_times("nobody-here", 2)
    assert fail_times("nobody-here", 1)
    with pytest.raises(throttle.Locked):
        throttle.check(request_from("203.0.113.9"), "NOBODY-here ")
    key = throttle.account_key("nobody-here")
    assert key.startswith("acct:h") and "nobody" not in key
    # the same counters as a real name: its own and a stand-in for the account
    rows = AuthThrottle.objects.filter(key__in=[key, throttle.login_key("nobody-here")])
    assert sorted(r.failures for r in rows) == [3, 3]
    assert throttle.check(request_from("203.0.113.9"), "nobody-else") is False
    failed = AuditEvent.objects.filter(action="identity.sign_in_failed").last()
    assert failed.detail["known_account"] is False
    assert failed.detail["login"] == "no********"


def test_success_clears_the_account_but_not_the_address() -> None:
    user = make_citizen()
    fail_times(user, 2)
    throttle.succeed(request_from(), user)
    assert not fail_times(user, 2)
    address_row = AuthThrottle.objects.get(key=throttle.address_key(request_from()))
    assert address_row.failures == 4


def test_an_address_is_locked_after_its_limit_whatever_names_it_tries() -> None:
    for n in range(10):
        throttle.fail(request_from(), f"guess{n}")
    with pytest.raises(throttle.Locked):
        throttle.check(request_from(), "someone-else")
    throttle.check(request_from("203.0.113.9"), "someone-else")  # other addresses are fine
    assert "198.51.100" not in throttle.address_key(request_from())


def test_failures_and_locks_are_audited() -> None:
    user = make_citizen()
    fail_times(user, 3)
    assert AuditEvent.objects.filter(action="identity.sign_in_failed").count() == 3
    locked = AuditEvent.objects.get(action="identity.locked")
    assert locked.detail["scope"] == "account"
    assert locked.object_id == str(user.pk)


def test_rate_limit_hits_count_within_their_window() -> None:
    window = timedelta(minutes=1)
    assert throttle.hit("rate:test", limit=2, window=window) == 0
    assert throttle.hit("rate:test", limit=2, window=window) == 0
    assert 0 < throttle.hit("rate:test", limit=2, window=window) <= 60
    with at(timezone.now() + timedelta(seconds=61)):
        assert throttle.hit("rate:test", limit=2, window=window) == 0


def test_purge_keeps_live_counters() -> None:
    user = make_citizen()
    fail_times(user, 3)
    old = AuthThrottle.objects.create(key="acct:hold", failures=1,
                                      window_started_at=timezone.now() - timedelta(days=5))
    assert throttle.purge() == 1
    assert not AuthThrottle.objects.filter(pk=old.pk).exists()
    assert AuthThrottle.objects.filter(key=throttle.account_key(user)).exists()


def test_stale_counters_and_codes_are_purged_daily() -> None:
    from yiwang.support.identity import tasks as identity_tasks

    AuthThrottle.objects.create(key="acct:hold", failures=1,
                                window_started_at=timezone.now() - timedelta(days=5))
    assert identity_tasks.purge_sign_in_counters() == 1
    assert identity_tasks.purge_sign_in_counters.name == "identity.purge_sign_in_counters"
