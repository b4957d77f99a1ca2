"""扫码登录：a desktop shows a ticket, a signed-in phone approves it, the desktop signs in once."""

from __future__ import annotations

import re
from datetime import timedelta
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.platform.zones.testing import ListenerClient
from yiwang.support.identity import qrlogin, sessions
from yiwang.support.identity.models import (
    AccountSession,
    Level,
    QrLoginTicket,
    QrState,
    User,
)
from yiwang.support.identity.sessions import SESSION_KEY
from yiwang.support.identity.testing import sign_in_client
from yiwang.support.identity.views import qr as qr_views

pytestmark = pytest.mark.django_db


def events(action: str) -> Any:
    """Audit events of exactly ``action``."""
    return audit.search(audit.AuditFilter(action=action)).filter(action=action)

DESKTOP_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/124.0 Safari/537.36")


def make_user(username: str = "zhangsan", *, verified: bool = True) -> User:
    return User.objects.create_user(
        username=username, password="correct horse battery", display_name="张三",
        verified_at=timezone.now() if verified else None,
        level=Level.L2 if verified else Level.L1)


def new_client() -> Any:
    return ListenerClient(settings.YIWANG_PUBLIC_PORT, HTTP_USER_AGENT=DESKTOP_UA)


def server_sid(client: Any) -> str | None:
    engine = import_module(settings.SESSION_ENGINE)
    morsel = client.cookies.get("yiwang_public") or client.cookies.get(
        settings.SESSION_COOKIE_NAME)
    return engine.SessionStore(morsel.value if morsel else None).get(SESSION_KEY)


def show_code(desktop: Any, next_url: str = "") -> str:
    response = desktop.get(reverse("identity:qr_login"), {"next": next_url} if next_url else {})
    assert response.status_code == 200
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match
    return match.group(1)


def poll(client: Any, token: str, *, json: bool = True, next_url: str = "") -> Any:
    headers = {"HTTP_ACCEPT": "application/json"} if json else {}
    return client.post(reverse("identity:qr_status"), {"token": token, "next": next_url},
                       **headers)


def approve_url(token: str) -> str:
    return reverse("identity:qr_approve", args=[token])


@pytest.fixture
def desktop() -> Any:
    return new_client()


@pytest.fixture
def phone() -> tuple[Any, User, AccountSession]:
    client = new_client()
    user = make_user()
    session = sign_in_client(client, user, amr=["pwd", "otp"])  # L3 on the phone
    return client, user, session


# --- the desktop page ------------------------------------------------------------------------


