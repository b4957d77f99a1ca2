"""Open311 GeoReport v2 on top of the case table: services are the active minor categories,
service definitions their attributes, requests are cases (``service_request_id`` = the case
number). The HTTP layer (``yiwang/entry/api/open311.py``) renders JSON and XML; this module
holds what it means.

Privacy: requests list no reporter names or contacts, and descriptions are masked
(ID and phone numbers); ``media_url`` is never published (photos may show people).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.core.masking.service import mask_text
from yiwang.industry.city import cases
from yiwang.industry.city.models import OPEN_STATES, Case, CaseCategory, Open311Client, State
from yiwang.platform.orgs import service as orgs

KEY_PREFIX = "yw311_"
MAX_REQUESTS = 1000
DEFAULT_WINDOW = timedelta(days=90)


class Open311Error(Exception):
    """An Open311 error list: ``[(code, description), …]`` with the HTTP status."""

    def __init__(self, status: int, errors: list[tuple[int, str]]) -> None:
        super().__init__("; ".join(d for _c, d in errors))
        self.status = status
        self.errors = errors


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


def _name(category: CaseCategory) -> str:
    return category.name_en if _english() and category.name_en else category.name


# --- clients ------------------------------------------------------------------------------

def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def register_client(name: str, *, contact: str = "", requests_per_minute: int = 60,
                    actor: Any = None) -> tuple[Open311Client, str]:
    """A new Open311 client and its ``api_key`` (shown once; only its hash is kept)."""
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    client = Open311Client.objects.create(name=name, contact=contact, key_hash=_hash(key),
                                          key_hint=key[-4:],
                                          requests_per_minute=requests_per_minute)
    audit.record("city.open311_client_registered", client, actor=actor, detail={"name": name})
    return client, key


def client_for(api_key: str) -> Open311Client | None:
    """The active client with this key, or None."""
    if not api_key or len(api_key) > 100 or not api_key.startswith(KEY_PREFIX):
        return None
    return Open311Client.objects.filter(key_hash=_hash(api_key), active=True).first()


# --- services -----------------------------------------------------------------------------

def services() -> list[dict[str, Any]]:
    """GET services: every active minor category."""
    rows = CaseCategory.objects.filter(active=True, parent__isnull=False,
                                       parent__active=True).select_related("parent")
    return [{"service_code": c.code, "service_name": _name(c),
             "description": c.filing_condition, "metadata": bool(c.attributes),
             "type": "realtime", "keywords": c.keywords,
             "group": _name(c.parent) if c.parent is not None else ""}
            for c in rows.order_by("sort_order", "code")]


def _service(code: str) -> CaseCategory:
    category = (CaseCategory.objects.filter(code=code, active=True, parent__isnull=False)
                .first())
    if category is None:
        raise Open311Error(404, [(404, _("服务代码 %(code)s 不存在") % {"code": code[:64]})])
    return category


def definition(code: str) -> dict[str, Any]:
    """GET service definition: the category's attributes."""
    category = _service(code)
    attributes = []
    for order, item in enumerate(category.attributes, start=1):
        attributes.append({
            "variable": True, "code": item["code"], "datatype": item["datatype"],
            "required": bool(item.get("required")),
            "datatype_description": item.get("datatype_description", ""),
            "order": order, "description": item["description"],
            "values": [{"key": v["key"], "name": v["name"]} for v in item.get("values", [])],
        })
    return {"service_code": category.code, "attributes": attributes}


# --- requests -----------------------------------------------------------------------------

def _attribute_value(item: Mapping[str, Any], raw: Any) -> Any:
    kind = item["datatype"]
    keys = [str(v["key"]) for v in item.get("values", [])]
    if kind == "number":
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(_("须为数字")) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(_("须为数字"))
        return value
    if kind == "datetime":
        try:
            parsed = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(_("须为 ISO 8601 时间")) from None
        return parsed.isoformat()
    if kind == "singlevaluelist":
        if str(raw) not in keys:
            raise ValueError(_("须为以下之一：%(keys)s") % {"keys": ", ".join(keys)})
        return str(raw)
    if kind == "multivaluelist":
        values = raw if isinstance(raw, list) else [raw]
        if not values or any(str(v) not in keys for v in values):
            raise ValueError(_("须为以下之中的一个或多个：%(keys)s") % {"keys": ", ".join(keys)})
        return [str(v) for v in values]
    text = str(raw)
    if len(text) > (2000 if kind == "text" else 200):
        raise ValueError(_("过长"))
    return text


def check_attributes(category: CaseCategory, given: Mapping[str, Any]) -> dict[str, Any]:
    """The request's attributes checked against the service definition; raises
    :class:`Open311Error` listing every problem (missing, unknown, wrong type)."""
    errors: list[tuple[int, str]] = []
    out: dict[str, Any] = {}
    declared = {item["code"]: item for item in category.attributes}
    for code in given:
        if code not in declared:
            errors.append((400, _("attribute[%(code)s] 不是该服务的信息项") % {"code": code[:32]}))
    for code, item in declared.items():
        raw = given.get(code)
        if raw in (None, "", []):
            if item.get("required"):
                errors.append((400, _("attribute[%(code)s] 为必填项：%(what)s")
                               % {"code": code, "what": item["description"]}))
            continue
        try:
            out[code] = _attribute_value(item, raw)
        except ValueError as exc:
            errors.append((400, f"attribute[{code}] {item['description']}: {exc}"))
    if errors:
        raise Open311Error(400, errors)
    return out


