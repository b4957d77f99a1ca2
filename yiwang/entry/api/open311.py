"""Open311 GeoReport v2 on the public listener: ``/open311/v2/``.

=====================================  ==================================================
``GET  services.{json|xml}``           the service list (active minor case categories)
``GET  services/{code}.{json|xml}``    a service definition (its attributes)
``POST requests.{json|xml}``           create a request (``api_key`` required)
``GET  requests.{json|xml}``           requests by id, service, dates, status
``GET  requests/{id}.{json|xml}``      one request
``GET  tokens/{token}.{json|xml}``     the request of a token (requests are created at
                                       once: the token is the request id)
``GET  discovery.{json|xml}``          the endpoint's discovery document
=====================================  ==================================================

Errors are the specification's list — JSON ``[{"code": 400, "description": "…"}]`` or XML
``<errors><error><code>…</code><description>…</description></error></errors>`` — with the
same HTTP status. ``POST`` takes form fields (``application/x-www-form-urlencoded`` or
``multipart/form-data``; attributes as ``attribute[code]=value``, a list value repeated;
an optional photo as the ``media`` file), is CSRF-exempt (the ``api_key`` authenticates)
and is rate-limited per client. Responses are in Chinese, or English with
``Accept-Language: en``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.urls import path, register_converter
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.core import ratelimit
from yiwang.core.uploads import service as uploads
from yiwang.industry.city import service as city

BAD_KEYS_PER_MINUTE = 20
PHOTO_BYTES = 8 * 1024 * 1024
_ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_]{1,32})\](\[\])?$")


class FormatConverter:
    regex = "json|xml"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "fmt")


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _xml_node(parent: ElementTree.Element, tag: str, value: Any) -> None:
    node = ElementTree.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, item in value.items():
            _xml_node(node, key, item)
    elif isinstance(value, list):
        singular = {"attributes": "attribute", "values": "value"}.get(tag, "item")
        for item in value:
            _xml_node(node, singular, item)
    else:
        node.text = _value(value)


def _render(fmt: str, data: Any, *, root: str, item: str, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        top = ElementTree.Element(root)
        for entry in data if isinstance(data, list) else [data]:
            if isinstance(data, list):
                _xml_node(top, item, entry)
            else:
                for key, value in entry.items():
                    _xml_node(top, key, value)
        body = ElementTree.tostring(top, encoding="utf-8", xml_declaration=True)
        response = HttpResponse(body, status=status,
                                content_type="application/xml; charset=utf-8")
    else:
        response = HttpResponse(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False),
                                status=status, content_type="application/json; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _errors(fmt: str, exc: city.Open311Error) -> HttpResponse:
    data = [{"code": code, "description": description} for code, description in exc.errors]
    return _render(fmt, data, root="errors", item="error", status=exc.status)


def _language(request: HttpRequest) -> None:
    wanted = request.headers.get("Accept-Language", "")
    translation.activate("en" if wanted.lower().startswith("en") else settings.LANGUAGE_CODE)


@require_GET
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri("/open311/v2/")
    data = {"changeset": "2026-11-28T00:00:00+08:00", "contact": "12345",
            "key_service": _("请向城市管理部门申请 api_key"),
            "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2",
                           "url": base, "changeset": "2026-11-28T00:00:00+08:00",
                           "type": "production", "formats": ["application/json",
                                                             "text/xml"]}]}
    return _render(fmt, data, root="discovery", item="endpoint")


@require_GET
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    _language(request)
    return _render(fmt, city.open311_services(), root="services", item="service")


@require_GET
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    _language(request)
    try:
        return _render(fmt, city.open311_definition(code), root="service_definition",
                       item="attribute")
    except city.Open311Error as exc:
        return _errors(fmt, exc)


def _attributes(request: HttpRequest) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in request.POST:
        match = _ATTRIBUTE.match(key)
        if match:
            values = request.POST.getlist(key)
            out[match.group(1)] = values if match.group(2) or len(values) > 1 else values[0]
    return out


@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests_view(request: HttpRequest, fmt: str) -> HttpResponse:
    _language(request)
    if request.method == "GET":
        try:
            return _render(fmt, city.open311_requests(request.GET.dict()),
                           root="service_requests", item="request")
        except city.Open311Error as exc:
            return _errors(fmt, exc)
    client = city.open311_client_for(request.POST.get("api_key", ""))
    if client is None:
        over = ratelimit.exceeded("open311.bad_key", request, per_minute=BAD_KEYS_PER_MINUTE)
        status = 429 if over else 403
        return _errors(fmt, city.Open311Error(status, [(status, _("api_key 无效或已停用"))]))
    if ratelimit.hit(f"open311.client:{client.pk}", limit=client.requests_per_minute):
        return _errors(fmt, city.Open311Error(429, [(429, _("请求过于频繁，请一分钟后再试"))]))
    photos = []
    media = request.FILES.get("media")
    if media is not None:
        try:
            stored = uploads.accept_upload(media, filename=media.name or "media.jpg",
                                           owner_key=f"open311:{client.pk}",
                                           purpose="city.photo",
                                           accept=("image/jpeg", "image/png"),
                                           max_bytes=PHOTO_BYTES, personal=False)
        except ValidationError as exc:
            return _errors(fmt, city.Open311Error(
                400, [(400, f"media: {m}") for m in exc.messages]))
        photos.append(stored.token)
    try:
        created = city.open311_create(client, request.POST.dict(), _attributes(request),
                                      photos)
    except city.Open311Error as exc:
        return _errors(fmt, exc)
    return _render(fmt, [created], root="service_requests", item="request", status=201)


@require_GET
def request_detail(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    _language(request)
    try:
        return _render(fmt, city.open311_request(number), root="service_requests",
                       item="request")
    except city.Open311Error as exc:
        return _errors(fmt, exc)


@require_GET
def token(request: HttpRequest, value: str, fmt: str) -> HttpResponse:
    try:
        found = city.open311_request(value)
    except city.Open311Error as exc:
        return _errors(fmt, exc)
    data = [{"service_request_id": found[0]["service_request_id"], "token": value}]
    return _render(fmt, data, root="service_requests", item="request")


urlpatterns = [
    path("discovery.<fmt:fmt>", discovery, name="open311-discovery"),
    path("services.<fmt:fmt>", services, name="open311-services"),
    path("services/<str:code>.<fmt:fmt>", service_definition, name="open311-service"),
    path("requests.<fmt:fmt>", requests_view, name="open311-requests"),
    path("requests/<str:number>.<fmt:fmt>", request_detail, name="open311-request"),
    path("tokens/<str:value>.<fmt:fmt>", token, name="open311-token"),
]
