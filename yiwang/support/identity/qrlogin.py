"""扫码登录：sign a desktop browser in by approving it on a phone that is already signed in.

1. The desktop sign-in page creates a ticket: a random token (only its SHA-256 is stored),
   bound to the showing browser by a random value kept in that browser's session, valid
   for ``YIWANG_QR_LOGIN_TTL_SECONDS``. The page shows the approval URL as a QR code.
2. The phone opens the URL (``scanned``), sees where the request comes from and approves
   or denies it with a POST.
3. The desktop's next poll consumes an approved ticket in one conditional UPDATE (single
   use) and signs the desktop in with ``amr=["qr"]``, at most at the approving session's
   level and never above L2: the desktop proved nothing by itself.

Replayed, expired, foreign-browser and already used tickets are refused and audited.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.support.identity import sessions
from yiwang.support.identity.models import AccountSession, Level, QrLoginTicket, QrState

BROWSER_KEY = "yiwang_qr_browser"
EXPIRED = "expired"
MAX_LEVEL = int(Level.L2)
# New tickets per client address and window: a page left open refreshes its code every
# couple of minutes; a script filling the table hits this first. Generous, because a whole
# office may reach the portal from one address.
TICKETS_PER_ADDRESS = 300
TICKET_WINDOW = timedelta(minutes=10)


class QrLoginError(ValidationError):
    """A QR sign-in step was refused; the message can be shown to the person."""


@dataclass(frozen=True)
class Approved:
    """A consumed ticket: who approved it and the highest level the desktop may reach."""

    user: Any
    level_cap: int
    ticket: QrLoginTicket


def ttl_seconds() -> int:
    return int(settings.YIWANG_QR_LOGIN_TTL_SECONDS)


def _browser_secret(request: HttpRequest, *, create: bool) -> str:
    value = request.session.get(BROWSER_KEY)
    if not value and create:
        value = secrets.token_urlsafe(32)
        request.session[BROWSER_KEY] = value
    return str(value or "")


def _same_browser(request: HttpRequest, ticket: QrLoginTicket) -> bool:
    secret = _browser_secret(request, create=False)
    return bool(secret) and hmac.compare_digest(sessions.hash_token(secret), ticket.browser_hash)


def state_of(ticket: QrLoginTicket) -> str:
    """``pending``, ``scanned``, ``approved``, ``denied``, ``consumed`` or ``expired``."""
    if ticket.state in (QrState.CONSUMED, QrState.DENIED):
        return str(ticket.state)
    if ticket.expires_at <= timezone.now():
        return EXPIRED
    return str(ticket.state)


def seconds_left(ticket: QrLoginTicket) -> int:
    return max(0, int((ticket.expires_at - timezone.now()).total_seconds()))


def _rate_limit(request: HttpRequest) -> None:
    from yiwang.support.identity import throttle

    address = throttle.address_key(request)
    if address and throttle.hit(f"qr:{address}", limit=TICKETS_PER_ADDRESS,
                                window=TICKET_WINDOW):
        audit.record("identity.qr_rate_limited", None,
                     detail={"ip": sessions.mask_address(sessions.client_address(request))})
        raise QrLoginError(_("请求二维码过于频繁，请稍后再试，或使用其他方式登录。"))


def create_ticket(request: HttpRequest) -> tuple[QrLoginTicket, str]:
    """A new ticket for this (desktop) browser; returns it and its token (shown as a QR code).

    Raises :class:`QrLoginError` when this address asked for too many tickets lately.
    """
    _rate_limit(request)
    with transaction.atomic():
        return _create_ticket(request)


def _create_ticket(request: HttpRequest) -> tuple[QrLoginTicket, str]:
    token = secrets.token_urlsafe(32)
    secret = _browser_secret(request, create=True)
    ticket = QrLoginTicket.objects.create(
        token_hash=sessions.hash_token(token),
        browser_hash=sessions.hash_token(secret),
        expires_at=timezone.now() + timedelta(seconds=ttl_seconds()),
        desktop_ip_masked=sessions.mask_address(sessions.client_address(request)),
        desktop_user_agent=str(request.META.get("HTTP_USER_AGENT", ""))[:256],
    )
    audit.record("identity.qr_created", ticket, actor=None,
                 detail={"ip": ticket.desktop_ip_masked})
    return ticket, token


def find_ticket(token: str) -> QrLoginTicket | None:
    """The ticket of ``token``, or None (an unknown or malformed token)."""
    if not token or len(token) > 128:
        return None
    return QrLoginTicket.objects.filter(token_hash=sessions.hash_token(str(token))).first()


def _refuse(event: str, ticket: QrLoginTicket | None, message: str, **detail: Any) -> QrLoginError:
    audit.record(f"identity.qr_{event}", ticket, detail=detail)
    return QrLoginError(message)


# --- The phone -------------------------------------------------------------------------


def open_for_approval(request: HttpRequest, token: str) -> QrLoginTicket:
    """The phone opened the approval URL: mark the ticket scanned and return it.

    Raises :class:`QrLoginError` (audited) for an unknown, expired or finished ticket.
    """
    ticket = find_ticket(token)
    if ticket is None:
        raise _refuse("unknown", None, _("二维码无效。请在电脑上刷新二维码后重新扫描。"))
    state = state_of(ticket)
    if state == EXPIRED:
        raise _refuse("expired", ticket, _("二维码已过期。请在电脑上刷新二维码后重新扫描。"),
                      step="scan")
    if state not in (QrState.PENDING, QrState.SCANNED):
        raise _refuse("replayed", ticket, _("这个二维码已经使用过了，不能再次确认。"), step="scan",
                      state=state)
    if state == QrState.PENDING:
        QrLoginTicket.objects.filter(pk=ticket.pk, state=QrState.PENDING).update(
            state=QrState.SCANNED)
        ticket.state = QrState.SCANNED
        audit.record("identity.qr_scanned", ticket, actor=request.user)
    return ticket


def decide(request: HttpRequest, token: str, *, approve: bool) -> QrLoginTicket:
    """The signed-in phone approves (or denies) the desktop's sign-in.

    Raises :class:`QrLoginError` (audited) when the ticket cannot be decided any more.
    Audited as ``identity.qr_approved`` / ``identity.qr_denied``.
    """
    session = sessions.current(request)
    if session is None:
        raise QrLoginError(_("请先在手机上登录。"))
    ticket = find_ticket(token)
    if ticket is None:
        raise _refuse("unknown", None, _("二维码无效。请在电脑上刷新二维码后重新扫描。"))
    now = timezone.now()
    open_states = Q(state__in=(QrState.PENDING, QrState.SCANNED), expires_at__gt=now)
    if approve:
        changes: dict[str, Any] = {"state": QrState.APPROVED, "approved_by": session.user,
                                   "approver_sid": session.sid}
    else:
        changes = {"state": QrState.DENIED}
    with transaction.atomic():
        updated = QrLoginTicket.objects.filter(open_states, pk=ticket.pk).update(**changes)
        if updated:
            audit.record("identity.qr_approved" if approve else "identity.qr_denied", ticket,
                         actor=session.user, detail={"desktop_ip": ticket.desktop_ip_masked})
    if not updated:
        ticket.refresh_from_db()
        if state_of(ticket) == EXPIRED:
            raise _refuse("expired", ticket,
                          _("二维码已过期。请在电脑上刷新二维码后重新扫描。"), step="decide")
        raise _refuse("replayed", ticket, _("这个二维码已经使用过了，不能再次确认。"),
                      step="decide", state=state_of(ticket))
    ticket.refresh_from_db()
    return ticket


# --- The desktop -----------------------------------------------------------------------


def poll(request: HttpRequest, token: str) -> tuple[QrLoginTicket, str]:
    """The desktop asks how its ticket is doing; returns the ticket and its state.

    Raises :class:`QrLoginError` (audited) for an unknown ticket or one another browser shows.
    """
    ticket = find_ticket(token)
    if ticket is None:
        raise _refuse("unknown", None, _("二维码无效，请刷新后重试。"), step="poll")
    if not _same_browser(request, ticket):
        raise _refuse("foreign_browser", ticket,
                      _("这个二维码不是在本浏览器上生成的，不能用来登录。请刷新页面获取新的二维码。"),
                      step="poll")
    return ticket, state_of(ticket)


def consume(request: HttpRequest, token: str) -> Approved:
    """Use an approved ticket to sign this desktop browser in (once).

    Returns who approved it and the level cap for the new session. Raises
    :class:`QrLoginError` (audited as ``identity.qr_*``) for an unknown, foreign-browser,
    expired, denied, not yet approved or already consumed ticket.
    """
    ticket, state = poll(request, token)
    if state == EXPIRED:
        raise _refuse("expired", ticket, _("二维码已过期，请刷新后重新扫描。"), step="consume")
    if state == QrState.CONSUMED:
        raise _refuse("replayed", ticket, _("这个二维码已经用于登录，不能再次使用。"),
                      step="consume")
    if state == QrState.DENIED:
        raise QrLoginError(_("手机上已拒绝这次登录。"))
    if state != QrState.APPROVED:
        raise QrLoginError(_("请先在手机上确认登录。"))
    approver = (AccountSession.objects.select_related("user")
                .filter(sid=ticket.approver_sid, ended_at__isnull=True).first())
    if approver is None or approver.user_id != ticket.approved_by_id or not approver.user.is_active:
        raise _refuse("approver_gone", ticket,
                      _("确认登录的手机已经退出登录，请刷新二维码后重新扫描。"), step="consume")
    now = timezone.now()
    # The conditional UPDATE is what makes a ticket single-use across processes.
    used = QrLoginTicket.objects.filter(
        pk=ticket.pk, state=QrState.APPROVED, consumed_at__isnull=True, expires_at__gt=now,
    ).update(state=QrState.CONSUMED, consumed_at=now)
    if not used:
        raise _refuse("replayed", ticket, _("这个二维码已经用于登录，不能再次使用。"),
                      step="consume")
    request.session.pop(BROWSER_KEY, None)
    cap = min(int(approver.acr), MAX_LEVEL)
    audit.record("identity.qr_consumed", ticket, actor=approver.user,
                 detail={"level_cap": cap, "desktop_ip": ticket.desktop_ip_masked})
    ticket.state = QrState.CONSUMED
    ticket.consumed_at = now
    return Approved(user=approver.user, level_cap=cap, ticket=ticket)


def purge_expired(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete tickets that expired more than ``older_than`` ago; returns how many."""
    deleted, _detail = QrLoginTicket.objects.filter(
        expires_at__lt=timezone.now() - older_than).delete()
    return int(deleted)
