"""JSON API of the services area (政务服务事项), on /api/v1/services.

Public (no sign-in): the catalogue (search and filters, 20 a page, the total in
``X-Total-Count``), a matter's guide (办事指南), the JSON Schema of the published form of a
matter (for API clients that submit applications), life events and bundles. Internal (an
official's session): versions of the matters of the official's departments — list, read,
new draft, save, publish, withdraw — and service packs (export/import). Thin: each endpoint
calls ``yiwang.industry.services.service``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import Body, Field, Query, Router, Schema, Status

from yiwang.enablement.forms import service as forms
from yiwang.industry.services import service

public_router = Router(tags=["services"])
internal_router = Router(tags=["services"])


class Message(Schema):
    detail: str = Field(description="错误说明")


class Problems(Schema):
    detail: str = Field(description="错误说明")
    errors: dict[str, list[str]] = Field(description="按部分列出的问题:form, flow, fee_table, "
                                                     "licence")


class MatterOut(Schema):
    code: str = Field(description="事项编码")
    name: str
    name_en: str
    kind: str = Field(description="事项类型")
    department: str = Field(description="实施部门代码")
    audience: str = Field(description="person 个人 / legal 法人")
    online_level: int = Field(description="网上办理深度 0–4 (4 = 全程网办)")
    summary: str
    online: bool = Field(description="有在用的服务版本,可以在线申请")


class GuideOut(MatterOut):
    summary_en: str
    keywords: str
    life_events: list[str]
    legal_basis: list[dict[str, Any]]
    conditions: str
    materials: list[dict[str, Any]]
    process: list[dict[str, Any]]
    fee_description: str
    statutory_days: int | None = Field(description="法定办结时限(工作日)")
    promised_days: int | None = Field(description="承诺办结时限(工作日)")
    visits: int
    channels: list[dict[str, Any]]
    consult_phone: str
    complaint_phone: str
    faq: list[dict[str, Any]]
    version: int | None = Field(description="在用服务版本号")


class LifeEventOut(Schema):
    code: str
    name: str
    name_en: str
    audience: str


class BundleOut(Schema):
    code: str
    name: str
    name_en: str
    department: str
    life_event: str | None
    summary: str
    members: list[str] = Field(description="成员事项编码")
    online: bool


class SchemaOut(Schema):
    matter: str
    version: int
    # named data_schema in Python (pydantic's models own .json_schema); json_schema on the wire
    data_schema: dict[str, Any] = Field(alias="json_schema",
                                        description="表单数据的 JSON Schema 2020-12")


class VersionOut(Schema):
    id: int
    matter: str
    number: int
    state: str = Field(description="draft 草稿 / published 已发布 / retired 已停用")
    note: str
    created_at: datetime
    published_at: datetime | None
    retired_at: datetime | None


class VersionDetailOut(VersionOut):
    form: dict[str, Any]
    flow_spec: dict[str, Any]
    bpmn: str
    fee_table: dict[str, Any]
    licence: dict[str, Any]


class DraftIn(Schema):
    form: dict[str, Any] | None = None
    flow_spec: dict[str, Any] | None = None
    bpmn: str | None = None
    fee_table: dict[str, Any] | None = None
    licence: dict[str, Any] | None = None
    note: str | None = None


def _matter_out(matter: service.Matter, online: bool) -> dict[str, Any]:
    return {"code": matter.code, "name": matter.name, "name_en": matter.name_en,
            "kind": matter.kind, "department": matter.department_code,
            "audience": matter.audience, "online_level": matter.online_level,
            "summary": matter.summary, "online": online}


def _not_found() -> Any:
    return Status(404, {"detail": gettext("事项不存在或未公开。")})


# --- public ------------------------------------------------------------------------------

@public_router.get("/matters", summary="The catalogue: search and filter published matters",
                   response={200: list[MatterOut]}, auth=None)
def matter_list(request: HttpRequest, response: HttpResponse,
                q: str = Query("", max_length=50, description="名称、关键词、简介或编码"),
                event: str = Query("", max_length=40, description="主题代码"),
                department: str = Query("", max_length=40, description="部门代码"),
                audience: str = Query("", max_length=8, description="person / legal"),
                page: int = Query(1, ge=1, description="页码(每页 20 条)")) -> Any:
    found = service.list_matters(q=q, life_event=event, department=department,
                                 audience=audience, page=page)
    response["X-Total-Count"] = str(found.paginator.count)
    if page > found.paginator.num_pages:
        return []
    live = set(service.ServiceVersion.objects.filter(
        matter__in=found.object_list, state=service.VersionState.PUBLISHED)
        .values_list("matter_id", flat=True))
    return [_matter_out(m, m.pk in live) for m in found.object_list]


@public_router.get("/matters/{code}", summary="A matter's guide (办事指南)",
                   response={200: GuideOut, 404: Message}, auth=None)
def matter_guide(request: HttpRequest, code: str) -> Any:
    matter = service.get_matter(code)
    if matter is None or not matter.published:
        return _not_found()
    version = service.published_version(code)
    return {**_matter_out(matter, version is not None),
            **{f: getattr(matter, f) for f in (
                "summary_en", "keywords", "legal_basis", "conditions", "materials", "process",
                "fee_description", "statutory_days", "promised_days", "visits", "channels",
                "consult_phone", "complaint_phone", "faq")},
            "life_events": [e.code for e in matter.life_events.all()],
            "version": version.number if version else None}


@public_router.get("/matters/{code}/schema",
                   summary="JSON Schema of the published application form of a matter",
                   response={200: SchemaOut, 404: Message}, auth=None, by_alias=True)
def matter_schema(request: HttpRequest, code: str) -> Any:
    version = service.published_version(code)
    if version is None:
        return Status(404, {"detail": gettext("该事项没有可在线申请的版本。")})
    return {"matter": code, "version": version.number,
            "json_schema": forms.to_json_schema(version.form)}


@public_router.get("/life-events", summary="Life events (主题) to browse by",
                   response={200: list[LifeEventOut]}, auth=None)
def life_event_list(request: HttpRequest,
                    audience: str = Query("", max_length=8, description="person / legal")) -> Any:
    return [{"code": e.code, "name": e.name, "name_en": e.name_en, "audience": e.audience}
            for e in service.life_events(audience or None)]


@public_router.get("/bundles", summary="Published bundles (一件事一次办)",
                   response={200: list[BundleOut]}, auth=None)
def bundle_list(request: HttpRequest) -> Any:
    return [_bundle_out(b) for b in service.list_bundles()]


@public_router.get("/bundles/{code}", summary="A published bundle",
                   response={200: BundleOut, 404: Message}, auth=None)
def bundle_detail(request: HttpRequest, code: str) -> Any:
    bundle = service.get_bundle(code)
    if bundle is None or not bundle.published:
        return Status(404, {"detail": gettext("一件事不存在或未公开。")})
    return _bundle_out(bundle)


def _bundle_out(bundle: service.Bundle) -> dict[str, Any]:
    return {"code": bundle.code, "name": bundle.name, "name_en": bundle.name_en,
            "department": bundle.department_code,
            "life_event": bundle.life_event.code if bundle.life_event else None,
            "summary": bundle.summary,
            "members": [m["matter"] for m in (bundle.snapshot or {}).get("members", [])],
            "online": service.published_bundle(bundle.code) is not None}


# --- internal ---------------------------------------------------------------------------

def _editable(request: HttpRequest, code: str) -> service.Matter | Any:
    matter = service.get_matter(code)
    if matter is None:
        return Status(404, {"detail": gettext("事项不存在。")})
    if not service.may_edit(request.auth, matter):
        return Status(403, {"detail": gettext("您无权管理本部门以外的事项。")})
    return matter


def _version_out(version: service.ServiceVersion, *, full: bool = False) -> dict[str, Any]:
    out = {"id": version.pk, "matter": version.matter.code, "number": version.number,
           "state": version.state, "note": version.note, "created_at": version.created_at,
           "published_at": version.published_at, "retired_at": version.retired_at}
    if full:
        out.update(form=version.form, flow_spec=version.flow_spec, bpmn=version.bpmn,
                   fee_table=version.fee_table, licence=version.licence)
    return out


def _problems(exc: ValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        errors = {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
    else:
        errors = {"__all__": [str(m) for m in exc.messages]}
    return Status(400, {"detail": gettext("请修改以下问题。"), "errors": errors})


@internal_router.get("/matters/{code}/versions", summary="Versions of a matter, newest first",
                     response={200: list[VersionOut], 403: Message, 404: Message})
def version_list(request: HttpRequest, code: str) -> Any:
    matter = _editable(request, code)
    if not isinstance(matter, service.Matter):
        return matter
    return [_version_out(v) for v in service.versions_of(matter)]


@internal_router.post("/matters/{code}/drafts",
                      summary="New draft (a copy of the latest version; the draft if one exists)",
                      response={201: VersionDetailOut, 403: Message, 404: Message})
def draft_create(request: HttpRequest, code: str) -> Any:
    matter = _editable(request, code)
    if not isinstance(matter, service.Matter):
        return matter
    return Status(201, _version_out(service.create_draft(matter, request.auth), full=True))


def _own_version(request: HttpRequest, pk: int) -> service.ServiceVersion | Any:
    version = service.get_version(pk)
    if version is None:
        return Status(404, {"detail": gettext("版本不存在。")})
    if not service.may_edit(request.auth, version.matter):
        return Status(403, {"detail": gettext("您无权管理本部门以外的事项。")})
    return version


@internal_router.get("/versions/{pk}", summary="A version with its content",
                     response={200: VersionDetailOut, 403: Message, 404: Message})
def version_detail(request: HttpRequest, pk: int) -> Any:
    version = _own_version(request, pk)
    if not isinstance(version, service.ServiceVersion):
        return version
    return _version_out(version, full=True)


@internal_router.put("/versions/{pk}",
                     summary="Save a draft (the parts given; each checked by its owner)",
                     response={200: VersionDetailOut, 400: Problems, 403: Message, 404: Message})
def version_save(request: HttpRequest, pk: int, payload: DraftIn) -> Any:
    version = _own_version(request, pk)
    if not isinstance(version, service.ServiceVersion):
        return version
    parts = payload.model_dump(exclude_none=True)
    try:
        version = service.save_draft(version, actor=request.auth, **parts)
    except ValidationError as exc:
        return _problems(exc)
    return _version_out(version, full=True)


@internal_router.post("/versions/{pk}/publish",
                      summary="Publish a draft: live at once, the previous version retired",
                      response={200: VersionOut, 400: Problems, 403: Message, 404: Message})
def version_publish(request: HttpRequest, pk: int) -> Any:
    version = _own_version(request, pk)
    if not isinstance(version, service.ServiceVersion):
        return version
    if not service.may_publish(request.auth, version.matter):
        return Status(403, {"detail": gettext("您无权发布本部门以外的事项。")})
    try:
        version = service.publish_version(version, request.auth)
    except ValidationError as exc:
        return _problems(exc)
    return _version_out(version)


@internal_router.post("/matters/{code}/unpublish",
                      summary="Withdraw a matter (no new applications; running ones continue)",
                      response={200: MatterOut, 403: Message, 404: Message})
def matter_unpublish(request: HttpRequest, code: str) -> Any:
    matter = _editable(request, code)
    if not isinstance(matter, service.Matter):
        return matter
    if not service.may_publish(request.auth, matter):
        return Status(403, {"detail": gettext("您无权发布本部门以外的事项。")})
    return _matter_out(service.unpublish_matter(matter, request.auth), False)


@internal_router.get("/matters/{code}/pack", summary="The matter's service pack (服务包)",
                     response={200: dict[str, Any], 403: Message, 404: Message})
def matter_export(request: HttpRequest, code: str) -> Any:
    matter = _editable(request, code)
    if not isinstance(matter, service.Matter):
        return matter
    return service.export_definition(matter)


@internal_router.post("/packs", summary="Import a service pack (a matter or bundle)",
                      response={200: dict[str, str], 400: Problems})
def pack_import(request: HttpRequest, pack: Body[dict[str, Any]]) -> Any:
    try:
        item = service.import_definition(pack, request.auth)
    except ValidationError as exc:
        return _problems(exc)
    kind = "bundle" if isinstance(item, service.Bundle) else "matter"
    return {"kind": kind, "code": item.code}


__all__ = ["internal_router", "public_router"]
