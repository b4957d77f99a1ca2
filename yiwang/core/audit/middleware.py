from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from yiwang.core import context


class AuditContextMiddleware:
    """Bind the signed-in account to the request context, for audit events."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context.bind_user(getattr(request, "user", None))
        return self.get_response(request)
