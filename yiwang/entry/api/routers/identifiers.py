"""Public API to check identifiers: /api/v1/identifiers/validate.

Forms and other government systems use it to tell a person exactly which part of an ID
number or a unified social credit code is wrong. It checks the format only (checksums,
dates, region prefixes) and looks nothing up: it reveals nothing about anyone. POST keeps
the number out of URLs and access logs.
"""

from __future__ import annotations

from enum import StrEnum

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from yiwang.core.identifiers import service as identifiers

router = Router(tags=["identifiers"])


class Kind(StrEnum):
    ID_NUMBER = "id_number"
    CREDIT_CODE = "credit_code"


class ValidateIn(Schema):
    kind: Kind = Field(description="id_number 公民身份号码（GB 11643）或 credit_code "
                                   "统一社会信用代码（GB 32100）")
    value: str = Field(max_length=64, description="待校验的号码")


class ValidOut(Schema):
    valid: bool = Field(description="是否有效")
    value: str = Field(description="规范化后的号码（去空格、大写）")
    region_code: str = Field(description="号码中的行政区划代码")


class InvalidOut(Schema):
    valid: bool = Field(False, description="是否有效")
    part: str = Field(description="出错的部分：length, characters, region, birth_date, "
                                  "sequence, check, authority, org_type, org_code")
    detail: str = Field(description="可据以改正的说明")


@router.post("/validate", response={200: ValidOut, 400: InvalidOut},
             summary="Check an ID number or a credit code and say which part is wrong")
def validate(request: HttpRequest, payload: ValidateIn) -> ValidOut | Status:
    try:
        if payload.kind == Kind.ID_NUMBER:
            parsed_id = identifiers.validate_id_number(payload.value)
            return ValidOut(valid=True, value=parsed_id.value, region_code=parsed_id.region_code)
        parsed_code = identifiers.validate_credit_code(payload.value)
        return ValidOut(valid=True, value=parsed_code.value, region_code=parsed_code.region_code)
    except identifiers.InvalidIdentifier as exc:
        return Status(400, InvalidOut(valid=False, part=exc.part, detail=str(exc.message)))
