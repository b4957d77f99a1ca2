"""The authorization endpoint (/oidc/authorize/): sign-in, step-up, re-authentication, consent.

The order of checks, after the request itself is valid (an unknown client or unregistered
redirect URI gets an error page, never a redirect):

1. nobody signed in → the sign-in page (``identity:login?next=…&level=N``), or
   ``login_required`` for ``prompt=none``;
2. ``prompt=login`` or an authentication older than ``max_age`` → the sign-in page again
   (``prompt=login``), and a later return must show a newer authentication;
3. a session below the level the relying party needs (its ``min_level`` and the lowest of
   the ``acr_values``) → ``identity:step_up`` (stepped up, never refused);
4. consent, unless the relying party is yiwang's own: asked per scope, remembered;
5. the authorization code, tied to this identity-provider session.

Loops are impossible: the ``next`` address carries a signed note of what was asked for
(``yiwang_auth``), and coming back without it done ends the request with an error page or
error response instead of asking again.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import View
from oauth2_provider.exceptions import FatalClientError, OAuthToolkitError
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views.base import AuthorizationView

from yiwang.core.audit import service as audit
from yiwang.support.identity import assurance, sessions
from yiwang.support.identity.oidc import claims, consents, keys, scopes
from yiwang.support.identity.oidc.models import RelyingParty
from yiwang.support.identity.oidc.views import common

ATTEMPT_PARAM = "yiwang_auth"
ATTEMPT_SALT = "yiwang.oidc.authorize.attempt"
ATTEMPT_MAX_AGE = 30 * 60  # seconds a sign-in or step-up may take before we ask afresh

FATAL_KINDS = {  # oauthlib's fatal errors (all "invalid_request") by what went wrong
    "InvalidClientIdError": "unknown_client",
    "MissingClientIdError": "unknown_client",
    "InvalidRedirectURIError": "bad_redirect",
    "MismatchingRedirectURIError": "bad_redirect",
    "MissingRedirectURIError": "bad_redirect",
}


def _fatal_message(kind: str) -> str:
    if kind == "unknown_client":
        return _("发起登录的应用未在本平台登记，或已被停用。请从该应用的正式入口重新进入。")
    if kind == "bad_redirect":
        return _("发起登录的应用提供的返回地址未登记。为保护您的账户，本次登录已停止，"
                 "没有把您带到那个地址。")
    return _("登录请求不完整或有误，无法继续。请回到原来的应用重新发起登录。")


def _read_attempt(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = signing.loads(raw, salt=ATTEMPT_SALT, max_age=ATTEMPT_MAX_AGE)
    except signing.BadSignature:
        return {}
    return value if isinstance(value, dict) else {}


def _int_or_none(value: str | None) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


@method_decorator(csrf_exempt, name="dispatch")
class AuthorizeView(AuthorizationView):
    """DOT's authorization view with yiwang's sessions, levels, consent and audit."""

    template_name = "identity/oidc/consent.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.oauth2_data = {}
        self.language = common.ui_language(request)
        with translation.override(self.language):
            # Skip DOT's LoginRequiredMixin: who must sign in, and how, is decided below.
            response = View.dispatch(self, request, *args, **kwargs)
            render_now = getattr(response, "render", None)
            if callable(render_now) and not getattr(response, "is_rendered", True):
                render_now()
        response.headers.setdefault("Cache-Control", "no-store")
        response["Content-Language"] = self.language
        return response

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.authorize(request)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "decision" not in request.POST:
            # An authorization request sent as a form (OpenID Connect allows POST): carry
            # on with the same parameters as a GET, the one form of request handled below.
            query = request.GET.copy()
            for key, values in request.POST.lists():
                if key != "csrfmiddlewaretoken":
                    query.setlist(key, values)
            return HttpResponseRedirect(f"{request.path}?{query.urlencode()}", status=303)
        # The consent form: the view is CSRF-exempt for relying parties' POSTs, so the
        # person's answer is checked here.
        refused = CsrfViewMiddleware(lambda _request: HttpResponse()).process_view(
            request, None, (), {})
        if refused is not None:
            return refused
        return self.authorize(request)

    # --- the flow ------------------------------------------------------------------------

    def authorize(self, request: HttpRequest) -> HttpResponse:
        try:
            requested, credentials = self.validate_authorization_request(request)
        except FatalClientError as error:
            return self.refuse(request, error)
        except OAuthToolkitError as error:
            return self.refuse_to_client(request, error)
        rp: RelyingParty = credentials["request"].client
        self.credentials = credentials
        self.rp = rp
        prompt = set(request.GET.get("prompt", "").split())
        required = max(int(rp.min_level),
                       assurance.required_level(request.GET.get("acr_values")) or 1)
        attempt = _read_attempt(request.GET.get(ATTEMPT_PARAM))
        session = sessions.current(request) if request.user.is_authenticated else None

        if session is None:
            if "none" in prompt:
                return self.to_client(request, error="login_required")
            return self.to_login(request, required, reauthenticate=False)
        if "none" in prompt and not self.hint_matches(request, rp):
            return self.to_client(request, error="login_required")

        max_age = _int_or_none(request.GET.get("max_age"))
        age = (timezone.now() - session.auth_time).total_seconds()
        # A return from the re-authentication we asked for (prompt=login is gone from it)
        # must show an authentication newer than the moment we asked.
        stale = ("login" in prompt or (max_age is not None and age > max_age)
                 or bool(attempt.get("after")))
        reauthenticated = bool(attempt.get("after")) and \
            session.auth_time.timestamp() >= float(attempt["after"])
        if stale and not reauthenticated:
            if "none" in prompt or attempt.get("after"):
                return self.to_client(request, error="login_required")
            return self.to_login(request, required, reauthenticate=True)

        if session.acr < required:
            if "none" in prompt:
                return self.to_client(request, error="login_required")
            if int(attempt.get("level", 0)) >= required:
                return self.level_needed(request, session.acr, required)
            return self.to_step_up(request, required)

        granted = list(requested)
        if not rp.first_party:
            consent = consents.live_consent(request.user, rp)
            if request.method == "POST" and "decision" in request.POST:
                return self.decide(request, requested, session)
            if "consent" in prompt or not consents.covers(consent, requested):
                if "none" in prompt:
                    return self.to_client(request, error="consent_required")
                return self.consent_page(request, requested, consent)
            granted = consents.granted_scopes(consent, requested)
        return self.issue_code(request, granted, session)

    def hint_matches(self, request: HttpRequest, rp: RelyingParty) -> bool:
        """With ``prompt=none``, an ``id_token_hint`` must name the signed-in person."""
        hint = request.GET.get("id_token_hint")
        if not hint:
            return True
        found = keys.verify(hint, check_expiry=False)
        return bool(found) and found.get("sub") == claims.subject(request.user, rp)

    def decide(self, request: HttpRequest, requested: list[str], session: Any) -> HttpResponse:
        if request.POST.get("decision") != "allow":
            consents.record_refusal(request.user, self.rp, asked=requested)
            return self.to_client(request, error="access_denied")
        chosen = set(request.POST.getlist("consent_scope")) | {scopes.OPENID}
        granted = [s for s in requested if s in chosen]
        consents.give_consent(request.user, self.rp, asked=requested, granted=granted)
        return self.issue_code(request, granted, session)

    def issue_code(self, request: HttpRequest, granted: list[str], session: Any) -> HttpResponse:
        credentials = dict(self.credentials)
        credentials["yiwang_session"] = session
        try:
            uri, _headers, _body, _status = self.create_authorization_response(
                request=request, scopes=" ".join(granted), credentials=credentials, allow=True)
        except FatalClientError as error:
            return self.refuse(request, error)
        except OAuthToolkitError as error:
            return self.refuse_to_client(request, error)
        return common.send_to_client(request, uri, self.rp.get_allowed_schemes())

    # --- where the browser goes ----------------------------------------------------------

    def _return_path(self, request: HttpRequest, attempt: dict[str, Any] | None) -> str:
        query = request.GET.copy()
        remaining = [p for p in query.get("prompt", "").split() if p != "login"]
        if remaining:
            query["prompt"] = " ".join(remaining)
        else:
            query.pop("prompt", None)
        query.pop(ATTEMPT_PARAM, None)
        if attempt:
            query[ATTEMPT_PARAM] = signing.dumps(attempt, salt=ATTEMPT_SALT)
        return f"{request.path}?{query.urlencode()}"

    def _identity_url(self, name: str, **params: Any) -> str:
        with translation.override(self.language):
            base = reverse(name)
        return f"{base}?{urlencode({k: v for k, v in params.items() if v is not None})}"

    def to_login(self, request: HttpRequest, level: int, *, reauthenticate: bool
                 ) -> HttpResponse:
        attempt = {"after": time.time()} if reauthenticate else None
        url = self._identity_url("identity:login", next=self._return_path(request, attempt),
                                 level=level, prompt="login" if reauthenticate else None)
        return HttpResponseRedirect(url)

    def to_step_up(self, request: HttpRequest, level: int) -> HttpResponse:
        url = self._identity_url("identity:step_up", level=level,
                                 next=self._return_path(request, {"level": level}))
        return HttpResponseRedirect(url)

    def to_client(self, request: HttpRequest, *, error: str) -> HttpResponse:
        url = self.client_error_url(error)
        audit.record("oidc.authorize_refused", self.rp,
                     actor=request.user if request.user.is_authenticated else None,
                     detail={"client_id": self.rp.client_id, "error": error})
        return common.send_to_client(request, url, self.rp.get_allowed_schemes())

    def client_error_url(self, error: str) -> str:
        return common.client_url(self.credentials["redirect_uri"],
                                 {"error": error, "state": self.credentials.get("state")})

    # --- pages ---------------------------------------------------------------------------

    def consent_page(self, request: HttpRequest, requested: list[str], consent: Any
                     ) -> HttpResponse:
        previous = set(consent.scope_list) if consent is not None else None
        rows = [{"name": s, "description": scopes.describe(s), "required": s == scopes.OPENID,
                 "checked": s == scopes.OPENID or previous is None or s in previous}
                for s in requested]
        response = common.page(request, "identity/oidc/consent.html", {
            "rp": self.rp, "scopes": rows, "user": request.user,
            "action": request.get_full_path(),
            "other_language": common.with_language(
                request, "zh-hans" if self.language == common.ENGLISH else common.ENGLISH),
            "english": self.language == common.ENGLISH,
        })
        return common.allow_form_target(response, self.credentials["redirect_uri"])

    def level_needed(self, request: HttpRequest, current: int, required: int) -> HttpResponse:
        retry = self._identity_url("identity:step_up", level=required,
                                   next=self._return_path(request, {"level": required}))
        response = common.page(request, "identity/oidc/level_needed.html", {
            "rp": self.rp, "current": assurance.acr_name(current),
            "required": assurance.acr_name(required), "retry_url": retry,
            "cancel_url": self.client_error_url("unmet_authentication_requirements"),
        })
        return response

    # --- refusals ------------------------------------------------------------------------

    def refuse(self, request: HttpRequest, error: OAuthToolkitError) -> HttpResponse:
        """Unknown client or unregistered redirect URI: an error page, never a redirect."""
        oauth_error = error.oauthlib_error
        kind = FATAL_KINDS.get(type(oauth_error).__name__, "invalid")
        client_id = common.printable(request.GET.get("client_id"))
        audit.record("oidc.authorize_refused", ("oidc.relyingparty", client_id),
                     actor=request.user if request.user.is_authenticated else None,
                     detail={"client_id": client_id, "error": oauth_error.error,
                             "reason": kind,
                             "redirect_uri": common.printable(request.GET.get("redirect_uri"),
                                                              200)})
        return common.page(request, "identity/oidc/error.html",
                      {"message": _fatal_message(kind), "error": oauth_error.error}, status=400)

    def refuse_to_client(self, request: HttpRequest, error: OAuthToolkitError) -> HttpResponse:
        """A request the client got wrong (scope, PKCE, response type): tell the client."""
        oauth_error = error.oauthlib_error
        client_id = common.printable(request.GET.get("client_id"))
        audit.record("oidc.authorize_refused", ("oidc.relyingparty", client_id),
                     actor=request.user if request.user.is_authenticated else None,
                     detail={"client_id": client_id, "error": oauth_error.error,
                             "description": str(oauth_error.description or "")[:200]})
        redirect_uri = oauth_error.redirect_uri
        if not redirect_uri:  # never redirect to an address oauthlib did not confirm
            return common.page(request, "identity/oidc/error.html",
                          {"message": _fatal_message("invalid"), "error": oauth_error.error},
                          status=400)
        url = common.client_url(redirect_uri, dict(oauth_error.twotuples))
        client = getattr(getattr(oauth_error, "request", None), "client", None)
        if client is None:  # oauthlib confirmed the redirect URI of this client id
            client = RelyingParty.objects.filter(client_id=client_id).first()
        schemes = (client.get_allowed_schemes() if client is not None
                   else list(oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES))
        return common.send_to_client(request, url, schemes)
