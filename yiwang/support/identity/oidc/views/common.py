"""Helpers shared by the provider's views: language, redirects to relying parties, CSP."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from oauth2_provider.http import OAuth2ResponseRedirect
from oauthlib.common import add_params_to_uri

from yiwang.support.identity.oidc import tokens

ENGLISH = "en"


def ui_language(request: HttpRequest) -> str:
    """The page language for the provider's screens (which live outside the /en/ prefix):
    the first supported tag of ``ui_locales`` (OpenID Connect), else Chinese."""
    for tag in str(request.GET.get("ui_locales", "")).split():
        lowered = tag.lower()
        if lowered.startswith("en"):
            return ENGLISH
        if lowered.startswith("zh"):
            return str(settings.LANGUAGE_CODE)
    return str(settings.LANGUAGE_CODE)


def with_language(request: HttpRequest, language: str) -> str:
    """This page's address in ``language`` (``ui_locales`` set accordingly)."""
    query = request.GET.copy()
    query["ui_locales"] = "en" if language == ENGLISH else "zh-Hans"
    return f"{request.path}?{query.urlencode()}"


def printable(value: object, limit: int = 100) -> str:
    """Request input made safe to record: NUL bytes (which PostgreSQL text refuses) and
    other control characters removed, cut to ``limit`` characters."""
    return "".join(ch for ch in str(value or "") if ch >= " " or ch == "\t")[:limit]


def origin_of(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def allow_form_target(response: HttpResponse, *targets: str) -> HttpResponse:
    """Let this page's forms end in a redirect to ``targets`` (browsers apply CSP
    ``form-action`` to the redirects after a form is sent, not only to its action)."""
    origins = " ".join(o for o in {origin_of(t) for t in targets} if o)
    policy = str(getattr(settings, "CONTENT_SECURITY_POLICY", "") or "")
    if policy and origins and "form-action 'self'" in policy:
        response["Content-Security-Policy"] = policy.replace(
            "form-action 'self'", f"form-action 'self' {origins}")
    return response


def client_url(redirect_uri: str, params: dict[str, Any]) -> str:
    """``redirect_uri`` with the response ``params`` and the issuer (RFC 9207) added."""
    values = {k: str(v) for k, v in params.items() if v not in (None, "")}
    values.setdefault("iss", tokens.issuer())
    return str(add_params_to_uri(redirect_uri, list(values.items())))


def send_to_client(request: HttpRequest, url: str, allowed_schemes: list[str]) -> HttpResponse:
    """Send the browser to a relying party.

    A redirect, except when the browser came here from one of yiwang's own pages (a
    sign-in form, say): browsers check the whole redirect chain after a form against that
    form page's CSP ``form-action``, which only allows yiwang itself. Then a page that moves
    on by itself (a meta refresh, plus a link) ends the chain first.
    """
    if request.method == "GET" and request.headers.get("Sec-Fetch-Site") == "same-origin":
        response = page(request, "identity/oidc/continue.html", {"target": url})
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response
    return OAuth2ResponseRedirect(url, allowed_schemes)


def portal_home(language: str) -> str:
    """The portal's home page in ``language``."""
    return "/en/" if language == ENGLISH else "/"


def urlencode_next(next_url: str) -> str:
    """``next=<next_url>`` for a sign-in link."""
    return urlencode({"next": next_url})


def page(request: HttpRequest, template: str, context: dict[str, Any], *,
         status: int = 200) -> HttpResponse:
    """Render one of the provider's pages in the active language, with the language switch."""
    english = translation.get_language() == ENGLISH
    full = {"english": english,
            "other_language": with_language(request, str(settings.LANGUAGE_CODE) if english
                                            else ENGLISH),
            **context}
    return render(request, template, full, status=status)
