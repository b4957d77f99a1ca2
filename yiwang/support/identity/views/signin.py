"""Sign-in screens of the identity provider (登录、注册、实名认证、退出、账户首页).

Every page is on the public listener under ``/account/`` (Chinese) and ``/en/account/``
(English). The views are thin: they read forms and call the sign-in modules
(:mod:`accounts`, :mod:`otp`, :mod:`throttle`, :mod:`realname`, :mod:`pipeline`).

Rules kept everywhere here:

- Whether an account exists is never told: an unknown name and a wrong password get the
  same message and status after the same amount of work (a dummy password hash), unknown
  phone numbers get codes issued (not sent) under the same limits.
- ``next`` is followed only when it stays on this host (:func:`pipeline.safe_next`).
- Bad input shows the form again with a message per field and an error summary; nothing a
  person types leads to a server error.
- Phone numbers carried between the steps of a form are kept encrypted in the session.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from yiwang.core.audit import service as audit
from yiwang.core.crypto.service import decrypt_personal, encrypt_personal
from yiwang.core.masking.service import mask_id_number, mask_phone
from yiwang.support.identity import (
    accounts,
    assurance,
    otp,
    pipeline,
    realname,
    sessions,
    sms,
    throttle,
)
from yiwang.support.identity.forms_signin import (
    CodeForm,
    PasswordChangeForm,
    PasswordLoginForm,
    PhoneForm,
    RealNameForm,
    RegisterForm,
    SecondFactorForm,
)
from yiwang.support.identity.models import CodePurpose, User
from yiwang.support.identity.views.mfa import recently_authenticated, sign_in_required

View = Callable[..., HttpResponse]

PHONE_PURPOSE = "identity.session.phone"
STASH_TTL = timedelta(minutes=15)
LOGIN_STASH = "yiwang_sms_login"
REGISTER_STASH = "yiwang_register"
SECOND_FACTOR_SMS = "yiwang_second_factor_sms"
PASSKEY_SNIPPET = "identity/_passkey_button.html"
TOO_MANY_STATUS = 429


def _invalid_credentials() -> str:
    return _("手机号码、用户名或密码不正确。")


# --- helpers ---------------------------------------------------------------------------


def _url(name: str) -> str:
    """``reverse(name)``, or "" while the page's builder has not added it yet."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@lru_cache(maxsize=8)
def _template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


@lru_cache(maxsize=4)
def _dummy_hash(hasher_setting: str) -> str:
    return make_password(get_random_string(32))


def _run_dummy_hash(password: str) -> None:
    """Spend the time checking a real password takes (unknown accounts)."""
    check_password(password, _dummy_hash(settings.PASSWORD_HASHERS[0]))


def _next_and_level(request: HttpRequest) -> tuple[str, int | None]:
    data = request.POST if request.method == "POST" else request.GET
    next_raw = data.get("next") or request.GET.get("next") or ""
    next_url = pipeline.safe_next(request, next_raw, default="") if next_raw else ""
    return next_url, pipeline.clean_level(data.get("level") or request.GET.get("level"))


_signed_in = sign_in_required()


def _stash_phone(request: HttpRequest, key: str, phone: str) -> None:
    request.session[key] = {"phone": encrypt_personal(phone, PHONE_PURPOSE), "at": time.time()}


def _stashed_phone(request: HttpRequest, key: str) -> str:
    raw = request.session.get(key)
    if (not isinstance(raw, dict)
            or time.time() - float(raw.get("at", 0)) > STASH_TTL.total_seconds()):
        request.session.pop(key, None)
        return ""
    try:
        return decrypt_personal(str(raw.get("phone", "")), PHONE_PURPOSE)
    except Exception:  # a session written under a retired key: start again
        request.session.pop(key, None)
        return ""


