"""Security settings (安全设置): authenticator apps, passkeys, recovery codes.

Every screen here is the signed-in person's own: objects are always looked up together
with ``user=request.user``, so another person's device id is a 404. Adding or removing a
factor and regenerating recovery codes need a recent sign-in (:data:`REAUTH_SECONDS`);
older sessions confirm who they are first (确认身份，GitHub's "sudo mode") with their
password, an authenticator code or a passkey, which refreshes the session's ``auth_time``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.support.identity import factors, passkeys, pipeline, recovery, sessions, totp
from yiwang.support.identity.models import TotpDevice, WebAuthnCredential

REAUTH_SECONDS = 600
NEW_CODES_KEY = "yiwang_new_recovery_codes"
NEW_CODES_TTL_SECONDS = 600

View = Callable[..., HttpResponse]


# --- Shared helpers (also used by views/account.py and views/qr.py) --------------------


def login_url(next_url: str) -> str:
    """The sign-in page, coming back to ``next_url`` afterwards."""
    return pipeline.url_with("identity:login", next=next_url)


def sign_in_required(*, after_post: str = "", answer_json: bool = False
                     ) -> Callable[[View], View]:
    """A decorator: the view is only for a person signed in with a live identity-provider
    session. Others go to the sign-in page and come back — to the page they asked for, or,
    after a POST (whose address need not be a page), to the URL named ``after_post`` when
    one is given. With ``answer_json``, JSON callers get a 401 JSON answer instead."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated or sessions.current(request) is None:
                if answer_json and _wants_json(request):
                    return JsonResponse({"error": _("登录已超时，请重新登录。")}, status=401)
                back = (reverse(after_post) if after_post and request.method == "POST"
                        else request.get_full_path())
                return HttpResponseRedirect(login_url(back))
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


signed_in = sign_in_required(after_post="identity:security", answer_json=True)


def recently_authenticated(request: HttpRequest) -> bool:
    """Whether this session proved itself within the last :data:`REAUTH_SECONDS`."""
    session = sessions.current(request)
    return bool(session and timezone.now() - session.auth_time
                <= timedelta(seconds=REAUTH_SECONDS))


def reauth_url(request: HttpRequest, next_url: str) -> str:
    """The page asking this session to prove itself again, then go on to ``next_url``."""
    return f"{reverse('identity:reauth')}?{urlencode({'next': next_url})}"


