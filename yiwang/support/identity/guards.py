"""The guard of portal pages that need a signed-in person: a live identity-provider session,
else the sign-in page and back."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from yiwang.support.identity.sessions import current as current_session

View = Callable[..., HttpResponse]


def signed_in_required(fallback: str) -> Callable[[View], View]:
    """A view decorator: only a person signed in with a live identity-provider session gets
    the page; anyone else goes to the sign-in page and comes back to the page they asked for
    (a GET), or to the page named ``fallback`` (a URL name) after a POST."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated or current_session(request) is None:
                back = request.get_full_path() if request.method == "GET" else reverse(fallback)
                return HttpResponseRedirect(
                    f"{reverse('identity:login')}?{urlencode({'next': back})}")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
