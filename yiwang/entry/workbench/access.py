"""Who may use the workbench (工作台): signed-in officials (公职人员) only.

Every workbench view is wrapped in :func:`official_required` (or uses
:class:`OfficialRequiredMixin`). An anonymous visitor is sent to the sign-in page; a
signed-in account that is not an official's (``is_staff``) gets 403, not a sign-in loop; an
official's session below L3 (multi-factor) is sent back through sign-in to step up.
Modules that show sensitive data (审计日志, 基础数据) add :func:`permission_required`: an
official without the Django permission gets 403 too.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from yiwang.support.identity import service as identity

# Officials work at L3: a session signed in with more than one factor (see identity.assurance).
REQUIRED_LEVEL = identity.OFFICIAL_LEVEL

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def is_official(user: Any) -> bool:
    """An active, signed-in account flagged as an official's (``is_staff``)."""
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def check_official(request: HttpRequest) -> HttpResponse | None:
    """None when the request may proceed, else the sign-in redirect; raises 403 for others."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not is_official(user):
        raise PermissionDenied("not an official")
    if identity.level_of(request) < REQUIRED_LEVEL:
        # Signed in below L3 (e.g. the level was lowered): sign in again, stepping up.
        return redirect_to_login(request.get_full_path())
    return None


def official_required(view: View) -> View:
    """Decorate a workbench view: sign-in required, and the account must be an official's."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        refused = check_official(request)
        if refused is not None:
            return refused
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class OfficialRequiredMixin:
    """The same rule for class-based views."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = check_official(request)
        if refused is not None:
            return refused
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


def permission_required(*perms: str) -> Callable[[View], View]:
    """Decorate a workbench view: an official who holds every one of ``perms`` (403 otherwise).

    Includes :func:`official_required`, so anonymous visitors are still sent to sign in.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            refused = check_official(request)
            if refused is not None:
                return refused
            if not request.user.has_perms(perms):
                raise PermissionDenied("missing permission")
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def any_permission_required(*perms: str) -> Callable[[View], View]:
    """Decorate a workbench view: an official who holds at least one of ``perms`` (403
    otherwise), for pages that several roles read while only one of them writes.

    Includes :func:`official_required`, so anonymous visitors are still sent to sign in.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            refused = check_official(request)
            if refused is not None:
                return refused
            if not any(request.user.has_perm(p) for p in perms):
                raise PermissionDenied("missing permission")
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