def _add_errors(form: Any, error: ValidationError, *, default_field: str | None = None) -> None:
    """Attach a service's ``ValidationError`` to the form (by field when it names one)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else default_field, errors)
    else:
        form.add_error(default_field, error)


def _sms_error_status(error: sms.SmsError) -> int:
    return TOO_MANY_STATUS if isinstance(error, sms.SmsRateLimited) else 200


def _render(request: HttpRequest, template: str, context: dict[str, Any],
            status: int = 200) -> HttpResponse:
    response = render(request, f"identity/signin/{template}", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _login_links(request: HttpRequest, next_url: str, level: int | None) -> dict[str, str]:
    # prompt=login (a relying party asked for a fresh sign-in) follows the person between tabs.
    prompt = "login" if request.GET.get("prompt") == "login" else None
    query = {"next": next_url, "level": level, "prompt": prompt}
    qr = _url("identity:qr_login")
    return {
        "password_url": pipeline.url_with("identity:login", **query),
        "sms_url": pipeline.url_with("identity:login_sms", **query),
        "qr_url": pipeline.url_with("identity:qr_login", next=next_url) if qr else "",
        "register_url": pipeline.url_with("identity:register", next=next_url),
    }


def _already_signed_in(request: HttpRequest, next_url: str, level: int | None
                       ) -> HttpResponse | None:
    """Where to send a browser that is signed in already (None: show the page)."""
    if request.GET.get("prompt") == "login" or sessions.current(request) is None:
        return None
    return pipeline.finish_redirect(request, next_url, level)


# --- sign in with a password ---------------------------------------------------------------


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "HEAD", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """登录：a phone number or username and a password (tabs for SMS code and QR code)."""
    next_url, level = _next_and_level(request)
    if request.method != "POST":
        redirect_to = _already_signed_in(request, next_url, level)
        if redirect_to is not None:
            return redirect_to
    form = PasswordLoginForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        login_name = form.cleaned_data["login"]
        password = form.cleaned_data["password"]
        user = accounts.find_account(login_name)
        # The name as typed, known or not: the throttle then does the same work for both.
        who: Any = login_name
        try:
            # True: the account is locked by guesses at its other names. The password is
            # then not checked, and the answer is the one for any wrong password.
            paused = throttle.check(request, who)
        except throttle.Locked as locked:
            form.add_error(None, locked)
            status = TOO_MANY_STATUS
        else:
            if user is None or paused:
                _run_dummy_hash(password)
                correct = False
            else:
                correct = user.check_password(password)
            if correct and user is not None and user.is_active:
                # Only the name typed: the account's count goes once signed in (pipeline).
                throttle.succeed(request, who, method="password", finished=False)
                return pipeline.begin(request, user, amr=["pwd"], method="password",
                                      next_url=next_url, required_level=level)
            if correct and user is not None:
                audit.record("identity.sign_in_refused", user, actor=user,
                             detail={"reason": "inactive", "method": "password"})
                form.add_error(None, _("该账户已停用。如有疑问，请联系示例市政务服务中心。"))
            else:
                reason = ("unknown_account" if user is None
                          else "account_locked" if paused else "wrong_password")
                if throttle.fail(request, who, method="password", reason=reason):
                    form.add_error(None, throttle.Locked(throttle.retry_after(request, who)))
                    status = TOO_MANY_STATUS
                else:
                    form.add_error(None, _invalid_credentials())
    expired = request.GET.get("expired") == "1"
    return _render(request, "login.html", {
        "form": form, "next": next_url, "level": level, "tab": "password",
        "expired": expired, "passkey": _template_exists(PASSKEY_SNIPPET),
        **_login_links(request, next_url, level),
    }, status=status)


# --- sign in with an SMS code -------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_sms(request: HttpRequest) -> HttpResponse:
    """短信验证码登录，step 1: the phone number; a code is sent to it."""
    next_url, level = _next_and_level(request)
    if request.method != "POST":
        redirect_to = _already_signed_in(request, next_url, level)
        if redirect_to is not None:
            return redirect_to
    form = PhoneForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        user = accounts.find_by_phone(phone)
        deliver = user is not None and user.is_active
        try:
            otp.issue(phone, CodePurpose.SIGN_IN, user=user, deliver=deliver, request=request)
        except sms.SmsError as error:
            form.add_error(None, str(error.message))
            status = _sms_error_status(error)
        else:
            _stash_phone(request, LOGIN_STASH, phone)
            return HttpResponseRedirect(pipeline.url_with("identity:login_sms_verify",
                                                          next=next_url, level=level))
    return _render(request, "login_sms.html", {
        "form": form, "next": next_url, "level": level, "tab": "sms",
        "passkey": _template_exists(PASSKEY_SNIPPET), **_login_links(request, next_url, level),
    }, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_sms_verify(request: HttpRequest) -> HttpResponse:
    """短信验证码登录，step 2: the code (or another code)."""
    next_url, level = _next_and_level(request)
    phone = _stashed_phone(request, LOGIN_STASH)
    if not phone:
        messages.info(request, _("请重新输入手机号码获取验证码。"))
        return HttpResponseRedirect(pipeline.url_with("identity:login_sms", next=next_url,
                                                      level=level))
    status = 200
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and request.POST.get("action") == "resend":
        form = CodeForm()
        user = accounts.find_by_phone(phone)
        try:
            otp.issue(phone, CodePurpose.SIGN_IN, user=user,
                      deliver=user is not None and user.is_active, request=request)
        except sms.SmsError as error:
            messages.error(request, str(error.message))  # the form is unbound here
            status = _sms_error_status(error)
        else:
            messages.success(request, _("新的验证码已发送。之前的验证码不能再用。"))
    elif request.method == "POST" and form.is_valid():
        user = accounts.find_by_phone(phone)
        who: Any = phone  # the same work whether or not the number has an account
        try:
            # A code sent to the phone is counted apart and ignores the account lock: it is
            # the owner's way back in while guessing at the password keeps that locked.
            throttle.check(request, who, method="sms")
            otp.verify(phone, CodePurpose.SIGN_IN, form.cleaned_data["code"])
            if user is None or not user.is_active:
                # A code for an unknown number was never sent, so it cannot be known.
                raise otp.CodeError("missing", otp.MESSAGES["missing"])
        except throttle.Locked as locked:
            form.add_error("code", locked)
            status = TOO_MANY_STATUS
        except otp.CodeError as error:
            if throttle.fail(request, who, method="sms", reason=error.reason):
                form.add_error("code", throttle.Locked(
                    throttle.retry_after(request, who, method="sms")))
                status = TOO_MANY_STATUS
            else:
                form.add_error("code", error)
        else:
            # Only the phone's code counter: the account's count goes once signed in.
            throttle.succeed(request, who, method="sms", finished=False)
            request.session.pop(LOGIN_STASH, None)
            return pipeline.begin(request, user, amr=["sms"], method="sms", next_url=next_url,
                                  required_level=level)
    return _render(request, "login_sms_verify.html", {
        "form": form, "next": next_url, "level": level, "tab": "sms",
        "phone_masked": mask_phone(phone), "ttl_minutes": int(otp.ttl().total_seconds() // 60),
        **_login_links(request, next_url, level),
    }, status=status)


# --- the second factor -------------------------------------------------------------------


def _verify_second_factor(request: HttpRequest, user: User, method: str, code: str) -> bool:
    """Check one second factor. TOTP and recovery codes throttle themselves; the rest is
    throttled here. Raises ``ValidationError`` with a message to show, or returns False."""
    if method == "totp":
        from yiwang.support.identity import totp

        return bool(totp.verify(user, code, request=request))
    if method == "recovery":
        from yiwang.support.identity import recovery

        return bool(recovery.use(user, code, request=request))
    throttle.check(request, user)
    if method == "password":
        if user.check_password(code):
            throttle.succeed(request, user)
            return True
        throttle.fail(request, user, method="password", reason="second_factor")
        return False
    if method == "sms":
        try:
            otp.verify(str(user.phone), CodePurpose.STEP_UP, code)
        except otp.CodeError as error:
            if throttle.fail(request, user, method="sms", reason=error.reason):
                raise throttle.Locked(throttle.retry_after(request, user)) from None
            raise
        throttle.succeed(request, user)
        return True
    return False


_WRONG = {
    "totp": lambda: _("动态口令不正确或已用过。请输入验证器应用中当前显示的 6 位数字。"),
    "recovery": lambda: _("恢复码不正确或已用过。"),
    "password": lambda: _("密码不正确。"),
}


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "HEAD", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    """第二步验证：the pending sign-in (or step-up) proves one more factor."""
    state, expired = pipeline.load(request)
    user = pipeline.pending_user(request) if state is not None else None
    if state is None or user is None:
        if expired:
            return HttpResponseRedirect(pipeline.url_with("identity:login", expired=1))
        return HttpResponseRedirect(reverse("identity:login"))
    if request.method == "POST" and request.POST.get("action") == "cancel":
        pipeline.abandon(request)
        if state.kind == pipeline.STEP_UP:
            return HttpResponseRedirect(reverse("identity:home"))
        return HttpResponseRedirect(pipeline.url_with("identity:login", next=state.next_url))
    options = pipeline.second_factor_options(
        user, state.amr, multi_factor=(assurance.requires_multi_factor(user)
                                       or (state.required_level or 0) >= 3))
    if not _template_exists(PASSKEY_SNIPPET) and "passkey" in options:
        options.remove("passkey")
    wanted = request.POST.get("method") or request.GET.get("method") or ""
    method = wanted if wanted in options else (options[0] if options else "")
    status = 200
    form = SecondFactorForm(request.POST if request.method == "POST" and
                            request.POST.get("action") == "verify" else None, method=method)
    sms_sent = request.session.get(SECOND_FACTOR_SMS) == state.started
    if request.method == "POST" and method == "sms" and request.POST.get("action") == "send":
        try:
            otp.issue(str(user.phone), CodePurpose.STEP_UP, user=user, request=request)
        except sms.SmsError as error:
            messages.error(request, str(error.message))  # the form is unbound here
            status = _sms_error_status(error)
        else:
            request.session[SECOND_FACTOR_SMS] = state.started
            sms_sent = True  # the page itself says where the code went
    elif (request.method == "POST" and request.POST.get("action") == "verify" and method
          and form.is_valid()):
        try:
            ok = _verify_second_factor(request, user, method, form.cleaned_data["code"])
        except throttle.Locked as locked:
            form.add_error("code", locked)
            status = TOO_MANY_STATUS
        except ValidationError as error:
            form.add_error("code", error)
        else:
            if ok:
                request.session.pop(SECOND_FACTOR_SMS, None)
                return pipeline.complete(request, amr=assurance.METHODS[method], method=method)
            wait = throttle.retry_after(request, user)
            if wait:
                form.add_error("code", throttle.Locked(wait))
                status = TOO_MANY_STATUS
            else:
                form.add_error("code", _WRONG.get(method, _WRONG["password"])())
    return _render(request, "second_factor.html", {
        "form": form, "state": state, "options": options, "method": method,
        "step_up": state.kind == pipeline.STEP_UP,
        "mandatory": assurance.requires_multi_factor(user),
        # Asked only because the phone is verified (no authenticator or passkey set up).
        "phone_only": not (set(pipeline.available_second_factors(user)) - {"sms", "recovery"}),
        "phone_masked": mask_phone(str(user.phone)) if user.phone else "",
        "sms_sent": sms_sent, "minutes_left": max(1, -(-state.seconds_left // 60)),
        "next": state.next_url,
    }, status=status)


# --- step-up -------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def step_up(request: HttpRequest) -> HttpResponse:
    """提升认证等级：a signed-in session below the level a service asks for."""
    next_url, level = _next_and_level(request)
    level = level or 3
    session = sessions.current(request)
    if session is None:
        return HttpResponseRedirect(pipeline.url_with("identity:login", level=level,
                                                      next=next_url))
    if session.acr >= level:
        return HttpResponseRedirect(pipeline.safe_next(request, next_url))
    user = session.user
    account_level = assurance.account_level(user)
    if account_level >= level:
        # The account was verified after this session began: the session catches up.
        sessions.step_up(request, amr=[], method="account_level")
        return HttpResponseRedirect(pipeline.safe_next(request, next_url))
    needs_realname = account_level < 2 <= level
    if request.method == "POST" and not needs_realname:
        return pipeline.begin_step_up(request, required_level=level, next_url=next_url)
    here = pipeline.url_with("identity:step_up", level=level, next=next_url)
    return _render(request, "step_up.html", {
        "level": level, "acr": session.acr, "next": next_url,
        "needs_realname": needs_realname,
        "realname_url": pipeline.url_with("identity:realname", next=here),
        "options": pipeline.second_factor_options(user, session.amr),
        "mfa_required_after": needs_realname and level >= 3,
    })


# --- registration --------------------------------------------------------------------------


def _send_registration_code(request: HttpRequest, phone: str) -> None:
    """A code for a new number; for a registered one, a notice instead (same response)."""
    existing = accounts.find_by_phone(phone)
    otp.issue(phone, CodePurpose.REGISTER, deliver=existing is None, request=request)
    if existing is not None:
        # The notice is a courtesy; the page must look the same either way.
        with contextlib.suppress(sms.SmsError):
            sms.send(phone, "already_registered", {}, limited=False)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """注册，step 1: the phone number, which receives a code."""
    next_url, _level = _next_and_level(request)
    if sessions.current(request) is not None and request.method != "POST":
        return HttpResponseRedirect(pipeline.safe_next(request, next_url))
    form = PhoneForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        try:
            _send_registration_code(request, phone)
        except sms.SmsError as error:
            form.add_error(None, str(error.message))
            status = _sms_error_status(error)
        else:
            _stash_phone(request, REGISTER_STASH, phone)
            return HttpResponseRedirect(pipeline.url_with("identity:register_verify",
                                                          next=next_url))
    return _render(request, "register.html", {
        "form": form, "next": next_url,
        "login_url": pipeline.url_with("identity:login", next=next_url),
    }, status=status)


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "HEAD", "POST"])
def register_verify(request: HttpRequest) -> HttpResponse:
    """注册，step 2: the code, a username if wanted, and a password."""
    next_url, _level = _next_and_level(request)
    phone = _stashed_phone(request, REGISTER_STASH)
    if not phone:
        messages.info(request, _("请重新输入手机号码获取验证码。"))
        return HttpResponseRedirect(pipeline.url_with("identity:register", next=next_url))
    status = 200
    form = RegisterForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and request.POST.get("action") == "resend":
        form = RegisterForm()
        try:
            _send_registration_code(request, phone)
        except sms.SmsError as error:
            messages.error(request, str(error.message))  # the form is unbound here
            status = _sms_error_status(error)
        else:
            messages.success(request, _("新的验证码已发送。之前的验证码不能再用。"))
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = accounts.register_citizen(phone, data["password1"], data["code"],
                                             username=data.get("username") or "")
        except otp.CodeError as error:
            form.add_error("code", error)
        except ValidationError as error:
            codes = {getattr(e, "code", "") for e in error.error_list} \
                if not hasattr(error, "error_dict") else set()
            if codes & {"invalid_username", "username_taken"}:
                form.add_error("username", error)
            elif codes & {"phone_taken", "taken"}:
                form.add_error(None, error)
            else:
                _add_errors(form, error, default_field="password1")
        else:
            request.session.pop(REGISTER_STASH, None)
            messages.success(request, _("注册成功。您的用户名是 %(username)s,也可以用手机号码登录。"
                                        "完成实名认证后可以办理更多事项。") % {
                                            "username": user.get_username()})
            return pipeline.begin(request, user, amr=["sms"], method="register",
                                  next_url=next_url or reverse("identity:home"))
    return _render(request, "register_verify.html", {
        "form": form, "next": next_url, "phone_masked": mask_phone(phone),
        "ttl_minutes": int(otp.ttl().total_seconds() // 60),
    }, status=status)


# --- real-name verification ---------------------------------------------------------------


@never_cache
@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "HEAD", "POST"])
@_signed_in
def realname_view(request: HttpRequest) -> HttpResponse:
    """实名认证：name and ID number checked against the registry (L1 → L2)."""
    next_url, _level = _next_and_level(request)
    user = request.user
    assert isinstance(user, User)
    form = RealNameForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and not user.verified_at and form.is_valid():
        try:
            realname.verify_real_name(user, name=form.cleaned_data["name"],
                                      id_number=form.cleaned_data["id_number"],
                                      actor=user, request=request)
        except ValidationError as error:
            _add_errors(form, error)
            if any(getattr(e, "code", "") == "too_many" for e in getattr(error, "error_list", [])):
                status = TOO_MANY_STATUS
        else:
            session = sessions.current(request)
            if session is not None:
                session.user.refresh_from_db()
                sessions.step_up(request, amr=[], method="realname")
            messages.success(request, _("实名认证已完成，您的账户现在是 L2 实名认证账户。"))
            return HttpResponseRedirect(pipeline.safe_next(request, next_url))
    return _render(request, "realname.html", {
        "form": form, "next": next_url, "verified": bool(user.verified_at),
        "verified_by_official": user.verified_by not in ("", "registry"),
        "id_masked": mask_id_number(str(user.id_number)) if user.id_number else "",
    }, status=status)


# --- password ------------------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@require_http_methods(["GET", "HEAD", "POST"])
@_signed_in
def password(request: HttpRequest) -> HttpResponse:
    """修改密码. Without the current one only just after signing in (e.g. by SMS code,
    for a forgotten password)."""
    user = request.user
    assert isinstance(user, User)
    recent = recently_authenticated(request)
    need_old = user.has_usable_password() and not recent
    form = PasswordChangeForm(request.POST if request.method == "POST" else None,
                              need_old=need_old)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        session = sessions.current(request)
        try:
            if need_old:
                throttle.check(request, user)
            accounts.change_password(user, data["new_password1"],
                                     old_password=data.get("old_password"),
                                     recently_authenticated=not need_old,
                                     keep_sid=session.sid if session else "", actor=user)
        except throttle.Locked as locked:
            form.add_error(None, locked)
            status = TOO_MANY_STATUS
        except ValidationError as error:
            wrong_old = getattr(error, "code", "") == "wrong_password" or (
                hasattr(error, "error_dict") and "old_password" in error.error_dict)
            if wrong_old and throttle.fail(request, user, method="password",
                                           reason="change_password"):
                status = TOO_MANY_STATUS
            _add_errors(form, error, default_field="new_password1")
        else:
            throttle.succeed(request, user)
            update_session_auth_hash(request, user)
            messages.success(request, _("密码已修改。其他设备上的登录已退出。"))
            return HttpResponseRedirect(reverse("identity:home"))
    return _render(request, "password.html", {"form": form, "need_old": need_old},
                   status=status)


# --- sign out ------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    """退出：GET asks to confirm (a link must not sign anyone out), POST signs out."""
    next_url, _level = _next_and_level(request)
    home = _url("portal:home") or "/"
    if request.method == "POST":
        sessions.sign_out(request)
        pipeline.clear(request)
        return HttpResponseRedirect(pipeline.safe_next(request, next_url, default=home))
    session = sessions.current(request)
    if session is None:
        return HttpResponseRedirect(pipeline.safe_next(request, next_url, default=home))
    return _render(request, "logout.html", {"next": next_url,
                                            "label": accounts.display_label(request.user)})


# --- account home --------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD"])
@_signed_in
def home(request: HttpRequest) -> HttpResponse:
    """我的账户：who this account is, how sure we are of it, and where to manage it."""
    user = request.user
    assert isinstance(user, User)
    session = sessions.current(request)
    assert session is not None
    return _render(request, "home.html", {
        "account": user,
        "label": accounts.display_label(user),
        "account_level": assurance.account_level(user),
        "session_acr": session.acr,
        "session_mfa": assurance.is_multi_factor(session.amr),
        "phone_masked": mask_phone(str(user.phone)) if user.phone else "",
        "id_masked": mask_id_number(str(user.id_number)) if user.id_number else "",
        "links": {name: _url(f"identity:{name}") for name in
                  ("security", "sessions", "enterprise", "realname", "password", "logout")},
        "switcher": _template_exists("identity/_identity_switcher.html"),
    })
