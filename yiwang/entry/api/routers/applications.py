"""JSON API of the applications area (办件), on /api/v1/applications. Thin: each endpoint
calls ``yiwang.industry.applications.service``.

- ``public_router`` (public listener): the citizen's (or enterprise agent's) whole
  lifecycle — drafts, materials (upload or a wallet licence with consent), submission,
  progress, correction, withdrawal, evaluation. Signed-in session (cookie ``yiwang_public``,
  CSRF header for writes); one sees only one's own applications (an enterprise's
  representative: the enterprise's).
- ``internal_router`` (internal listener, officials at L3): the inbox, an application's
  detail, claim, decide, ask for correction. Writes carry ``expected_version`` (the
  application's ``row_version`` the official saw): a stale one gets 409 with a plain message.

Errors: 400 ``{"code", "detail", "errors": {field: [messages]}}``; 404 for an application
one may not see (whether it exists is not told); 409 when someone else acted first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from yiwang.entry.api.auth import citizen_auth
from yiwang.industry.applications import service as applications

T = TypeVar("T")


public_router = Router(tags=["applications"], auth=citizen_auth)  # bearer or session
internal_router = Router(tags=["applications"])


# --- schemas -----------------------------------------------------------------------------------

class ErrorOut(Schema):
    code: str
    detail: str
    errors: dict[str, list[str]] = Field(default_factory=dict,
                                         description="字段路径 → 可据以改正的说明")


class EventOut(Schema):
    at: datetime
    kind: str
    title: str
    actor: str
    note: str


class MaterialOut(Schema):
    id: int
    key: str
    code: str
    name: str
    source: str
    url: str | None = Field(None, description="上传文件的下载地址(审查、本人查看均留痕)")
    licence_identifier: str
    content_type: str
    size: int
    ocr: dict[str, Any] = Field(description="识别出的字段;mismatches 为与表单不一致之处")


class TaskOut(Schema):
    id: int
    name: str
    department_code: str
    position_code: str
    state: str
    claimed: bool
    due_at: datetime | None


class ApplicationOut(Schema):
    id: int
    number: str | None
    matter_code: str
    matter_name: str
    version: int
    state: str
    state_label: str
    acting_for: str
    department_code: str
    row_version: int
    submitted_at: datetime | None
    due_at: datetime | None
    paused: bool
    decided_at: datetime | None
    fee_fen: int
    licence_identifier: str
    data: dict[str, Any] | None = None
    outcome_reason: str | None = None
    materials: list[MaterialOut] | None = None
    events: list[EventOut] | None = None
    tasks: list[TaskOut] | None = None
    children: list[int] | None = None


class ListOut(Schema):
    items: list[ApplicationOut]
    page: int
    has_next: bool


class DraftIn(Schema):
    matter_code: str
    data: dict[str, Any] = Field(default_factory=dict)
    acting_for: str | None = Field(None, description="代企业办理时企业的统一社会信用代码")


class DataIn(Schema):
    data: dict[str, Any] = Field(default_factory=dict)
    expected_version: int | None = None


class SubmitIn(Schema):
    data: dict[str, Any] | None = Field(None, description="省略时提交已保存的草稿数据")
    expected_version: int | None = None


class BundleIn(Schema):
    bundle_code: str
    data: dict[str, Any] = Field(default_factory=dict)
    acting_for: str | None = None


class LicenceIn(Schema):
    key: str
    licence: str = Field(description="电子证照标识")
    consent: bool = Field(description="持证人同意将该证照用于本次申请")


class WithdrawIn(Schema):
    reason: str = ""
    expected_version: int | None = None


class EvaluationIn(Schema):
    score: int = Field(ge=1, le=5)
    comment: str = ""


class EvaluationOut(Schema):
    score: int
    comment: str


class VersionIn(Schema):
    expected_version: int


class DecideIn(Schema):
    outcome: str = Field(description="approve 或 reject")
    reason: str = ""
    expected_version: int


class CorrectionRequestIn(Schema):
    reason: str
    fields: list[str] = Field(default_factory=list)
    expected_version: int


class InboxQuery(Schema):
    state: str = Field("open", description="open, mine, waiting, done")
    q: str = Field("", description="受理编号或其开头")
    matter: str = ""
    page: int = 1
    per_page: int = Field(20, ge=1, le=100)


class InboxRow(Schema):
    task: int
    application: int
    number: str
    matter_code: str
    matter_name: str
    applicant: str
    step: str
    department_code: str
    state: str
    claimed_by_me: bool
    claimed: bool
    due_at: datetime | None


class InboxOut(Schema):
    items: list[InboxRow]
    page: int
    has_next: bool
    count: int
    count_capped: bool = Field(description="为 true 时实际数量超过 count")


# --- helpers -----------------------------------------------------------------------------------

def _answer(call: Callable[[], T]) -> T | Status:
    try:
        return call()
    except PermissionDenied:
        return Status(404, ErrorOut(code="not_found", detail="找不到该办件。"))
    except ValidationError as exc:
        code = getattr(exc, "code", None) or "invalid"
        if hasattr(exc, "error_dict"):
            errors = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            detail = "；".join(f"{m}" for msgs in errors.values() for m in msgs)
            return Status(400, ErrorOut(code=code, detail=detail, errors=errors))
        status = 409 if code in ("stale", "claimed") else 400
        return Status(status, ErrorOut(code=code, detail=" ".join(exc.messages)))


BASE_PATH = "/api/v1/applications"


def _material(m: Any) -> MaterialOut:
    """A material as the API shows it: a download URL (same path on both listeners),
    never the upload's token. Built with ``model_construct`` from the row's typed values:
    ninja renders an instance of the response schema without validating it again, so the
    values must already have the schema's types."""
    url = (f"{BASE_PATH}/{m.application_id}/materials/{m.pk}"
           if m.source == "upload" and m.upload_token else None)
    return MaterialOut.model_construct(
        id=m.pk, key=m.key, code=m.code, name=m.name, source=m.source, url=url,
        licence_identifier=m.licence_identifier, content_type=m.content_type, size=m.size,
        ocr=m.ocr)


