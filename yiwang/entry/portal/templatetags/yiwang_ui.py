"""Template helpers shared by the portal and the workbench layouts (``{% load yiwang_ui %}``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.translation import gettext as _
from django.utils.translation import to_locale

from yiwang.entry.portal import labels
from yiwang.support.identity import service as identity

register = template.Library()


@register.filter
def local_name(obj: Any) -> str:
    """A region's, grid's or department's name in the page's language (``name_en`` on
    English pages when it has one): ``{{ region|local_name }}``."""
    return labels.local_name(obj)


@register.filter
def yuan(fen: Any) -> str:
    """An amount kept in fen (分) as yuan with two decimals: ``{{ 1250|yuan }}`` → ``12.50``;
    — for none."""
    if fen is None or fen == "":
        return "—"
    try:
        value = int(fen)
    except (TypeError, ValueError):
        return str(fen)
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


@register.filter
def department_kind(department: Any) -> str:
    """A department's type (类型), as the label of one department."""
    return labels.department_kind_label(getattr(department, "kind", "") or "")


@register.filter
def enterprise_status(enterprise: Any) -> str:
    """An enterprise's registration status (存续, 注销, 吊销)."""
    return labels.enterprise_status_label(getattr(enterprise, "status", "") or "")


@register.filter
def readable(value: Any) -> str:
    """A value of a JSON detail (of an audit event) as a reader would write it: lists
    joined by 、 (Chinese) or ", " (English), mappings as ``key: value``, yes/no for
    booleans, — for nothing. Never Python's repr."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, Mapping):
        separator = "; " if labels.english_active() else "；"
        # Sorted: PostgreSQL's jsonb does not keep the order keys were written in.
        return separator.join(f"{key}: {readable(value[key])}" for key in sorted(value, key=str))
    if isinstance(value, list | tuple | set | frozenset):
        separator = ", " if labels.english_active() else "、"
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return separator.join(readable(item) for item in items)
    return str(value)


@register.filter
def account_label(user: Any) -> str:
    """How the page header names the signed-in person: the masked name (``李**``) or, before
    real-name verification, the username. Never the full name or number."""
    return identity.display_label(user)


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
