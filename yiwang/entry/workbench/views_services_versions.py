"""The service-version editor (服务版本) in the workbench: a draft's form (drag-and-drop
builder), approval flow, fee decision table and licence mapping; BPMN import; publication.

Every page needs ``services.change_matter`` and membership of the matter's department;
publishing also ``services.publish_matter``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.views import render_page
from yiwang.entry.workbench.views_services_common import CHANGE, NAV
from yiwang.entry.workbench.views_services_common import error_list as _error_list
from yiwang.entry.workbench.views_services_common import has_template as _has_template
from yiwang.entry.workbench.views_services_common import version_or_403 as _version
from yiwang.industry.services import service


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
        except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
            problems.append(_("第%(n)d行的条件不是有效的 JSON。") % {"n": number})
            continue
        try:
            value = Decimal(amount.strip() or "0")
            if not value.is_finite():
                raise ValueError(amount)
            if value.adjusted() > 9:  # ten digits of yuan: out of range whatever follows (and
                # ``int()`` of 1e999999 would keep a worker busy for half a minute)
                problems.append(_("第%(n)d行的金额超出范围。") % {"n": number})
                continue
            cents = value * 100
            fen = int(cents)
        except (ArithmeticError, ValueError):  # InvalidOperation and Overflow among them
            problems.append(_("第%(n)d行的金额不是数字(单位:元,最多两位小数)。") % {"n": number})
            continue
        if cents != fen:  # the service's check sees whole fen only: 12.345 would be 1234
            problems.append(_("第%(n)d行的金额最多两位小数(单位:元)。") % {"n": number})
            continue
        rows.append({"when": when, "item": item.strip(), "item_en": item_en.strip(),
                     "amount_fen": fen})
    return {"hit_policy": post.get("fee_hit_policy") or "FIRST", "rows": rows}, problems


def _json_source(text: str, what: str, problems: list[str]) -> Any:
    """A posted source: a form key, or JSON Logic when it starts with ``{``."""
    if not text.startswith("{"):
        return text
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        problems.append(_("%(what)s的规则不是有效的 JSON。") % {"what": what})
        return None


def _licence_from_post(post: Any) -> tuple[dict[str, Any], list[str]]:
    """The licence mapping from the editor's section 4: the type, its field map and the
    holder (持证主体) when a kind other than the applicant is chosen."""
    code = (post.get("licence_type") or "").strip()
    if not code:
        return {}, []
    mapping: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in post.items():
        if not key.startswith("licence_map__") or not value.strip():
            continue
        field = key.removeprefix("licence_map__")
        source = _json_source(value.strip(), _("字段“%(field)s”") % {"field": field}, problems)
        if source is not None:
            mapping[field] = source
    licence: dict[str, Any] = {"type": code, "map": mapping}
    kind = (post.get("licence_holder_kind") or "").strip()
    if kind:
        holder: dict[str, Any] = {"kind": kind}
        # Only the chosen kind's sources: fields of a kind chosen before are left behind.
        for name, label, _required in service.holder_sources_of(kind):
            text = (post.get(f"licence_holder__{name}") or "").strip()
            if text:
                source = _json_source(text, _("持证主体的“%(name)s”") % {"name": label},
                                      problems)
                if source is not None:
                    holder[name] = source
        licence["holder"] = holder  # an unknown kind is named by the service's check
    return licence, problems


def _source_text(source: Any) -> str:
    return source if isinstance(source, str) else json.dumps(source, ensure_ascii=False)


def _licence_rows(mapping: dict[str, Any], type_code: str) -> list[dict[str, Any]]:
    """The licence type's fields with their sources (``mapping``: field → source)."""
    from yiwang.support.licences import service as licences

    ltype = licences.get_type(type_code) if type_code else None
    if ltype is None:
        return []
    rows = []
    for spec in (ltype.schema or {}).get("fields", []):
        rows.append({"key": spec["key"], "label": spec["label"],
                     "required": spec.get("required", False), "holder": spec.get("holder"),
                     "source": _source_text(mapping.get(spec["key"], ""))})
    return rows


def _holder_part(holder: dict[str, Any], type_code: str) -> dict[str, Any]:
    """Section 4's 持证主体: the kinds that fit the licence type (and the chosen one, even when
    it does not fit, so that saving names the problem rather than dropping it) and one row
    per source of the chosen kind (``holder``: the chosen kind and its sources)."""
    from yiwang.support.licences import service as licences

    ltype = licences.get_type(type_code) if type_code else None
    kind = str(holder.get("kind") or "")
    kinds = service.holder_kinds_for(str(ltype.holder_kind)) if ltype is not None else []
    if kind and kind not in kinds:
        kinds.append(kind)
    return {
        "holder_kinds": [(k, str(service.HOLDER_KIND_LABELS.get(k, k))) for k in kinds],
        "holder_kind": kind,
        "holder_rows": [{"name": name, "label": label, "required": required,
                         "source": _source_text(holder.get(name, ""))}
                        for name, label, required in service.holder_sources_of(kind)],
    }


def _posted_licence(post: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The licence map and holder as typed (text, unparsed), to show them again."""
    mapping = {k.removeprefix("licence_map__"): v for k, v in post.items()
               if k.startswith("licence_map__")}
    kind = (post.get("licence_holder_kind") or "").strip()
    holder = {"kind": kind, **{name: post.get(f"licence_holder__{name}", "")
                               for name, _label, _required in service.holder_sources_of(kind)}}
    return mapping, holder


def _fee_display_rows(table: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for row in (table or {}).get("rows") or []:
        when = row.get("when", True)
        rows.append({"when": "" if when is True else json.dumps(when, ensure_ascii=False),
                     "item": row.get("item", ""), "item_en": row.get("item_en", ""),
                     "amount": f"{Decimal(int(row.get('amount_fen', 0))) / 100:.2f}"})
    return rows


class _Names:
    """Department and position names for the flow summary, each department read once."""

    def __init__(self, matter_department: str) -> None:
        self.matter_department = matter_department
        self._known: dict[str, tuple[str, dict[str, str]]] = {}

    def _department(self, code: str) -> tuple[str, dict[str, str]]:
        from yiwang.platform.orgs import service as orgs

        if code not in self._known:
            found = orgs.get_department(code)
            self._known[code] = (code, {}) if found is None else (
                found.name, {p.code: p.name for p in orgs.positions_of(found)})
        return self._known[code]

    def who(self, department: str | None, position: str | None) -> str:
        if department == "$applicant_department":
            return _("申请人所在部门") + (f" · {position}" if position else "")
        code = self.matter_department if department == "$matter" else department or ""
        name, positions = self._department(code)
        if department == "$matter":
            name = _("%(name)s(本事项实施部门)") % {"name": name}
        return f"{name} · {positions.get(position, position)}" if position else name


def _readable_steps(steps: list[dict[str, Any]], names: _Names) -> list[dict[str, Any]]:
    """A flow spec's steps for people: who does each, in how many days; gateways with their
    branches (conditions as JSON Logic) and the steps of each, nested."""
    out: list[dict[str, Any]] = []
    for step in steps:
        item: dict[str, Any] = {"kind": step.get("kind"), "name": step.get("name") or "",
                                "days": step.get("days"), "timer": step.get("timer")}
        if step.get("kind") == "task":
            item["who"] = [names.who(step.get("department"), step.get("position"))]
        elif step.get("kind") == "countersign":
            item["who"] = [names.who(p.get("department"), p.get("position"))
                           for p in step.get("parties") or []]
        elif step.get("kind") == "gateway":
            item["branches"] = [{
                "name": branch.get("name") or "", "otherwise": bool(branch.get("otherwise")),
                "when": "" if branch.get("otherwise")
                else json.dumps(branch.get("when"), ensure_ascii=False),
                "steps": _readable_steps(branch.get("steps") or [], names),
            } for branch in step.get("branches") or []]
        out.append(item)
    return out


def _flow_summary(version: service.ServiceVersion) -> list[dict[str, Any]]:
    """The frozen version's flow as readable steps ([] for a BPMN drawn elsewhere)."""
    from yiwang.enablement.workflow import service as workflow

    spec = version.flow_spec or (workflow.spec_from_bpmn(version.bpmn) if version.bpmn
                                 else None)
    if not spec:
        return []
    return _readable_steps(spec.get("steps") or [], _Names(version.matter.department_code))


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(CHANGE)
def services_version(request: HttpRequest, pk: int) -> HttpResponse:
    """The service-version editor: form, approval flow, fees, licence mapping (a draft), or
    the frozen content of a published/retired version."""
    version = _version(request, pk)
    errors: dict[str, list[str]] = {}
    editable = version.state == service.VersionState.DRAFT
    if request.method == "POST" and request.POST.get("action") in ("discard", "discard_confirmed"):
        return _discard(request, version)
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
        except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
            errors["form"] = [_("表单定义不是有效的 JSON。")]
        try:
            flow_text = request.POST.get("flow_spec") or ""
            if flow_text.strip():
                parts["flow_spec"] = json.loads(flow_text)
            imported = bool(version.bpmn) and not version.flow_spec
            if imported and not (parts.get("flow_spec") or {}).get("steps"):
                parts.pop("flow_spec", None)  # an empty editor keeps the imported BPMN
        except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
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

    posted = request.method == "POST"
    licence_type = (request.POST.get("licence_type") if posted
                    else (version.licence or {}).get("type", "")) or ""
    if posted:
        licence_map, licence_holder = _posted_licence(request.POST)
    else:
        licence_map = (version.licence or {}).get("map") or {}
        licence_holder = (version.licence or {}).get("holder") or {}
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
    flow_steps = [] if editable else _flow_summary(version)
    flow_svg = "" if editable or flow_steps else (flow_context or {}).get("imported_svg", "")
    return render_page(request, "workbench/services_version.html", NAV, {
        "version": version, "matter": version.matter, "editable": editable, "errors": errors,
        "form_json": form_json, "flow_json": flow_json,
        "builder": builder, "flow_editor": flow_editor,
        "flow_steps": flow_steps, "flow_svg": flow_svg,
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
        "licence_rows": _licence_rows(licence_map, licence_type),
        **_holder_part(licence_holder, licence_type),
        "may_publish": service.may_publish(request.user, version.matter),
    })


def _discard(request: HttpRequest, version: service.ServiceVersion) -> HttpResponse:
    """放弃草稿 (review L17): ``discard`` asks for confirmation, ``discard_confirmed`` deletes
    the draft (``service.discard_draft``: drafts only, ``may_edit``, audited)."""
    if version.state != service.VersionState.DRAFT:
        raise PermissionDenied("not a draft")
    if request.POST.get("action") == "discard":
        return render_page(request, "workbench/services_discard.html", NAV, {
            "version": version, "matter": version.matter})
    try:
        service.discard_draft(version, request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("workbench:services_version", pk=version.pk)
    messages.success(request, _("第 %(n)d 版草稿已放弃。") % {"n": version.number})
    return redirect("workbench:services_matter", code=version.matter.code)


@require_POST
@permission_required(CHANGE)
def services_version_bpmn(request: HttpRequest, pk: int) -> HttpResponse:
    """The flow editor's BPMN import box: a file drawn in Camunda Modeler replaces the flow.

    A script client (``Accept: application/json``) gets ``{"ok": true}``, or 400 with
    ``{"ok": false, "errors": [...]}`` when the file is refused."""
    version = _version(request, pk)
    upload = request.FILES.get("bpmn") or request.FILES.get("file")
    problems: list[str] = []
    if upload is None or (upload.size or 0) > 1024 * 1024:
        problems.append(_("请选择不超过 1 MB 的 BPMN 文件。"))
    else:
        try:
            service.save_draft(version, bpmn=upload.read().decode("utf-8", "replace"),
                               actor=request.user)
        except ValidationError as exc:
            problems = [m for errors in _error_list(exc).values() for m in errors]
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"ok": not problems, "errors": problems},
                            status=400 if problems else 200)
    for message in problems:
        messages.error(request, message)
    if not problems:
        messages.success(request, _("BPMN 流程已导入。"))
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


@require_safe
@never_cache
@permission_required(CHANGE)
def services_version_bpmn_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The version's approval flow as a BPMN 2.0 file (with its diagram), to open in Camunda
    Modeler or keep with the department's records; 404 when the version has no flow."""
    version = _version(request, pk)
    if not version.bpmn:
        raise Http404("no flow")
    name = f"{version.matter.code}-v{version.number}.bpmn"
    response = HttpResponse(version.bpmn, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