def _without_tokens(data: dict[str, Any], materials: list[Any]) -> dict[str, Any]:
    """The data an official sees: each upload token replaced by the material's download URL
    (the applicant keeps their own tokens, to send the data back)."""
    urls = {m.upload_token: _material(m).url for m in materials if m.upload_token}

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return urls.get(value, value)
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    return {key: swap(value) for key, value in data.items()}


def _file(read: Callable[[], tuple[bytes, str, str]]) -> Any:
    try:
        return applications.file_response(*read())
    except PermissionDenied:
        return Status(404, ErrorOut(code="not_found", detail="找不到该材料。"))


# States without open tasks: a draft has none yet; a decision or a withdrawal cancels them
# in its own transaction (a bundle's parent never has any).
NO_OPEN_TASKS = frozenset({"draft", "approved", "rejected", "withdrawn"})


def _out(app: Any, *, full: bool = False, official: bool = False) -> ApplicationOut:
    """The application as the API answers it, from the instance in hand; with ``full`` its
    materials, timeline, open tasks and a bundle's members — read only where there can be
    any (a new draft: its materials alone). Built with ``model_construct`` (typed values
    from the rows): ninja renders an instance of the response schema without validating
    it again."""
    out = ApplicationOut.model_construct(
        id=app.pk, number=app.number, matter_code=app.matter_code, matter_name=app.matter_name,
        version=app.version_pk, state=app.state, state_label=str(app.get_state_display()),
        acting_for=app.acting_for, department_code=app.department_code,
        row_version=app.row_version, submitted_at=app.submitted_at, due_at=app.due_at,
        paused=app.paused_at is not None, decided_at=app.decided_at, fee_fen=app.fee_fen,
        licence_identifier=app.licence_identifier, data=None, outcome_reason=None,
        materials=None, events=None, tasks=None, children=None)
    if full:
        materials = applications.materials_of(app)
        out.data = _without_tokens(app.data, materials) if official else app.data
        out.outcome_reason = app.outcome_reason
        out.materials = [_material(m) for m in materials]
        out.events = [] if app.state == "draft" else [
            EventOut.model_construct(at=e.at, kind=e.kind, title=e.title,
                                     actor=e.actor_label, note=e.note)
            for e in applications.timeline(app, public_only=not official)]
        out.tasks = [] if app.state in NO_OPEN_TASKS else [
            TaskOut.model_construct(id=t.pk, name=t.name, department_code=t.department_code,
                                    position_code=t.position_code, state=t.state,
                                    claimed=t.claimed_by_id is not None, due_at=t.due_at)
            for t in applications.open_task_rows(app)]
        out.children = (list(app.children.values_list("pk", flat=True))
                        if app.bundle_code and app.parent_id is None else [])
    return out


def _mine(request: HttpRequest, pk: int) -> Any:
    return applications.application_for_applicant(request.auth, pk)  # type: ignore[attr-defined]


# --- citizen (public) --------------------------------------------------------------------------

