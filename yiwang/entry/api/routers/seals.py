"""JSON API of the seals area: public_router (public listener) and internal_router
(internal listener), both on /api/v1/seals. Thin: each endpoint calls the app's service.py.

Both listeners: ``POST /validate`` (验章) — the body is the PDF itself (``application/pdf``),
the answer names every check of every signature. Anyone may validate: a sealed document is
meant to be checked by whoever receives it. The internal API adds, for officials, the seals
of their departments and a seal's use log (``seals.view_seal_uses`` or its custodians),
100 a page (``?page=``, the total in ``X-Total-Count``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status

from yiwang.core import ratelimit
from yiwang.platform.orgs import service as orgs
from yiwang.support.seals import service as seals

public_router = Router(tags=["seals"])
internal_router = Router(tags=["seals"])


class Message(Schema):
    detail: str = Field(description="错误说明")


class CheckOut(Schema):
    name: str = Field(description="检查项：integrity, coverage, trust, validity, revocation, "
                                  "timestamp, malformed")
    ok: bool = Field(description="是否通过")
    message: str = Field(description="说明")


class SealRef(Schema):
    code: str = Field(description="印章编码")
    name: str = Field(description="印章名称")


class SignatureOut(Schema):
    field: str = Field(description="签名域名称")
    valid: bool = Field(description="该签章的全部检查是否通过")
    signer: str = Field(description="签章证书主体名称")
    organisation: str = Field(description="签章单位")
    issuer: str = Field(description="证书签发者")
    certificate_serial: str = Field(description="签章证书序列号（十六进制）")
    seal: SealRef | None = Field(description="本系统登记的印章（证书属于本地区的印章时）")
    signing_time: str | None = Field(description="签章人自报的时间")
    timestamp: str | None = Field(description="可信时间戳的时间")
    level: str = Field(description="PAdES 级别：B-B, B-T, B-LT")
    coverage: str = Field(description="覆盖范围：whole, revision, partial, unclear")
    checks: list[CheckOut]


class ValidationOut(Schema):
    valid: bool = Field(description="文件中至少有一个签章，且全部签章的全部检查通过")
    document_sha256: str = Field(description="文件的 SHA-256")
    errors: list[str] = Field(description="文件层面的问题（如没有签章）")
    signatures: list[SignatureOut]


class SealOut(Schema):
    code: str
    name: str
    department: str = Field(description="部门代码")
    kind: str
    status: str = Field(description="active 在用, suspended 暂停使用, revoked 已注销")
    valid_until: datetime
    certificate_serial: str
    certificate_sha256: str


class UseOut(Schema):
    seal: str = Field(description="印章编码")
    created_at: datetime
    level: str
    document_sha256: str
    sealed_sha256: str
    authorisation: int
    standing: bool = Field(description="是否依长期授权用印")
    ledger_log: str
    ledger_index: int | None


def _too_large(limit: int) -> Any:
    return Status(413, {"detail": gettext("文件太大（上限 %(mb)s MB）。")
                        % {"mb": limit // (1024 * 1024)}})


def _read_body(request: HttpRequest, limit: int) -> bytes | None:
    """The request body, or ``None`` past ``limit`` bytes. Read from the stream in bounded
    steps: ``request.body`` would be refused by Django at DATA_UPLOAD_MAX_MEMORY_SIZE (a
    generic 400) before our own, larger limit could answer."""
    chunks, size = [], 0
    while size <= limit:
        chunk = request.read(min(1024 * 1024, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return None if size > limit else b"".join(chunks)


def _add_validate(router: Router) -> None:
    @router.post("/validate", summary="验章: validate every signature of a PDF (body: the PDF)",
                 response={200: ValidationOut, 400: Message, 413: Message, 429: Message},
                 auth=None,
                 openapi_extra={"requestBody": {"required": True, "content": {
                     "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
    def validate(request: HttpRequest, response: HttpResponse) -> Any:
        if ratelimit.exceeded("seals.validate", request,
                              per_minute=int(settings.YIWANG_SEAL_VALIDATE_RATE_PER_MINUTE or 0)):
            response["Retry-After"] = ratelimit.retry_after()
            return Status(429, {"detail": gettext(
                "验章请求过于频繁（每分钟最多 %(n)s 次），请 %(seconds)s 秒后再试。") % {
                    "n": settings.YIWANG_SEAL_VALIDATE_RATE_PER_MINUTE,
                    "seconds": ratelimit.retry_after()}})
        limit = int(settings.YIWANG_SEAL_MAX_PDF_BYTES)
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > limit:
            return _too_large(limit)
        body = _read_body(request, limit)
        if body is None:
            return _too_large(limit)
        if not body:
            return Status(400, {"detail": gettext("请求体须为 PDF 文件。")})
        try:
            result = seals.validate_pdf(body)
        except ValidationError as exc:
            return Status(400, {"detail": " ".join(exc.messages)})
        return result.as_dict()


_add_validate(public_router)
_add_validate(internal_router)


@internal_router.get("/seals", summary="Seals of the official's departments",
                     response={200: list[SealOut]})
def seal_list(request: HttpRequest) -> Any:
    found = []
    for department in orgs.departments_of(request.auth):
        for seal in seals.seals_of(department.code):
            found.append({"code": seal.code, "name": seal.name,
                          "department": department.code, "kind": seal.kind,
                          "status": seal.status, "valid_until": seal.valid_until,
                          "certificate_serial": seal.certificate_serial,
                          "certificate_sha256": seal.certificate_sha256})
    return found


USES_PER_PAGE = 100


@internal_router.get("/seals/{code}/uses",
                     summary="A seal's use log (用印记录), newest first, 100 a page",
                     response={200: list[UseOut], 403: Message, 404: Message})
def seal_uses(request: HttpRequest, code: str, response: HttpResponse,
              page: int = Query(1, ge=1, description="页码（每页 100 条，从 1 开始）")) -> Any:
    seal = seals.get_seal(code) if len(code) <= 32 and not code.isdigit() else None
    if seal is None:
        return Status(404, {"detail": gettext("印章不存在。")})
    user = request.auth
    allowed = user.is_superuser or seals.may_use(user, seal) or (
        user.has_perm(seals.VIEW_USES_PERMISSION) and orgs.is_member(user,
                                                                     seal.department.code))
    if not allowed:
        return Status(403, {"detail": gettext("您不能查看该印章的用印记录。")})
    found = Paginator(seals.uses(seal=seal), USES_PER_PAGE)
    response["X-Total-Count"] = str(found.count)
    if page > found.num_pages:
        return []
    return [{"seal": seal.code, "created_at": use.created_at, "level": use.level,
             "document_sha256": use.document_sha256, "sealed_sha256": use.sealed_sha256,
             "authorisation": use.authorisation_id, "standing": use.authorisation.standing,
             "ledger_log": use.ledger_log, "ledger_index": use.ledger_index}
            for use in found.page(page).object_list]


__all__ = ["internal_router", "public_router"]
