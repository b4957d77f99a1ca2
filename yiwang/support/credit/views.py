"""Portal pages of the social credit platform (信用公示), under /credit/:

- publicity: search by name or credit code across administrative licences and penalties
  (双公示) and the red and black lists, with natural persons masked; one record's page; an
  enterprise's page. Only what is in force today is shown. Searches are rate-limited per
  address.
- 我的信用 (signed in): the person's own records and those of the enterprises they represent
  or manage, with forms to object (异议: publication is suspended at once) and to ask for
  credit repair (信用修复), and the state of what they filed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from yiwang.core import ratelimit
from yiwang.support.credit import service
from yiwang.support.identity import service as identity

PER_PAGE = 20
SEARCHES_PER_MINUTE = 60
signed_in = identity.signed_in_required("credit_portal:mine")
TABS = ("penalty", "licensing", "black", "red")


def _crumbs(*extra: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": _("首页"), "href": reverse("portal:home")},
            {"name": _("信用公示"), "href": reverse("credit_portal:index")},
            *({"name": name, "href": href} for name, href in extra)]


def _tab_label(tab: str) -> str:
    return {"penalty": _("行政处罚"), "licensing": _("行政许可"), "black": _("黑名单"),
            "red": _("红名单")}[tab]


def _rows(tab: str, q: str) -> Any:
    where = service.search_public(q)
    if tab in ("penalty", "licensing"):
        return service.public_records().filter(where, kind=tab).order_by("-decided_on", "-id")
    return service.public_entries().filter(where, list_type=tab).order_by(
        "-publish_from", "-id")


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """Search publicity; the tabs say how many of each kind match."""
    if ratelimit.exceeded("credit.search", request, per_minute=SEARCHES_PER_MINUTE):
        return render(request, "credit/index.html", {
            "limited": True, "crumbs": _crumbs()[:1], "nav": "credit", "tabs": []}, status=429)
    q = request.GET.get("q", "").strip()[:64]
    tab = request.GET.get("tab", "penalty")
    if tab not in TABS:
        tab = "penalty"
    tabs = [{"code": t, "label": _tab_label(t), "count": _rows(t, q).count()} for t in TABS]
    page = Paginator(_rows(tab, q), PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "credit/index.html", {
        "q": q, "tab": tab, "tabs": tabs, "page": page, "query": query.urlencode(),
        "page_range": page.paginator.get_elided_page_range(page.number),
        "records": tab in ("penalty", "licensing"), "crumbs": _crumbs()[:1], "nav": "credit"})


@require_safe
def record(request: HttpRequest, pk: int) -> HttpResponse:
    """One record on publicity, every field of the data standard (persons masked)."""
    if ratelimit.exceeded("credit.search", request, per_minute=SEARCHES_PER_MINUTE):
        return HttpResponse(_("查询过于频繁,请一分钟后再试。"), status=429,
                            content_type="text/plain; charset=utf-8")
    found = service.public_records().filter(pk=pk).first()
    if found is None:
        raise Http404("not on publicity")
    return render(request, "credit/record.html", {
        "record": found, "fields": service.public_fields(found),
        "crumbs": _crumbs(), "nav": "credit"})


@require_safe
def enterprise(request: HttpRequest, code: str) -> HttpResponse:
    """An enterprise's publicity: its records and list entries in force (natural persons
    are not looked up by ID number here)."""
    if ratelimit.exceeded("credit.search", request, per_minute=SEARCHES_PER_MINUTE):
        return HttpResponse(_("查询过于频繁,请一分钟后再试。"), status=429,
                            content_type="text/plain; charset=utf-8")
    subject = service.find_subject(code)
    if subject is None or subject.kind == service.SubjectKind.PERSON:
        raise Http404("no such enterprise on publicity")
    records = service.public_records().filter(subject=subject).order_by("-decided_on")
    entries = service.public_entries().filter(subject=subject)
    return render(request, "credit/enterprise.html", {
        "subject": subject, "records": records[:100], "entries": entries,
        "crumbs": _crumbs(), "nav": "credit"})


# --- 我的信用 -----------------------------------------------------------------------------------

def _target(request: HttpRequest, kind: str, pk: int) -> Any:
    """A record or entry of one of the signed-in person's subjects, else 404."""
    subjects = service.subjects_of(request.user)
    model = {"record": service.Record, "entry": service.ListEntry}.get(kind)
    if model is None:
        raise Http404("no such kind")
    found = model.objects.select_related("subject").filter(pk=pk, subject__in=subjects).first()
    if found is None:
        raise Http404("not yours")
    return found


@require_safe
@never_cache
@signed_in
def mine(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    subjects = []
    for subject in service.subjects_of(request.user):
        records = list(subject.records.order_by("-decided_on", "-id")[:100])
        entries = list(subject.list_entries.order_by("-publish_from", "-id"))
        subjects.append({
            "subject": subject, "records": [_mine_row(r, today) for r in records],
            "entries": [_mine_row(e, today) for e in entries]})
    return render(request, "credit/mine.html", {
        "subjects": subjects, "disputes": service.disputes_of(request.user)[:50],
        "crumbs": _crumbs(), "nav": "credit"})


def _mine_row(target: Any, today: Any) -> dict[str, Any]:
    first = service.repair_from(target)
    ended = target.publication in (service.Publication.REVOKED, service.Publication.REMOVED,
                                   service.Publication.REPAIRED)
    return {"item": target, "repair_from": first,
            "may_object": not ended and target.publication != service.Publication.SUSPENDED,
            "may_repair": not ended and first is not None and first <= today}


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@signed_in
def dispute(request: HttpRequest, action: str, kind: str, pk: int) -> HttpResponse:
    """Object to (``action`` ``object``) or ask to repair (``repair``) one record or entry."""
    if action not in ("object", "repair"):
        raise Http404("no such action")
    target = _target(request, kind, pk)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        statement = request.POST.get("statement", "")[:4000]
        try:
            if action == "object":
                filed = service.file_objection(request.user, target, statement=statement)
            else:
                filed = service.file_repair(
                    request.user, target, statement=statement,
                    corrections=request.POST.get("corrections", "")[:4000],
                    commitment=request.POST.get("commitment") == "yes")
        except ValidationError as exc:
            errors = (exc.message_dict if hasattr(exc, "error_dict")
                      else {"__all__": exc.messages})
        else:
            messages.success(request, _("已提交,编号 %(no)s。办理结果会通知您。") % {
                "no": filed.number})
            return redirect("credit_portal:mine")
    title = _("提出信用异议") if action == "object" else _("申请信用修复")
    return render(request, "credit/dispute.html", {
        "target": target, "kind": kind, "action": action, "title": title, "errors": errors,
        "form": request.POST if request.method == "POST" else {},
        "repair_from": service.repair_from(target),
        "crumbs": _crumbs((_("我的信用"), reverse("credit_portal:mine"))),
        "nav": "credit"}, status=400 if errors else 200)
