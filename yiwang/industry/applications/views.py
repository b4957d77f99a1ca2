"""Portal pages of the applications app (我的办件): apply (form, materials — upload or a
wallet licence with consent —, draft save), the receipt, my applications, the progress page
(timeline), the correction page, evaluation and withdrawal.

Every page needs a signed-in person with a live identity-provider session; an application
that is not one's own (or one's enterprise's, for its representative) is a 404.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from yiwang.industry.applications import integration as ext
from yiwang.industry.applications import service
from yiwang.support.identity import service as identity

PER_PAGE = 20


#: portal pages for a signed-in person (after a POST, back to applications_portal:mine)
signed_in = identity.signed_in_required("applications_portal:mine")


def _crumbs(*extra: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": _("首页"), "href": reverse("portal:home")},
            {"name": _("我的办件"), "href": reverse("applications_portal:mine")},
            *({"name": name, "href": href} for name, href in extra)]


def _mine(request: HttpRequest, pk: int) -> Any:
    try:
        return service.application_for_applicant(request.user, pk)
    except PermissionDenied:
        raise Http404("no such application") from None


def _acting_code(request: HttpRequest) -> str:
    acting = identity.current_acting(request)
    return acting.credit_code if acting is not None and "apply" in acting.scopes else ""


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def _prefill_sources(request: HttpRequest, form: dict[str, Any], *,
                     filled: Collection[str] = ()) -> dict[str, Any]:
    """What the form's ``prefill`` sources read (免填): the account's name, ID number, phone
    and e-mail, the registry's address (read only when the form asks for it, and audited),
    the enterprise the person acts for, and fields of the person's licences."""
    user = request.user
    wanted = ext.forms.prefill_names(form, skip_keys=filled)  # what a draft holds: not read
    profile: dict[str, Any] = {
        "name": getattr(user, "real_name", "") or "",
        "id_number": getattr(user, "id_number", "") or "",
        "phone": getattr(user, "phone", "") or "",
        "email": getattr(user, "email", "") or ""}
    if "profile.address" in wanted:
        profile["address"] = ext.person_address(user)
    sources: dict[str, Any] = {"profile": profile}
    acting = identity.current_acting(request)
    if acting is not None:
        sources["enterprise"] = {"credit_code": acting.credit_code, "name": acting.name,
                                 **ext.enterprise_prefill(acting.credit_code, wanted)}
    if any(name.startswith("licence:") for name in wanted):
        held: dict[str, Any] = {}
        for licence in ext.licences.licences_of(user, status="active")[:50]:
            held.setdefault(licence.type.code, dict(licence.fields or {}))
        sources["licence"] = held
    return sources


def _reusable(request: HttpRequest, version: Any, file_fields: list[dict[str, Any]]
              ) -> list[dict[str, Any]]:
    """For each file field a licence may replace, its key, label and the user's active
    licences of such a type (fields the user holds none for are left out)."""
    types_by_code = {m.get("code"): list(m.get("licence_types") or [])
                     for m in ext.matter_materials(ext.version_matter(version))}
    out: list[dict[str, Any]] = []
    for component in file_fields:
        types = types_by_code.get(component.get("material", ""), [])
        if not types:
            continue
        held = list(ext.licences.licences_of(request.user, status="active")
                    .filter(type__code__in=types).select_related("type")[:10])
        if held:
            out.append({"key": component["key"],
                        "label": component.get("label") or component["key"], "licences": held})
    return out


def _with_new_files(request: HttpRequest, form: dict[str, Any], data: dict[str, Any]
                    ) -> dict[str, Any]:
    """``data`` with the tokens of the files the page posted, each accepted (not yet
    claimed) under its field's rule; a refused file is reported under its field."""
    files = ext.forms.incoming_files(form, request.POST, request.FILES)
    return service.accept_files(request.user, form, data, files) if files else data


def _reuse(request: HttpRequest, form: dict[str, Any], data: dict[str, Any]
           ) -> dict[str, tuple[str, bool]]:
    """The wallet licences the person chose in place of materials, with their consent."""
    chosen: dict[str, tuple[str, bool]] = {}
    for component in ext.forms.file_fields(form, data):
        key = component["key"]
        licence = request.POST.get(f"reuse__{key}", "")
        if licence:
            chosen[key] = (licence, request.POST.get(f"consent__{key}") == "on")
    return chosen


