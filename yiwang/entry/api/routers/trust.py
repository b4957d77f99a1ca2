"""JSON API of the trust area: public_router (public listener) and internal_router
(internal listener), both on /api/v1/trust. Thin: each endpoint calls the app's service.py.

Public material on both: the current trust list, the offline bundle, the root fingerprint,
a certificate by serial and its revocation status. The internal API adds, for officials,
the certificates of the departments they manage and the imported regions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import Field, Router, Schema, Status

from yiwang.support.trust import service as trust

public_router = Router(tags=["trust"])
internal_router = Router(tags=["trust"])


class Message(Schema):
    detail: str = Field(description="错误说明")


class Fingerprint(Schema):
    region: str = Field(description="地区代码")
    name: str = Field(description="地区名称")
    sha256: str = Field(description="根证书 SHA-256 指纹（十六进制）")
    grouped: str = Field(description="分组显示的指纹，便于电话核对")


class CertificateOut(Schema):
    serial: str = Field(description="序列号（十六进制）")
    owner: str = Field(description="持有部门代码，region 表示本地区")
    usage: str = Field(description="用途：root, seal, licence, tsa, trust-list")
    subject: str = Field(description="主体名称")
    algorithm: str = Field(description="签名算法")
    fingerprint: str = Field(description="证书 SHA-256 指纹")
    not_before: datetime = Field(description="生效时间")
    not_after: datetime = Field(description="失效时间")
    status: str = Field(description="状态：valid 有效, revoked 已撤销")
    revoked_at: datetime | None = Field(description="撤销时间")
    revocation_reason: str = Field(description="撤销原因（RFC 5280）")
    pem: str = Field(description="证书（PEM）")


class CertificateStatus(Schema):
    serial: str = Field(description="序列号（十六进制）")
    status: str = Field(description="valid 有效, revoked 已撤销")
    revoked_at: datetime | None = Field(description="撤销时间")
    reason: str = Field(description="撤销原因")
    not_after: datetime = Field(description="失效时间")


class ImportedOut(Schema):
    region_code: str = Field(description="地区代码")
    region_name: str = Field(description="地区名称")
    sequence: int = Field(description="版本序号")
    root_fingerprint: str = Field(description="根证书指纹")
    imported_at: datetime = Field(description="导入时间")
    next_update: datetime = Field(description="下次更新")
    status: str = Field(description="current 有效, expired 已过期, superseded 已被取代")


def _certificate(info: trust.CertificateInfo) -> dict[str, Any]:
    return {"serial": info.serial, "owner": info.owner, "usage": info.usage,
            "subject": info.subject, "algorithm": info.algorithm,
            "fingerprint": info.fingerprint, "not_before": info.not_before,
            "not_after": info.not_after, "status": info.status, "revoked_at": info.revoked_at,
            "revocation_reason": info.revocation_reason, "pem": info.pem}


def _not_found(serial: str) -> Status:
    return Status(404, {"detail": gettext("证书 %(serial)s 不存在。") % {"serial": serial[:64]}})


def _add_public_endpoints(router: Router) -> None:
    @router.get("/list", summary="The current signed trust list (JSON, exactly as signed)",
                response={200: dict}, auth=None)
    def trust_list(request: HttpRequest) -> HttpResponse:
        return HttpResponse(trust.current_trust_list(),
                            content_type="application/json; charset=utf-8")

    @router.get("/bundle", summary="The trust bundle for offline verifiers",
                response={200: dict}, auth=None)
    def bundle(request: HttpRequest) -> Any:
        return trust.trust_bundle()

    @router.get("/fingerprint", summary="The root certificate's fingerprint",
                response={200: Fingerprint}, auth=None)
    def fingerprint(request: HttpRequest) -> Any:
        root = trust.ensure_root_ca()
        return {"region": trust.region_code(), "name": trust.region_name(),
                "sha256": root.fingerprint, "grouped": trust.trust_list_fingerprint()}

    @router.get("/certificates/{serial}", summary="A certificate this CA issued, by serial",
                response={200: CertificateOut, 404: Message}, auth=None)
    def certificate(request: HttpRequest, serial: str) -> Any:
        info = trust.get_certificate(serial) if len(serial) <= 64 else None
        return _certificate(info) if info else _not_found(serial)

    @router.get("/certificates/{serial}/status",
                summary="Revocation status of a certificate (as on the CRL)",
                response={200: CertificateStatus, 404: Message}, auth=None)
    def certificate_status(request: HttpRequest, serial: str) -> Any:
        status = trust.crl_status(serial) if len(serial) <= 64 else None
        return status if status else _not_found(serial)


_add_public_endpoints(public_router)
_add_public_endpoints(internal_router)


@internal_router.get("/departments/{owner}/certificates",
                     summary="Certificates of a department the official manages",
                     response={200: list[CertificateOut], 403: Message})
def department_certificates(request: HttpRequest, owner: str) -> Any:
    if not trust.may_manage(request.auth, owner):
        return Status(403, {"detail": gettext("您不能管理该部门的密钥与证书。")})
    return [_certificate(info) for info in trust.list_certificates(owner=owner)]


@internal_router.get("/imported", summary="Imported regions' trust lists",
                     response={200: list[ImportedOut], 403: Message})
def imported(request: HttpRequest) -> Any:
    if not request.auth.has_perm(trust.TRUST_LIST_PERMISSION):
        return Status(403, {"detail": gettext("您没有管理信任列表的权限。")})
    return [{"region_code": row.region_code, "region_name": row.region_name,
             "sequence": row.sequence, "root_fingerprint": row.root_fingerprint,
             "imported_at": row.imported_at, "next_update": row.next_update,
             "status": trust.imported_status(row)} for row in trust.list_imported()]


__all__ = ["internal_router", "public_router"]
