"""Public API of departments: /api/v1/departments.

Public information only — names, credit codes, contact details, positions; never who holds
them. Thin: each endpoint calls ``yiwang.platform.orgs.service``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status

from yiwang.platform.orgs import service as orgs

router = Router(tags=["departments"])


class Message(Schema):
    detail: str = Field(description="错误说明")


class RegionBrief(Schema):
    code: str = Field(description="12位区划代码")
    name: str = Field(description="名称")
    level: str = Field(description="层级")


class DepartmentBrief(Schema):
    code: str = Field(description="部门代码")
    name: str = Field(description="名称")


class DepartmentOut(DepartmentBrief):
    name_en: str = Field(description="英文名称")
    kind: str = Field(description="类型：government 政府部门, institution 事业单位, internal "
                                  "内设机构, party 党群机关, other 其他")
    kind_label: str = Field(description="类型名称")
    region: RegionBrief = Field(description="所属行政区划（所属的政府层级）")
    parent: DepartmentBrief | None = Field(description="上级部门（内设机构才有）")
    phone: str = Field(description="联系电话")


class DepartmentQuery(Schema):
    q: str | None = Field(None, max_length=64, description="按代码、名称或英文名称搜索")
    region: str | None = Field(None, description="只列出该区划（政府层级）的部门，"
                                                 "如 339900000000")
    limit: int = Field(50, ge=1, le=500, description="每页数量（1–500）")
    offset: int = Field(0, ge=0, le=1_000_000_000, description="起始位置")


class DepartmentPage(Schema):
    count: int = Field(description="符合条件的总数")
    limit: int = Field(description="每页数量")
    offset: int = Field(description="起始位置")
    items: list[DepartmentOut] = Field(description="本页部门")


class PositionOut(Schema):
    code: str = Field(description="岗位代码")
    name: str = Field(description="岗位名称")
    rank: str = Field(description="职级")


class DepartmentDetail(DepartmentOut):
    credit_code: str = Field(description="统一社会信用代码")
    address: str = Field(description="地址")
    description: str = Field(description="简介")
    positions: list[PositionOut] = Field(description="岗位设置（不含任职人员）")


def _out(department: orgs.Department) -> dict[str, Any]:
    region, parent = department.region, department.parent
    return {
        "code": department.code, "name": department.name, "name_en": department.name_en,
        "kind": department.kind, "kind_label": department.get_kind_display(),
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "parent": {"code": parent.code, "name": parent.name} if parent else None,
        "phone": department.phone,
    }


@router.get("", response={200: DepartmentPage, 400: Message},
            summary="List active departments")
def list_departments(request: HttpRequest, params: Query[DepartmentQuery]) -> Any:
    try:
        qs = orgs.list_departments(region_code=params.region, q=params.q)
        count = qs.count()
    except ValidationError as exc:
        return Status(400, {"detail": "；".join(exc.messages)})
    page = qs[params.offset:params.offset + params.limit]
    return {"count": count, "limit": params.limit, "offset": params.offset,
            "items": [_out(d) for d in page]}


@router.get("/{code}", response={200: DepartmentDetail, 404: Message},
            summary="One department's public information and positions")
def get_department(request: HttpRequest, code: str) -> Any:
    department = orgs.get_department(code)
    if department is None or not department.active:
        return Status(404, {"detail": gettext("部门 %(code)s 不存在") % {"code": code[:64]}})
    return {
        **_out(department),
        "credit_code": department.credit_code, "address": department.address,
        "description": department.description,
        "positions": [{"code": p.code, "name": p.name, "rank": p.rank}
                      for p in orgs.positions_of(department)],
    }