def _apply_context(request: HttpRequest, version: Any, app: Any, data: dict[str, Any],
                   errors: dict[str, list[str]]) -> dict[str, Any]:
    form = ext.version_form(version)
    file_fields = ext.forms.file_fields(form, data)
    matter = ext.version_matter(version)
    return {"matter": matter, "version": version, "application": app,
            "definition": form, "data": data, "errors": errors,
            "reusable": _reusable(request, version, file_fields),
            "materials": list(app.materials.all()) if app is not None and app.pk else [],
            "material_url": "applications_portal:material",
            "acting": identity.current_acting(request),
            "applicant_problem": ext.applicant_problem(
                version, app.acting_for if app is not None and app.pk
                else _acting_code(request)),
            "crumbs": _crumbs()}


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@signed_in
def apply(request: HttpRequest, matter_code: str) -> HttpResponse:
    """Apply for a matter: the version's form, materials, save as draft or submit."""
    version = ext.published_version(matter_code)
    draft = None
    draft_pk = request.GET.get("draft") or request.POST.get("draft")
    if draft_pk:
        draft = _mine(request, draft_pk)
        if draft.state != service.State.DRAFT:
            return redirect("applications_portal:detail", pk=draft.pk)
        version = service.matter_version(draft)
    elif version is not None:
        draft = (service.applications_of(request.user, acting_for=_acting_code(request),
                                         state=service.State.DRAFT)
                 .filter(matter_code=matter_code, applicant=request.user).first())
        if draft is not None and draft.version_pk != version.pk:
            draft = None  # a new version was published: start again on it
    if version is None:
        raise Http404("matter not open online")
    form = ext.version_form(version)
    if request.method != "POST":
        held = {k: v for k, v in draft.data.items() if v not in ("", None)} if draft else {}
        # what the draft holds wins (and is not read again); what it left empty is pre-filled
        data = {**ext.forms.prefill(form, _prefill_sources(request, form, filled=held)), **held}
        return render(request, "applications/apply.html",
                      _apply_context(request, version, draft, data, {}))
    data = ext.forms.parse_post(form, request.POST)
    try:
        data = _with_new_files(request, form, data)
        draft = service.save_draft(request.user, matter_code, data,
                                   acting_for=_acting_code(request) or None,
                                   application=draft, reuse=_reuse(request, form, data))
    except ValidationError as exc:  # nothing was saved
        if draft is not None and draft.pk:
            draft.refresh_from_db()
        return render(request, "applications/apply.html",
                      _apply_context(request, version, draft, data, _errors(exc)), status=400)
    if request.POST.get("action") == "submit":
        try:
            app = service.submit_application(request.user, draft)
        except ValidationError as exc:
            # The draft (with its files) is saved; the submission is not: say both.
            draft.refresh_from_db()
            context = _apply_context(request, version, draft, draft.data, _errors(exc))
            context["saved_not_submitted"] = True
            return render(request, "applications/apply.html", context, status=400)
        return redirect("applications_portal:receipt", pk=app.pk)
    messages.success(request, _("草稿已保存,您可以在任何设备上登录后继续填写。"))
    return redirect(f"{reverse('applications_portal:apply', args=[matter_code])}"
                    f"?draft={draft.pk}")


@require_safe
@never_cache
@signed_in
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    app = _mine(request, pk)
    if not app.number:
        return redirect("applications_portal:apply", matter_code=app.matter_code)
    return render(request, "applications/receipt.html",
                  {"application": app, "crumbs": _crumbs()})


@require_safe
@never_cache
@signed_in
def mine(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in service.State.values:
        state = ""
    qs = service.applications_of(request.user, acting_for=_acting_code(request), state=state)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "applications/mine.html", {
        "page": page, "rows": list(page.object_list), "state": state,
        "states": service.State.choices,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "acting": identity.current_acting(request),
        "crumbs": [{"name": _("首页"), "href": reverse("portal:home")}]})


def _detail_context(request: HttpRequest, app: Any) -> dict[str, Any]:
    version = service.matter_version(app)
    form = ext.version_form(version) if version is not None else {}
    if version is None and app.bundle_code and app.parent_id is None:
        # a 一件事's own application: its answers on the bundle's one form (the materials
        # went to each member's application, listed with them)
        bundle = ext.catalogue.get_bundle(app.bundle_code)
        form = dict(bundle.form or {}) if bundle is not None else {}
    corrections = [e for e in service.timeline(app, public_only=True) if e.kind == "correction"]
    return {"application": app, "events": service.timeline(app, public_only=True),
            "fields": ext.forms.describe(form, app.data) if form else [],
            "materials": list(app.materials.all()),
            "material_url": "applications_portal:material",
            "children": list(app.children.all().defer("data_text", "workflow_text")),
            **_evaluation_context(app),
            "fee_lapsed": service.fee_order_lapsed(app),
            "may_withdraw": app.state in ("submitted", "in_review", "correction", "draft"),
            "correction": corrections[-1] if corrections else None,
            "crumbs": _crumbs()}


