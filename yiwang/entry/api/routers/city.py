"""Internal API of city management (一网统管): /api/v1/city on the internal listener, for
officials' tools (a grid inspector's app, a department's own system).

The signed-in official (the internal session, CSRF-checked) reads the cases they may see —
the same rule as the workbench (``yiwang.industry.city.access``) — and acts on them with the
same verbs: every action carries the ``expected_version`` the caller last saw, and answers 409
when someone else acted first. A case the caller may not see answers 404, as one that does not
exist. Photos are uploaded first (``POST /photos``: checked, re-encoded) and referred to by
their token in an action or a report.

Thin: each endpoint calls ``yiwang.industry.city.service``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from yiwang.core.uploads import service as uploads
from yiwang.industry.city import service as city

internal_router = Router(tags=["city"])
T = TypeVar("T")
PHOTO_BYTES = 8 * 1024 * 1024
VIEWS = ("open", "mine", "overdue", "closed", "all")


class ErrorOut(Schema):
    code: str = Field(description="错误代码")
    detail: str = Field(description="可操作的错误说明")
    errors: dict[str, list[str]] | None = Field(None, description="逐字段的错误")


class CaseRow(Schema):
    number: str = Field(description="案卷编号")
    title: str
    category: str = Field(description="类别编码")
    category_name: str
    source: str = Field(description="来源：citizen, open311, inspector, iot, ai, hotline")
    state: str = Field(description="状态")
    state_label: str
    grid_code: str
    department_code: str = Field(description="责任单位（未派遣时为空）")
    due_at: datetime | None = Field(description="处置期限")
    overdue: bool
    reported_at: datetime


class CasesOut(Schema):
    count: int
    page: int
    per_page: int
    items: list[CaseRow]


class EventOut(Schema):
    action: str
    label: str
    at: datetime
    actor: str = Field(description="办理人（姓名）；系统自动为空")
    note: str
    photos: list[str] = Field(description="照片地址（工作台，需登录）")


class CaseOut(CaseRow):
    description: str
    address: str
    lon: float
    lat: float
    assignee: str = Field(description="处置人（姓名）")
    row_version: int = Field(description="版本：操作时作为 expected_version 回传")
    outcome: str = Field(description="处置结果")
    reply: str = Field(description="答复来电人的内容（12345）")
    satisfaction: int | None
    closed_at: datetime | None
    actions: list[str] = Field(description="当前用户此刻可执行的操作")
    events: list[EventOut]


class CasesQuery(Schema):
    view: str = Field("open", pattern="^(open|mine|overdue|closed|all)$",
                      description="open 办理中, mine 我的待办, overdue 已超期, closed 已结案, all")
    category: str = Field("", max_length=64, description="类别编码（大类含其小类）")
    q: str = Field("", max_length=40, description="编号、标题或地址")
    page: int = Field(1, ge=1)
    per_page: int = Field(20, ge=1, le=100)


class ActionIn(Schema):
    expected_version: int = Field(description="读到的 row_version；他人已先操作时回 409")
    note: str = Field("", max_length=500,
                      description="说明；不予立案、退回、核查不通过、答复时必填")
    photos: list[str] = Field([], max_length=6, description="POST /photos 得到的照片令牌")
    lon: float | None = Field(None, description="核查时的现场经度")
    lat: float | None = Field(None, description="核查时的现场纬度")
    department_code: str | None = Field(None, max_length=64, description="派遣到的部门")
    extra: int | None = Field(None, description="延期时长（类别时限的单位）")
    satisfaction: int | None = Field(None, description="满意度 1–5（评价）")


class ReportIn(Schema):
    category_code: str = Field(max_length=64)
    title: str = Field(max_length=100)
    description: str = Field("", max_length=1000)
    address: str = Field("", max_length=200)
    lon: float
    lat: float
    photos: list[str] = Field([], max_length=6)
    caller_name: str = Field("", max_length=32, description="来电人姓名（12345，加密保存）")
    caller_phone: str = Field("", max_length=20, description="来电号码（12345，加密保存）")


class ReportOut(Schema):
    number: str
    duplicate_of: str | None = Field(description="附近同类在办案卷（已合并时）")
    state: str


class PhotoOut(Schema):
    token: str = Field(description="照片令牌：在操作或上报的 photos 中引用")


def _answer(call: Callable[[], T]) -> T | Status:
    try:
        return call()
    except city.Case.DoesNotExist:
        return Status(404, ErrorOut(code="not_found", detail=gettext("找不到该案卷。")))
    except city.Conflict as exc:
        return Status(409, ErrorOut(code="conflict", detail=str(exc)))
    except PermissionDenied:
        return Status(403, ErrorOut(code="forbidden",
                                    detail=gettext("您无权对该案卷执行此操作。")))
    except ValidationError as exc:
        code = getattr(exc, "code", None) or "invalid"
        if hasattr(exc, "error_dict"):
            errors = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            code = exc.error_dict[next(iter(exc.error_dict))][0].code or code
            return Status(400, ErrorOut(code=code, detail="；".join(
                m for msgs in errors.values() for m in msgs), errors=errors))
        return Status(400, ErrorOut(code=code, detail=" ".join(exc.messages)))


def _name(user: Any) -> str:
    return (getattr(user, "display_name", "") or user.get_username()) if user else ""


def _row(case: Any) -> dict[str, Any]:
    return {"number": case.number, "title": case.title, "category": case.category.code,
            "category_name": case.category.name, "source": case.source, "state": case.state,
            "state_label": case.get_state_display(), "grid_code": case.grid_code,
            "department_code": case.department_code, "due_at": case.due_at,
            "overdue": bool(case.overdue_at and case.is_open), "reported_at": case.reported_at}


def _detail(case: Any, user: Any) -> CaseOut:
    events = [EventOut(action=e.action, label=str(city.ACTION_LABELS.get(e.action, e.action)),
                       at=e.at, actor=_name(e.actor), note=e.note or "",
                       photos=[f"/city/cases/{case.number}/photos/{t}" for t in e.photos or []])
              for e in city.timeline(case)]
    return CaseOut(**_row(case), description=case.description, address=case.address,
                   lon=case.lon, lat=case.lat, assignee=_name(case.assignee),
                   row_version=case.row_version, outcome=case.outcome, reply=case.reply,
                   satisfaction=case.satisfaction, closed_at=case.closed_at,
                   actions=city.allowed_actions(case, user), events=events)


@internal_router.get("/cases", response=CasesOut, summary="The cases I may see, filtered")
def cases(request: HttpRequest, query: Query[CasesQuery]) -> CasesOut:
    rows = city.list_cases(
        request.auth, state={"open": "open", "closed": "closed"}.get(query.view, ""),  # type: ignore[attr-defined]
        category_code=query.category, q=query.q,
        overdue=True if query.view == "overdue" else None, mine=query.view == "mine")
    page = Paginator(rows, query.per_page).get_page(query.page)
    return CasesOut(count=page.paginator.count, page=page.number, per_page=query.per_page,
                    items=[CaseRow(**_row(c)) for c in page.object_list])


@internal_router.get("/cases/{number}", response={200: CaseOut, 404: ErrorOut},
                     summary="A case with its timeline and the actions I may take")
def case(request: HttpRequest, number: str) -> Any:
    return _answer(lambda: _detail(city.get_case(number, request.auth), request.auth))  # type: ignore[attr-defined]


@internal_router.post("/cases/{number}/actions/{action}",
                      response={200: CaseOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                409: ErrorOut},
                      summary="Act on a case: file, not_file, dispatch, accept, update, "
                              "return, extend, handle, verify_pass, verify_fail, reply, "
                              "evaluate")
def act(request: HttpRequest, number: str, action: str, body: ActionIn) -> Any:
    user = request.auth  # type: ignore[attr-defined]

    def go() -> CaseOut:
        found = city.get_case(number, user)
        if action not in city.TRANSITIONS:
            raise ValidationError(gettext("未知的操作：%(action)s") % {"action": action[:32]},
                                  code="bad_action")
        changed = city.transition(found, action, actor=user,
                                  expected_version=body.expected_version, note=body.note,
                                  photos=body.photos, lon=body.lon, lat=body.lat,
                                  department_code=body.department_code, extra=body.extra,
                                  satisfaction=body.satisfaction)
        return _detail(changed, user)
    return _answer(go)


@internal_router.post("/photos", response={201: PhotoOut, 400: ErrorOut},
                      summary="Upload a photo (JPEG or PNG, at most 8 MB; re-encoded) to use "
                              "in an action or a report")
def photo(request: HttpRequest, file: File[UploadedFile]) -> Any:
    def go() -> Status:
        user = request.auth  # type: ignore[attr-defined]
        stored = uploads.accept_upload(file, filename=file.name or "photo.jpg",
                                       owner_key=f"user:{user.pk}", purpose="city.photo",
                                       accept=("image/jpeg", "image/png"),
                                       max_bytes=PHOTO_BYTES, personal=False, actor=user)
        return Status(201, PhotoOut(token=stored.token))
    return _answer(go)


@internal_router.post("/cases", response={201: ReportOut, 400: ErrorOut, 403: ErrorOut},
                      summary="Report what a grid inspector found (filed and dispatched at "
                              "once), or enter a 12345 call (to the command centre)")
def report(request: HttpRequest, body: ReportIn) -> Any:
    user = request.auth  # type: ignore[attr-defined]

    def go() -> Status:
        source = city.report_source(user)
        if source is None:
            return Status(403, ErrorOut(code="forbidden", detail=gettext(
                "只有网格监督员和 12345 话务员在此上报；市民请用门户或 Open311 接口。")))
        reported = city.report(
            source=source, category_code=body.category_code, title=body.title,
            description=body.description, address=body.address, lon=body.lon, lat=body.lat,
            actor=user, photos=body.photos,
            reporter_name=body.caller_name if source == "hotline" else "",
            reporter_phone=body.caller_phone if source == "hotline" else "")
        duplicate = reported.duplicate_of
        return Status(201, ReportOut(number=reported.case.number,
                                     duplicate_of=duplicate.number if duplicate else None,
                                     state=reported.case.state))
    return _answer(go)
