"""Keep each browser's sign-in tied to a live identity-provider session."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from yiwang.support.identity import sessions


class SessionLivenessMiddleware:
    """Sign a browser out as soon as its :class:`AccountSession` was ended anywhere.

    Placed after Django's authentication middleware. One indexed lookup per request of a
    signed-in browser, which also loads the account that ``request.user`` then is (instead
    of a second query by ``auth.get_user``); anonymous requests cost nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None:
            if session.get(sessions.SESSION_KEY):
                sessions.adopt_user(request, sessions.current(request))
                sessions.check_request(request)
            elif request.user.is_authenticated:
                sessions.check_request(request)
        return self.get_response(request)