@public_router.get("/", response=ListOut, summary="My applications, newest first")
def my_applications(request: HttpRequest, page: int = 1, state: str = "",
                    acting_for: str = "") -> ListOut:
    qs = applications.applications_of(request.auth, acting_for=acting_for,  # type: ignore[attr-defined]
                                      state=state)
    page = max(1, page)
    rows = list(qs[(page - 1) * 20:page * 20 + 1])
    return ListOut(items=[_out(a) for a in rows[:20]], page=page, has_next=len(rows) > 20)


@public_router.post("/drafts", response={201: ApplicationOut, 400: ErrorOut},
                    summary="Start a draft (kept on the server, resumable on any device)")
def create_draft(request: HttpRequest, body: DraftIn) -> Any:
    def go() -> Status:
        app = applications.save_draft(request.auth, body.matter_code, body.data,  # type: ignore[attr-defined]
                                      acting_for=body.acting_for or None)
        return Status(201, _out(app, full=True))
    return _answer(go)


@public_router.get("/{int:pk}", response={200: ApplicationOut, 404: ErrorOut},
                   summary="One of my applications: data, materials, progress (timeline)")
def get_application(request: HttpRequest, pk: int) -> Any:
    return _answer(lambda: _out(_mine(request, pk), full=True))


@public_router.put("/{int:pk}/draft", response={200: ApplicationOut, 400: ErrorOut,
                                                404: ErrorOut},
                   summary="Save the draft's data")
def save_draft(request: HttpRequest, pk: int, body: DataIn) -> Any:
    def go() -> ApplicationOut:
        app = _mine(request, pk)
        app = applications.save_draft(request.auth, app.matter_code, body.data,  # type: ignore[attr-defined]
                                      application=app)
        return _out(app, full=True)
    return _answer(go)


@public_router.post("/{int:pk}/materials",
                    response={201: MaterialOut, 400: ErrorOut, 404: ErrorOut},
                    summary="Upload a material for a file field (checked, sanitised, "
                            "encrypted; ID cards and business licences read by OCR)")
def upload_material(request: HttpRequest, pk: int, key: Form[str],
                    file: File[UploadedFile]) -> Any:
    def go() -> Status:
        user = request.auth  # type: ignore[attr-defined]
        app = _mine(request, pk)
        # Checked under the field's own rule (accept, max_bytes), errors under its key.
        material = applications.upload_material(user, app, key, file, file.name or "upload")
        return Status(201, _material(material))
    return _answer(go)


@public_router.get("/{int:pk}/materials/{int:material_pk}",
                   response={200: bytes, 404: ErrorOut},
                   summary="The file of one of my uploaded materials")
def my_material(request: HttpRequest, pk: int, material_pk: int) -> Any:
    return _file(lambda: applications.material_for_applicant(request.auth, pk, material_pk))  # type: ignore[attr-defined]


@public_router.post("/{int:pk}/materials/licence",
                    response={201: MaterialOut, 400: ErrorOut, 404: ErrorOut},
                    summary="Use a licence from my wallet instead of a material (免提交)")
def reuse_licence(request: HttpRequest, pk: int, body: LicenceIn) -> Any:
    def go() -> Status:
        material = applications.reuse_licence(request.auth, _mine(request, pk), body.key,  # type: ignore[attr-defined]
                                              body.licence, consent=body.consent)
        return Status(201, _material(material))
    return _answer(go)


@public_router.post("/{int:pk}/submit",
                    response={200: ApplicationOut, 400: ErrorOut, 404: ErrorOut,
                              409: ErrorOut},
                    summary="Submit: validated again, materials checked, receipt number given")
def submit(request: HttpRequest, pk: int, body: SubmitIn) -> Any:
    def go() -> ApplicationOut:
        app = applications.submit_application(request.auth, _mine(request, pk),  # type: ignore[attr-defined]
                                              data=body.data,
                                              expected_version=body.expected_version)
        return _out(app, full=True)
    return _answer(go)


@public_router.post("/bundles", response={201: ApplicationOut, 400: ErrorOut},
                    summary="Apply for a bundle (一件事) with one form")
def submit_bundle(request: HttpRequest, body: BundleIn) -> Any:
    def go() -> Status:
        app = applications.submit_bundle(request.auth, body.bundle_code, body.data,  # type: ignore[attr-defined]
                                         acting_for=body.acting_for or None)
        return Status(201, _out(app, full=True))
    return _answer(go)


@public_router.post("/{int:pk}/correction",
                    response={200: ApplicationOut, 400: ErrorOut, 404: ErrorOut,
                              409: ErrorOut},
                    summary="Send the corrected application (补正)")
def correct(request: HttpRequest, pk: int, body: DataIn) -> Any:
    def go() -> ApplicationOut:
        app = applications.submit_correction(request.auth, _mine(request, pk),  # type: ignore[attr-defined]
                                             data=body.data,
                                             expected_version=body.expected_version)
        return _out(app, full=True)
    return _answer(go)