def test_the_desktop_page_shows_a_qr_code_of_the_approval_url(desktop) -> None:  # type: ignore[no-untyped-def]
    response = desktop.get(reverse("identity:qr_login"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in body and 'class="qr-code"' in body
    assert 'src="/static/identity/qrlogin.js"' in body and "<script>" not in body
    assert "no-store" in response["Cache-Control"]
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)  # type: ignore[union-attr]
    ticket = QrLoginTicket.objects.get()
    assert ticket.token_hash == sessions.hash_token(token)
    assert token not in str(list(QrLoginTicket.objects.values_list()))
    assert ticket.state == QrState.PENDING
    ttl = timedelta(seconds=settings.YIWANG_QR_LOGIN_TTL_SECONDS)
    assert ttl - timedelta(seconds=5) < ticket.expires_at - ticket.created_at <= ttl
    assert qr_views.approval_url(token) == f"{settings.YIWANG_PUBLIC_URL}/account/qr/a/{token}/"


def test_polling_a_pending_ticket(desktop) -> None:  # type: ignore[no-untyped-def]
    token = show_code(desktop)
    response = poll(desktop, token)
    assert response.status_code == 200
    assert response.json()["state"] == "pending"
    assert 0 < response.json()["seconds_left"] <= settings.YIWANG_QR_LOGIN_TTL_SECONDS


# --- the whole flow ---------------------------------------------------------------------------


def test_scan_approve_and_sign_in(desktop, phone) -> None:  # type: ignore[no-untyped-def]
    phone_client, user, phone_session = phone
    token = show_code(desktop, next_url="/account/sessions/")

    page = phone_client.get(approve_url(token))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Chrome · Windows" in body and "127.0.0.*" in body
    assert poll(desktop, token).json()["state"] == "scanned"

    decided = phone_client.post(approve_url(token), {"decision": "approve"})
    assert decided.status_code == 200
    ticket = QrLoginTicket.objects.get()
    assert ticket.state == QrState.APPROVED and ticket.approved_by == user
    assert ticket.approver_sid == phone_session.sid

    response = poll(desktop, token, next_url="/account/sessions/")
    assert response.status_code == 200, response.content
    assert response.json()["redirect"] == "/account/sessions/"
    desktop_session = AccountSession.objects.get(sid=server_sid(desktop))
    assert desktop_session.user == user
    assert desktop_session.amr == ["qr"]
    assert desktop_session.acr == Level.L2  # capped: never above L2
    assert QrLoginTicket.objects.get().state == QrState.CONSUMED
    actions = set(audit.search(audit.AuditFilter()).values_list("action", flat=True))
    assert {"identity.qr_created", "identity.qr_scanned", "identity.qr_approved",
            "identity.qr_consumed", "identity.sign_in"} <= actions


def test_the_level_is_capped_at_the_approving_sessions(desktop) -> None:  # type: ignore[no-untyped-def]
    phone_client = new_client()
    user = make_user()
    session = sign_in_client(phone_client, user, amr=["pwd"])
    AccountSession.objects.filter(pk=session.pk).update(acr=Level.L1)  # e.g. capped itself
    token = show_code(desktop)
    phone_client.get(approve_url(token))
    phone_client.post(approve_url(token), {"decision": "approve"})
    assert poll(desktop, token).status_code == 200
    assert AccountSession.objects.get(sid=server_sid(desktop)).acr == Level.L1


def test_the_no_script_button_signs_in_with_a_redirect(desktop, phone) -> None:  # type: ignore[no-untyped-def]
    phone_client, user, _session = phone
    token = show_code(desktop)
    waiting = poll(desktop, token, json=False)
    assert waiting.status_code == 200 and "<svg" in waiting.content.decode()
    phone_client.get(approve_url(token))
    phone_client.post(approve_url(token), {"decision": "approve"})
    response = poll(desktop, token, json=False)
    assert response.status_code == 302
    assert AccountSession.objects.get(sid=server_sid(desktop)).user == user


# --- refusals ---------------------------------------------------------------------------------


def test_a_consumed_ticket_cannot_be_replayed(desktop, phone) -> None:  # type: ignore[no-untyped-def]
    phone_client, _user, _session = phone
    token = show_code(desktop)
    phone_client.get(approve_url(token))
    phone_client.post(approve_url(token), {"decision": "approve"})
    assert poll(desktop, token).status_code == 200
    # The same browser trying the ticket once more, or the phone approving it again.
    again = poll(desktop, token)
    assert again.status_code == 400
    assert again.json()["state"] == "error"
    assert phone_client.post(approve_url(token), {"decision": "approve"}).status_code == 400
    assert events("identity.qr_replayed").exists()


def test_another_browser_cannot_use_the_ticket(desktop, phone) -> None:  # type: ignore[no-untyped-def]
    phone_client, _user, _session = phone
    token = show_code(desktop)
    phone_client.get(approve_url(token))
    phone_client.post(approve_url(token), {"decision": "approve"})
    attacker = new_client()
    attacker.get(reverse("identity:qr_login"))  # has a browser value of its own
    response = poll(attacker, token)
    assert response.status_code == 400
    assert "不是在本浏览器" in response.json()["message"]
    assert server_sid(attacker) is None
    assert QrLoginTicket.objects.get(token_hash=sessions.hash_token(token)).state == \
        QrState.APPROVED  # still usable by the right browser
    assert events("identity.qr_foreign_browser").exists()
    assert poll(desktop, token).status_code == 200


def test_a_browser_without_any_ticket_cannot_poll(desktop) -> None:  # type: ignore[no-untyped-def]
    token = show_code(desktop)
    stranger = new_client()
    assert poll(stranger, token).status_code == 400
    assert poll(stranger, "made-up-token").status_code == 400
    assert poll(stranger, "").status_code == 400


def test_an_expired_ticket_is_refused(desktop, phone) -> None:  # type: ignore[no-untyped-def]
    phone_client, _user, _session = phone
    token = show_code(desktop)
    QrLoginTicket.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert poll(desktop, token).json()["state"] == "expired"
    page = phone_client.get(approve_url(token))
    assert page.status_code == 400 and "过期" in page.content.decode()
    assert phone_client.post(approve_url(token), {"decision": "approve"}).status_code == 400
    assert QrLoginTicket.objects.get().state == QrState.PENDING
    assert events("identity.qr_expired").exists()


def test_a_ticket_approved_then_expired_cannot_be_consumed(desktop, phone) -> None:  # type: ignore[no-untyped-def]
    phone_client, _user, _session = phone
    token = show_code(desktop)
    phone_client.get(approve_url(token))
    phone_client.post(approve_url(token), {"decision": "approve"})
    QrLoginTicket.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = poll(desktop, token)
    assert response.json()["state"] == "expired"
    assert server_sid(desktop) is None


def test_a_denied_ticket_stays_denied(desktop, phone) -> None:  # type: ignore[no-untyped-def]
    phone_client, _user, _session = phone
    token = show_code(desktop)
    phone_client.get(approve_url(token))
    assert phone_client.post(approve_url(token), {"decision": "deny"}).status_code == 200
    assert poll(desktop, token).json()["state"] == "denied"
    assert phone_client.post(approve_url(token), {"decision": "approve"}).status_code == 400
    assert server_sid(desktop) is None
    assert events("identity.qr_denied").exists()


def test_an_approval_from_a_session_that_ended_is_refused(desktop, phone) -> None:  # type: ignore[no-untyped-def]
    phone_client, _user, phone_session = phone
    token = show_code(desktop)
    phone_client.get(approve_url(token))
    phone_client.post(approve_url(token), {"decision": "approve"})
    sessions.end_session(phone_session, reason="test")
    response = poll(desktop, token)
    assert response.status_code == 400
    assert server_sid(desktop) is None
    assert events("identity.qr_approver_gone").exists()


def test_the_phone_must_be_signed_in(desktop) -> None:  # type: ignore[no-untyped-def]
    token = show_code(desktop)
    anonymous_phone = new_client()
    page = anonymous_phone.get(approve_url(token))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("identity:login"))
    assert anonymous_phone.post(approve_url(token), {"decision": "approve"}).status_code == 302
    assert QrLoginTicket.objects.get().state == QrState.PENDING


