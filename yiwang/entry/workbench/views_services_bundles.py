"""一件事一次办 (bundles) in the workbench: list, create and edit a bundle, publish and withdraw.

A bundle has a shared form (built with the drag-and-drop builder, ``forms/builder.html``) and
member matters (published matters, each run on its live version). Each member's form is filled
from the shared data through the member's map (``{member key: bundle key or JSON Logic}``).
The editor shows, for every field of every member's live form, whether the shared form covers
it; publishing is refused while a required member field has no source.

Access: ``services.change_matter`` and membership of the bundle's department (牵头部门) —
an official of another department gets 403. Saving goes through ``service.save_bundle``,
publishing through ``service.publish_bundle``; both check again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from yiwang.enablement.forms import service as form_rules
from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.views import render_page
from yiwang.entry.workbench.views_services_common import CHANGE, NAV
from yiwang.entry.workbench.views_services_common import error_list as _error_list
from yiwang.entry.workbench.views_services_common import has_template as _has_template
from yiwang.industry.services import service
from yiwang.platform.orgs import service as orgs

PER_PAGE = 25
MAX_CANDIDATES = 500  # live matters offered as members; more needs a search (issue 7)
EMPTY_FORM = {"version": 1, "components": []}
RESERVED_CODES = ("new",)


# --- who may edit ------------------------------------------------------------------------

def _bundle_or_403(request: HttpRequest, code: str) -> service.Bundle:
    bundle = service.get_bundle(code)
    if bundle is None:
        raise Http404("no such bundle")
    if not service.may_edit(request.user, bundle.department_code):
        raise PermissionDenied("another department's bundle")
    return bundle


def _my_departments(request: HttpRequest) -> list[Any]:
    if request.user.is_superuser:
        return list(orgs.list_departments())
    return orgs.departments_of(request.user)


# --- the coverage of member fields (pure presentation over the form definitions) ----------

@dataclass
class MemberField:
    key: str
    label: str
    required: bool
    source: str = ""  # what the editor shows: a bundle key or JSON Logic text
    covered: bool = False
    auto: bool = False  # proposed: a shared field of the same key


@dataclass
class MemberView:
    code: str
    name: str
    version_number: int | None
    fields: list[MemberField] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # mapped keys the live form no longer has

    @property
    def missing_required(self) -> list[MemberField]:
        return [f for f in self.fields if f.required and not f.covered]

    @property
    def covered_count(self) -> int:
        return sum(1 for f in self.fields if f.covered)


def _data_fields(components: Any) -> list[dict[str, Any]]:
    """The data components of a definition, through sections (a table is one field)."""
    found: list[dict[str, Any]] = []
    for component in components or []:
        if not isinstance(component, dict):
            continue
        if component.get("type") == "section":
            found.extend(_data_fields(component.get("components")))
        elif component.get("type") != "content" and component.get("key"):
            found.append(component)
    return found


def _label(component: dict[str, Any]) -> str:
    if (translation.get_language() or "").startswith("en") and component.get("label_en"):
        return str(component["label_en"])
    label = component.get("label") or component.get("key") or ""
    if isinstance(label, dict):
        return str(label.get("zh") or label.get("zh-hans") or next(iter(label.values()), ""))
    return str(label)


def _vars(rule: Any) -> set[str]:
    """The variables a JSON Logic rule reads (first path segment)."""
    return {name.split(".")[0] for name in service.logic_vars(rule)}


def _covers(source: Any, keys: set[str]) -> bool:
    if isinstance(source, str):
        return bool(source) and source.split(".")[0] in keys
    # A rule may be a constant ({"cat": ["newborn"]}: no variables) — it always has a value.
    return _vars(source) <= keys


def _source_text(source: Any) -> str:
    return source if isinstance(source, str) else json.dumps(source, ensure_ascii=False)


def member_views(form: dict[str, Any], members: list[dict[str, Any]], *,
                 propose: bool = True) -> list[MemberView]:
    """Each member with every field of its live form and whether the shared form covers it.

    With ``propose``, a field without an explicit source is offered the shared field of the
    same key (the editor; saving makes it explicit). Publication counts explicit sources only,
    as ``project_member_data`` does."""
    keys = {str(c["key"]) for c in _data_fields((form or {}).get("components"))}
    views = []
    for member in members:
        code = member["matter"]
        version = service.published_version(code)
        matter = version.matter if version else service.get_matter(code)
        view = MemberView(code=code, name=matter.name if matter else code,
                          version_number=version.number if version else None)
        mapping = member.get("map") or {}
        for component in _data_fields((version.form if version else {}).get("components")):
            key = str(component["key"])
            source = mapping.get(key)
            auto = propose and source in (None, "") and key in keys
            if auto:
                source = key
            view.fields.append(MemberField(
                key=key, label=_label(component), required=bool(component.get("required")),
                source=_source_text(source) if source not in (None, "") else "",
                covered=source not in (None, "") and _covers(source, keys), auto=auto))
        present = {f.key for f in view.fields}
        view.stale = sorted(k for k in mapping if k not in present)
        views.append(view)
    return views


def _maps_from_post(post: Any, codes: list[str], keys: set[str]
                    ) -> tuple[list[dict[str, Any]], list[str]]:
    """The members with their maps from the editor (``map__<matter>__<key>``). A JSON Logic
    source is checked here (allow-listed operators, variables of the shared form), so a bad
    rule is refused when saved, not when a citizen applies (review L7)."""
    problems: list[str] = []
    members = []
    for code in codes:
        mapping: dict[str, Any] = {}
        prefix = f"map__{code}__"
        for name, value in post.items():
            if not name.startswith(prefix) or not value.strip():
                continue
            key, text = name.removeprefix(prefix), value.strip()
            if text.startswith("{"):
                try:
                    mapping[key] = json.loads(text)
                except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
                    problems.append(_("事项“%(code)s”的字段“%(key)s”的规则不是有效的 JSON。")
                                    % {"code": code, "key": key})
                    continue
                try:
                    form_rules.check_logic(mapping[key], known_keys=keys,
                                           where=f"{code}.{key}")
                except ValidationError as exc:
                    problems.extend(exc.messages)
            else:
                mapping[key] = text
        members.append({"matter": code, "map": mapping})
    return members, problems


# --- the bundle's form -----------------------------------------------------------------------

class BundleForm(forms.Form):
    code = forms.SlugField(label=gettext_lazy("编码"), max_length=40,
                           help_text=gettext_lazy("字母、数字、连字符,创建后不能修改。"))
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100)
    name_en = forms.CharField(label=gettext_lazy("英文名称"), max_length=200, required=False)
    department = forms.ChoiceField(label=gettext_lazy("牵头部门"))
    life_event = forms.ChoiceField(label=gettext_lazy("所属主题"), required=False)
    audience = forms.ChoiceField(label=gettext_lazy("服务对象"), choices=service.Audience.choices)
    summary = forms.CharField(label=gettext_lazy("简介"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    summary_en = forms.CharField(label=gettext_lazy("英文简介"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 3}))
    promised_days = forms.IntegerField(label=gettext_lazy("承诺办结时限(工作日)"),
                                       required=False, min_value=0, max_value=3650)
    shared_materials = forms.CharField(
        label=gettext_lazy("共享材料"), required=False, max_length=500,
        help_text=gettext_lazy("只需提交一次、各事项共用的材料编码,用空格分隔。"))
    members = forms.MultipleChoiceField(
        label=gettext_lazy("成员事项"), widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("只能选择已发布、有在用版本的事项;至少两个。"))

    def __init__(self, *args: Any, departments: list[Any], candidates: list[tuple[str, str]],
                 editing: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [(d.code, d.name) for d in departments]
        self.fields["life_event"].choices = [("", _("(无)"))] + [
            (e.code, f"{e.get_audience_display()} · {e.name}") for e in service.life_events()]
        self.fields["members"].choices = candidates
        if editing:  # a bundle keeps its code and its department (service.save_bundle)
            self.fields["code"].disabled = True
            self.fields["department"].disabled = True
        for name, f in self.fields.items():
            if name != "members":
                f.widget.attrs.setdefault("class", "input")
            f.widget.attrs["data-testid"] = f"bundle-{name}"
            if f.help_text and name != "members":
                f.widget.attrs["aria-describedby"] = f"id_{name}-hint"

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        if code in RESERVED_CODES:
            raise ValidationError(_("“%(code)s”是保留字,请换一个编码。") % {"code": code})
        return code


def _candidates(selected: list[str]) -> list[tuple[str, str]]:
    """The live matters to choose from (and the bundle's current members, live or not)."""
    live = (service.ServiceVersion.objects.filter(state=service.VersionState.PUBLISHED,
                                                  matter__published=True)
            .select_related("matter").order_by("matter__code")[:MAX_CANDIDATES])
    choices = [(v.matter.code, f"{v.matter.name}({v.matter.code},"
                + _("第 %(n)d 版") % {"n": v.number} + ")") for v in live]
    known = {code for code, _label in choices}
    for code in selected:
        if code not in known:
            choices.append((code, f"{code}(" + _("没有在用版本") + ")"))
    return choices


def _initial(bundle: service.Bundle) -> dict[str, Any]:
    return {"code": bundle.code, "name": bundle.name, "name_en": bundle.name_en,
            "department": bundle.department_code,
            "life_event": bundle.life_event.code if bundle.life_event else "",
            "audience": bundle.audience, "summary": bundle.summary,
            "summary_en": bundle.summary_en, "promised_days": bundle.promised_days,
            "shared_materials": " ".join(bundle.shared_materials or []),
            "members": [m["matter"] for m in bundle.members or []]}


# --- pages -----------------------------------------------------------------------------------

@require_safe
@never_cache
@permission_required(CHANGE)
def services_bundles(request: HttpRequest) -> HttpResponse:
    """The bundles of the official's departments (all for a superuser)."""
    departments = service.editable_departments(request.user)
    bundles = service.list_bundles(published_only=False)
    if "*" not in departments:
        bundles = bundles.filter(department_code__in=departments)
    page = Paginator(bundles.order_by("code"), PER_PAGE).get_page(request.GET.get("page") or 1)
    names = {d.code: d for d in orgs.list_departments(include_inactive=True)}
    publishes: dict[str, bool] = {}  # one membership check per department, not per row
    rows = []
    for b in page.object_list:
        if b.department_code not in publishes:
            publishes[b.department_code] = service.may_publish(request.user, b.department_code)
        rows.append({"bundle": b, "department": names.get(b.department_code),
                     "members": len(b.members or []),
                     "may_publish": publishes[b.department_code]})
    return render_page(request, "workbench/services_bundles.html", NAV, {
        "rows": rows, "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number)})


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(CHANGE)
def services_bundle_create(request: HttpRequest) -> HttpResponse:
    """新建一件事."""
    return _edit(request, None)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(CHANGE)
def services_bundle_edit(request: HttpRequest, code: str) -> HttpResponse:
    """The bundle editor: details, members, shared form, how shared fields reach members."""
    return _edit(request, _bundle_or_403(request, code))


def _edit(request: HttpRequest, bundle: service.Bundle | None) -> HttpResponse:
    posted = request.method == "POST"
    selected = (request.POST.getlist("members") if posted
                else [m["matter"] for m in (bundle.members if bundle else [])])
    form = BundleForm(request.POST or None, initial=_initial(bundle) if bundle else None,
                      departments=_my_departments(request), candidates=_candidates(selected),
                      editing=bundle is not None)
    errors: dict[str, list[str]] = {}
    form_json = (request.POST.get("form_definition") or "" if posted
                 else json.dumps(bundle.form if bundle and bundle.form else EMPTY_FORM,
                                 ensure_ascii=False))
    try:
        definition = json.loads(form_json or "{}")
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        definition = {}
        errors["form"] = [_("表单定义不是有效的 JSON。")]
    if posted:
        keys = {str(c["key"]) for c in _data_fields(
            (definition if isinstance(definition, dict) else {}).get("components"))}
        members, problems = _maps_from_post(request.POST, selected, keys)
        if problems:
            errors["members"] = problems
    else:
        members = list(bundle.members or []) if bundle else []
    views = member_views(definition if isinstance(definition, dict) else {}, members)
    if posted and request.POST.get("action") != "refresh" and form.is_valid() and not errors:
        data = form.cleaned_data
        code = bundle.code if bundle else data["code"]
        if bundle is None and service.get_bundle(code) is not None:
            form.add_error("code", _("编码“%(code)s”已被使用。") % {"code": code})
        elif not service.may_edit(request.user, data["department"]):
            form.add_error("department", _("只能选择您所在的部门。"))
        elif not service.may_publish(request.user, data["department"]):
            # service.save_bundle asks for publish_matter; say so instead of its "another
            # department" message (a facade change is asked of the packs helper).
            form.add_error(None, _("保存一件事目前需要“发布和撤下政务服务事项”权限,"
                                   "请联系本部门管理员。"))
        else:
            # Proposed same-key sources are saved as shown, so what is published is explicit.
            for member, view in zip(members, views, strict=True):
                for f in view.fields:
                    if f.auto:
                        member["map"].setdefault(f.key, f.key)
            try:
                saved = service.save_bundle(
                    code=code, name=data["name"], name_en=data["name_en"],
                    department_code=data["department"], form=definition, members=members,
                    life_event=data["life_event"], audience=data["audience"],
                    summary=data["summary"], summary_en=data["summary_en"],
                    shared_materials=data["shared_materials"].split(),
                    promised_days=data["promised_days"], actor=request.user)
            except ValidationError as exc:
                errors = _error_list(exc)
            else:
                messages.success(request, _("一件事已保存。发布后才对群众生效。"))
                return redirect("workbench:services_bundle_edit", code=saved.code)
    builder = _has_template("forms/builder.html")
    return render_page(request, "workbench/services_bundle.html", NAV, {
        "bundle": bundle, "form": form, "errors": errors, "form_json": form_json,
        "builder": builder,
        "builder_html": render_to_string(
            "forms/builder.html", {"definition_json": form_json, "field_name": "form_definition",
                                   "errors": errors.get("form")}, request) if builder else "",
        "members": views,
        "shared_keys": sorted({str(c["key"]) for c in _data_fields(
            (definition if isinstance(definition, dict) else {}).get("components"))}),
        "blocking": [(v, f) for v in views for f in v.missing_required],
        "warnings": service.bundle_warnings(bundle) if bundle is not None else [],
        "may_publish": bundle is not None and service.may_publish(request.user,
                                                                  bundle.department_code),
    })


@require_POST
@permission_required(CHANGE)
def services_bundle_publish(request: HttpRequest, code: str) -> HttpResponse:
    """Publish (freeze the working fields) or withdraw a bundle of the official's department.

    Publishing is refused while a required field of a member's live form has no source in the
    shared form (the applicant could never complete that member)."""
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
            blocking = [(v, f) for v in member_views(bundle.form or {}, bundle.members or [],
                                                  propose=False)
                        for f in v.missing_required]
            if blocking:
                for view, f in blocking:
                    messages.error(request, _("不能发布:事项“%(matter)s”的必填字段“%(field)s”"
                                              "在一件事表单中没有来源。")
                                   % {"matter": view.name, "field": f.label})
            else:
                service.publish_bundle(bundle, request.user)
                messages.success(request, _("一件事已发布。"))
    except ValidationError as exc:
        for errors in _error_list(exc).values():
            for message in errors:
                messages.error(request, message)
    return redirect("workbench:services_bundle_edit", code=bundle.code)
