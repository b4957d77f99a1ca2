"""Becoming and being an account holder (注册、实名认证、修改密码、我的账户).

Every page is on the public listener under ``/account/`` (Chinese) and ``/en/account/``
(English). The views are thin: they read forms and call :mod:`accounts`, :mod:`otp`,
:mod:`realname` and :mod:`pipeline`. Whether a phone number is registered is never told
(a second registration only sends the owner a notice); phone numbers carried between the
steps of a form are kept encrypted in the session.
"""

from __future__ import annotations

import contextlib

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

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
    PasswordChangeForm,
    PhoneForm,
    RealNameForm,
    RegisterForm,
)
from yiwang.support.identity.models import CodePurpose, User
from yiwang.support.identity.views.mfa import recently_authenticated
from yiwang.support.identity.views.pages import (
    TOO_MANY_STATUS,
    add_errors,
    next_and_level,
    render_page,
    signed_in,
    sms_error_status,
    stash_phone,
    stashed_phone,
    template_exists,
    url_or_blank,
)

REGISTER_STASH = "yiwang_register"


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
    next_url, _level = next_and_level(request)
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
            status = sms_error_status(error)
        else:
            stash_phone(request, REGISTER_STASH, phone)
            return HttpResponseRedirect(pipeline.url_with("identity:register_verify",
                                                          next=next_url))
    return render_page(request, "register.html", {
        "form": form, "next": next_url,
        "login_url": pipeline.url_with("identity:login", next=next_url),
    }, status=status)


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "HEAD", "POST"])
def register_verify(request: HttpRequest) -> HttpResponse:
    """注册，step 2: the code, a username if wanted, and a password."""
    next_url, _level = next_and_level(request)
    phone = stashed_phone(request, REGISTER_STASH)
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
            status = sms_error_status(error)
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
                add_errors(form, error, default_field="password1")
        else:
            request.session.pop(REGISTER_STASH, None)
            messages.success(request, _("注册成功。您的用户名是 %(username)s,也可以用手机号码登录。"
                                        "完成实名认证后可以办理更多事项。") % {
                                            "username": user.get_username()})
            return pipeline.begin(request, user, amr=["sms"], method="register",
                                  next_url=next_url or reverse("identity:home"))
    return render_page(request, "register_verify.html", {
        "form": form, "next": next_url, "phone_masked": mask_phone(phone),
        "ttl_minutes": int(otp.ttl().total_seconds() // 60),
    }, status=status)


# --- real-name verification ---------------------------------------------------------------


@never_cache
@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "HEAD", "POST"])
@signed_in
def realname_view(request: HttpRequest) -> HttpResponse:
    """实名认证：name and ID number checked against the registry (L1 → L2)."""
    next_url, _level = next_and_level(request)
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
            add_errors(form, error)
            if any(getattr(e, "code", "") == "too_many" for e in getattr(error, "error_list", [])):
                status = TOO_MANY_STATUS
        else:
            session = sessions.current(request)
            if session is not None:
                session.user.refresh_from_db()
                sessions.step_up(request, amr=[], method="realname")
            messages.success(request, _("实名认证已完成，您的账户现在是 L2 实名认证账户。"))
            return HttpResponseRedirect(pipeline.safe_next(request, next_url))
    return render_page(request, "realname.html", {
        "form": form, "next": next_url, "verified": bool(user.verified_at),
        "verified_by_official": user.verified_by not in ("", "registry"),
        "id_masked": mask_id_number(str(user.id_number)) if user.id_number else "",
    }, status=status)


# --- password ------------------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@require_http_methods(["GET", "HEAD", "POST"])
@signed_in
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
            add_errors(form, error, default_field="new_password1")
        else:
            throttle.succeed(request, user)
            update_session_auth_hash(request, user)
            messages.success(request, _("密码已修改。其他设备上的登录已退出。"))
            return HttpResponseRedirect(reverse("identity:home"))
    return render_page(request, "password.html", {"form": form, "need_old": need_old},
                   status=status)


# --- account home --------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD"])
@signed_in
def home(request: HttpRequest) -> HttpResponse:
    """我的账户：who this account is, how sure we are of it, and where to manage it."""
    user = request.user
    assert isinstance(user, User)
    session = sessions.current(request)
    assert session is not None
    return render_page(request, "home.html", {
        "account": user,
        "label": accounts.display_label(user),
        "account_level": assurance.account_level(user),
        "session_acr": session.acr,
        "session_mfa": assurance.is_multi_factor(session.amr),
        "phone_masked": mask_phone(str(user.phone)) if user.phone else "",
        "id_masked": mask_id_number(str(user.id_number)) if user.id_number else "",
        "links": {name: url_or_blank(f"identity:{name}") for name in
                  ("security", "sessions", "enterprise", "realname", "password", "logout")},
        "switcher": template_exists("identity/_identity_switcher.html"),
    })
