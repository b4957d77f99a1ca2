"""Public API of credit publicity (信用公示): /api/v1/credit on the public listener.

- ``GET /records``: administrative licences and penalties on publicity (双公示), searched by
  name or credit code, 20 a page (the total in ``X-Total-Count``), natural persons masked;
- ``GET /records/{id}``: one record's fields (the data standard's names);
- ``GET /lists``: red and black list entries in force;
- ``GET /enterprises/{credit_code}``: an enterprise's records and entries in force.

Only what is on publicity today is answered. No sign-in; rate-limited per address.
Thin: each endpoint calls ``yiwang.support.credit.service``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status

from yiwang.core import ratelimit
from yiwang.support.credit import service as credit

public_router = Router(tags=["credit"])
PER_PAGE = 20
LOOKUPS_PER_MINUTE = 60


class Message(Schema):
    detail: str = Field(description="错误说明")


class RecordOut(Schema):
    id: int
    kind: str = Field(description="licensing 行政许可 / penalty 行政处罚")
    name: str = Field(description="行政相对人名称（自然人脱敏）")
    code: str = Field(description="统一社会信用代码，或脱敏的证件号码")
    subject_kind: str = Field(description="legal / business / person")
    doc_name: str = Field(description="决定文书名称")
    doc_no: str = Field(description="决定文书号")
    category: str = Field(description="许可类别或处罚类别（多个以分号分隔）")
    content: str = Field(description="许可内容或处罚内容")
    legal_basis: str = Field(description="依据")
    licence_name: str = Field(description="许可证书名称")
    licence_no: str = Field(description="许可编号")
    violation_type: str = Field(description="违法行为类型")
    facts: str = Field(description="违法事实")
    fine_wan: str | None = Field(description="罚款金额（万元）")
    confiscated_wan: str | None = Field(description="没收违法所得、没收非法财物的金额（万元）")
    revoked_licence: str = Field(description="暂扣或吊销证照名称及编号")
    decided_on: date = Field(description="决定日期")
    valid_from: date | None = Field(description="有效期自")
    valid_until: date | None = Field(description="有效期至")
    publish_until: date | None = Field(description="公示截止期")
    authority: str = Field(description="决定机关")
    authority_credit_code: str = Field(description="决定机关统一社会信用代码")
    source: str = Field(description="数据来源单位")


class EntryOut(Schema):
    id: int
    list_type: str = Field(description="red 红名单 / black 黑名单")
    list_name: str = Field(description="名单名称")
    name: str = Field(description="主体名称（自然人脱敏）")
    code: str = Field(description="统一社会信用代码，或脱敏的证件号码")
    reason: str = Field(description="列入事由")
    legal_basis: str = Field(description="认定依据")
    decision_no: str = Field(description="认定文书号")
    authority: str = Field(description="认定部门")
    measures: str = Field(description="奖惩措施")
    publish_from: date = Field(description="列入日期")
    expires_on: date = Field(description="移出日期（当日起不再公示）")


class EnterpriseOut(Schema):
    name: str
    credit_code: str
    kind: str
    records: list[RecordOut]
    entries: list[EntryOut]


def _record(found: Any) -> dict[str, Any]:
    return {"id": found.pk, **credit.public_fields(found)}


def _entry(found: Any) -> dict[str, Any]:
    return {"id": found.pk, "list_type": found.list_type, "list_name": found.list_name,
            "name": found.subject.name_masked, "code": found.subject.public_code,
            "reason": found.reason, "legal_basis": found.legal_basis,
            "decision_no": found.decision_no, "authority": found.authority_name,
            "measures": found.measures, "publish_from": found.publish_from,
            "expires_on": found.expires_on}


def _limited(request: HttpRequest) -> bool:
    return ratelimit.exceeded("credit.api", request, per_minute=LOOKUPS_PER_MINUTE)


def _page(response: HttpResponse, rows: Any, page: int, out: Any) -> list[dict[str, Any]]:
    """One page of ``rows`` as ``out`` makes them, the total in ``X-Total-Count``."""
    found = Paginator(rows, PER_PAGE)
    response["X-Total-Count"] = str(found.count)
    if page > found.num_pages:
        return []
    return [out(row) for row in found.page(page).object_list]


def _too_many() -> Any:
    return Status(429, {"detail": gettext("查询过于频繁，请一分钟后再试")})


@public_router.get("/records", auth=None, response={200: list[RecordOut], 429: Message},
                   summary="Administrative licences and penalties on publicity (双公示)")
def records(request: HttpRequest, response: HttpResponse,
            kind: str = Query("", max_length=16, description="licensing / penalty"),
            q: str = Query("", max_length=64, description="主体名称或统一社会信用代码"),
            page: int = Query(1, ge=1, le=10000, description="页码（每页 20 条）")) -> Any:
    if _limited(request):
        return _too_many()
    rows = credit.public_records().filter(credit.search_public(q))
    if kind in credit.RecordKind.values:
        rows = rows.filter(kind=kind)
    return _page(response, rows.order_by("-decided_on", "-id"), page, _record)


@public_router.get("/records/{record_id}", auth=None,
                   response={200: RecordOut, 404: Message, 429: Message},
                   summary="One record on publicity")
def record(request: HttpRequest, record_id: int) -> Any:
    if _limited(request):
        return _too_many()
    found = credit.public_records().filter(pk=record_id).first()
    if found is None:
        return Status(404, {"detail": gettext("没有这条公示信息，或已不在公示期内")})
    return _record(found)


@public_router.get("/lists", auth=None, response={200: list[EntryOut], 429: Message},
                   summary="Red and black list entries in force")
def lists(request: HttpRequest, response: HttpResponse,
          type: str = Query("", max_length=8, description="red / black"),
          q: str = Query("", max_length=64, description="主体名称或统一社会信用代码"),
          page: int = Query(1, ge=1, le=10000, description="页码（每页 20 条）")) -> Any:
    if _limited(request):
        return _too_many()
    rows = credit.public_entries().filter(credit.search_public(q))
    if type in credit.ListType.values:
        rows = rows.filter(list_type=type)
    return _page(response, rows.order_by("-publish_from", "-id"), page, _entry)


@public_router.get("/enterprises/{credit_code}", auth=None,
                   response={200: EnterpriseOut, 404: Message, 429: Message},
                   summary="An enterprise's records and list entries in force")
def enterprise(request: HttpRequest, credit_code: str) -> Any:
    if _limited(request):
        return _too_many()
    subject = credit.find_subject(credit_code[:32])
    if subject is None or subject.kind == credit.SubjectKind.PERSON:
        return Status(404, {"detail": gettext("没有该统一社会信用代码的公示信息")})
    return {"name": subject.name_masked, "credit_code": subject.credit_code,
            "kind": subject.kind,
            "records": [_record(r) for r in credit.public_records().filter(
                subject=subject).order_by("-decided_on")[:100]],
            "entries": [_entry(e) for e in credit.public_entries().filter(subject=subject)]}
