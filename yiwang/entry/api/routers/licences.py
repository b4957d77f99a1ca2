"""JSON API of the licences area: public_router (public listener) and internal_router
(internal listener), both on /api/v1/licences. Thin: each endpoint calls the app's service.py.

``POST /verify`` verifies a presented licence — a VC (JSON object), a QR text or a PDF
(base64) — with this instance's trust bundle and status lists. Anyone may call it; the
answer names every check and never says "valid" for one that failed. A licence of this
instance that is verified gets a line in its holder's record of uses (用证记录).

``GET /wallet`` (a citizen: bearer token with scope ``licences`` or the signed-in session)
lists the licences in the caller's wallet, each marked ``held_as``: ``self`` (their own),
``enterprise`` (of an enterprise they represent or act for with the 证照使用 scope) or
``guardian`` (of a minor they are the current guardian of — 监护关系 of the population
registry; ``ward`` then names the ward, masked). Holders' names and codes are masked; the
listing of wards' licences is audited with purpose ``guardian``.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Router, Schema, Status

from yiwang.entry.api.auth import licences_auth
from yiwang.support.licences import service as licences

public_router = Router(tags=["licences"])
internal_router = Router(tags=["licences"])


class VerifyIn(Schema):
    kind: Literal["vc", "qr", "pdf"] = Field(
        description="vc: 可验证凭证(JSON 对象);qr: 二维码文本;pdf: PDF 文件的 base64")
    credential: dict[str, Any] | None = Field(None, description="kind=vc 时的凭证")
    qr: str | None = Field(None, description="kind=qr 时的二维码文本")
    pdf: str | None = Field(None, description="kind=pdf 时 PDF 文件的标准 base64")


class CheckOut(Schema):
    name: str = Field(description="检查项:signature, issuer, authorised, status, validity, "
                                  "malformed, integrity …")
    ok: bool
    message: str


class VerifyOut(Schema):
    kind: str
    valid: bool = Field(description="仅当全部检查通过时为 true")
    checks: list[CheckOut]
    errors: list[str] = Field(description="未通过的检查项名称")
    summary: dict[str, Any] = Field(description="签发机构、证照标识、类型、状态等")


def _payload(body: VerifyIn) -> bytes | str | None:
    if body.kind == "vc":
        return None if body.credential is None else json.dumps(body.credential,
                                                                ensure_ascii=False)
    if body.kind == "qr":
        return body.qr
    if body.pdf is None:
        return None
    limit = int(settings.YIWANG_LICENCES_MAX_UPLOAD_BYTES)
    if len(body.pdf) > limit * 4 // 3 + 4:
        return b"x" * (limit + 1)  # refused as too large by the service, not decoded
    try:
        return base64.b64decode(body.pdf, validate=True)
    except (binascii.Error, ValueError):
        return b""


class ErrorOut(Schema):
    code: str = Field(description="rate_limited")
    detail: str = Field(description="可据以改正的说明")


@public_router.post("/verify", response={200: VerifyOut, 400: VerifyOut, 429: ErrorOut},
                     summary="Verify a licence presented as a VC, a QR text or a PDF")
def verify(request: HttpRequest, body: VerifyIn) -> Status | HttpResponse:
    if licences.over_verify_rate(request):
        limit = settings.YIWANG_LICENCES_VERIFY_RATE_PER_MINUTE
        response = JsonResponse({
            "code": "rate_limited",
            "detail": f"核验请求过于频繁:同一网络地址每分钟最多核验 {limit} 次,请在 1 分钟后"
                      f"再试 (too many verifications: at most {limit} a minute per client "
                      f"address; retry after a minute)"}, status=429,
            json_dumps_params={"ensure_ascii": False})
        response["Retry-After"] = licences.VERIFY_RETRY_AFTER
        return response
    payload = _payload(body)
    outcome = licences.verify_presented(kind=body.kind, payload=payload or b"",
                                        channel=licences.UseKind.VERIFY_API)
    data = outcome.to_dict()
    malformed = any(c["name"] == "malformed" for c in outcome.errors)
    return Status(400 if malformed else 200, VerifyOut(**data))


class TypeOut(Schema):
    code: str
    catalogue_code: str
    name: str
    name_en: str
    holder_kind: str
    validity_years: int | None
    issuing_departments: list[str]
    fields: list[dict[str, Any]]
    metadata: dict[str, Any]


@public_router.get("/types", response=list[TypeOut], summary="The licence types (电子证照目录)")
def types(request: HttpRequest) -> list[TypeOut]:
    return [TypeOut(code=t.code, catalogue_code=t.catalogue_code, name=t.name,
                    name_en=t.name_en, holder_kind=t.holder_kind,
                    validity_years=t.validity_years,
                    issuing_departments=list(t.issuing_departments or []),
                    fields=list(t.schema.get("fields", [])), metadata=dict(t.metadata or {}))
            for t in licences.list_types()]


class WalletItemOut(Schema):
    id: int
    number: str = Field(description="证照编号")
    identifier: str = Field(description="证照标识")
    type: str = Field(description="证照类型代码")
    type_name: str
    holder_name: str = Field(description="持证主体名称(个人姓名脱敏)")
    holder_code: str = Field(description="公民身份号码(脱敏)或统一社会信用代码")
    department_name: str
    valid_from: date
    valid_until: date | None
    status: str = Field(description="active, suspended, revoked, expired …")
    held_as: Literal["self", "enterprise", "guardian"] = Field(
        description="self: 本人证照;enterprise: 所代表企业的证照;guardian: 所监护未成年人的证照")
    ward: dict[str, str] | None = Field(
        None, description="held_as=guardian 时,被监护人的脱敏姓名和公民身份号码")


#: At most this many of the caller's own (and their enterprises') licences in one answer.
WALLET_MAX = 200


def _item(lic: Any, held_as: str, ward: dict[str, str] | None = None) -> WalletItemOut:
    holder = licences.masked_holder(lic)
    return WalletItemOut(
        id=lic.pk, number=lic.number, identifier=lic.identifier, type=lic.type.code,
        type_name=lic.type.name, holder_name=holder["name"], holder_code=holder["code"],
        department_name=lic.department_name, valid_from=lic.valid_from,
        valid_until=lic.valid_until, status=str(licences.effective_status(lic)),
        held_as=held_as,  # type: ignore[arg-type]
        ward={"name": ward["name"], "id_number": ward["id_number"]} if ward else None)


@public_router.get("/wallet", auth=licences_auth, response=list[WalletItemOut],
                   summary="The licences in my wallet, my wards' included (held_as)")
def wallet(request: HttpRequest) -> list[WalletItemOut]:
    user = request.auth  # type: ignore[attr-defined]
    items = [_item(lic, "self" if lic.holder_kind == licences.HolderKind.PERSON
                   else "enterprise")
             for lic in licences.licences_of(user)[:WALLET_MAX]]
    for ward in licences.ward_wallets(user):
        items.extend(_item(lic, licences.GUARDIAN, ward.ward) for lic in ward.licences)
    return items
