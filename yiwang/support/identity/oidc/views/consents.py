"""The page where a person sees and withdraws the consents they gave (/oidc/consents/)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.support.identity import sessions
from yiwang.support.identity.oidc import consents, scopes
from yiwang.support.identity.oidc.views import common


def _login_redirect(request: HttpRequest, language: str) -> HttpResponse:
    with translation.override(language):
        login = reverse("identity:login")
    query = request.GET.copy()
    next_url = reverse("oidc:consents") + (f"?{query.urlencode()}" if query else "")
    return HttpResponseRedirect(f"{login}?{common.urlencode_next(next_url)}")


@require_http_methods(["GET"])
def consents_page(request: HttpRequest) -> HttpResponse:
    """已授权的应用：the relying parties the signed-in person let see their data."""
    language = common.ui_language(request)
    if sessions.current(request) is None:
        return _login_redirect(request, language)
    with translation.override(language):
        rows = [{"consent": c, "rp": c.application,
                 "scopes": [scopes.describe(s) for s in c.scope_list]}
                for c in consents.list_consents(request.user)]
        response = common.page(request, "identity/oidc/consents.html", {
            "rows": rows,
            "other_language": common.with_language(
                request, "zh-hans" if language == common.ENGLISH else common.ENGLISH),
            "english": language == common.ENGLISH,
            "ui_locales": "en" if language == common.ENGLISH else "",
        })
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = language
    return response


@require_POST
def consent_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw one consent (the person's own only)."""
    language = common.ui_language(request)
    if sessions.current(request) is None:
        return _login_redirect(request, language)
    found = next((c for c in consents.list_consents(request.user) if c.pk == pk), None)
    if found is None:
        raise Http404
    with translation.override(language):
        consents.revoke_consent(request.user, found.application, actor=request.user)
        name = found.application.name or found.application.client_id
        messages.success(
            request, _("已撤销对“%(name)s”的授权。下次登录该应用时会重新征求您的同意。")
            % {"name": name})
    back = reverse("oidc:consents")
    if language == common.ENGLISH:
        back += "?ui_locales=en"
    return HttpResponseRedirect(back)
