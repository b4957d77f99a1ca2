"""服务事项 in the workbench: officials build and run the catalogue of their departments.

The path an administrator takes to put a new service online: create the matter → edit its
guide (办事指南) → new draft version → form builder (``forms/builder.html``) → approval flow
editor (``workflow/editor.html``) → fee decision table (empty = free) → licence mapping →
publish. Every page needs ``services.change_matter``; a matter of a department the official
does not belong to is refused (403) here and again by the service; publishing and
withdrawing also need ``services.publish_matter``.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.views import render_page
from yiwang.industry.services import service
from yiwang.platform.orgs import service as orgs

CHANGE = "services.change_matter"
NAV = "services"
YES_NO = (("yes", gettext_lazy("是")), ("no", gettext_lazy("否")))
# The guide's lists, edited as rows: (field, legend, [(column, label, input kind, choices)]).
ROW_FIELDS: list[tuple[str, Any, list[tuple[str, Any, str, Any]]]] = [
    ("legal_basis", gettext_lazy("设定依据"), [
        ("title", gettext_lazy("法律法规名称"), "text", None),
        ("article", gettext_lazy("条款"), "text", None)]),
    ("materials", gettext_lazy("申请材料"), [
        ("code", gettext_lazy("材料编码"), "text", None),
        ("name", gettext_lazy("材料名称"), "text", None),
        ("required", gettext_lazy("必要"), "select", YES_NO),
        ("source", gettext_lazy("来源渠道"), "text", None),
        ("form", gettext_lazy("材料形式"), "select", (
            ("electronic", gettext_lazy("电子")), ("paper", gettext_lazy("纸质")),
            ("both", gettext_lazy("纸质或电子")))),
        ("copies", gettext_lazy("份数"), "number", None),
        ("licence_types", gettext_lazy("可代替的电子证照(类型代码,空格分隔)"), "text", None),
        ("form_key", gettext_lazy("表单上传字段"), "text", None),
        ("note", gettext_lazy("备注"), "text", None)]),
    ("process", gettext_lazy("办理流程"), [
        ("name", gettext_lazy("环节"), "text", None),
        ("description", gettext_lazy("说明"), "textarea", None)]),
    ("channels", gettext_lazy("办理地点和渠道"), [
        ("kind", gettext_lazy("渠道"), "select", (
            ("window", gettext_lazy("窗口办理")), ("online", gettext_lazy("网上办理")),
            ("mobile", gettext_lazy("掌上办理")), ("self_service", gettext_lazy("自助终端")))),
        ("name", gettext_lazy("名称"), "text", None),
        ("address", gettext_lazy("地址"), "text", None),
        ("hours", gettext_lazy("办公时间"), "text", None)]),
    ("faq", gettext_lazy("常见问题"), [
        ("q", gettext_lazy("问题"), "text", None),
        ("a", gettext_lazy("回答"), "textarea", None)]),
]


def _rows_from_post(post: Any) -> dict[str, list[dict[str, Any]]]:
    """The guide's lists from the row editors (``<field>-<column>`` repeated per row);
    rows left empty are dropped."""
    lists: dict[str, list[dict[str, Any]]] = {}
    for field, _legend, columns in ROW_FIELDS:
        values = [post.getlist(f"{field}-{col}") for col, _l, _k, _c in columns]
        rows = []
        for cells in zip(*values, strict=False):
            row = {col: cell.strip() for (col, _l, _k, _c), cell in zip(columns, cells,
                                                                        strict=True)}
            if not any(v for k, v in row.items() if k not in ("required", "form", "kind",
                                                                "copies")):
                continue
            if field == "materials":
                row["required"] = row["required"] != "no"
                row["copies"] = int(row["copies"]) if row["copies"].isdigit() else 1
                row["licence_types"] = row["licence_types"].replace(",", " ").split()
            rows.append(row)
        lists[field] = rows
    return lists


def _row_editors(lists: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """What the row-editor template needs: each list with one empty row to fill in."""
    editors = []
    for field, legend, columns in ROW_FIELDS:
        rows = []
        for item in [*lists.get(field, []), {}]:
            cells = []
            for col, label, kind, choices in columns:
                value = item.get(col, "")
                if col == "required":
                    value = "no" if value is False else "yes"
                elif col == "licence_types":
                    value = " ".join(value or [])
                cells.append({"col": col, "label": label, "kind": kind, "choices": choices,
                              "value": "" if value is None else value})
            rows.append(cells)
        editors.append({"field": field, "legend": legend, "columns": columns, "rows": rows})
    return editors


def _matter(request: HttpRequest, code: str) -> service.Matter:
    matter = service.get_matter(code)
    if matter is None:
        raise Http404("no such matter")
    if not service.may_edit(request.user, matter):
        raise PermissionDenied("another department's matter")
    return matter


def _version(request: HttpRequest, pk: int) -> service.ServiceVersion:
    version = service.get_version(pk)
    if version is None:
        raise Http404("no such version")
    if not service.may_edit(request.user, version.matter):
        raise PermissionDenied("another department's matter")
    return version


def _error_list(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def _has_template(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


# --- forms ---------------------------------------------------------------------------------

class MatterForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("事项编码"), max_length=40,
                           widget=forms.TextInput(attrs={"class": "input",
                                                         "data-testid": "matter-code"}))
    name = forms.CharField(label=gettext_lazy("事项名称"), max_length=100,
                           widget=forms.TextInput(attrs={"class": "input",
                                                         "data-testid": "matter-name"}))
    name_en = forms.CharField(label=gettext_lazy("英文名称"), max_length=200, required=False,
                              widget=forms.TextInput(attrs={"class": "input"}))
    department = forms.ChoiceField(label=gettext_lazy("实施主体"),
                                   widget=forms.Select(attrs={"class": "input",
                                                              "data-testid": "matter-department"}))
    kind = forms.ChoiceField(label=gettext_lazy("事项类型"), choices=service.MatterKind.choices,
                             widget=forms.Select(attrs={"class": "input"}))
    audience = forms.ChoiceField(label=gettext_lazy("服务对象"), choices=service.Audience.choices,
                                 widget=forms.Select(attrs={"class": "input",
                                                            "data-testid": "matter-audience"}))

    def __init__(self, *args: Any, departments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [(d.code, d.name) for d in departments]


class GuideForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("事项名称"), max_length=100)
    name_en = forms.CharField(label=gettext_lazy("英文名称"), max_length=200, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("事项类型"), choices=service.MatterKind.choices)
    audience = forms.ChoiceField(label=gettext_lazy("服务对象"), choices=service.Audience.choices)
    life_events = forms.MultipleChoiceField(label=gettext_lazy("所属主题"), required=False,
                                            widget=forms.CheckboxSelectMultiple)
    keywords = forms.CharField(label=gettext_lazy("关键词"), max_length=200, required=False,
                               help_text=gettext_lazy("用空格分隔,供搜索使用。"))
    online_level = forms.TypedChoiceField(label=gettext_lazy("网上办理深度"), coerce=int,
                                          choices=service.OnlineLevel.choices)
    summary = forms.CharField(label=gettext_lazy("事项简介"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    summary_en = forms.CharField(label=gettext_lazy("英文简介"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 3}))
    conditions = forms.CharField(label=gettext_lazy("受理条件"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 4}))
    fee_description = forms.CharField(label=gettext_lazy("收费标准"), required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}))
    statutory_days = forms.IntegerField(label=gettext_lazy("法定办结时限(工作日)"),
                                        required=False, min_value=0, max_value=3650)
    promised_days = forms.IntegerField(label=gettext_lazy("承诺办结时限(工作日)"),
                                       required=False, min_value=0, max_value=3650)
    visits = forms.IntegerField(label=gettext_lazy("到现场次数"), min_value=0, max_value=10,
                                initial=0)
    consult_phone = forms.CharField(label=gettext_lazy("咨询电话"), max_length=40, required=False)
    complaint_phone = forms.CharField(label=gettext_lazy("监督投诉电话"), max_length=40,
                                      required=False)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["life_events"].choices = [
            (e.code, f"{e.get_audience_display()} · {e.name}") for e in service.life_events()]
        for name, field in self.fields.items():
            if name != "life_events":
                field.widget.attrs.setdefault("class", "input")
            field.widget.attrs["data-testid"] = f"guide-{name}"


def _guide_initial(matter: service.Matter) -> dict[str, Any]:
    initial = {f: getattr(matter, f) for f in (
        "name", "name_en", "kind", "audience", "keywords", "online_level", "summary",
        "summary_en", "conditions", "fee_description", "statutory_days", "promised_days",
        "visits", "consult_phone", "complaint_phone")}
    initial["life_events"] = [e.code for e in matter.life_events.all()]
    return initial


# --- catalogue list, create, matter overview ---------------------------------------------

@require_safe
@never_cache
@permission_required(CHANGE)
def services_list(request: HttpRequest) -> HttpResponse:
    """The matters of the official's departments (all for a superuser), with search."""
    q = (request.GET.get("q") or "").strip()[:50]
    departments = service.editable_departments(request.user)
    page = service.list_matters(q=q, published_only=False, departments=departments,
                                page=request.GET.get("page") or 1, per_page=25)
    drafts = set(service.ServiceVersion.objects.filter(
        matter__in=page.object_list, state=service.VersionState.DRAFT)
        .values_list("matter_id", flat=True))
    live = dict(service.ServiceVersion.objects.filter(
        matter__in=page.object_list, state=service.VersionState.PUBLISHED)
        .values_list("matter_id", "number"))
    names = {d.code: d for d in orgs.list_departments(include_inactive=True)}
    rows = [{"matter": m, "department": names.get(m.department_code), "draft": m.pk in drafts,
             "live": live.get(m.pk)} for m in page.object_list]
    return render_page(request, "workbench/services_list.html", NAV, {
        "rows": rows, "page": page, "query": q,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "bundles": [{"bundle": b, "may_publish": service.may_publish(request.user,
                                                                      b.department_code)}
                    for b in service.list_bundles(published_only=False)],
    })