def test_a_decision_is_required(desktop, phone) -> None:  # type: ignore[no-untyped-def]
    phone_client, _user, _session = phone
    token = show_code(desktop)
    assert phone_client.post(approve_url(token), {"decision": "maybe"}).status_code == 400
    assert phone_client.post(approve_url(token)).status_code == 400
    assert QrLoginTicket.objects.get().state == QrState.PENDING


def test_approving_needs_the_csrf_token(desktop, phone) -> None:  # type: ignore[no-untyped-def]
    _phone_client, user, _session = phone
    strict = ListenerClient(settings.YIWANG_PUBLIC_PORT, enforce_csrf_checks=True)
    sign_in_client(strict, user)
    token = show_code(desktop)
    assert strict.post(approve_url(token), {"decision": "approve"}).status_code == 403
    assert QrLoginTicket.objects.get().state == QrState.PENDING


def test_an_unknown_approval_link(phone) -> None:  # type: ignore[no-untyped-def]
    phone_client, _user, _session = phone
    response = phone_client.get(approve_url("no-such-ticket"))
    assert response.status_code == 400
    assert events("identity.qr_unknown").exists()


def test_the_ticket_is_consumed_once_even_if_two_polls_race(desktop, phone) -> None:  # type: ignore[no-untyped-def]
    phone_client, _user, _session = phone
    token = show_code(desktop)
    phone_client.get(approve_url(token))
    phone_client.post(approve_url(token), {"decision": "approve"})
    # The other poll already consumed it between our read and our write.
    ticket = QrLoginTicket.objects.get()
    QrLoginTicket.objects.filter(pk=ticket.pk).update(consumed_at=timezone.now())
    response = poll(desktop, token)
    assert response.status_code == 400
    assert server_sid(desktop) is None


def test_purging_old_tickets() -> None:
    QrLoginTicket.objects.create(token_hash="a", browser_hash="b",
                                 expires_at=timezone.now() - timedelta(days=2))
    QrLoginTicket.objects.create(token_hash="c", browser_hash="d",
                                 expires_at=timezone.now() + timedelta(minutes=1))
    assert qrlogin.purge_expired() == 1
    assert list(QrLoginTicket.objects.values_list("token_hash", flat=True)) == ["c"]


def test_asking_for_codes_too_often_is_slowed_down(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(qrlogin, "TICKETS_PER_ADDRESS", 2)
    client = new_client()
    assert client.get(reverse("identity:qr_login")).status_code == 200
    assert client.get(reverse("identity:qr_login")).status_code == 200
    third = client.get(reverse("identity:qr_login"))
    assert third.status_code == 429
    assert "过于频繁" in third.content.decode()
    assert QrLoginTicket.objects.count() == 2
    assert events("identity.qr_rate_limited").exists()
