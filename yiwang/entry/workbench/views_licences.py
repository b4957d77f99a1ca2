"""电子证照 in the workbench: officials of an issuing department issue licences, list their
department's licences, and suspend, revoke or reinstate them with a reason.

Who may do what: every page needs an official (``official_required``) holding
``licences.issue_licence`` (签发) or ``licences.manage_licence_status`` (状态管理); and the
department acted for must be one the official belongs to — a licence of another
department is a 404 here and refused again by the service (``PermissionDenied``). Holders
are looked up by the full ID number or credit code in a POST (never in a URL); the lookup is
audited and shows the holder's name masked.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from yiwang.core.audit import service as audit
from yiwang.core.identifiers.service import is_valid_credit_code, is_valid_id_number
from yiwang.core.masking.service import mask_id_number
from yiwang.entry.portal.service import Crumb
from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.views import render_page
from yiwang.platform.orgs import service as orgs
from yiwang.platform.registry import service as registry
from yiwang.support.licences import service as licences

ISSUE = "licences.issue_licence"
MANAGE = "licences.manage_licence_status"
PER_PAGE = 25
ACTIONS = {
    "suspend": (licences.suspend_licence, gettext_lazy("暂停")),
    "revoke": (licences.revoke_licence, gettext_lazy("注销")),
    "reinstate": (licences.reinstate_licence, gettext_lazy("恢复")),
}


# --- forms ---------------------------------------------------------------------------------

class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=200,
                             widget=forms.TextInput(attrs={"class": "input"}),
                             error_messages={"required": gettext_lazy("请填写原因。")})


class HolderLookupForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("持证主体的公民身份号码或统一社会信用代码"), max_length=18,
        widget=forms.TextInput(attrs={"class": "input input--id", "autocomplete": "off",
                                      "spellcheck": "false"}),
        error_messages={"required": gettext_lazy("请填写公民身份号码或统一社会信用代码。")})


def fields_form(schema: dict[str, Any], data: Any = None) -> forms.Form:
    """A form with one input per field of a licence type (the holder's fields are filled
    from the holder and left out)."""
    form = forms.Form(data)
    for spec in schema.get("fields", []):
        if spec.get("holder"):
            continue
        attrs = {"class": "input"}
        if spec.get("enum"):
            field: forms.Field = forms.ChoiceField(
                choices=[("", "—"), *[(v, v) for v in spec["enum"]]])
        elif spec.get("type") == "date" or spec.get("format") == "date":
            field = forms.CharField(widget=forms.DateInput(attrs={**attrs, "type": "date"}))
        else:
            field = forms.CharField(max_length=int(spec.get("maxLength") or 500),
                                    widget=forms.TextInput(attrs=attrs))
        field.required = False  # the schema decides, with its own messages
        field.label = spec.get("label", spec["key"])
        form.fields[spec["key"]] = field
    return form


# --- pages ---------------------------------------------------------------------------------

def _issuing_departments(request: HttpRequest) -> list[Any]:
    """The official's departments that issue some licence type."""
    issuing = {code for t in licences.list_types() for code in t.issuing_departments or []}
    return [d for d in orgs.departments_of(request.user) if d.code in issuing]


def _department(request: HttpRequest) -> Any:
    """The department the page acts for (``?department=`` or the first issuing one); 403
    when the official belongs to none."""
    departments = _issuing_departments(request)
    if not departments:
        raise PermissionDenied("not an official of an issuing department")
    wanted = request.GET.get("department") or request.POST.get("department") or ""
    for department in departments:
        if department.code == wanted:
            return department
    return departments[0]


def _crumbs() -> list[Crumb]:
    return [Crumb(_("工作台首页"), reverse("workbench:home")),
            Crumb(_("电子证照"), reverse("workbench:licences"))]


def _licence(request: HttpRequest, pk: int) -> Any:
    licence = licences.get_licence(pk)
    if licence is None or not licences.may_manage(request.user, licence):
        raise Http404("no such licence of your department")
    return licence


@require_safe
@never_cache
@permission_required(MANAGE)
def licence_list(request: HttpRequest) -> HttpResponse:
    """The department's licences, filtered by type, status and number, holders masked."""
    department = _department(request)
    type_code = request.GET.get("type", "")[:40]
    status = request.GET.get("status", "")[:16]
    number = request.GET.get("number", "")[:120]
    found = licences.licences_of_department(department.code, type_code=type_code,
                                            status=status, number=number)
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"licence": lic, "holder": licences.masked_holder(lic),
             "status": licences.effective_status(lic)} for lic in page.object_list]
    return render_page(request, "workbench/licences_list.html", "licences", {
        "department": department, "departments": _issuing_departments(request),
        "types": licences.types_issued_by(department.code), "statuses": licences.LicenceStatus,
        "type_code": type_code, "status": status, "number": number,
        "page": page, "rows": rows,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "may_issue": request.user.has_perm(ISSUE),
    })