def _my_departments(request: HttpRequest) -> list[Any]:
    if request.user.is_superuser:
        return list(orgs.list_departments())
    return orgs.departments_of(request.user)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(CHANGE)
def services_create(request: HttpRequest) -> HttpResponse:
    """新建事项: code, name, department (one of the official's), kind, audience."""
    form = MatterForm(request.POST or None, departments=_my_departments(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            matter = service.create_matter(
                code=data["code"], name=data["name"], name_en=data["name_en"],
                department_code=data["department"], kind=data["kind"],
                audience=data["audience"], actor=request.user)
        except ValidationError as exc:
            for field, errors in _error_list(exc).items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("事项已创建,请填写办事指南。"))
            return redirect("workbench:services_guide", code=matter.code)
    return render_page(request, "workbench/services_create.html", NAV, {"form": form})


@require_safe
@never_cache
@permission_required(CHANGE)
def services_matter(request: HttpRequest, code: str) -> HttpResponse:
    """A matter: its state, its versions (history) and the actions on it."""
    matter = _matter(request, code)
    versions = list(service.versions_of(matter))
    return render_page(request, "workbench/services_matter.html", NAV, {
        "matter": matter, "versions": versions,
        "draft": next((v for v in versions if v.state == service.VersionState.DRAFT), None),
        "live": next((v for v in versions if v.state == service.VersionState.PUBLISHED), None),
        "may_publish": service.may_publish(request.user, matter),
        "department": orgs.get_department(matter.department_code),
        "portal_url": f"{str(settings.YIWANG_PUBLIC_URL).rstrip('/')}/services/{matter.code}/",
    })


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(CHANGE)
def services_guide(request: HttpRequest, code: str) -> HttpResponse:
    """办事指南 editor."""
    matter = _matter(request, code)
    form = GuideForm(request.POST or None, initial=_guide_initial(matter))
    lists = (_rows_from_post(request.POST) if request.method == "POST"
             else {f: getattr(matter, f) or [] for f, _l, _c in ROW_FIELDS})
    list_errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        events = data.pop("life_events")
        try:
            service.update_guide(matter, actor=request.user, life_event_codes=events,
                                 **data, **lists)
        except ValidationError as exc:
            for field, errors in _error_list(exc).items():
                for message in errors:
                    if field in form.fields:
                        form.add_error(field, message)
                    else:
                        list_errors.append(message)
        else:
            messages.success(request, _("办事指南已保存。"))
            return redirect("workbench:services_matter", code=matter.code)
    return render_page(request, "workbench/services_guide.html", NAV, {
        "matter": matter, "form": form, "editors": _row_editors(lists),
        "list_errors": list_errors})


@require_POST
@permission_required(CHANGE)
def services_new_version(request: HttpRequest, code: str) -> HttpResponse:
    """新建草稿: a copy of the latest version (the existing draft if there is one)."""
    matter = _matter(request, code)
    version = service.create_draft(matter, request.user)
    return redirect("workbench:services_version", pk=version.pk)


@require_POST
@permission_required(CHANGE)
def services_publish_matter(request: HttpRequest, code: str) -> HttpResponse:
    """List (``publish``) or withdraw (``unpublish``) a matter."""
    matter = _matter(request, code)
    if not service.may_publish(request.user, matter):
        raise PermissionDenied("may not publish")
    if request.POST.get("action") == "unpublish":
        service.unpublish_matter(matter, request.user)
        messages.success(request, _("事项已撤下,不再接受新的申请;已受理的办件按原版本继续办理。"))
    else:
        service.publish_matter(matter, request.user)
        messages.success(request, _("办事指南已在门户公开。"))
    return redirect("workbench:services_matter", code=matter.code)


@require_safe
@permission_required(CHANGE)
def services_export(request: HttpRequest, code: str) -> HttpResponse:
    """The matter's service pack (服务包) as a JSON download."""
    matter = _matter(request, code)
    body = json.dumps(service.export_definition(matter), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{matter.code}.json"'
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(CHANGE)
def services_import(request: HttpRequest) -> HttpResponse:
    """Import a service pack file (a matter of one of the official's departments)."""
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("pack")
        if upload is None or upload.size > 2 * 1024 * 1024:
            errors.append(_("请选择不超过 2 MB 的服务包 JSON 文件。"))
        else:
            try:
                pack = json.loads(upload.read().decode("utf-8"))
                item = service.import_definition(pack, request.user)
            except (UnicodeDecodeError, json.JSONDecodeError):
                errors.append(_("文件不是 UTF-8 编码的 JSON。"))
            except ValidationError as exc:
                errors = [f"{k}: {m}" if k != "__all__" else m
                          for k, v in _error_list(exc).items() for m in v]
            else:
                messages.success(request, _("服务包已导入。"))
                if isinstance(item, service.Matter):
                    return redirect("workbench:services_matter", code=item.code)
                return redirect("workbench:services")
    return render_page(request, "workbench/services_import.html", NAV, {"errors": errors})


# --- the version editor ----------------------------------------------------------------------

def _fee_rows_from_post(post: Any) -> tuple[dict[str, Any], list[str]]:
    """The fee table from the editor's rows (amounts typed in yuan, kept in fen)."""
    problems: list[str] = []
    rows = []
    whens, items = post.getlist("fee_when"), post.getlist("fee_item")
    items_en, amounts = post.getlist("fee_item_en"), post.getlist("fee_amount")
    for number, (when_text, item, item_en, amount) in enumerate(
            zip(whens, items, items_en, amounts, strict=False), start=1):
        if not (when_text.strip() or item.strip() or amount.strip()):
            continue  # an empty row of the editor
        try:
            when = json.loads(when_text) if when_text.strip() else True
        except json.JSONDecodeError:
            problems.append(_("第%(n)d行的条件不是有效的 JSON。") % {"n": number})
            continue
        try:
            fen = int((Decimal(amount.strip() or "0") * 100).to_integral_exact())
        except (InvalidOperation, ValueError):
            problems.append(_("第%(n)d行的金额不是数字(单位:元,最多两位小数)。") % {"n": number})
            continue
        rows.append({"when": when, "item": item.strip(), "item_en": item_en.strip(),
                     "amount_fen": fen})
    return {"hit_policy": post.get("fee_hit_policy") or "FIRST", "rows": rows}, problems


def _licence_from_post(post: Any) -> tuple[dict[str, Any], list[str]]:
    code = (post.get("licence_type") or "").strip()
    if not code:
        return {}, []
    mapping: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in post.items():
        if not key.startswith("licence_map__") or not value.strip():
            continue
        field = key.removeprefix("licence_map__")
        text = value.strip()
        if text.startswith("{"):
            try:
                mapping[field] = json.loads(text)
            except json.JSONDecodeError:
                problems.append(_("字段“%(field)s”的规则不是有效的 JSON。") % {"field": field})
        else:
            mapping[field] = text
    return {"type": code, "map": mapping}, problems


def _licence_rows(version: service.ServiceVersion, type_code: str) -> list[dict[str, Any]]:
    from yiwang.support.licences import service as licences

    ltype = licences.get_type(type_code) if type_code else None
    if ltype is None:
        return []
    mapping = (version.licence or {}).get("map") or {}
    rows = []
    for spec in (ltype.schema or {}).get("fields", []):
        source = mapping.get(spec["key"], "")
        rows.append({"key": spec["key"], "label": spec["label"],
                     "required": spec.get("required", False), "holder": spec.get("holder"),
                     "source": source if isinstance(source, str)
                     else json.dumps(source, ensure_ascii=False)})
    return rows


def _fee_display_rows(table: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for row in (table or {}).get("rows") or []:
        when = row.get("when", True)
        rows.append({"when": "" if when is True else json.dumps(when, ensure_ascii=False),
                     "item": row.get("item", ""), "item_en": row.get("item_en", ""),
                     "amount": f"{Decimal(int(row.get('amount_fen', 0))) / 100:.2f}"})
    return rows


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(CHANGE)
def services_version(request: HttpRequest, pk: int) -> HttpResponse:
    """The service-version editor: form, approval flow, fees, licence mapping (a draft), or
    the frozen content of a published/retired version."""
    version = _version(request, pk)
    errors: dict[str, list[str]] = {}
    editable = version.state == service.VersionState.DRAFT
    if request.method == "POST":
        if not editable:
            raise PermissionDenied("frozen version")
        fee_table, fee_problems = _fee_rows_from_post(request.POST)
        licence, licence_problems = _licence_from_post(request.POST)
        if fee_problems:
            errors["fee_table"] = fee_problems
        if licence_problems:
            errors["licence"] = licence_problems
        refresh = request.POST.get("action") == "refresh"
        parts: dict[str, Any] = {}
        try:
            parts["form"] = json.loads(request.POST.get("form_definition") or "{}")
        except json.JSONDecodeError:
            errors["form"] = [_("表单定义不是有效的 JSON。")]
        try:
            flow_text = request.POST.get("flow_spec") or ""
            if flow_text.strip():
                parts["flow_spec"] = json.loads(flow_text)
            imported = bool(version.bpmn) and not version.flow_spec
            if imported and not (parts.get("flow_spec") or {}).get("steps"):
                parts.pop("flow_spec", None)  # an empty editor keeps the imported BPMN
        except json.JSONDecodeError:
            errors["flow"] = [_("审批流程不是有效的 JSON。")]
        if not errors and not refresh:
            try:
                version = service.save_draft(version, fee_table=fee_table, licence=licence,
                                             note=request.POST.get("note"),
                                             actor=request.user, **parts)
            except ValidationError as exc:
                errors = _error_list(exc)
            else:
                messages.success(request, _("草稿已保存。"))
                return redirect("workbench:services_version", pk=version.pk)
    from yiwang.enablement.workflow import service as workflow
    from yiwang.support.licences import service as licences

    licence_type = (request.POST.get("licence_type") if request.method == "POST"
                    else (version.licence or {}).get("type", "")) or ""
    posted = request.method == "POST"
    form_json = (request.POST.get("form_definition") if posted
                 else json.dumps(version.form or {"version": 1, "components": []},
                                 ensure_ascii=False))
    flow_json = (request.POST.get("flow_spec") if posted
                 else json.dumps(version.flow_spec or {"version": 1, "steps": []},
                                 ensure_ascii=False))
    try:
        flow_context = workflow.editor_context(
            version.flow_spec or None, bpmn=version.bpmn or None, field_name="flow_spec",
            import_url=reverse("workbench:services_version_bpmn", args=[version.pk]))
    except (NotImplementedError, ImportError):  # not built yet: the JSON box still works
        flow_context = None
    builder = editable and _has_template("forms/builder.html")
    flow_editor = (editable and flow_context is not None
                   and _has_template("workflow/editor.html"))
    if posted and flow_context is not None and request.POST.get("flow_spec"):
        flow_context["spec_json"] = request.POST["flow_spec"]
    return render_page(request, "workbench/services_version.html", NAV, {
        "version": version, "matter": version.matter, "editable": editable, "errors": errors,
        "form_json": form_json, "flow_json": flow_json,
        "builder": builder, "flow_editor": flow_editor,
        "builder_html": render_to_string(
            "forms/builder.html", {"definition_json": form_json, "field_name": "form_definition",
                                   "errors": errors.get("form")}, request) if builder else "",
        "flow_html": render_to_string("workflow/editor.html", flow_context or {}, request)
        if flow_editor else "",
        "fee_rows": [*_fee_display_rows(version.fee_table),
                     {"when": "", "item": "", "item_en": "", "amount": ""}],
        "hit_policy": (version.fee_table or {}).get("hit_policy", "FIRST"),
        "licence_types": licences.types_issued_by(version.matter.department_code),
        "licence_type": licence_type,
        "licence_rows": _licence_rows(version, licence_type),
        "may_publish": service.may_publish(request.user, version.matter),
    })


@require_POST
@permission_required(CHANGE)
def services_version_bpmn(request: HttpRequest, pk: int) -> HttpResponse:
    """The flow editor's BPMN import box: a file drawn in Camunda Modeler replaces the flow."""
    version = _version(request, pk)
    upload = request.FILES.get("bpmn") or request.FILES.get("file")
    if upload is None or upload.size > 1024 * 1024:
        messages.error(request, _("请选择不超过 1 MB 的 BPMN 文件。"))
    else:
        try:
            service.save_draft(version, bpmn=upload.read().decode("utf-8", "replace"),
                               actor=request.user)
        except ValidationError as exc:
            for errors in _error_list(exc).values():
                for message in errors:
                    messages.error(request, message)
        else:
            messages.success(request, _("BPMN 流程已导入。"))
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"ok": True})
    return redirect("workbench:services_version", pk=version.pk)


@require_POST
@permission_required(CHANGE)
def services_version_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """发布: the draft goes live at once; the previous version is retired."""
    version = _version(request, pk)
    if not service.may_publish(request.user, version.matter):
        raise PermissionDenied("may not publish")
    try:
        service.publish_version(version, request.user)
    except ValidationError as exc:
        for errors in _error_list(exc).values():
            for message in errors:
                messages.error(request, message)
        return redirect("workbench:services_version", pk=version.pk)
    messages.success(request, _("第 %(n)d 版已发布,立即生效。") % {"n": version.number})
    return redirect("workbench:services_matter", code=version.matter.code)


@require_POST
@permission_required(CHANGE)
def services_bundle_publish(request: HttpRequest, code: str) -> HttpResponse:
    """Publish (freeze the working fields) or withdraw a bundle of the official's department."""
    bundle = service.get_bundle(code)
    if bundle is None:
        raise Http404("no such bundle")
    if not service.may_publish(request.user, bundle.department_code):
        raise PermissionDenied("another department's bundle")
    try:
        if request.POST.get("action") == "unpublish":
            service.unpublish_bundle(bundle, request.user)
            messages.success(request, _("一件事已撤下。"))
        else:
            service.publish_bundle(bundle, request.user)
            messages.success(request, _("一件事已发布。"))
    except ValidationError as exc:
        for errors in _error_list(exc).values():
            for message in errors:
                messages.error(request, message)
    return redirect("workbench:services")
