"""Language from the URL alone: ``/…`` is Simplified Chinese, ``/en/…`` is English.

Django's LocaleMiddleware also consults a cookie and the Accept-Language header for paths
without a language prefix, so the same URL can come out in either language. Taking the
language from the path only makes every page's language visible in its address (shareable,
bookmarkable), lets the language switch be a plain link, and lets public pages be cached
by URL.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class LanguageFromUrlMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
