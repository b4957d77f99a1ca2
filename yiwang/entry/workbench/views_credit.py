"""社会信用 in the workbench: a department enters its administrative licence and penalty
decisions for double publicity (双公示) and revokes them, lists subjects on red and black lists
and takes them off, reviewers decide objections (异议) and credit repair (信用修复), market
regulation edits the rules of the risk classes (风险分类), and officers check a party's credit
(信用核查).

An official sees the records and list entries of their own departments (and internal units;
a superuser: all); another department's are a 404. Lists show subjects masked (the publicity
form: a natural person's name and ID number never appear in a list or on a detail page here).
Every write goes through the credit service, whose validation messages are shown next to the
fields they are about.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from yiwang.core.audit import service as audit
from yiwang.core.masking.service import mask_name
from yiwang.entry.workbench import forms_credit as forms
from yiwang.entry.workbench.access import any_permission_required, permission_required
from yiwang.entry.workbench.views import expected_version, page_query, render_page
from yiwang.platform.orgs import service as orgs
from yiwang.support.credit import service as credit

NAV = "credit"
PER_PAGE = 25
PUBLISH = "credit.publish_record"
MANAGE_LIST = "credit.manage_list"
REVIEW = "credit.review_dispute"
RULES = "credit.manage_risk_rules"
CHECK = "credit.check_credit"
RULES_CHARS = 20_000
REASON_CHARS = 200
ALL = "all"


def _scope(user: Any) -> list[str] | None:
    return None if user.is_superuser else orgs.unit_codes_of(user)


def _authorities(user: Any) -> list[tuple[str, str]]:
    """The departments (and units) an official decides for: (code, name)."""
    rows = orgs.list_departments()
    codes = _scope(user)
    if codes is not None:
        rows = rows.filter(code__in=codes)
    return [(d.code, d.name) for d in rows]


def _form_page(request: HttpRequest, template: str, sections: tuple[forms.Section, ...],
               values: dict[str, Any], errors: dict[str, list[str]],
               authorities: list[tuple[str, str]]) -> HttpResponse:
    bound = forms.bind(sections, values, errors, {"authority": authorities})
    return render_page(request, template, NAV, {
        "sections": bound, "summary": forms.summary(bound, errors),
        "authorities": authorities}, status=400 if errors else 200)


# --- 双公示 records ---------------------------------------------------------------------------

def _record(request: HttpRequest, pk: int) -> Any:
    found = credit.department_records(_scope(request.user)).filter(pk=pk).first()
    if found is None:
        raise Http404("no such record for this official")
    return found


@require_safe
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """The credit module's entry: the first page the official may use (reviewers of the
    credit office hold no collecting permission)."""
    for perm, name in ((PUBLISH, "workbench:credit_records"),
                       ("credit.review_dispute", "workbench:credit_disputes"),
                       ("credit.check_credit", "workbench:credit_check")):
        if request.user.is_authenticated and request.user.has_perm(perm):
            return redirect(name)
    return redirect("workbench:credit_records")  # which says what is missing


@require_safe
@never_cache
@permission_required(PUBLISH)
def records(request: HttpRequest) -> HttpResponse:
    kind = forms.choice(request.GET.get("kind", ""), credit.RecordKind.values)
    publication = forms.choice(request.GET.get("publication", ""), credit.Publication.values)
    q = request.GET.get("q", "").strip()[:64]
    rows = credit.department_records(_scope(request.user), kind=kind,
                                     publication=publication, q=q)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render_page(request, "workbench/credit_records.html", NAV, {
        "page": page, "kind": kind, "publication": publication, "q": q,
        "kinds": credit.RecordKind.choices, "publications": credit.Publication.choices,
        "query": page_query(request), "tab": "records"})


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(PUBLISH)
def record_new(request: HttpRequest) -> HttpResponse:
    """Enter a penalty or licensing decision (归集): every field of the data standard."""
    authorities = _authorities(request.user)
    if request.method != "POST":
        values: dict[str, Any] = {"kind": credit.RecordKind.PENALTY,
                                  "authority": authorities[0][0] if authorities else ""}
        return _form_page(request, "workbench/credit_record_new.html", forms.RECORD_SECTIONS,
                          values, {}, authorities)
    values = forms.values_of(request, forms.RECORD_SECTIONS)
    errors: dict[str, list[str]] = {}
    days = forms.parse_dates(values, ("decided_on", "valid_from", "valid_until"), errors)
    authority = forms.authority_of(values, authorities, errors)
    if errors:  # nothing reaches the service with a date it cannot read or a foreign authority
        return _form_page(request, "workbench/credit_record_new.html", forms.RECORD_SECTIONS,
                          values, errors, authorities)
    kind = values["kind"]
    categories = (values["licensing_categories"] if kind == credit.RecordKind.LICENSING
                  else values["penalty_categories"])
    try:
        record = credit.publish_record(credit.RecordInput(
            kind=kind, code=values["code"], name=values["name"],
            representative=values["representative"], doc_name=values["doc_name"],
            doc_no=values["doc_no"], decided_on=days["decided_on"],
            legal_basis=values["legal_basis"], content=values["content"],
            categories=categories, licence_name=values["licence_name"],
            licence_no=values["licence_no"], violation_type=values["violation_type"],
            facts=values["facts"], fine_wan=values["fine_wan"],
            confiscated_wan=values["confiscated_wan"],
            revoked_licence=values["revoked_licence"], severity=values["severity"],
            valid_from=days["valid_from"], valid_until=days["valid_until"],
            note=values["note"]), authority_code=authority, actor=request.user)
    except ValidationError as exc:
        errors = forms.errors_of(exc)
        if "categories" in errors:  # the message belongs beside the boxes of the chosen kind
            errors[("licensing_categories" if kind == credit.RecordKind.LICENSING
                    else "penalty_categories")] = errors.pop("categories")
        return _form_page(request, "workbench/credit_record_new.html", forms.RECORD_SECTIONS,
                          values, errors, authorities)
    messages.success(request, _("已归集 %(no)s,按规定期限公示。") % {"no": record.doc_no})
    return redirect("workbench:credit_record", pk=record.pk)


@require_safe
@never_cache
@permission_required(PUBLISH)
def record(request: HttpRequest, pk: int) -> HttpResponse:
    found = _record(request, pk)
    return render_page(request, "workbench/credit_record.html", NAV, {
        "record": found, "tab": "records", "public": credit.public_fields(found),
        "representative": mask_name(found.representative),
        "disputes": found.disputes.order_by("-filed_at"),
        "revocable": found.publication != credit.Publication.REVOKED})


@require_POST
@permission_required(PUBLISH)
def record_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    found = _record(request, pk)
    version = expected_version(request)
    if version is not None:
        # revoke_record writes only if the row still has the version it is given: the
        # version the page showed, so a change made meanwhile is not silently overridden.
        found.row_version = version
    try:
        credit.revoke_record(found, reason=request.POST.get("reason", "")[:REASON_CHARS],
                             actor=request.user)
        messages.success(request, _("已撤销,不再公示。"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("workbench:credit_record", pk=found.pk)


# --- red and black lists --------------------------------------------------------------------

def _entry(request: HttpRequest, pk: int) -> Any:
    found = credit.department_entries(_scope(request.user)).filter(pk=pk).first()
    if found is None:
        raise Http404("no such entry for this official")
    return found


@require_safe
@never_cache
@permission_required(MANAGE_LIST)
def entries(request: HttpRequest) -> HttpResponse:
    list_type = forms.choice(request.GET.get("list_type", ""), credit.ListType.values)
    publication = forms.choice(request.GET.get("publication", ""), credit.Publication.values)
    q = request.GET.get("q", "").strip()[:64]
    rows = credit.department_entries(_scope(request.user), list_type=list_type,
                                     publication=publication, q=q)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render_page(request, "workbench/credit_entries.html", NAV, {
        "page": page, "list_type": list_type, "publication": publication, "q": q,
        "list_types": credit.ListType.choices, "publications": credit.Publication.choices,
        "query": page_query(request), "tab": "lists", "today": timezone.localdate()})


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(MANAGE_LIST)
def entry_new(request: HttpRequest) -> HttpResponse:
    """List a subject (认定) by a recorded decision of the official's department."""
    authorities = _authorities(request.user)
    template = "workbench/credit_entry_new.html"
    if request.method != "POST":
        return _form_page(request, template, forms.LIST_SECTIONS, {
            "list_type": credit.ListType.BLACK, "repairable": True,
            "authority": authorities[0][0] if authorities else ""}, {}, authorities)
    values = forms.values_of(request, forms.LIST_SECTIONS)
    errors: dict[str, list[str]] = {}
    days = forms.parse_dates(values, ("decided_on", "publish_from", "expires_on"), errors)
    authority = forms.authority_of(values, authorities, errors)
    if errors:
        return _form_page(request, template, forms.LIST_SECTIONS, values, errors, authorities)
    try:
        entry = credit.list_subject(credit.ListingInput(
            list_type=values["list_type"], list_name=values["list_name"],
            code=values["code"], name=values["name"], reason=values["reason"],
            legal_basis=values["legal_basis"], decision_no=values["decision_no"],
            decided_on=days["decided_on"], publish_from=days["publish_from"],
            expires_on=days["expires_on"], measures=values["measures"],
            repairable=values["repairable"]), authority_code=authority, actor=request.user)
    except ValidationError as exc:
        return _form_page(request, template, forms.LIST_SECTIONS, values, forms.errors_of(exc),
                          authorities)
    messages.success(request, _("已列入%(list)s。") % {"list": entry.list_name})
    return redirect("workbench:credit_entry", pk=entry.pk)