@public_router.post("/{int:pk}/withdraw",
                    response={200: ApplicationOut, 400: ErrorOut, 404: ErrorOut,
                              409: ErrorOut},
                    summary="Withdraw an application not yet decided")
def withdraw(request: HttpRequest, pk: int, body: WithdrawIn) -> Any:
    def go() -> ApplicationOut:
        app = applications.withdraw_application(request.auth, _mine(request, pk),  # type: ignore[attr-defined]
                                                reason=body.reason,
                                                expected_version=body.expected_version)
        return _out(app)
    return _answer(go)


@public_router.post("/{int:pk}/evaluation",
                    response={201: EvaluationOut, 400: ErrorOut, 404: ErrorOut},
                    summary="Evaluate the service (好差评), once, after the decision")
def evaluate(request: HttpRequest, pk: int, body: EvaluationIn) -> Any:
    def go() -> Status:
        e = applications.evaluate_application(request.auth, _mine(request, pk),  # type: ignore[attr-defined]
                                              score=body.score, comment=body.comment)
        return Status(201, EvaluationOut(score=e.score, comment=e.comment))
    return _answer(go)


# --- officials (internal) ----------------------------------------------------------------------

@internal_router.get("/inbox", response=InboxOut,
                     summary="My inbox: my departments' tasks for my positions, soonest due")
def inbox(request: HttpRequest, query: Query[InboxQuery]) -> InboxOut:
    user = request.auth  # type: ignore[attr-defined]
    page = applications.inbox(user, state=query.state, q=query.q, matter=query.matter,
                              page=query.page, per_page=query.per_page)
    # Built with model_construct from the rows' typed values: nothing to validate, and
    # ninja renders an instance of the response schema without validating it again.
    row = InboxRow.model_construct
    return InboxOut.model_construct(items=[row(
        task=r["pk"], application=r["application_id"], number=r["number"],
        matter_code=r["matter_code"], matter_name=r["matter_name"],
        applicant=r["applicant_masked"], step=r["name"], department_code=r["department_code"],
        state=r["state"], claimed_by_me=r["claimed_by_id"] == user.pk,
        claimed=r["claimed_by_id"] is not None, due_at=r["due_at"]) for r in page.rows],
        page=page.page, has_next=page.has_next, count=page.count, count_capped=page.capped)


@internal_router.get("/{int:pk}", response={200: ApplicationOut, 404: ErrorOut},
                     summary="An application of my departments, with its full timeline")
def official_detail(request: HttpRequest, pk: int) -> Any:
    return _answer(lambda: _out(applications.application_for_official(request.auth, pk),  # type: ignore[attr-defined]
                                full=True, official=True))


@internal_router.get("/{int:pk}/materials/{int:material_pk}",
                     response={200: bytes, 404: ErrorOut},
                     summary="The file of an uploaded material, to review it (audited)")
def official_material(request: HttpRequest, pk: int, material_pk: int) -> Any:
    return _file(lambda: applications.material_for_official(request.auth, pk, material_pk))  # type: ignore[attr-defined]


@internal_router.post("/tasks/{int:pk}/claim",
                      response={200: TaskOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
                      summary="Claim a task (签收)")
def claim(request: HttpRequest, pk: int, body: VersionIn) -> Any:
    def go() -> TaskOut:
        t = applications.claim_task(request.auth, pk, body.expected_version)  # type: ignore[attr-defined]
        return TaskOut.model_construct(id=t.pk, name=t.name, department_code=t.department_code,
                                       position_code=t.position_code, state=t.state,
                                       claimed=True, due_at=t.due_at)
    return _answer(go)


@internal_router.post("/tasks/{int:pk}/decide",
                      response={200: ApplicationOut, 400: ErrorOut, 404: ErrorOut,
                                409: ErrorOut},
                      summary="Approve or reject a task (a reason is required to reject)")
def decide(request: HttpRequest, pk: int, body: DecideIn) -> Any:
    return _answer(lambda: _out(applications.decide_task(
        request.auth, pk, body.outcome, body.reason, body.expected_version),  # type: ignore[attr-defined]
        full=True, official=True))


@internal_router.post("/tasks/{int:pk}/correction",
                      response={200: ApplicationOut, 400: ErrorOut, 404: ErrorOut,
                                409: ErrorOut},
                      summary="Ask the applicant for a correction (补正; pauses the clock)")
def request_correction(request: HttpRequest, pk: int, body: CorrectionRequestIn) -> Any:
    return _answer(lambda: _out(applications.request_correction(
        request.auth, pk, body.reason, body.expected_version, fields=body.fields)))  # type: ignore[attr-defined]
