"""办件 in the workbench: the officials' inbox (待办) and an application's detail with the
actions on its tasks — claim (签收), approve / reject with a reason, ask for a correction
(补正), countersign parties each deciding their own task.

Who may do what: every page needs an official holding ``applications.handle_application``;
the inbox lists only the official's departments' tasks for their positions, and an
application of another department is a 404 here (the service refuses it again). Every
action carries the ``row_version`` the page showed: when another official acted first the
action is refused with a plain message and the page shows the new state.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from yiwang.enablement.forms import service as forms
from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.views import expected_version, render_page
from yiwang.industry.applications import service as applications
from yiwang.platform.orgs import service as orgs

HANDLE = "applications.handle_application"
STATES = (("open", gettext_lazy("待办")), ("mine", gettext_lazy("我签收的")),
          ("waiting", gettext_lazy("等待补正")), ("done", gettext_lazy("我已办")))


@require_safe
@never_cache
@permission_required(HANDLE)
def inbox(request: HttpRequest) -> HttpResponse:
    """The inbox: soonest due first, filters by state, receipt number and matter."""
    state = request.GET.get("state", "open")
    if state not in dict(STATES):
        state = "open"
    q = request.GET.get("q", "")[:40]
    matter = request.GET.get("matter", "")[:64]
    page = applications.inbox(request.user, state=state, q=q, matter=matter,
                              page=request.GET.get("page", 1))
    return render_page(request, "workbench/applications_inbox.html", "approvals", {
        "page": page, "rows": page.rows, "state": state, "q": q, "matter": matter,
        "states": STATES,
        "previous_page": page.page - 1 if page.page > 1 else None,
        "next_page": page.page + 1 if page.has_next else None,
    })


def _application(request: HttpRequest, pk: int) -> Any:
    try:
        return applications.application_for_official(request.user, pk)
    except PermissionDenied:
        raise Http404("not this official's application") from None


def _who(task: Any) -> str:
    """The department and post a task is for, by their names (codes only for ones that are
    not set up)."""
    department = orgs.get_department(task.department_code)
    label = str(department.name) if department is not None else task.department_code
    if task.position_code:
        post = (orgs.positions_of(department).filter(code=task.position_code).first()
                if department is not None else None)
        label += " / " + (str(post.name) if post is not None else task.position_code)
    return label


@require_safe
@never_cache
@permission_required(HANDLE)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An application: data, materials (OCR mismatches flagged), timeline, open tasks and
    the actions the official may take on them."""
    app = _application(request, pk)
    version = applications.matter_version(app)
    definition = getattr(version, "form", None) or {}
    tasks = applications.open_tasks(app)
    return render_page(request, "workbench/applications_detail.html", "approvals", {
        "application": app, "fields": forms.describe(definition, app.data) if definition else [],
        "materials": list(app.materials.all()),
        "material_url": "workbench:applications_material",
        "events": applications.timeline(app, public_only=False),
        "tasks": [{"task": t, "mine": applications.may_act_on_task(request.user, t),
                   "claimed_by_me": t.claimed_by_id == request.user.pk, "who": _who(t)}
                  for t in tasks],
        "credit": applications.credit_check(app, request.user) if tasks else None,
        "fee_lapsed": applications.fee_order_lapsed(app),
    })


@require_safe
@never_cache
@permission_required(HANDLE)
def material(request: HttpRequest, pk: int, material_pk: int) -> HttpResponse:
    """An uploaded material of an application the official handles (audited read)."""
    try:
        content, content_type, filename = applications.material_for_official(
            request.user, pk, material_pk)
    except PermissionDenied:
        raise Http404("no such material") from None
    return applications.file_response(content, content_type, filename)


@require_POST
@permission_required(HANDLE)
def renew_fee(request: HttpRequest, pk: int) -> HttpResponse:
    """A new fee order for the applicant in place of one that lapsed unpaid."""
    app = _application(request, pk)
    try:
        applications.renew_fee_order(request.user, app)
        messages.success(request, _("已重新开具缴款单并通知申请人。"))
    except PermissionDenied:
        raise Http404("not this official's application") from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("workbench:applications_detail", pk=app.pk)


@require_POST
@permission_required(HANDLE)
def act(request: HttpRequest, pk: int, task_pk: int, action: str) -> HttpResponse:
    """Claim, approve, reject or return for correction one task of the application."""
    app = _application(request, pk)
    task = applications.get_task(task_pk)
    if task is None or task.application_id != app.pk:
        raise Http404("no such task")
    expected = expected_version(request)
    if expected is None:
        # the page's version is what tells a decision on what the official saw from one on
        # something that changed meanwhile: a post without it is refused, never applied
        messages.error(request, _("页面信息不完整或已过期,您的操作没有生效。请刷新页面后再操作。"))
        return redirect("workbench:applications_detail", pk=app.pk)
    reason = request.POST.get("reason", "")
    try:
        if action == "claim":
            applications.claim_task(request.user, task.pk, expected)
            messages.success(request, _("已签收。"))
        elif action in ("approve", "reject"):
            applications.decide_task(request.user, task.pk, action, reason, expected)
            messages.success(request, _("已办理。"))
        elif action == "correction":
            fields = [f for f in request.POST.getlist("fields") if f]
            applications.request_correction(request.user, task.pk, reason, expected,
                                            fields=fields)
            messages.success(request, _("已通知申请人补正,办理时限暂停计时。"))
        else:
            raise Http404("no such action")
    except PermissionDenied:
        messages.error(request, _("您不能办理该环节。"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("workbench:applications_detail", pk=app.pk)
