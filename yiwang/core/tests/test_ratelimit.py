from django.core.cache import cache
from django.test import RequestFactory

from yiwang.core import ratelimit


def setup_function() -> None:
    cache.clear()


def test_budget_is_per_scope_and_address() -> None:
    rf = RequestFactory()
    a = rf.get("/", REMOTE_ADDR="10.0.0.1")
    b = rf.get("/", REMOTE_ADDR="10.0.0.2")
    assert [ratelimit.exceeded("s", a, per_minute=2) for _ in range(3)] == [False, False, True]
    assert ratelimit.exceeded("s", b, per_minute=2) is False
    assert ratelimit.exceeded("other", a, per_minute=2) is False


def test_zero_turns_the_limit_off() -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.3")
    assert not any(ratelimit.exceeded("s", request, per_minute=0) for _ in range(50))