@require_safe
@never_cache
@permission_required(MANAGE_LIST)
def entry(request: HttpRequest, pk: int) -> HttpResponse:
    found = _entry(request, pk)
    return render_page(request, "workbench/credit_entry.html", NAV, {
        "entry": found, "tab": "lists", "disputes": found.disputes.order_by("-filed_at"),
        "removable": found.publication in (credit.Publication.PUBLISHED,
                                           credit.Publication.SUSPENDED)})


@require_POST
@permission_required(MANAGE_LIST)
def entry_remove(request: HttpRequest, pk: int) -> HttpResponse:
    found = _entry(request, pk)
    try:
        credit.remove_entry(found, reason=request.POST.get("reason", "")[:REASON_CHARS],
                            actor=request.user, expected_version=expected_version(request))
        messages.success(request, _("已移出名单,不再公示。"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("workbench:credit_entry", pk=found.pk)


# --- objections and repair --------------------------------------------------------------------

def _dispute(request: HttpRequest, number: str) -> Any:
    found = (credit.list_disputes(authority_codes=credit.reviewer_codes(request.user))
             .filter(number=number[:24]).first())
    if found is None:
        raise Http404("no such dispute for this reviewer")
    return found


@require_safe
@never_cache
@permission_required(REVIEW)
def disputes(request: HttpRequest) -> HttpResponse:
    """The reviewer's queue: pending first by default, the overdue ones marked."""
    state = request.GET.get("state", credit.DisputeState.PENDING)
    if state != ALL and state not in credit.DisputeState.values:
        state = credit.DisputeState.PENDING
    kind = forms.choice(request.GET.get("kind", ""), credit.DisputeKind.values)
    rows = credit.list_disputes(authority_codes=credit.reviewer_codes(request.user),
                                state="" if state == ALL else state, kind=kind)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render_page(request, "workbench/credit_disputes.html", NAV, {
        "page": page, "state": state, "kind": kind, "all": ALL,
        "states": credit.DisputeState.choices, "kinds": credit.DisputeKind.choices,
        "query": page_query(request), "tab": "disputes", "now": timezone.now()})


@require_safe
@never_cache
@permission_required(REVIEW)
def dispute(request: HttpRequest, number: str) -> HttpResponse:
    found = _dispute(request, number)
    fields = ["statement", "corrections"] if found.corrections else ["statement"]
    audit.record_personal_read(found, fields, purpose="credit.dispute", actor=request.user)
    target = found.target
    return render_page(request, "workbench/credit_dispute.html", NAV, {
        "dispute": found, "target": target, "tab": "disputes",
        "is_record": found.record_id is not None, "now": timezone.now(),
        "public": credit.public_fields(target) if found.record_id is not None else {},
        "pending": found.state == credit.DisputeState.PENDING})


@require_POST
@permission_required(REVIEW)
def dispute_decide(request: HttpRequest, number: str) -> HttpResponse:
    found = _dispute(request, number)
    choice = request.POST.get("upheld", "")
    if choice not in ("yes", "no"):
        messages.error(request, _("请选择办理结果。"))
        return redirect("workbench:credit_dispute", number=found.number)
    try:
        credit.decide_dispute(request.user, found, upheld=choice == "yes",
                              note=request.POST.get("note", ""),
                              expected_version=expected_version(request))
        messages.success(request, _("已办结 %(number)s,申请人会收到通知。") % {
            "number": found.number})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("workbench:credit_dispute", number=found.number)


# --- risk classes and the credit check ------------------------------------------------------------

def _rules_text(rules: list[dict[str, Any]]) -> str:
    """The rules as JSON to edit: one rule a line."""
    lines = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in rules)
    return f"[\n{lines}\n]"


def _risk_page(request: HttpRequest, *, text: str | None = None, default_class: str = "",
               note: str = "", errors: dict[str, list[str]] | None = None) -> HttpResponse:
    rules = credit.current_rules()
    counted = {row["risk_class"]: row["n"] for row in credit.Subject.objects.values(
        "risk_class").annotate(n=Count("id")).order_by()}
    total = sum(counted.values())
    rows = [{"code": code, "label": label, "n": counted.get(code, 0)}
            for code, label in credit.RiskClass.choices]
    if counted.get(""):
        rows.append({"code": "", "label": _("尚未分类"), "n": counted[""]})
    top = max([r["n"] for r in rows] + [1])
    ratios = credit.inspection_ratios()
    for row in rows:
        # A width class in steps of 5 %: the content security policy allows no inline style.
        row["width"] = max(round(row["n"] * 20 / top), 1 if row["n"] else 0) * 5
        row["share"] = f"{row['n'] * 100 / total:.1f}" if total else "0.0"
        row["ratio"] = f"{ratios[row['code']] * 100:g}" if row["code"] in ratios else ""
    errors = errors or {}
    return render_page(request, "workbench/credit_risk.html", NAV, {
        "tab": "risk", "rows": rows, "total": total, "rules": rules,
        "text": text if text is not None else _rules_text(rules.rules),
        "default_class": default_class or rules.default_class, "note": note,
        "classes": credit.RiskClass.choices, "facts": list(credit.FACTS.items()),
        "errors": errors, "can_edit": request.user.has_perm(RULES)},
        status=400 if errors else 200)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@any_permission_required(RULES, CHECK)
def risk(request: HttpRequest) -> HttpResponse:
    """The classes' counts, the inspection ratios and the rules; editors save a new version."""
    if request.method != "POST":
        return _risk_page(request)
    if not request.user.has_perm(RULES):
        raise PermissionDenied("missing permission")
    text = request.POST.get("rules", "")
    default_class = request.POST.get("default_class", "")
    note = request.POST.get("note", "")[:200]
    errors: dict[str, list[str]] = {}
    parsed: Any = None
    if len(text) > RULES_CHARS:
        errors["rules"] = [_("规则不能超过 %(n)d 个字符。") % {"n": RULES_CHARS}]
    else:
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError) as exc:
            line = getattr(exc, "lineno", 0)
            errors["rules"] = [_("规则不是有效的 JSON(第 %(line)d 行附近):请检查括号、引号和"
                                 "逗号。") % {"line": line}]
    if not errors:
        try:
            saved = credit.save_rules(parsed, default_class=default_class, note=note,
                                      actor=request.user)
        except ValidationError as exc:
            errors = forms.errors_of(exc)
        else:
            messages.success(request, _("已保存第 %(v)d 版规则;下次分类时生效。") % {
                "v": saved.version})
            return redirect("workbench:credit_risk")
    return _risk_page(request, text=text, default_class=default_class, note=note,
                      errors=errors)