def recent_auth_required(view: View) -> View:
    """Sensitive changes need a sign-in (or step-up) within the last ten minutes."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not recently_authenticated(request):
            back = (request.get_full_path() if request.method == "GET"
                    else reverse("identity:security"))
            if _wants_json(request):
                return JsonResponse({"error": _("为了您的账户安全，请先重新验证身份。"),
                                     "redirect": reauth_url(request, back)}, status=403)
            messages.info(request, _("为了您的账户安全，请先重新验证身份，然后再继续操作。"))
            return HttpResponseRedirect(reauth_url(request, back))
        return view(request, *args, **kwargs)

    return wrapper


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "") or \
        request.content_type == "application/json"


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _pk(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("no such item") from None


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _error_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


# --- Confirming who one is (sudo mode) -------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@signed_in
def reauth(request: HttpRequest) -> HttpResponse:
    """确认身份：prove again, with a password, authenticator code or passkey, that the person
    at this browser is the account holder; then go on to ``next``."""
    user: Any = request.user
    next_url = pipeline.safe_next(request, request.POST.get("next") or request.GET.get("next"),
                                  default=reverse("identity:security"))
    error = ""
    method = request.POST.get("method", "")
    if request.method == "POST":
        try:
            if method == "totp":
                ok = totp.verify(user, request.POST.get("code", ""), request=request)
                amr, used = ["otp"], "totp"
            elif method == "password":
                ok = _check_password(request, user, request.POST.get("password", ""))
                amr, used = ["pwd"], "password"
            else:
                ok, amr, used = False, [], ""
        except ValidationError as exc:  # locked out for a while
            ok, error = False, _error_text(exc)
        if ok:
            sessions.step_up(request, amr=amr, method=used)
            return HttpResponseRedirect(next_url)
        if not error:
            error = (_("验证码不正确，或已经使用过。") if method == "totp"
                     else _("密码不正确。"))
    return render(request, "identity/reauth.html", {
        "next": next_url,
        "error": error,
        "method": method,
        "has_password": user.has_usable_password(),
        "has_totp": bool(totp.list_devices(user)),
        "has_passkey": bool(passkeys.list_passkeys(user)),
    }, status=400 if error else 200)


def _check_password(request: HttpRequest, user: Any, password: str) -> bool:
    factors.throttle_check(request, user)
    if password and user.has_usable_password() and user.check_password(password):
        factors.throttle_succeed(request, user)
        return True
    factors.throttle_fail(request, user, method="password", reason="reauth")
    return False


# --- Overview --------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD"])
@signed_in
def security(request: HttpRequest) -> HttpResponse:
    """安全设置：password, authenticator apps, passkeys, recovery codes, SMS."""
    user: Any = request.user
    summary = factors.list_factors(user)
    session = sessions.current(request)
    return render(request, "identity/security.html", {
        "summary": summary,
        "session": session,
        "recent": recently_authenticated(request),
        "max_totp": totp.MAX_DEVICES,
        "max_passkeys": passkeys.MAX_PASSKEYS,
    })


# --- Authenticator apps (TOTP) ---------------------------------------------------------


def _qr_svg(data: str, *, title: str) -> str:
    import segno

    return str(segno.make(data, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", title=title, svgclass="qr-code"))


def _render_totp_add(request: HttpRequest, enrolment: totp.Enrolment, *, error: str = "",
                     name: str = "", status: int = 200) -> HttpResponse:
    return _no_store(render(request, "identity/totp_add.html", {
        "enrolment": enrolment,
        "qr_svg": _qr_svg(enrolment.uri, title=_("用身份验证器扫描此二维码")),
        "error": error,
        "name": name or enrolment.device.name,
    }, status=status))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@signed_in
@recent_auth_required
def totp_add(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app: show the QR code and secret; confirm with a code."""
    user: Any = request.user
    if request.method != "POST":
        try:
            enrolment = totp.start_enrolment(user)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
            return redirect("identity:security")
        return _render_totp_add(request, enrolment)
    device_id = _pk(request.POST.get("device"))
    enrolment_or_none = totp.pending_enrolment(user, device_id)
    if enrolment_or_none is None:
        messages.error(request, _("这次绑定已失效，请重新开始。"))
        return redirect("identity:totp_add")
    name = request.POST.get("name", "")
    try:
        codes = totp.confirm_enrolment(user, device_id, request.POST.get("code", ""), name=name,
                                       request=request)
    except ValidationError as exc:
        return _render_totp_add(request, enrolment_or_none, error=_error_text(exc), name=name,
                                status=400)
    if codes:
        return render_new_codes(request, codes, first=True)
    messages.success(request, _("身份验证器已添加。"))
    return redirect("identity:security")


@never_cache
@require_POST
@signed_in
@recent_auth_required
def totp_remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        totp.remove_device(request.user, pk, actor=request.user)
    except TotpDevice.DoesNotExist:
        raise Http404("no such authenticator") from None
    messages.success(request, _("身份验证器已删除。"))
    return redirect("identity:security")


