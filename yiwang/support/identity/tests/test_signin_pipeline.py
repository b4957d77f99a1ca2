"""The sign-in pipeline: when a second factor is needed, which ones, and where to go next."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.utils import timezone

from yiwang.support.identity import pipeline, sessions
from yiwang.support.identity.models import Level, TotpDevice
from yiwang.support.identity.tests.test_signin_support import make_citizen, make_official

pytestmark = pytest.mark.django_db


def browser(path: str = "/account/login/", **extra):
    request = RequestFactory().post(path, **extra)
    request.session = SessionStore()
    request.user = AnonymousUser()
    return request


def with_totp(user):
    TotpDevice.objects.create(user=user, name="phone", secret="JBSWY3DPEHPK3PXP",
                              confirmed_at=timezone.now())
    return user


@pytest.mark.parametrize(("kind", "amr", "level", "needed"), [
    ("plain", ["pwd"], None, False),        # nothing else enrolled
    ("plain", ["pwd"], 3, True),            # L3 asked for
    ("phone", ["pwd"], None, True),         # a verified phone must be used
    ("phone", ["sms"], None, False),        # ... but it was the first factor
    ("phone", ["qr"], None, False),         # approving on one's phone proves it too
    ("totp", ["sms"], None, True),          # an authenticator must be used
    ("official", ["pwd"], None, True),      # officials, always
    ("official", ["pwd", "otp"], None, False),
    ("plain", ["hwk", "user"], 3, False),   # a passkey with user verification is two
])
def test_when_a_second_factor_is_needed(kind, amr, level, needed) -> None:
    user = {"plain": lambda: make_citizen(),
            "phone": lambda: make_citizen(phone="13812345678"),
            "totp": lambda: with_totp(make_citizen(phone="13812345678")),
            "official": lambda: make_official()}[kind]()
    assert pipeline.needs_second_factor(user, amr, level) is needed


def test_the_factors_offered_are_of_another_kind_than_the_first() -> None:
    user = with_totp(make_citizen(phone="13812345678"))
    assert pipeline.second_factor_options(user, ["pwd"]) == ["totp", "sms"]
    assert pipeline.second_factor_options(user, ["sms"]) == ["totp", "password"]
    assert pipeline.second_factor_options(user, ["otp"]) == ["sms", "password"]


def test_recovery_codes_are_a_fallback_not_a_reason() -> None:
    user = make_citizen()
    with mock.patch.object(pipeline, "available_second_factors", return_value=["recovery"]):
        assert not pipeline.needs_second_factor(user, ["pwd"])
        assert pipeline.second_factor_options(user, ["sms"]) == ["password", "recovery"]


def test_without_the_factors_module_a_verified_phone_is_still_offered() -> None:
    user = make_citizen(phone="13812345678")
    with mock.patch.object(pipeline, "_factors", return_value=None):
        assert pipeline.available_second_factors(user) == ["sms"]
        assert pipeline.available_second_factors(make_citizen("other")) == []


@pytest.mark.parametrize("url", [
    "https://evil.example/x", "//evil.example", "///evil.example", "http:evil.example",
    "/\\evil.example", "\\\\evil.example", "javascript:alert(1)", "data:text/html,x",
    "https://testserver@evil.example/", "/ok\r\nLocation: https://evil.example", "x" * 2100,
    "", None,
])
def test_safe_next_refuses_anything_that_leaves_the_site(url) -> None:
    assert pipeline.safe_next(browser(), url) == "/account/"


@pytest.mark.parametrize("url", ["/regions/", "/oidc/authorize/?client_id=a&scope=openid",
                                 "http://testserver/regions/", "/en/account/"])
def test_safe_next_keeps_local_addresses(url) -> None:
    assert pipeline.safe_next(browser(), url) == url


def test_https_sites_refuse_http_next() -> None:
    request = browser(secure=True)
    assert pipeline.safe_next(request, "http://testserver/regions/") == "/account/"


def test_clean_level() -> None:
    assert [pipeline.clean_level(v) for v in ("1", "L2", "l3", "4", "", None, "x")] == \
        [1, 2, 3, None, None, None, None]


def test_begin_signs_in_at_once_when_one_factor_is_enough() -> None:
    user = make_citizen()
    request = browser()
    response = pipeline.begin(request, user, amr=["pwd"], method="password",
                              next_url="/regions/")
    assert response["Location"] == "/regions/"
    assert sessions.current(request).user == user


def test_begin_keeps_a_pending_sign_in_and_complete_finishes_it() -> None:
    user = make_official()
    request = browser()
    before = request.session.session_key
    response = pipeline.begin(request, user, amr=["pwd"], method="password",
                              next_url="/regions/", required_level=3)
    assert response["Location"] == "/account/login/second-factor/"
    assert request.session.session_key != before  # a fresh key for the half-signed-in browser
    assert sessions.current(request) is None
    assert pipeline.pending_user(request) == user
    done = pipeline.complete(request, amr=["otp"], method="totp")
    assert done["Location"] == "/regions/"
    session = sessions.current(request)
    assert session.acr == Level.L3 and session.amr == ["otp", "pwd", "mfa"]
    assert pipeline.pending(request) is None


def test_a_pending_sign_in_lasts_five_minutes() -> None:
    user = make_official()
    request = browser()
    pipeline.begin(request, user, amr=["pwd"], method="password", next_url="")
    with mock.patch("time.time", return_value=time.time() + 301):
        assert pipeline.pending_user(request) is None
        response = pipeline.complete(request, amr=["otp"], method="totp")
    assert response["Location"] == "/account/login/?expired=1"
    assert sessions.current(request) is None


def test_a_deactivated_account_cannot_complete_its_sign_in() -> None:
    user = make_official()
    request = browser()
    pipeline.begin(request, user, amr=["pwd"], method="password", next_url="")
    user.is_active = False
    user.save()
    assert pipeline.complete(request, amr=["otp"], method="totp")["Location"].startswith(
        "/account/login/")
    assert sessions.current(request) is None


def test_an_inactive_account_cannot_begin() -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        pipeline.begin(browser(), make_citizen(is_active=False), amr=["pwd"],
                       method="password", next_url="")


def test_a_session_still_below_the_level_goes_through_step_up() -> None:
    user = make_citizen()
    request = browser()
    response = pipeline.begin(request, user, amr=["pwd"], method="password",
                              next_url="/regions/", required_level=2)
    assert response["Location"] == "/account/step-up/?level=2&next=%2Fregions%2F"
