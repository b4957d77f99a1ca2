"""扫码登录 screens: the desktop page with the QR code, its status endpoint, and the phone's
approval page. The rules live in :mod:`yiwang.support.identity.qrlogin`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.support.identity import factors, pipeline, qrlogin, sessions
from yiwang.support.identity.models import QrLoginTicket, QrState
from yiwang.support.identity.views.mfa import _qr_svg, login_url

POLL_MS = 2000


def approval_url(token: str) -> str:
    """The absolute URL the phone opens (on the public listener)."""
    return str(settings.YIWANG_PUBLIC_URL).rstrip("/") + reverse("identity:qr_approve",
                                                                 args=[token])


def _messages() -> dict[str, str]:
    return {
        "pending": _("请使用已登录的一网通办手机页面扫描二维码。"),
        "scanned": _("已扫码，请在手机上确认登录。"),
        "approved": _("已确认，正在登录……"),
        "denied": _("手机上已拒绝这次登录。如需登录，请刷新二维码后重新扫描。"),
        "consumed": _("这个二维码已经用于登录。"),
        "expired": _("二维码已过期，请刷新后重新扫描。"),
    }


def _desktop_page(request: HttpRequest, ticket: QrLoginTicket, token: str, *, next_url: str,
                  state: str, error: str = "", status: int = 200) -> HttpResponse:
    response = render(request, "identity/qr_login.html", {
        "token": token,
        "qr_svg": _qr_svg(approval_url(token), title=_("用手机扫描此二维码登录")),
        "state": state,
        "state_message": _messages().get(state, ""),
        "error": error,
        "next": next_url,
        "ttl": qrlogin.seconds_left(ticket),
        "poll_ms": POLL_MS,
    }, status=status)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_http_methods(["GET", "HEAD"])
def qr_login(request: HttpRequest) -> HttpResponse:
    """The desktop page: a fresh ticket as a QR code, polled by ``identity/qrlogin.js``."""
    next_url = pipeline.safe_next(request, request.GET.get("next"), default="")
    try:
        ticket, token = qrlogin.create_ticket(request)
    except ValidationError as exc:
        response = _error_page(request, " ".join(str(m) for m in exc.messages), "")
        response.status_code = 429
        response["Retry-After"] = str(int(qrlogin.TICKET_WINDOW.total_seconds()))
        return response
    return _desktop_page(request, ticket, token, next_url=next_url, state=QrState.PENDING)


def _finish(request: HttpRequest, approved: qrlogin.Approved, next_url: str) -> HttpResponse:
    """Sign the desktop in through the pipeline, at most at the approving session's level."""
    from yiwang.support.identity import pipeline

    return pipeline.begin(request, approved.user, amr=["qr"], method="qr",
                          next_url=next_url or None, level_cap=approved.level_cap)


@never_cache
@require_POST
def qr_status(request: HttpRequest) -> HttpResponse:
    """The desktop asks (every two seconds, or with the no-JS button) whether the phone
    approved. JSON for the script: ``{"state", "message", "redirect"?}``; the button gets
    the page again, or the signed-in redirect."""
    token = str(request.POST.get("token", ""))[:128]
    next_url = pipeline.safe_next(request, request.POST.get("next"), default="")
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        ticket, state = qrlogin.poll(request, token)
        response = None
        if state == QrState.APPROVED:
            response = _finish(request, qrlogin.consume(request, token), next_url)
    except ValidationError as exc:
        message = " ".join(str(m) for m in exc.messages)
        if wants_json:
            return JsonResponse({"state": "error", "message": message}, status=400)
        return _error_page(request, message, next_url)
    if response is not None:
        if wants_json:
            location = response.get("Location") if response.status_code in (301, 302, 303) else ""
            return JsonResponse({"state": QrState.APPROVED, "message": _messages()["approved"],
                                 "redirect": location or next_url or "/"})
        return response
    if wants_json:
        return JsonResponse({"state": state, "message": _messages().get(state, ""),
                             "seconds_left": qrlogin.seconds_left(ticket)})
    return _desktop_page(request, ticket, token, next_url=next_url, state=state)


def _error_page(request: HttpRequest, message: str, next_url: str) -> HttpResponse:
    retry = reverse("identity:qr_login")
    if next_url:
        retry = f"{retry}?{_query(next=next_url)}"
    return render(request, "identity/qr_result.html", {
        "title": _("扫码登录未成功"), "message": message, "retry_url": retry,
    }, status=400)


def _query(**params: Any) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def qr_approve(request: HttpRequest, token: str) -> HttpResponse:
    """The phone: where the request comes from, and approve or deny (POST with CSRF)."""
    if not request.user.is_authenticated or sessions.current(request) is None:
        return HttpResponseRedirect(login_url(request.path))
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision not in ("approve", "deny"):
            return _result(request, _("请选择确认登录或拒绝。"), ok=False, status=400)
        try:
            qrlogin.decide(request, token, approve=decision == "approve")
        except ValidationError as exc:
            return _result(request, " ".join(str(m) for m in exc.messages), ok=False, status=400)
        if decision == "approve":
            return _result(request, _("已确认。请回到电脑上继续，电脑将自动登录。"), ok=True)
        return _result(request, _("已拒绝这次登录。如果不是您本人在操作，建议修改密码。"), ok=True)
    try:
        ticket = qrlogin.open_for_approval(request, token)
    except ValidationError as exc:
        return _result(request, " ".join(str(m) for m in exc.messages), ok=False, status=400)
    response = render(request, "identity/qr_approve.html", {
        "ticket": ticket,
        "device": factors.describe_device(ticket.desktop_user_agent) or _("未知浏览器"),
        "created": timezone.localtime(ticket.created_at),
        "seconds_left": qrlogin.seconds_left(ticket),
        "account": request.user,
    })
    response["Cache-Control"] = "no-store"
    return response


def _result(request: HttpRequest, message: str, *, ok: bool, status: int = 200) -> HttpResponse:
    return render(request, "identity/qr_result.html", {
        "title": _("扫码登录") if ok else _("扫码登录未成功"),
        "message": message, "ok": ok,
    }, status=status)