@require_POST
@permission_required(RULES)
def risk_classify(request: HttpRequest) -> HttpResponse:
    """Classify every subject now under the current rules (the daily job does it too)."""
    counts = credit.classify_all()
    messages.success(request, _("重新分类完成:%(counts)s。") % {"counts": ",".join(
        _("%(c)s 类 %(n)d 个") % {"c": c, "n": n} for c, n in counts.items())})
    return redirect("workbench:credit_risk")


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(CHECK)
def check(request: HttpRequest) -> HttpResponse:
    """Check a party's credit (信用核查) with a stated reason; codes travel in the body, never
    in the address, and every check is audited with its reason."""
    values = {"code": "", "reason": ""}
    errors: dict[str, list[str]] = {}
    found = None
    if request.method == "POST":
        values = {"code": request.POST.get("code", "").strip()[:32],
                  "reason": request.POST.get("reason", "").strip()[:80]}
        try:
            credit.parse_code(values["code"])
        except ValidationError as exc:
            errors.update(forms.errors_of(exc))
        if not values["reason"]:
            errors["reason"] = [_("请填写核查事由,如办件编号或监管任务。")]
        if not errors:
            found = credit.check(values["code"], purpose=f"workbench:{values['reason']}",
                                 actor=request.user)
    return render_page(request, "workbench/credit_check.html", NAV, {
        "tab": "check", "values": values, "errors": errors, "check": found},
        status=400 if errors else 200)
