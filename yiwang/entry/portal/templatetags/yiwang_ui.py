"""Template helpers shared by the portal and the workbench layouts (``{% load yiwang_ui %}``)."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.translation import to_locale

register = template.Library()


@register.filter
def html_lang(language_code: str | None) -> str:
    """The BCP 47 tag for the ``lang`` attribute: ``zh-hans`` → ``zh-Hans``, ``en`` → ``en``."""
    if not language_code:
        return "zh-Hans"
    return to_locale(language_code).replace("_", "-")


@register.simple_tag(takes_context=True)
def url_in_language(context: template.Context, language: str) -> str:
    """The current page's URL in another language, for the ``next`` of the language switch.

    Django's ``set_language`` translates ``next`` itself, but it runs outside the language
    prefixes, i.e. in the default language, so it cannot resolve an ``/en/…`` path: with
    ``prefix_default_language=False`` switching back to Chinese would stay on the English
    URL. Translating here, where the page's own language is active, avoids that.
    """
    request = context.get("request")
    if request is None:
        return "/"
    current = request.get_full_path()
    translated = translate_url(current, language)
    if translated != current:
        return translated
    # An unresolvable path (a 404 page): move the language prefix by hand.
    path, _sep, query = current.partition("?")
    prefixes = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
    for code in prefixes:
        if path == f"/{code}" or path.startswith(f"/{code}/"):
            path = path[len(code) + 1:] or "/"
            break
    if language != settings.LANGUAGE_CODE:
        path = f"/{language}{path}"
    return path + (f"?{query}" if query else "")