def _evaluation_context(app: Any) -> dict[str, Any]:
    """The evaluation (好差评) part of the progress page: the form, or the evaluation given
    and, for a 差评, the department's reply once it has followed it up."""
    decided = app.state in ("approved", "rejected")
    evaluation = service.evaluation_of(app) if decided else None
    rectification = getattr(evaluation, "rectification", None) if evaluation else None
    return {"evaluation": evaluation, "may_evaluate": decided and evaluation is None,
            "evaluation_level": service.LEVELS.get(evaluation.score) if evaluation else "",
            "levels": sorted(service.LEVELS.items(), reverse=True),
            "rectification": rectification}


@require_safe
@never_cache
@signed_in
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress page: state, clock, timeline, materials (with OCR mismatches), data."""
    app = _mine(request, pk)
    if app.state == service.State.DRAFT:
        return redirect(f"{reverse('applications_portal:apply', args=[app.matter_code])}"
                        f"?draft={app.pk}")
    return render(request, "applications/detail.html", _detail_context(request, app))


@require_POST
@signed_in
def renew_fee(request: HttpRequest, pk: int) -> HttpResponse:
    """A new fee order in place of one that lapsed unpaid."""
    app = _mine(request, pk)
    try:
        service.renew_fee_order(request.user, app)
        messages.success(request, _("已重新开具缴款单,请在缴款期限内缴费。"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("applications_portal:detail", pk=app.pk)


@require_safe
@never_cache
@signed_in
def material(request: HttpRequest, pk: int, material_pk: int) -> HttpResponse:
    """A file the applicant uploaded to their own application (audited read)."""
    try:
        content, content_type, filename = service.material_for_applicant(
            request.user, pk, material_pk)
    except PermissionDenied:
        raise Http404("no such material") from None
    return service.file_response(content, content_type, filename)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@signed_in
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    """The correction page (补正): what the official asked, the form to correct."""
    app = _mine(request, pk)
    if app.state != service.State.CORRECTION:
        return redirect("applications_portal:detail", pk=app.pk)
    version = service.matter_version(app)
    form = ext.version_form(version)
    context = _detail_context(request, app)
    if request.method != "POST":
        context.update({"definition": form, "data": app.data, "errors": {}})
        return render(request, "applications/correct.html", context)
    data = ext.forms.parse_post(form, request.POST)
    try:
        data = _with_new_files(request, form, data)
        service.submit_correction(request.user, app, data=data,
                                  reuse=_reuse(request, form, data))
    except ValidationError as exc:  # nothing was saved: no file attached, no data changed
        app.refresh_from_db()
        context.update({"definition": form, "data": data, "errors": _errors(exc)})
        return render(request, "applications/correct.html", context, status=400)
    messages.success(request, _("补正材料已提交,办件继续办理。"))
    return redirect("applications_portal:detail", pk=app.pk)


@require_POST
@signed_in
def evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    app = _mine(request, pk)
    try:
        service.evaluate_application(request.user, app, score=request.POST.get("score", 0),
                                     comment=request.POST.get("comment", ""))
        messages.success(request, _("感谢您的评价。"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("applications_portal:detail", pk=app.pk)


@require_POST
@signed_in
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    app = _mine(request, pk)
    try:
        service.withdraw_application(request.user, app, reason=request.POST.get("reason", ""))
        messages.success(request, _("申请已撤回。"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("applications_portal:detail", pk=app.pk)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@signed_in
def apply_bundle(request: HttpRequest, bundle_code: str) -> HttpResponse:
    """Apply for a bundle (一件事一次办): its one form and one set of materials; on submission
    each member matter gets its application, tracked as one under the bundle's receipt."""
    bundle = ext.catalogue.published_bundle(bundle_code)
    if bundle is None:
        raise Http404("bundle not open online")
    form = dict(bundle.form or {})
    context: dict[str, Any] = {"bundle": bundle, "definition": form, "errors": {},
                               "crumbs": _crumbs(), "acting": identity.current_acting(request)}
    if request.method != "POST":
        context["data"] = ext.forms.prefill(form, _prefill_sources(request, form))
        return render(request, "applications/apply_bundle.html", context)
    data = ext.forms.parse_post(form, request.POST)
    try:
        data = _with_new_files(request, form, data)
        app = service.submit_bundle(request.user, bundle_code, data,
                                    acting_for=_acting_code(request) or None)
    except ValidationError as exc:
        context.update({"data": data, "errors": _errors(exc)})
        return render(request, "applications/apply_bundle.html", context, status=400)
    return redirect("applications_portal:receipt", pk=app.pk)
