"""Signing in to the workbench: an OpenID Connect relying party of yiwang's own provider.

The workbench keeps no passwords. Its sign-in sends the browser to the identity provider
(public zone) asking for ``acr_values=L3`` — officials must use more than one factor — and
its callback exchanges the code in-process and joins the provider session named by the ID
token's ``sid`` (ADR 12). One sign-in then serves the portal, the workbench and every
relying party; ending it anywhere ends it here at once.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from yiwang.entry.workbench.access import REQUIRED_LEVEL, is_official
from yiwang.support.identity import service as identity

CLIENT_ID = "yiwang-workbench"
SCOPE = "openid profile official"


def _internal(path: str) -> str:
    return str(settings.YIWANG_INTERNAL_URL).rstrip("/") + path


def callback_uri() -> str:
    """The workbench's registered redirect URI (without a language prefix)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _internal(reverse("workbench:oidc_callback"))


def workbench_client() -> object:
    """The workbench's registration at the provider, created or corrected on first use.

    A public first-party client: the code exchange happens inside this process, with PKCE,
    so there is no secret to keep. It requires L3 of every session it accepts.
    """
    wanted = {"redirect_uris": callback_uri(), "post_logout_redirect_uris": _internal("/")}
    rp = identity.get_relying_party(CLIENT_ID)
    if rp is None:
        rp, _secret = identity.register_relying_party(
            client_id=CLIENT_ID, name="政务工作台", client_type="public",
            allowed_scopes=SCOPE, min_level=REQUIRED_LEVEL, first_party=True, actor=None,
            description="yiwang 政务工作台 (政务内网) — the workbench itself", **wanted)
        return rp
    changed = {k: v for k, v in wanted.items() if getattr(rp, k) != v}
    if changed:
        rp = identity.update_relying_party(rp, actor=None, **changed)
    return rp


def _safe_next(request: HttpRequest, value: str | None) -> str:
    """``value`` if it stays on this host (the provider's rule), else the workbench home."""
    return identity.safe_next(request, value, reverse("workbench:home"))


def _problem(request: HttpRequest, message: str, *, status: int = 400,
             next_url: str = "") -> HttpResponse:
    return render(request, "workbench/login.html",
                  {"problem": message, "next": next_url}, status=status)


@never_cache
def login(request: HttpRequest) -> HttpResponse:
    """Send the browser to the identity provider (or straight on when already signed in)."""
    next_url = _safe_next(request, request.GET.get("next"))
    user = request.user
    if is_official(user) and identity.level_of(request) >= REQUIRED_LEVEL:
        return HttpResponseRedirect(next_url)
    workbench_client()
    url = identity.firstparty.authorization_url(
        request, client_id=CLIENT_ID, redirect_uri=callback_uri(), acr_values="L3",
        next_url=next_url, scope=SCOPE, ui_locales=translation.get_language() or "")
    return HttpResponseRedirect(url)


@never_cache
def oidc_callback(request: HttpRequest) -> HttpResponse:
    """The provider sends the browser back here with a code: finish signing in."""
    try:
        claims = identity.firstparty.complete(request, client_id=CLIENT_ID,
                                              redirect_uri=callback_uri())
    except identity.firstparty.SignInError as exc:
        if exc.error == "access_denied":
            message = _("您取消了登录。")
        elif exc.error == "invalid_state":
            message = _("登录请求已过期或已使用，请重新登录。")
        else:
            message = _("统一身份认证平台未能完成登录，请重新登录。")
        return _problem(request, message)
    try:
        session = identity.join_session(request, str(claims.get("sid", "")))
    except PermissionError:
        return _problem(request, _("您在统一身份认证平台的登录已结束，请重新登录。"))
    next_url = _safe_next(request, claims.get("next_url"))
    if not is_official(session.user):
        # Not an official: keep the provider session (the portal still works), but not here.
        identity.leave_session(request)
        return _problem(request, _("此账户不是公职人员账户，不能登录工作台。"), status=403)
    if int(session.acr) < REQUIRED_LEVEL:
        identity.leave_session(request)
        return _problem(request, _("工作台要求多因素认证（L3），请重新登录。"), status=403,
                        next_url=next_url)
    return HttpResponseRedirect(next_url)


@never_cache
@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    """POST: end the sign-in everywhere (portal, workbench, every relying party)."""
    if request.method == "POST":
        identity.sign_out(request, reason="workbench_sign_out")
        return render(request, "workbench/signed_out.html")
    if not request.user.is_authenticated:
        return HttpResponseRedirect(reverse("workbench:login"))
    return render(request, "workbench/signed_out.html", {"confirm": True})
