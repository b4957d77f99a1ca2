"""登录设备：the signed-in person's own sessions and devices, with remote sign-out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.support.identity import factors, sessions
from yiwang.support.identity.models import AccountSession, Level
from yiwang.support.identity.views.mfa import login_url, signed_in

AMR_NAMES = {
    "pwd": gettext_lazy("密码"),
    "sms": gettext_lazy("短信验证码"),
    "otp": gettext_lazy("身份验证器"),
    "hwk": gettext_lazy("通行密钥"),
    "user": gettext_lazy("指纹、面容或PIN"),
    "qr": gettext_lazy("扫码登录"),
    "kba": gettext_lazy("恢复码"),
    "swk": gettext_lazy("软件密钥"),
}


@dataclass(frozen=True)
class SessionRow:
    """One line of the sessions page."""

    pk: int
    device: str
    ip_masked: str
    signed_in_at: datetime
    last_seen_at: datetime
    level: str
    methods: list[str]
    apps: list[str]
    current: bool
    zone: str


def method_names(amr: Any) -> list[str]:
    """Readable names of the methods in an ``amr`` list (``mfa`` is implied, not shown)."""
    return [str(AMR_NAMES[v]) for v in (amr or []) if v in AMR_NAMES]


def _apps_by_sid(sids: list[str]) -> dict[str, list[str]]:
    """Names of the relying parties each session reached (read-only, one query)."""
    found: dict[str, list[str]] = {}
    if not sids:
        return found
    try:
        from yiwang.support.identity.oidc.models import SessionClient
    except ImportError:  # the OIDC provider is optional for this page
        return found
    rows = (SessionClient.objects.filter(sid__in=sids).select_related("application")
            .order_by("first_at"))
    for row in rows:
        found.setdefault(row.sid, []).append(str(row.application.name))
    return found


def session_rows(user: Any, current: AccountSession | None) -> list[SessionRow]:
    """``user``'s live sessions, the current one first."""
    live = sessions.list_sessions(user)
    apps = _apps_by_sid([s.sid for s in live])
    rows = [
        SessionRow(
            pk=s.pk,
            device=factors.describe_device(s.user_agent) or _("未知设备"),
            ip_masked=s.ip_masked or "—",
            signed_in_at=s.auth_time,
            last_seen_at=s.last_seen_at,
            level=str(Level(s.acr).label),
            methods=method_names(s.amr),
            apps=apps.get(s.sid, []),
            current=current is not None and s.pk == current.pk,
            zone=s.zone,
        )
        for s in live
    ]
    rows.sort(key=lambda r: not r.current)
    return rows


@never_cache
@require_http_methods(["GET", "HEAD"])
@signed_in
def sessions_page(request: HttpRequest) -> HttpResponse:
    """My sessions and devices (登录设备)."""
    current = sessions.current(request)
    rows = session_rows(request.user, current)
    return render(request, "identity/sessions.html", {
        "rows": rows,
        "others": sum(1 for r in rows if not r.current),
    })


@never_cache
@require_POST
@signed_in
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    """退出该设备：end one of my own sessions (another person's is a 404)."""
    user: Any = request.user
    target = AccountSession.objects.filter(pk=pk, user=user,
                                           ended_at__isnull=True).first()
    if target is None:
        raise Http404("no such session")
    current = sessions.current(request)
    if current is not None and target.pk == current.pk:
        sessions.sign_out(request, reason="user_sign_out")
        return redirect(login_url("/"))
    sessions.end_session(target, reason="remote_sign_out", actor=request.user)
    messages.success(request, _("已退出该设备。"))
    return redirect("identity:sessions")


@never_cache
@require_POST
@signed_in
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    """退出其他所有设备：end every other live session of mine."""
    current = sessions.current(request)
    count = 0
    user: Any = request.user
    for session in AccountSession.objects.filter(user=user, ended_at__isnull=True):
        if current is not None and session.pk == current.pk:
            continue
        if sessions.end_session(session, reason="remote_sign_out", actor=request.user):
            count += 1
    if count:
        messages.success(request, _("已退出其他设备：%(count)d 台。") % {"count": count})
    else:
        messages.info(request, _("没有其他已登录的设备。"))
    return redirect("identity:sessions")