def _lookup(code: str) -> dict[str, str] | None:
    """The holder by full ID number or credit code, masked (audited)."""
    code = code.strip().upper()
    if len(code) == 18 and is_valid_credit_code(code):
        enterprise = registry.find_enterprise(code)
        audit.record("licence.holder_lookup", ("registry.enterprise", code),
                     detail={"kind": "enterprise", "found": enterprise is not None})
        return {"kind": "enterprise", "code": code, "name": str(enterprise.name)} \
            if enterprise is not None else None
    if is_valid_id_number(code):
        person = registry.find_person(code)
        audit.record("licence.holder_lookup", person,
                     detail={"kind": "person", "found": person is not None})
        if person is None:
            return None
        return {"kind": "person", "code": code, "masked_code": mask_id_number(code),
                "name": str(registry.masked_person(person).get("name", ""))}
    return None


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(ISSUE)
def issue(request: HttpRequest) -> HttpResponse:
    """Issue a licence: choose a type, find the holder, fill the fields, sign."""
    department = _department(request)
    types = licences.types_issued_by(department.code)
    chosen = next((t for t in types if t.code == (request.POST.get("type")
                                                   or request.GET.get("type"))), None)
    lookup = HolderLookupForm(request.POST if request.method == "POST" else None)
    holder = None
    form = fields_form(chosen.schema) if chosen else None
    errors: list[str] = []
    if request.method == "POST" and chosen is not None and lookup.is_valid():
        holder = _lookup(lookup.cleaned_data["code"])
        if holder is None:
            lookup.add_error("code", _("人口库或法人库中没有这个号码。"))
        elif (holder["kind"] == "enterprise") != (chosen.holder_kind == "enterprise"):
            lookup.add_error("code", _("这类证照的持证主体应为%(kind)s。") % {
                "kind": chosen.get_holder_kind_display()})
            holder = None
        form = fields_form(chosen.schema, request.POST if "issue" in request.POST else None)
        if holder is not None and "issue" in request.POST and form.is_valid():
            values = {k: v for k, v in form.cleaned_data.items() if v not in ("", None)}
            try:
                licence = licences.issue_licence(chosen.code, holder=holder["code"],
                                                 fields=values,
                                                 department_code=department.code,
                                                 actor=request.user)
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for key, problems in exc.message_dict.items():
                        if key in form.fields:
                            form.add_error(key, problems)
                        else:
                            errors.extend(problems)
                else:
                    errors.extend(exc.messages)
            else:
                messages.success(request, _("已签发%(name)s,证照编号 %(number)s。") % {
                    "name": chosen.name, "number": licence.number})
                return redirect(reverse("workbench:licence", args=[licence.pk]))
    return render_page(request, "workbench/licences_issue.html", "licences", {
        "department": department, "departments": _issuing_departments(request),
        "types": types, "chosen": chosen,
        "seal_ready": chosen is not None and licences.may_seal(department.code, chosen.code),
        "lookup": lookup, "holder": holder,
        "form": form, "errors": errors, "crumbs": _crumbs(),
    })


@require_safe
@never_cache
@permission_required(MANAGE)
def licence_detail(request: HttpRequest, pk: int) -> HttpResponse:
    licence = _licence(request, pk)
    return render_page(request, "workbench/licences_detail.html", "licences", {
        "licence": licence, "holder": licences.masked_holder(licence),
        "rows": licences.face_of(licence, masked=True),
        "status": licences.effective_status(licence), "form": ReasonForm(),
        "crumbs": _crumbs(),
    })


@require_POST
@permission_required(MANAGE)
def licence_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Suspend, revoke or reinstate with a reason."""
    licence = _licence(request, pk)
    if action not in ACTIONS:
        raise Http404("unknown action")
    change, label = ACTIONS[action]
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写原因。"))
        return redirect("workbench:licence", pk=pk)
    try:
        change(licence, reason=form.cleaned_data["reason"], actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("证照已%(action)s。") % {"action": label})
    return redirect("workbench:licence", pk=pk)
