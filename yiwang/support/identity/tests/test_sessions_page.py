"""登录设备：a person sees and ends only their own sessions."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from yiwang.core.audit import service as audit
from yiwang.platform.zones.testing import ListenerClient
from yiwang.support.identity.models import AccountSession, User
from yiwang.support.identity.oidc.models import RelyingParty, SessionClient
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def events(action: str) -> Any:
    """Audit events of exactly ``action``."""
    return audit.search(audit.AuditFilter(action=action)).filter(action=action)

PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47")


def make_user(username: str = "zhangsan") -> User:
    return User.objects.create_user(username=username, password="correct horse battery")


def other_session(user: User, **fields: Any) -> AccountSession:
    client = ListenerClient(settings.YIWANG_PUBLIC_PORT)
    session = sign_in_client(client, user, amr=["pwd", "sms"])
    AccountSession.objects.filter(pk=session.pk).update(
        **{"user_agent": PHONE_UA, "ip_masked": "10.2.3.*", **fields})
    session.refresh_from_db()
    return session


@pytest.fixture
def me(public_client) -> tuple[Any, User, AccountSession]:  # type: ignore[no-untyped-def]
    user = make_user()
    session = sign_in_client(public_client, user, amr=["pwd", "otp"])
    return public_client, user, session


def test_anonymous_visitors_are_sent_to_sign_in(public_client) -> None:  # type: ignore[no-untyped-def]
    response = public_client.get(reverse("identity:sessions"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:login"))
    assert "next=" in response["Location"]
    assert public_client.post(reverse("identity:sessions_end_others")).status_code == 302


def test_my_sessions_are_listed_with_the_current_one_marked(me) -> None:  # type: ignore[no-untyped-def]
    client, user, _current = me
    phone = other_session(user)
    stranger = other_session(make_user("lisi"), ip_masked="172.16.9.*")
    response = client.get(reverse("identity:sessions"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "当前设备" in body
    assert "微信 · iOS" in body and "10.2.3.*" in body
    assert "短信验证码" in body and "身份验证器" in body
    assert reverse("identity:session_end", args=[phone.pk]) in body
    assert reverse("identity:session_end", args=[stranger.pk]) not in body
    assert "172.16.9.*" not in body
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_the_apps_a_session_reached_are_shown(me) -> None:  # type: ignore[no-untyped-def]
    client, user, current = me
    app = RelyingParty.objects.create(name="社保服务", client_type="confidential",
                                      authorization_grant_type="authorization-code",
                                      redirect_uris="https://rp.example/cb")
    SessionClient.objects.create(sid=current.sid, application=app, user=user)
    body = client.get(reverse("identity:sessions")).content.decode()
    assert "社保服务" in body


def test_the_page_takes_a_fixed_number_of_queries(me, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    client, user, _current = me
    for _ in range(5):
        other_session(user)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("identity:sessions")).status_code == 200


def test_ending_one_of_my_other_sessions(me) -> None:  # type: ignore[no-untyped-def]
    client, user, current = me
    phone = other_session(user)
    response = client.post(reverse("identity:session_end", args=[phone.pk]))
    assert response.status_code == 302
    phone.refresh_from_db()
    assert phone.ended_at is not None and phone.end_reason == "remote_sign_out"
    current.refresh_from_db()
    assert current.ended_at is None
    event = events("identity.session_ended").get()
    assert event.actor_id == str(user.pk)


def test_another_citizens_session_is_a_404(me) -> None:  # type: ignore[no-untyped-def]
    client, _user, _current = me
    theirs = other_session(make_user("lisi"))
    response = client.post(reverse("identity:session_end", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.ended_at is None


def test_an_ended_or_unknown_session_is_a_404(me) -> None:  # type: ignore[no-untyped-def]
    client, user, _current = me
    old = other_session(user)
    assert client.post(reverse("identity:session_end", args=[old.pk])).status_code == 302
    assert client.post(reverse("identity:session_end", args=[old.pk])).status_code == 404
    assert client.post(reverse("identity:session_end", args=[999999])).status_code == 404


def test_ending_with_get_is_not_allowed(me) -> None:  # type: ignore[no-untyped-def]
    client, user, _current = me
    phone = other_session(user)
    assert client.get(reverse("identity:session_end", args=[phone.pk])).status_code == 405
    phone.refresh_from_db()
    assert phone.ended_at is None


def test_ending_the_current_session_signs_this_browser_out(me) -> None:  # type: ignore[no-untyped-def]
    client, _user, current = me
    response = client.post(reverse("identity:session_end", args=[current.pk]))
    assert response.status_code == 302
    current.refresh_from_db()
    assert current.ended_at is not None
    after = client.get(reverse("identity:sessions"))
    assert after.status_code == 302 and after["Location"].startswith(reverse("identity:login"))


def test_signing_out_everywhere_else(me) -> None:  # type: ignore[no-untyped-def]
    client, user, current = me
    mine = [other_session(user) for _ in range(3)]
    theirs = other_session(make_user("lisi"))
    response = client.post(reverse("identity:sessions_end_others"))
    assert response.status_code == 302
    assert all(AccountSession.objects.get(pk=s.pk).ended_at is not None for s in mine)
    assert AccountSession.objects.get(pk=current.pk).ended_at is None
    assert AccountSession.objects.get(pk=theirs.pk).ended_at is None
    assert client.get(reverse("identity:sessions")).status_code == 200


def test_an_ended_session_elsewhere_is_signed_out_here(me) -> None:  # type: ignore[no-untyped-def]
    client, user, current = me
    other = ListenerClient(settings.YIWANG_PUBLIC_PORT)
    sign_in_client(other, user)
    client.post(reverse("identity:sessions_end_others"))
    assert other.get(reverse("identity:sessions")).status_code == 302
    assert client.get(reverse("identity:sessions")).status_code == 200
    assert AccountSession.objects.get(pk=current.pk).ended_at is None


def test_ending_needs_the_csrf_token() -> None:
    user = make_user()
    client = ListenerClient(settings.YIWANG_PUBLIC_PORT, enforce_csrf_checks=True)
    sign_in_client(client, user)
    phone = other_session(user)
    assert client.post(reverse("identity:session_end", args=[phone.pk])).status_code == 403
    assert client.post(reverse("identity:sessions_end_others")).status_code == 403
    phone.refresh_from_db()
    assert phone.ended_at is None


def test_the_english_page(me) -> None:  # type: ignore[no-untyped-def]
    client, _user, _current = me
    response = client.get("/en" + reverse("identity:sessions"))
    assert response.status_code == 200
    assert 'lang="en"' in response.content.decode()
