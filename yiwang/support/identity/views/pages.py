"""What the sign-in and account screens share: the page frame, ``next`` and ``level`` from
the request, phone numbers carried encrypted between the steps of a form, errors of the
services on forms (used by :mod:`signin` and :mod:`profile`)."""

from __future__ import annotations

import time
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse

from yiwang.core.crypto.service import decrypt_personal, encrypt_personal
from yiwang.support.identity import pipeline, sms
from yiwang.support.identity.views.mfa import sign_in_required

PHONE_PURPOSE = "identity.session.phone"
STASH_TTL = timedelta(minutes=15)
TOO_MANY_STATUS = 429


def url_or_blank(name: str) -> str:
    """``reverse(name)``, or "" while the page's builder has not added it yet."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@lru_cache(maxsize=8)
def template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def next_and_level(request: HttpRequest) -> tuple[str, int | None]:
    data = request.POST if request.method == "POST" else request.GET
    next_raw = data.get("next") or request.GET.get("next") or ""
    next_url = pipeline.safe_next(request, next_raw, default="") if next_raw else ""
    return next_url, pipeline.clean_level(data.get("level") or request.GET.get("level"))


signed_in = sign_in_required()


def stash_phone(request: HttpRequest, key: str, phone: str) -> None:
    request.session[key] = {"phone": encrypt_personal(phone, PHONE_PURPOSE), "at": time.time()}


def stashed_phone(request: HttpRequest, key: str) -> str:
    raw = request.session.get(key)
    if (not isinstance(raw, dict)
            or time.time() - float(raw.get("at", 0)) > STASH_TTL.total_seconds()):
        request.session.pop(key, None)
        return ""
    try:
        return decrypt_personal(str(raw.get("phone", "")), PHONE_PURPOSE)
    except Exception:  # a session written under a retired key: start again
        request.session.pop(key, None)
        return ""


def add_errors(form: Any, error: ValidationError, *, default_field: str | None = None) -> None:
    """Attach a service's ``ValidationError`` to the form (by field when it names one)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else default_field, errors)
    else:
        form.add_error(default_field, error)


def sms_error_status(error: sms.SmsError) -> int:
    return TOO_MANY_STATUS if isinstance(error, sms.SmsRateLimited) else 200


def render_page(request: HttpRequest, template: str, context: dict[str, Any],
                status: int = 200) -> HttpResponse:
    response = render(request, f"identity/signin/{template}", context, status=status)
    response["Cache-Control"] = "no-store"
    return response
