from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from yiwang.core.audit.service import AuditFilter
from yiwang.core.identifiers.service import InvalidIdentifier, validate_id_number
from yiwang.platform.registry.service import GuardianKind

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


# --- audit log search (审计日志) ------------------------------------------------------------

AUDIT_TIME_ZONE = ZoneInfo("Asia/Shanghai")  # dates typed by auditors are Beijing time
_DATE_ERROR = _("请按“年-月-日”的格式填写日期,例如 2025-03-01。")


def _text(label: StrPromise, max_length: int, help_text: StrPromise | str = ""
          ) -> forms.CharField:
    return forms.CharField(label=label, max_length=max_length, required=False,
                           help_text=help_text,
                           widget=forms.TextInput(attrs={"class": "input",
                                                         "autocomplete": "off",
                                                         "spellcheck": "false"}))


def _date(label: StrPromise) -> forms.DateField:
    return forms.DateField(label=label, required=False, input_formats=["%Y-%m-%d"],
                           error_messages={"invalid": _DATE_ERROR},
                           widget=forms.DateInput(attrs={"class": "input", "type": "date"},
                                                  format="%Y-%m-%d"))


# Dates outside this range are typing mistakes, and at the extremes (9999-12-31 plus a
# day) they would overflow.
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


class AuditSearchForm(forms.Form):
    """Filters of the audit log search; every one optional, dates in Beijing time."""

    actor = _text(_("操作人用户名"), 150)
    action = _text(_("操作"), 64, _("按开头匹配,例如 personal_data 或 registry."))
    object_type = _text(_("对象类型"), 100, _("例如 registry.person"))
    object_id = _text(_("对象编号"), 64)
    request_id = _text(_("请求编号"), 64)
    date_from = _date(_("开始日期"))
    date_to = _date(_("结束日期(含当天)"))
    personal_only = forms.BooleanField(label=_("只看涉及个人信息的事件"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        for name, day in (("date_from", start), ("date_to", end)):
            if day and not EARLIEST <= day <= LATEST:
                self.add_error(name, _("请填写 2000 年至 2099 年之间的日期。"))
                data.pop(name, None)
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return data

    def criteria(self) -> AuditFilter:
        """The audit service's filter for the cleaned data (the form must be valid)."""
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        return AuditFilter(
            actor=data["actor"].strip(), action=data["action"].strip(),
            object_type=data["object_type"].strip(), object_id=data["object_id"].strip(),
            request_id=data["request_id"].strip(),
            since=datetime.combine(start, time.min, AUDIT_TIME_ZONE) if start else None,
            until=(datetime.combine(end + timedelta(days=1), time.min, AUDIT_TIME_ZONE)
                   if end else None),
            personal_only=bool(data.get("personal_only")),
        )

    def used(self) -> dict[str, Any]:
        """The filters given, for the audit event that records the search."""
        return {name: value.isoformat() if isinstance(value, date) else value
                for name, value in self.cleaned_data.items() if value not in ("", None, False)}


# --- base registries (基础数据) -------------------------------------------------------------

class RegistrySearchForm(forms.Form):
    """Search of a registry list: a name (or code) and a district or street."""

    q = forms.CharField(max_length=50, required=False,
                        widget=forms.TextInput(attrs={"class": "input", "type": "search",
                                                      "autocomplete": "off"}))
    region = forms.ChoiceField(label=_("所在区县或街道"), required=False,
                               widget=forms.Select(attrs={"class": "input"}))

    def __init__(self, *args: Any, q_label: StrPromise, region_choices: list[Any],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].label = q_label
        region = self.fields["region"]
        assert isinstance(region, forms.ChoiceField)
        region.choices = [("", _("全部区县")), *region_choices]


class IdNumberLookupForm(forms.Form):
    """Find a person by the full ID number: posted, so the number stays out of URLs and logs."""

    id_number = forms.CharField(
        label=_("公民身份号码"), min_length=18, max_length=18,
        error_messages={"min_length": _("公民身份号码为 18 位。"),
                        "max_length": _("公民身份号码为 18 位。"),
                        "required": _("请填写公民身份号码。")},
        widget=forms.TextInput(attrs={"class": "input", "autocomplete": "off",
                                      "spellcheck": "false", "inputmode": "text"}))

    def clean_id_number(self) -> str:
        try:
            return validate_id_number(self.cleaned_data["id_number"]).value
        except InvalidIdentifier as exc:  # says which part is wrong
            raise forms.ValidationError(exc.message, code=exc.part) from None


REVEAL_PURPOSES = [
    _("办理政务服务事项,核验申请人身份"),
    _("处置城市运行案卷,联系当事人"),
    _("办理信访件,联系信访人"),
    _("核查登记信息"),
]


class RevealForm(forms.Form):
    """Why an official needs a person's full data (事由): required, recorded in the audit log."""

    purpose = forms.CharField(
        label=_("事由"), max_length=200,
        help_text=_("说明为什么需要查看完整信息,将记入审计日志。可从建议中选择或自行填写。"),
        error_messages={"required": _("请填写事由。")},
        widget=forms.TextInput(attrs={"class": "input", "list": "reveal-purposes",
                                      "autocomplete": "off"}))

    def clean_purpose(self) -> str:
        purpose = " ".join(self.cleaned_data["purpose"].split())
        if not purpose:
            raise forms.ValidationError(_("请填写事由。"), code="required")
        return purpose


class GuardianshipForm(IdNumberLookupForm):
    """登记监护关系: the person whose page it is becomes the guardian of the minor whose full
    ID number is posted (never in a URL), on a stated basis."""

    kind = forms.ChoiceField(label=_("监护类型"), choices=GuardianKind.choices,
                             initial=GuardianKind.PARENT,
                             widget=forms.Select(attrs={"class": "select"}))
    basis = forms.CharField(
        label=_("监护依据"), max_length=64,
        help_text=_("如出生登记、法院判决、民政部门指定,不超过 64 个字。"),
        error_messages={"required": _("请填写监护依据。")},
        widget=forms.TextInput(attrs={"class": "input"}))
    reference = forms.CharField(
        label=_("依据编号"), max_length=64, required=False,
        help_text=_("如出生医学证明编号、判决书文号(选填)。"),
        widget=forms.TextInput(attrs={"class": "input"}))
    starts_on = forms.DateField(
        label=_("开始日期"), required=False, help_text=_("不填为今天。"),
        error_messages={"invalid": _("请填写有效的日期,如 2026-01-31。")},
        widget=forms.DateInput(attrs={"class": "input", "type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["id_number"].label = _("被监护人公民身份号码")


class EndGuardianshipForm(forms.Form):
    """终止监护关系: the reason (recorded in the audit log) and the day it ends."""

    reason = forms.CharField(
        label=_("终止原因"), max_length=200,
        error_messages={"required": _("请填写终止监护关系的原因。")},
        widget=forms.TextInput(attrs={"class": "input"}))
    ended_on = forms.DateField(
        label=_("终止日期"), required=False, help_text=_("不填为今天。"),
        error_messages={"invalid": _("请填写有效的日期,如 2026-01-31。")},
        widget=forms.DateInput(attrs={"class": "input", "type": "date"}))
