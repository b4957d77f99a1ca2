"""Sign-in screens of the identity provider (登录、短信登录、第二步验证、提升认证等级、退出).

Registration, real-name verification, the password and the account home are in
:mod:`profile`; what both share is in :mod:`pages`.

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

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from yiwang.core.audit import service as audit
from yiwang.core.masking.service import mask_phone
from yiwang.support.identity import (
    accounts,
    assurance,
    otp,
    pipeline,
    sessions,
    sms,
    throttle,
)
from yiwang.support.identity.forms_signin import (
    CodeForm,
    PasswordLoginForm,
    PhoneForm,
    SecondFactorForm,
)
from yiwang.support.identity.models import CodePurpose, User
from yiwang.support.identity.views.pages import (
    TOO_MANY_STATUS,
    next_and_level,
    render_page,
    sms_error_status,
    stash_phone,
    stashed_phone,
    template_exists,
    url_or_blank,
)

LOGIN_STASH = "yiwang_sms_login"
SECOND_FACTOR_SMS = "yiwang_second_factor_sms"
PASSKEY_SNIPPET = "identity/_passkey_button.html"


def _invalid_credentials() -> str:
    return _("手机号码、用户名或密码不正确。")


# --- helpers ---------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _dummy_hash(hasher_setting: str) -> str:
    return make_password(get_random_string(32))


def _run_dummy_hash(password: str) -> None:
    """Spend the time checking a real password takes (unknown accounts)."""
    check_password(password, _dummy_hash(settings.PASSWORD_HASHERS[0]))


def _login_links(request: HttpRequest, next_url: str, level: int | None) -> dict[str, str]:
    # prompt=login (a relying party asked for a fresh sign-in) follows the person between tabs.
    prompt = "login" if request.GET.get("prompt") == "login" else None
    query = {"next": next_url, "level": level, "prompt": prompt}
    qr = url_or_blank("identity:qr_login")
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
    next_url, level = next_and_level(request)
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
    return render_page(request, "login.html", {
        "form": form, "next": next_url, "level": level, "tab": "password",
        "expired": expired, "passkey": template_exists(PASSKEY_SNIPPET),
        **_login_links(request, next_url, level),
    }, status=status)


# --- sign in with an SMS code -------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_sms(request: HttpRequest) -> HttpResponse:
    """短信验证码登录，step 1: the phone number; a code is sent to it."""
    next_url, level = next_and_level(request)
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
            status = sms_error_status(error)
        else:
            stash_phone(request, LOGIN_STASH, phone)
            return HttpResponseRedirect(pipeline.url_with("identity:login_sms_verify",
                                                          next=next_url, level=level))
    return render_page(request, "login_sms.html", {
        "form": form, "next": next_url, "level": level, "tab": "sms",
        "passkey": template_exists(PASSKEY_SNIPPET), **_login_links(request, next_url, level),
    }, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_sms_verify(request: HttpRequest) -> HttpResponse:
    """短信验证码登录，step 2: the code (or another code)."""
    next_url, level = next_and_level(request)
    phone = stashed_phone(request, LOGIN_STASH)
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
            status = sms_error_status(error)
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
    return render_page(request, "login_sms_verify.html", {
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
    if not template_exists(PASSKEY_SNIPPET) and "passkey" in options:
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
            status = sms_error_status(error)
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
    return render_page(request, "second_factor.html", {
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
    next_url, level = next_and_level(request)
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
    return render_page(request, "step_up.html", {
        "level": level, "acr": session.acr, "next": next_url,
        "needs_realname": needs_realname,
        "realname_url": pipeline.url_with("identity:realname", next=here),
        "options": pipeline.second_factor_options(user, session.amr),
        "mfa_required_after": needs_realname and level >= 3,
    })


# --- sign out ------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    """退出：GET asks to confirm (a link must not sign anyone out), POST signs out."""
    next_url, _level = next_and_level(request)
    home = url_or_blank("portal:home") or "/"
    if request.method == "POST":
        sessions.sign_out(request)
        pipeline.clear(request)
        return HttpResponseRedirect(pipeline.safe_next(request, next_url, default=home))
    session = sessions.current(request)
    if session is None:
        return HttpResponseRedirect(pipeline.safe_next(request, next_url, default=home))
    return render_page(request, "logout.html", {"next": next_url,
                                            "label": accounts.display_label(request.user)})