@never_cache
@require_POST
@signed_in
def totp_rename(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        totp.rename_device(request.user, pk, request.POST.get("name", ""), actor=request.user)
    except TotpDevice.DoesNotExist:
        raise Http404("no such authenticator") from None
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("identity:security")
    messages.success(request, _("名称已修改。"))
    return redirect("identity:security")


# --- Recovery codes --------------------------------------------------------------------


def render_new_codes(request: HttpRequest, codes: list[str], *,
                     first: bool = False) -> HttpResponse:
    """The page that shows freshly generated recovery codes, once."""
    return _no_store(render(request, "identity/recovery_codes_new.html", {
        "codes": codes, "first": first,
    }))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@signed_in
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """恢复码：how many are left; regenerate them (which invalidates the old ones)."""
    user: Any = request.user
    if request.method == "POST":
        if not recently_authenticated(request):
            messages.info(request, _("为了您的账户安全，请先重新验证身份，然后再继续操作。"))
            return HttpResponseRedirect(reauth_url(request, reverse("identity:recovery_codes")))
        if not factors.has_authenticator(user):
            messages.error(request, _("请先添加身份验证器或通行密钥，再生成恢复码。"))
            return redirect("identity:security")
        return render_new_codes(request, recovery.generate(user, actor=user))
    return render(request, "identity/recovery_codes.html", {
        "summary": factors.list_factors(user),
        "has_authenticator": factors.has_authenticator(user),
    })


@never_cache
@require_http_methods(["GET", "HEAD"])
@signed_in
def recovery_codes_new(request: HttpRequest) -> HttpResponse:
    """Show codes generated by a JSON step (passkey registration) once, then forget them."""
    stash = request.session.pop(NEW_CODES_KEY, None)
    if (not isinstance(stash, dict) or stash.get("user") != request.user.pk
            or float(stash.get("at", 0)) + NEW_CODES_TTL_SECONDS < timezone.now().timestamp()):
        return redirect("identity:security")
    return render_new_codes(request, [str(c) for c in stash.get("codes", [])],
                            first=bool(stash.get("first")))


@never_cache
@require_POST
@signed_in
def recovery_codes_download(request: HttpRequest) -> HttpResponse:
    """The codes just shown, as a text file (the page posts them back: nothing is stored)."""
    length = recovery.GROUPS * recovery.GROUP_LENGTH
    codes = [c for c in request.POST.getlist("code")
             if len(recovery.normalise(c)) == length][:recovery.COUNT]
    if not codes:
        raise Http404("no codes")
    user: Any = request.user
    lines = [
        _("一网通办 恢复码"),
        _("账户：%(username)s") % {"username": user.get_username()},
        _("生成时间：%(time)s") % {"time": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
        "",
        *codes,
        "",
        _("每个恢复码只能使用一次。请妥善保管，不要告诉任何人。"),
        "",
    ]
    response = HttpResponse("\r\n".join(lines), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="yiwang-recovery-codes.txt"'
    return _no_store(response)


# --- Passkeys --------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD"])
@signed_in
@recent_auth_required
def passkey_add(request: HttpRequest) -> HttpResponse:
    """The page with the "create a passkey" button (needs JavaScript and a WebAuthn browser)."""
    return render(request, "identity/passkey_add.html", {
        "default_name": factors.describe_device(request.META.get("HTTP_USER_AGENT", "")),
    })


@never_cache
@require_POST
@signed_in
@recent_auth_required
def passkey_register_options(request: HttpRequest) -> JsonResponse:
    try:
        options = passkeys.registration_options(request, request.user)
    except ValidationError as exc:
        return JsonResponse({"error": _error_text(exc)}, status=400)
    return JsonResponse({"publicKey": options})


@never_cache
@require_POST
@signed_in
@recent_auth_required
def passkey_register(request: HttpRequest) -> JsonResponse:
    body = _json_body(request)
    name = str(body.get("name", ""))[:64].strip()
    if not name:
        name = factors.describe_device(request.META.get("HTTP_USER_AGENT", ""))
    try:
        _row, codes = passkeys.register(request, request.user, body.get("credential"),
                                        name=name)
    except ValidationError as exc:
        return JsonResponse({"error": _error_text(exc)}, status=400)
    if codes:
        request.session[NEW_CODES_KEY] = {"user": request.user.pk, "codes": codes, "first": True,
                                          "at": timezone.now().timestamp()}
        return JsonResponse({"redirect": reverse("identity:recovery_codes_new")})
    messages.success(request, _("通行密钥已添加。"))
    return JsonResponse({"redirect": reverse("identity:security")})


@never_cache
@require_POST
@signed_in
def passkey_rename(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        passkeys.rename_passkey(request.user, pk, request.POST.get("name", ""),
                                actor=request.user)
    except WebAuthnCredential.DoesNotExist:
        raise Http404("no such passkey") from None
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("identity:security")
    messages.success(request, _("名称已修改。"))
    return redirect("identity:security")


@never_cache
@require_POST
@signed_in
@recent_auth_required
def passkey_remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        passkeys.remove_passkey(request.user, pk, actor=request.user)
    except WebAuthnCredential.DoesNotExist:
        raise Http404("no such passkey") from None
    messages.success(request, _("通行密钥已删除。"))
    return redirect("identity:security")


# --- Passkey sign-in (JSON, used by the login, second-factor and step-up pages) -------


def _pending_user(request: HttpRequest) -> Any:
    return pipeline.pending_user(request)


def _as_json(response: HttpResponse, fallback: str) -> JsonResponse:
    location = response.get("Location") if response.status_code in (301, 302, 303) else None
    return JsonResponse({"redirect": location or fallback})


@never_cache
@require_POST
def passkey_options(request: HttpRequest) -> JsonResponse:
    """Options for ``navigator.credentials.get()``: ``{"mode": "login"|"second_factor"|
    "step_up", "next": "/..."}`` in, ``{"publicKey": {...}}`` out."""
    body = _json_body(request)
    mode = str(body.get("mode") or passkeys.LOGIN)
    next_url = pipeline.safe_next(request, str(body.get("next") or ""), default="")
    user = None
    if mode == passkeys.SECOND_FACTOR:
        user = _pending_user(request)
        if user is None:
            return JsonResponse({"error": _("登录已超时，请重新登录。")}, status=400)
    elif mode == passkeys.STEP_UP:
        if not request.user.is_authenticated or sessions.current(request) is None:
            return JsonResponse({"error": _("登录已超时，请重新登录。")}, status=401)
        user = request.user
    elif mode != passkeys.LOGIN:
        return JsonResponse({"error": _("验证请求已失效，请重试。")}, status=400)
    try:
        options = passkeys.authentication_options(request, mode=mode, user=user,
                                                  next_url=next_url)
    except ValidationError as exc:
        return JsonResponse({"error": _error_text(exc)}, status=400)
    return JsonResponse({"publicKey": options})


@never_cache
@require_POST
def passkey_verify(request: HttpRequest) -> JsonResponse:
    """Check the browser's assertion and continue the sign-in: ``{"redirect": url}`` or
    ``{"error": message}``."""
    state = request.session.get(passkeys.SESSION_KEY)
    mode = state.get("purpose") if isinstance(state, dict) else None
    if mode not in passkeys.AUTH_MODES:
        return JsonResponse({"error": _("验证请求已失效，请重试。")}, status=400)
    next_url = passkeys.pending_next_url(request)
    user = None
    if mode == passkeys.SECOND_FACTOR:
        user = _pending_user(request)
    elif mode == passkeys.STEP_UP:
        user = request.user if request.user.is_authenticated else None
    credential = _json_body(request).get("credential")
    try:
        if mode != passkeys.LOGIN and user is None:
            request.session.pop(passkeys.SESSION_KEY, None)
            raise passkeys.PasskeyError(_("登录已超时，请重新登录。"))
        result = passkeys.authenticate(request, credential, mode=str(mode), user=user)
    except ValidationError as exc:
        return JsonResponse({"error": _error_text(exc)}, status=400)
    home = next_url or reverse("identity:security")
    if mode == passkeys.LOGIN:
        response = pipeline.begin(request, result.user, amr=result.amr, method=result.method,
                                  next_url=next_url)
        return _as_json(response, home)
    if mode == passkeys.SECOND_FACTOR:
        response = pipeline.complete(request, amr=result.amr, method=result.method)
        return _as_json(response, home)
    sessions.step_up(request, amr=result.amr, method=result.method)
    return JsonResponse({"redirect": home})
