"""The credit forms of the workbench (社会信用): fields listed once, rendered by one template
(``workbench/_credit_field.html``) with the value as typed and the credit service's message
beside each field. The service validates; these helpers only read the request and parse the
dates, so that a malformed date is a message on its field, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.support.credit import service as credit


def errors_of(exc: ValidationError) -> dict[str, list[str]]:
    """The messages of a service's refusal by field (``__all__``: not about one field)."""
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def choice(value: str, allowed: Iterable[str]) -> str:
    """A filter's value when it is one of ``allowed``, else "" (no filter)."""
    return value if value in allowed else ""


@dataclass(frozen=True)
class Field:
    """One input of a form; ``name`` is the service's name for it (its messages' key)."""

    name: str
    label: Promise
    widget: str = "text"  # text, textarea, date, select, checkboxes, checkbox
    choices: Any = ()
    hint: Promise | str = ""
    required: bool = False
    maxlength: int | None = None


@dataclass(frozen=True)
class Section:
    """A group of fields under a legend."""

    legend: Promise
    fields: tuple[Field, ...]


def bind(sections: Iterable[Section], values: dict[str, Any], errors: dict[str, list[str]],
         choices: dict[str, list[tuple[str, str]]]) -> list[dict[str, Any]]:
    """What the template needs of each field: its value as typed and its messages."""
    bound = []
    for section in sections:
        fields = []
        for f in section.fields:
            value = values.get(f.name, [] if f.widget == "checkboxes" else "")
            fields.append({
                "f": f, "id": f"f-{f.name}", "value": value,
                "choices": choices.get(f.name, f.choices),
                "errors": errors.get(f.name, [])})
        bound.append({"legend": section.legend, "fields": fields})
    return bound


def summary(bound: list[dict[str, Any]], errors: dict[str, list[str]]
            ) -> list[dict[str, Any]]:
    """The error summary at the top: each message linked to its field when it has one."""
    found, seen = [], set()
    for section in bound:
        for field in section["fields"]:
            if field["errors"]:
                seen.add(field["f"].name)
                found += [{"href": f"#{field['id']}", "label": field["f"].label,
                           "message": m} for m in field["errors"]]
    for key, texts in errors.items():
        if key not in seen:
            found += [{"href": "", "label": "", "message": m} for m in texts]
    return found


def values_of(request: HttpRequest, sections: Iterable[Section]) -> dict[str, Any]:
    """What was posted, as typed (a box ticked: True)."""
    values: dict[str, Any] = {}
    for section in sections:
        for f in section.fields:
            if f.widget == "checkboxes":
                values[f.name] = request.POST.getlist(f.name)
            elif f.widget == "checkbox":
                values[f.name] = request.POST.get(f.name) == "yes"
            else:
                values[f.name] = request.POST.get(f.name, "")
    return values


def parse_dates(values: dict[str, Any], names: Iterable[str], errors: dict[str, list[str]]
                ) -> dict[str, date | None]:
    """Parse the date fields; a malformed one is a message on its field."""
    found: dict[str, date | None] = {}
    for name in names:
        raw = str(values.get(name, "")).strip()
        found[name] = None
        if not raw:
            continue
        try:
            found[name] = date.fromisoformat(raw[:32])
        except ValueError:
            errors[name] = [_("请按“年-月-日”填写日期,例如 2026-03-01。")]
    return found


def authority_of(values: dict[str, Any], allowed: list[tuple[str, str]],
                 errors: dict[str, list[str]]) -> str:
    """The posted department, which must be one of the official's own."""
    code = str(values.get("authority", ""))
    if code not in {c for c, _name in allowed}:
        errors["authority"] = [_("只能以您所在的部门名义报送:请选择您所在的部门。")]
    return code


