"""A tiny first-party relying party on the internal listener, for test_firstparty only."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import path

from yiwang.support.identity.oidc import firstparty

CLIENT_ID = "workbench-test"
CALLBACK = "http://127.0.0.1:8001/rp/callback/"


def start(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(firstparty.authorization_url(
        request, client_id=CLIENT_ID, redirect_uri=CALLBACK,
        acr_values=request.GET.get("acr", ""), prompt=request.GET.get("prompt", ""),
        next_url="/after/"))


def callback(request: HttpRequest) -> HttpResponse:
    try:
        claims = firstparty.complete(request, client_id=CLIENT_ID, redirect_uri=CALLBACK)
    except firstparty.SignInError as exc:
        return JsonResponse({"error": exc.error, "description": exc.description}, status=400)
    return JsonResponse(claims)


urlpatterns = [
    path("rp/start/", start),
    path("rp/callback/", callback),
]
