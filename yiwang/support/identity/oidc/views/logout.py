"""RP-initiated logout (/oidc/logout/, the ``end_session_endpoint``).

A relying party sends the browser here with the ``id_token_hint`` it holds. When the hint
names this browser's session the session ends at once (through ``sessions.sign_out``, so
every relying party of the session is logged out too); otherwise the person is asked first,
so that a link on some other site cannot sign anybody out. ``post_logout_redirect_uri`` must
be one the relying party registered; an unregistered one gets an error page, not a redirect.
"""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from yiwang.core.audit import service as audit
from yiwang.support.identity import sessions
from yiwang.support.identity.oidc import keys, tokens
from yiwang.support.identity.oidc.models import RelyingParty
from yiwang.support.identity.oidc.views import common

CONFIRM_SALT = "yiwang.oidc.logout.confirm"
CONFIRM_MAX_AGE = 15 * 60


def _refuse(request: HttpRequest, reason: str, client_id: str, message: str) -> HttpResponse:
    audit.record("oidc.logout_refused", ("oidc.relyingparty", client_id[:100]),
                 actor=request.user if request.user.is_authenticated else None,
                 detail={"client_id": client_id[:100], "reason": reason})
    return common.page(request, "identity/oidc/error.html", {"message": message, "error": reason},
                  status=400)


def _audience(claims: dict[str, Any]) -> str:
    aud = claims.get("aud")
    if isinstance(aud, list):
        return str(aud[0]) if aud else ""
    return str(aud or "")


@csrf_exempt  # relying parties may POST here; the confirmation carries its own token
@require_http_methods(["GET", "POST"])
def end_session(request: HttpRequest) -> HttpResponse:
    """End the identity-provider session at a relying party's request."""
    language = common.ui_language(request)
    with translation.override(language):
        response = _end_session(request, language)
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = language
    return response


def _end_session(request: HttpRequest, language: str) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    hint = common.printable(data.get("id_token_hint") or request.GET.get("id_token_hint"),
                            8000)
    client_id = common.printable(data.get("client_id") or request.GET.get("client_id"), 255)
    redirect_uri = str(data.get("post_logout_redirect_uri", "")
                       or request.GET.get("post_logout_redirect_uri", ""))
    state = str(data.get("state", "") or request.GET.get("state", ""))

    hinted: dict[str, Any] | None = None
    if hint:
        hinted = keys.verify(hint, check_expiry=False)
        if hinted is None or hinted.get("iss") != tokens.issuer():
            return _refuse(request, "invalid_id_token_hint", client_id,
                           _("退出请求携带的身份令牌无效，无法确认是哪个应用发起的退出。"))
        if client_id and client_id != _audience(hinted):
            return _refuse(request, "client_mismatch", client_id,
                           _("退出请求中的应用与身份令牌不符。"))
        client_id = _audience(hinted)

    rp = RelyingParty.objects.filter(client_id=client_id).first() if client_id else None
    if redirect_uri and (rp is None or not rp.post_logout_redirect_uri_allowed(redirect_uri)):
        return _refuse(request, "unregistered_post_logout_redirect_uri", client_id,
                       _("应用提供的退出后返回地址未登记，为安全起见不会跳转到该地址。"))
    target = common.client_url(redirect_uri, {"state": state}) if redirect_uri else ""

    session = sessions.current(request) if request.user.is_authenticated else None
    if session is not None:
        confirmed = hinted is not None and hinted.get("sid") == session.sid
        if not confirmed and request.method == "POST" and data.get("confirm"):
            try:
                confirmed = signing.loads(str(data["confirm"]), salt=CONFIRM_SALT,
                                          max_age=CONFIRM_MAX_AGE) == session.sid
            except signing.BadSignature:
                confirmed = False
        if not confirmed:
            page = common.page(request, "identity/oidc/logout_confirm.html", {
                "rp": rp, "action": request.get_full_path(),
                "confirm": signing.dumps(session.sid, salt=CONFIRM_SALT),
                "cancel_url": target or common.portal_home(language),
                "fields": {"id_token_hint": hint, "client_id": client_id,
                           "post_logout_redirect_uri": redirect_uri, "state": state},
            })
            return common.allow_form_target(page, target) if target else page
        user = session.user
        sessions.sign_out(request, reason="rp_logout")
        audit.record("oidc.logout", rp or ("oidc.relyingparty", client_id[:100]), actor=user,
                     detail={"client_id": client_id[:100], "initiated_by": "relying_party"})
    if target and rp is not None:
        return common.send_to_client(request, target, rp.get_allowed_schemes())
    return common.page(request, "identity/oidc/logged_out.html",
                  {"rp": rp, "home_url": common.portal_home(language)})
