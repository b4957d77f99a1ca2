"""Session rules found in review: step-up needs a new factor, caps hold, re-sign-in renews."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone

from yiwang.support.identity import sessions
from yiwang.support.identity.models import AccountSession

pytestmark = pytest.mark.django_db


def _request(user):  # type: ignore[no-untyped-def]
    from django.contrib.sessions.backends.db import SessionStore

    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.user = user
    return request


@pytest.fixture
def verified():  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_user("v1", password="x" * 12,
                                                verified_at=timezone.now())


def test_step_up_without_a_new_factor_keeps_auth_time_and_the_cap(verified) -> None:
    request = _request(verified)
    session = sessions.sign_in(request, verified, amr=["qr", "pwd"], method="qr+password",
                               level_cap=2)
    assert session.acr == 2 and session.level_cap == 2
    before = session.auth_time
    again = sessions.step_up(request, amr=["pwd"], method="password")  # the same factor
    assert again.acr == 2 and again.auth_time == before
    nothing = sessions.step_up(request, amr=[], method="realname")
    assert nothing.acr == 2 and nothing.auth_time == before


def test_a_new_factor_lifts_the_cap_and_renews_auth_time(verified) -> None:
    request = _request(verified)
    session = sessions.sign_in(request, verified, amr=["qr"], method="qr", level_cap=2)
    signed_in_at = session.auth_time
    raised = sessions.step_up(request, amr=["otp"], method="totp")
    assert raised.acr == 2  # qr and otp are both possession: still one kind
    raised = sessions.step_up(request, amr=["pwd"], method="password")
    assert raised.acr == 3 and raised.level_cap is None and raised.auth_time > signed_in_at


def test_signing_in_again_renews_the_same_session(verified) -> None:
    request = _request(verified)
    first = sessions.sign_in(request, verified, amr=["sms"], method="sms")
    second = sessions.sign_in(request, verified, amr=["pwd", "otp"], method="password+totp")
    assert second.sid == first.sid and second.ended_at is None and second.acr == 3
    assert AccountSession.objects.filter(user=verified).count() == 1


def test_another_account_on_the_browser_ends_the_first(verified) -> None:
    other = get_user_model().objects.create_user("v2", password="x" * 12)
    request = _request(verified)
    first = sessions.sign_in(request, verified, amr=["pwd"], method="password")
    sessions.sign_in(request, other, amr=["pwd"], method="password")
    first.refresh_from_db()
    assert first.ended_at is not None and first.end_reason == "replaced"


def test_sessions_end_after_their_lifetime_with_their_tokens(
        verified, settings, django_capture_on_commit_callbacks) -> None:
    from datetime import timedelta

    ended = []

    def hook(session, reason):  # type: ignore[no-untyped-def]
        ended.append((session.sid, reason))

    sessions.on_session_end(hook)
    try:
        request = _request(verified)
        session = sessions.sign_in(request, verified, amr=["pwd"], method="password")
        assert sessions.expire_sessions() == 0
        later = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)
        with django_capture_on_commit_callbacks(execute=True):
            assert sessions.expire_sessions(now=later) == 1
    finally:
        sessions._end_hooks.remove(hook)
    session.refresh_from_db()
    assert session.ended_at is not None and session.end_reason == "expired"
    assert (session.sid, "expired") in ended


def test_officials_are_offered_only_a_factor_of_another_kind() -> None:
    from yiwang.support.identity import pipeline
    from yiwang.support.identity import service as identity
    from yiwang.support.identity.models import TotpDevice

    official = identity.create_official("o.mfa", "官员", password="x" * 12,
                                        phone="13900001111")
    TotpDevice.objects.create(user=official, name="app", secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
                              confirmed_at=timezone.now())
    after_sms = pipeline.second_factor_options(official, ["sms"])
    assert "totp" not in after_sms and "password" in after_sms
    after_password = pipeline.second_factor_options(official, ["pwd"])
    assert "totp" in after_password and "sms" in after_password
    citizen = get_user_model().objects.create_user("c.mfa", password="x" * 12)
    TotpDevice.objects.create(user=citizen, name="app", secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
                              confirmed_at=timezone.now())
    assert "totp" in pipeline.second_factor_options(citizen, ["sms"])  # not required there


def test_non_ascii_digits_are_a_wrong_totp_code_not_an_error(verified) -> None:
    from yiwang.support.identity import totp
    from yiwang.support.identity.models import TotpDevice

    TotpDevice.objects.create(user=verified, name="app", secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
                              confirmed_at=timezone.now())
    assert totp.verify(verified, "١٢٣٤٥٦") is False
    assert totp.verify(verified, "１２３４５６") in (True, False)  # full-width: normalised


def test_a_long_password_works_as_a_second_factor() -> None:
    from yiwang.support.identity.forms_signin import SecondFactorForm

    long_password = "长密码-" + "x" * 120
    form = SecondFactorForm({"code": long_password}, method="password")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["code"] == long_password
