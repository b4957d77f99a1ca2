"""Short-lived caching of public pages for visitors who are not signed in.

Public portal pages are the same for every anonymous visitor of a URL (the language is in
the URL), so they are rendered once per ``YIWANG_PAGE_CACHE_SECONDS`` per process and URL.
Requests carrying a session cookie, responses that set cookies or used a CSRF token, and
anything but a 200 are never cached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def _key(request: HttpRequest) -> str:
    digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    return f"page:{request.LANGUAGE_CODE}:{digest}"  # type: ignore[attr-defined]


def public_page(view: View) -> View:
    """Cache the view's response for anonymous GET/HEAD requests (see module docstring)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        seconds = settings.YIWANG_PAGE_CACHE_SECONDS
        cacheable = (seconds > 0 and request.method in ("GET", "HEAD")
                     and settings.SESSION_COOKIE_NAME not in request.COOKIES)
        if cacheable:
            cached = cache.get(key := _key(request))
            if cached is not None:
                body, content_type = cached
                response = HttpResponse(body, content_type=content_type)
                response["X-Page-Cache"] = "hit"
                return response
        response = view(request, *args, **kwargs)
        if (cacheable and response.status_code == 200 and not response.cookies
                and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
                and not getattr(response, "streaming", False)):
            if hasattr(response, "render") and callable(response.render):
                response.render()
            cache.set(key, (response.content, response["Content-Type"]), seconds)
            response["X-Page-Cache"] = "miss"
        return response

    return wrapper
