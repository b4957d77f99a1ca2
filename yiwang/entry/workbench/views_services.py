"""服务事项 in the workbench: officials build and run the catalogue of their departments.

The path an administrator takes to put a new service online: create the matter → edit its
guide (办事指南) → new draft version → form builder (``forms/builder.html``) → approval flow
editor (``workflow/editor.html``) → fee decision table (empty = free) → licence mapping →
publish. Every page needs ``services.change_matter``; a matter of a department the official
does not belong to is refused (403) here and again by the service; publishing and
withdrawing also need ``services.publish_matter``.

This module holds the catalogue and the matters (list, create, overview, guide, publish,
service-pack export and import); :mod:`.views_services_versions` the version editor and
:mod:`.views_services_bundles` the bundles (一件事一次办).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.views import render_page
from yiwang.entry.workbench.views_services_common import CHANGE, NAV
from yiwang.entry.workbench.views_services_common import error_list as _error_list
from yiwang.entry.workbench.views_services_common import matter_or_403 as _matter
from yiwang.industry.services import service
from yiwang.platform.orgs import service as orgs

BUNDLES_ON_LIST = 10  # the rest are on the bundles page
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
                    for b in _bundles_of(departments)[:BUNDLES_ON_LIST]],
    })


def _bundles_of(departments: list[str]) -> Any:
    bundles = service.list_bundles(published_only=False)
    if "*" not in departments:
        bundles = bundles.filter(department_code__in=departments)
    return bundles


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
            except (ValueError, RecursionError):  # UnicodeDecodeError, JSONDecodeError
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