CODE_HINT = gettext_lazy("统一社会信用代码(18 位)或自然人的公民身份号码。")
RECORD_SECTIONS = (
    Section(gettext_lazy("决定机关与行政相对人"), (
        Field("kind", gettext_lazy("类别"), "select", credit.RecordKind.choices, required=True),
        Field("authority", gettext_lazy("决定机关"), "select", required=True),
        Field("code", gettext_lazy("统一社会信用代码或身份证件号码"), hint=CODE_HINT,
              required=True, maxlength=18),
        Field("name", gettext_lazy("行政相对人名称"), required=True, maxlength=128),
        Field("representative", gettext_lazy("法定代表人"), maxlength=64,
              hint=gettext_lazy("行政相对人为法人或其他组织时填写。")),
    )),
    Section(gettext_lazy("决定"), (
        Field("doc_name", gettext_lazy("决定文书名称"), maxlength=128,
              hint=gettext_lazy("不填写的,按类别记为“行政处罚决定书”或“行政许可决定书”。")),
        Field("doc_no", gettext_lazy("决定文书号"), required=True, maxlength=64),
        Field("decided_on", gettext_lazy("决定日期"), "date", required=True),
        Field("legal_basis", gettext_lazy("依据"), "textarea", required=True, maxlength=2000,
              hint=gettext_lazy("依据的法律、法规、规章及条款。")),
        Field("content", gettext_lazy("许可内容/处罚内容"), "textarea", required=True,
              maxlength=2000),
        Field("valid_from", gettext_lazy("有效期自"), "date",
              hint=gettext_lazy("不填写的,自决定日期起。")),
        Field("valid_until", gettext_lazy("有效期至"), "date"),
    )),
    Section(gettext_lazy("行政处罚填写"), (
        Field("penalty_categories", gettext_lazy("处罚类别"), "checkboxes",
              credit.PenaltyCategory.choices),
        Field("violation_type", gettext_lazy("违法行为类型"), maxlength=128),
        Field("facts", gettext_lazy("违法事实"), "textarea", maxlength=4000),
        Field("fine_wan", gettext_lazy("罚款金额(万元)"),
              hint=gettext_lazy("以万元计,例如 0.5 表示 5000 元。")),
        Field("confiscated_wan", gettext_lazy("没收违法所得、没收非法财物的金额(万元)")),
        Field("revoked_licence", gettext_lazy("暂扣或吊销证照名称及编号"), maxlength=200),
        Field("severity", gettext_lazy("失信程度"), "select", credit.Severity.choices,
              hint=gettext_lazy("决定公示期限:严重失信行为公示时间更长。")),
    )),
    Section(gettext_lazy("行政许可填写"), (
        Field("licensing_categories", gettext_lazy("许可类别"), "checkboxes",
              credit.LicensingCategory.choices),
        Field("licence_name", gettext_lazy("许可证书名称"), maxlength=128),
        Field("licence_no", gettext_lazy("许可编号"), maxlength=128),
    )),
    Section(gettext_lazy("其他"), (
        Field("note", gettext_lazy("备注"), maxlength=255),
    )),
)

LIST_SECTIONS = (
    Section(gettext_lazy("认定部门与主体"), (
        Field("list_type", gettext_lazy("名单类型"), "select", credit.ListType.choices,
              required=True),
        Field("list_name", gettext_lazy("名单名称"), required=True, maxlength=100),
        Field("authority", gettext_lazy("认定部门"), "select", required=True),
        Field("code", gettext_lazy("统一社会信用代码或身份证件号码"), hint=CODE_HINT,
              required=True, maxlength=18),
        Field("name", gettext_lazy("主体名称"), required=True, maxlength=128),
    )),
    Section(gettext_lazy("认定"), (
        Field("reason", gettext_lazy("列入事由"), "textarea", required=True, maxlength=2000),
        Field("legal_basis", gettext_lazy("认定依据"), "textarea", required=True,
              maxlength=2000, hint=gettext_lazy("依据的法律、法规及条款。")),
        Field("decision_no", gettext_lazy("认定文书号"), required=True, maxlength=64),
        Field("decided_on", gettext_lazy("认定日期"), "date", required=True),
        Field("publish_from", gettext_lazy("列入日期"), "date", required=True),
        Field("expires_on", gettext_lazy("移出日期"), "date", required=True,
              hint=gettext_lazy("名单信息须有有效期,到期自动移出。")),
        Field("measures", gettext_lazy("奖惩措施"), "textarea", maxlength=2000),
        Field("repairable", gettext_lazy("可申请信用修复"), "checkbox"),
    )),
)
