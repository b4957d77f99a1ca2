"""The API's answers to requests it cannot read, in the interface's language.

django-ninja answers a body that is not JSON with ``400 {"detail": "Cannot parse request
body"}`` and a body of the wrong shape with ``422 {"detail": [pydantic errors]}``, whose
``msg`` is pydantic's English ("Input should be a valid dictionary"). The same structure is
kept (``loc`` and ``type`` for programs), and ``msg`` is said in Chinese (English on English
requests) for the person reading it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

# pydantic's error types (https://docs.pydantic.dev/latest/errors/validation_errors/)
MESSAGES = {
    "missing": gettext_lazy("缺少必填项。"),
    "dict_type": gettext_lazy("应为 JSON 对象。"),
    "model_type": gettext_lazy("应为 JSON 对象。"),
    "model_attributes_type": gettext_lazy("应为 JSON 对象。"),
    "list_type": gettext_lazy("应为列表。"),
    "string_type": gettext_lazy("应为文本。"),
    "int_type": gettext_lazy("应为整数。"),
    "int_parsing": gettext_lazy("应为整数。"),
    "int_from_float": gettext_lazy("应为整数。"),
    "float_type": gettext_lazy("应为数字。"),
    "float_parsing": gettext_lazy("应为数字。"),
    "bool_type": gettext_lazy("应为 true 或 false。"),
    "bool_parsing": gettext_lazy("应为 true 或 false。"),
    "date_type": gettext_lazy("应为日期(如 2026-01-31)。"),
    "date_parsing": gettext_lazy("应为日期(如 2026-01-31)。"),
    "date_from_datetime_parsing": gettext_lazy("应为日期(如 2026-01-31)。"),
    "datetime_type": gettext_lazy("应为日期时间(ISO 8601)。"),
    "datetime_parsing": gettext_lazy("应为日期时间(ISO 8601)。"),
    "string_too_long": gettext_lazy("过长。"),
    "string_too_short": gettext_lazy("过短。"),
    "too_long": gettext_lazy("项数过多。"),
    "too_short": gettext_lazy("项数过少。"),
    "greater_than_equal": gettext_lazy("数值过小。"),
    "less_than_equal": gettext_lazy("数值过大。"),
    "greater_than": gettext_lazy("数值过小。"),
    "less_than": gettext_lazy("数值过大。"),
    "literal_error": gettext_lazy("不是允许的取值。"),
    "enum": gettext_lazy("不是允许的取值。"),
    "extra_forbidden": gettext_lazy("不允许的字段。"),
    "uuid_parsing": gettext_lazy("应为 UUID。"),
    "json_invalid": gettext_lazy("不是有效的 JSON。"),
}
UNREADABLE_BODY = "Cannot parse request body"


def _readable(error: dict[str, Any]) -> dict[str, Any]:
    known = MESSAGES.get(str(error.get("type", "")))
    shown: dict[str, Any] = {key: error[key] for key in ("type", "loc") if key in error}
    shown["msg"] = str(known) if known is not None else _("格式不正确:%(why)s") % {
        "why": str(error.get("msg", ""))[:200]}
    return shown


def _invalid(request: HttpRequest, exc: NinjaValidationError, *, api: Any) -> HttpResponse:
    return api.create_response(request, {"detail": [_readable(e) for e in exc.errors]},
                               status=422)


def _http_error(request: HttpRequest, exc: HttpError, *, api: Any) -> HttpResponse:
    detail = str(exc)
    if detail.startswith(UNREADABLE_BODY):
        detail = _("请求体不是有效的 JSON,请检查格式(如引号、逗号和括号)后重试。")
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


def install(api: Any) -> None:
    """Answer ``api``'s unreadable and malformed requests in the interface's language."""
    from functools import partial

    api.add_exception_handler(NinjaValidationError, partial(_invalid, api=api))
    api.add_exception_handler(HttpError, partial(_http_error, api=api))