def create_request(client: Open311Client, params: Mapping[str, Any],
                   attributes: Mapping[str, Any], photos: list[str]) -> dict[str, Any]:
    """POST requests: a case from the client's request (``params``: service_code, lat,
    long, description, address_string, first_name, last_name, phone, email)."""
    errors: list[tuple[int, str]] = []
    code = str(params.get("service_code") or "")
    if not code:
        errors.append((400, _("service_code 为必填项")))
    lat, lon = params.get("lat"), params.get("long")
    if lat in (None, "") or lon in (None, ""):
        errors.append((400, _("lat 和 long 为必填项（本市不支持仅凭地址定位）")))
    if errors:
        raise Open311Error(400, errors)
    category = _service(code)
    checked = check_attributes(category, attributes)
    description = str(params.get("description") or "")
    title = (description.strip().splitlines() or [_name(category)])[0][:100]
    name = " ".join(str(params.get(k) or "").strip() for k in ("last_name", "first_name"))
    phone = str(params.get("phone") or "").strip()
    if phone and (len(phone) > 20 or not phone.replace("+", "").replace("-", "").isdigit()):
        raise Open311Error(400, [(400, _("phone 须为电话号码"))])
    try:
        with transaction.atomic():
            reported = cases.report(
                source="open311", category_code=category.code, title=title,
                description=description, lon=lon, lat=lat,
                address=str(params.get("address_string") or "")[:200],
                reporter_name=name.strip()[:64], reporter_phone=phone,
                photos=photos, photo_owner=f"open311:{client.pk}",
                external_ref=f"open311:{client.pk}", actor=None)
            Case.objects.filter(pk=reported.case.pk).update(attributes=checked)
            Open311Client.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    except ValidationError as exc:
        raise Open311Error(400, [(400, message) for message in exc.messages]) from None
    notice = ""
    if reported.duplicate_of is not None:
        notice = _("附近已有相同问题正在处理：%(number)s") % {
            "number": reported.duplicate_of.number}
    return {"service_request_id": reported.case.number, "service_notice": notice,
            "account_id": None}


def _status_notes(case: Case) -> str:
    if case.state == State.DUPLICATE and case.duplicate_of is not None:
        return _("重复上报，见 %(number)s") % {"number": case.duplicate_of.number}
    if case.state in (State.CLOSED, State.NOT_FILED):
        return mask_text(case.outcome)
    return str(case.get_state_display())


def _request(case: Case, departments: dict[str, str]) -> dict[str, Any]:
    return {
        "service_request_id": case.number,
        "status": "open" if case.state in OPEN_STATES else "closed",
        "status_notes": _status_notes(case),
        "service_name": _name(case.category), "service_code": case.category.code,
        "description": mask_text(case.description), "agency_responsible":
            departments.get(case.department_code, ""),
        "service_notice": "", "requested_datetime": case.reported_at,
        "updated_datetime": case.updated_at, "expected_datetime": case.due_at,
        "address": case.address, "address_id": None, "zipcode": None,
        "lat": case.lat, "long": case.lon, "media_url": None,
    }


def _parse_date(raw: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, [(400, _("%(name)s 须为 W3C 时间，如 2026-11-28T08:00:00+08:00")
                                  % {"name": name})]) from None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def requests(params: Mapping[str, str]) -> list[dict[str, Any]]:
    """GET requests: by ``service_request_id`` (comma-separated, overrides the rest), or
    ``service_code``, ``start_date``/``end_date`` (default: the last 90 days) and
    ``status`` (open, closed or both); at most 1,000, newest first."""
    rows = Case.objects.select_related("category", "duplicate_of")
    ids = [i.strip() for i in (params.get("service_request_id") or "").split(",") if i.strip()]
    if ids:
        rows = rows.filter(number__in=ids[:MAX_REQUESTS])
    else:
        end = _parse_date(params["end_date"], "end_date") if params.get("end_date") \
            else timezone.now()
        start = _parse_date(params["start_date"], "start_date") if params.get("start_date") \
            else end - DEFAULT_WINDOW
        rows = rows.filter(reported_at__gte=start, reported_at__lte=end)
        codes = [c for c in (params.get("service_code") or "").split(",") if c]
        if codes:
            rows = rows.filter(category__code__in=codes)
        statuses = {s.strip() for s in (params.get("status") or "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, [(400, _("status 须为 open 或 closed"))])
        if statuses == {"open"}:
            rows = rows.filter(state__in=OPEN_STATES)
        elif statuses == {"closed"}:
            rows = rows.exclude(state__in=OPEN_STATES)
    found = list(rows.order_by("-reported_at", "-id")[:MAX_REQUESTS])
    departments = {d.code: d.name for d in orgs.list_departments()} if found else {}
    return [_request(case, departments) for case in found]


def request(number: str) -> list[dict[str, Any]]:
    """GET one request (as a list of one, per the specification)."""
    found = requests({"service_request_id": number})
    if not found:
        raise Open311Error(404, [(404, _("服务请求 %(id)s 不存在") % {"id": number[:32]})])
    return found
