"""电子印章 on the workbench: 印章管理, 用印, 用印记录 and 验章.

Who may do what:

- every official: 验章 (upload a PDF, see the validation report), and the list of the seals
  of the departments they belong to;
- an official of the seal's department with ``seals.manage_seals``: create seals, change
  custodians, suspend, reinstate, revoke (an official of another department gets 403);
- a custodian (保管人) of a seal: 用印 — upload a PDF, choose the seal(s), authorise with a
  multi-factor sign-in or step-up made within the last few minutes (older sessions are sent
  through sign-in again with ``prompt=login``), download the sealed PDF — and standing
  authorisations (长期授权) for licence issuance;
- 用印记录: an official of the department with ``seals.view_seal_uses``, or a custodian for
  their own seals (paginated; ``?seal=<code>`` for one seal).

验章 is rate-limited per client (``YIWANG_SEAL_VALIDATE_RATE_PER_MINUTE``, shared with the
API): over it, the page answers 429 with ``Retry-After``.

PDF uploads have a size limit, must parse (a malformed file is a 400 with a clear message)
and are only read, never executed or stored (the sealed result is returned as a download;
the seal-use log keeps hashes).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time
from typing import Any
from urllib.parse import quote, urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from yiwang.core import ratelimit
from yiwang.entry.portal.service import Crumb
from yiwang.entry.workbench import views_signin
from yiwang.entry.workbench.access import official_required
from yiwang.entry.workbench.views import render_page
from yiwang.platform.orgs import service as orgs
from yiwang.support.identity import service as identity
from yiwang.support.seals import service as seals

NAV = "seals"
LEVEL_CHOICES = [("B-LT", gettext_lazy("B-LT（含验证数据，可离线长期验证）")),
                 ("B-T", gettext_lazy("B-T（含可信时间戳）")),
                 ("B-B", gettext_lazy("B-B（基本签名）"))]


def _crumbs(*extra: tuple[str, str]) -> list[Crumb]:
    return [Crumb(_("工作台首页"), reverse("workbench:home")),
            *(Crumb(name, href) for name, href in extra)]


def _seal_or_404(code: str) -> Any:
    seal = seals.get_seal(code) if code and not code.isdigit() else None
    if seal is None:
        raise Http404("no such seal")
    return seal


def _member_or_403(request: HttpRequest, seal: Any) -> None:
    if not (request.user.is_superuser or orgs.is_member(request.user, seal.department.code)):
        raise PermissionDenied("not a member of the seal's department")


def _manager_or_403(request: HttpRequest, department_code: str) -> None:
    if not seals.may_manage(request.user, department_code):
        raise PermissionDenied("may not manage this department's seals")


class _UploadError(Exception):
    pass


def _read_pdf_upload(upload: Any) -> bytes:
    """The uploaded file's bytes, within the size limit, looking like a PDF."""
    if upload is None:
        raise _UploadError(_("请选择要上传的 PDF 文件。"))
    limit = int(settings.YIWANG_SEAL_MAX_PDF_BYTES)
    if upload.size > limit:
        raise _UploadError(_("文件太大（上限 %(mb)s MB）。") % {"mb": limit // (1024 * 1024)})
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _UploadError(_("文件太大（上限 %(mb)s MB）。") % {"mb": limit // (1024 * 1024)})
    if not data.startswith(b"%PDF-"):
        raise _UploadError(_("上传的文件不是 PDF 文件。"))
    return bytes(data)


# --- 印章管理 ----------------------------------------------------------------------------------

@require_safe
@official_required
def seal_list(request: HttpRequest) -> HttpResponse:
    """The seals of the departments the official belongs to."""
    groups = []
    for department in orgs.departments_of(request.user):
        groups.append({
            "department": department,
            "seals": list(seals.seals_of(department.code)),
            "may_manage": seals.may_manage(request.user, department.code),
        })
    return render_page(request, "workbench/seals_list.html", NAV, {
        "groups": groups, "custody": list(seals.seals_in_custody(request.user)),
    })


class SealForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("印章名称"), max_length=128,
                           help_text=gettext_lazy("例如：示例市市场监督管理局行政审批专用章"),
                           widget=forms.TextInput(attrs={"class": "input"}))
    kind = forms.ChoiceField(label=gettext_lazy("印章类型"), choices=seals.SealKind.choices,
                             widget=forms.Select(attrs={"class": "select"}))
    custodians = forms.MultipleChoiceField(
        label=gettext_lazy("印章保管人"), widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("本部门的公职人员；用印须由保管人本人以多因素认证授权。"),
        error_messages={"required": gettext_lazy("请至少指定一名印章保管人。")})

    def __init__(self, *args: Any, members: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = {str(m.pk): m for m in members}
        self.fields["custodians"].choices = [
            (str(m.pk), str(getattr(m, "display_name", "") or m.username)) for m in members]

    def chosen(self) -> list[Any]:
        return [self.members[pk] for pk in self.cleaned_data["custodians"]]


def _officials_of(department_code: str) -> list[Any]:
    people = {}
    for membership in orgs.members_of(department_code):
        if membership.user.is_staff and membership.user.is_active:
            people[membership.user.pk] = membership.user
    return list(people.values())


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@official_required
def seal_new(request: HttpRequest, department: str) -> HttpResponse:
    """Create a seal of ``department`` (managers of that department only)."""
    if orgs.get_department(department) is None:
        raise Http404("no such department")
    _manager_or_403(request, department)
    form = SealForm(request.POST if request.method == "POST" else None,
                    members=_officials_of(department))
    if request.method == "POST" and form.is_valid():
        try:
            seal = seals.create_seal(department_code=department,
                                     name=form.cleaned_data["name"],
                                     kind=form.cleaned_data["kind"],
                                     custodians=form.chosen(), actor=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("印章已制作：%(name)s。") % {"name": seal.name})
            return redirect("workbench:seal", code=seal.code)
    return render_page(request, "workbench/seals_form.html", NAV, {
        "form": form, "department": orgs.get_department(department),
        "crumbs": _crumbs((_("电子印章"), reverse("workbench:seals"))),
    }, status=400 if form.errors else 200)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=200,
                             error_messages={"required": gettext_lazy("请填写原因。")},
                             widget=forms.TextInput(attrs={"class": "input"}))


class StandingForm(forms.Form):
    licence_type = forms.CharField(
        label=gettext_lazy("证照类型代码"), max_length=64, required=False,
        help_text=gettext_lazy("授权签发该类电子证照时自动加盖本印章；留空表示本部门签发的全部证照类型。"),
        widget=forms.TextInput(attrs={"class": "input", "autocomplete": "off"}))
    until = forms.DateField(label=gettext_lazy("授权截止日期"),
                            widget=forms.DateInput(attrs={"class": "input", "type": "date"}))


ACTIONS = {
    "suspend": ("suspend_seal", gettext_lazy("暂停使用"), True),
    "reinstate": ("reinstate_seal", gettext_lazy("恢复使用"), False),
    "revoke": ("revoke_seal", gettext_lazy("注销印章"), True),
}


@require_safe
@never_cache
@official_required
def seal_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One seal: picture, certificate, custodians, standing authorisations, latest uses."""
    seal = _seal_or_404(code)
    _member_or_403(request, seal)
    may_manage = seals.may_manage(request.user, seal.department.code)
    is_custodian = seals.may_use(request.user, seal)
    custodians = list(seal.custodians.all())
    return render_page(request, "workbench/seals_detail.html", NAV, {
        "seal": seal, "custodians": custodians, "may_manage": may_manage,
        "is_custodian": is_custodian,
        "may_view_uses": is_custodian or request.user.is_superuser or request.user.has_perm(
            seals.VIEW_USES_PERMISSION),
        "members": _officials_of(seal.department.code) if may_manage else [],
        "custodian_ids": {c.pk for c in custodians},
        "standing": [a for a in seal.authorisations.filter(
            standing_until__isnull=False, withdrawn_at__isnull=True,
            standing_until__gt=timezone.now()).select_related("custodian")],
        "uses": seals.list_uses(seal=seal, limit=20), "reason_form": ReasonForm(),
        "standing_form": StandingForm(), "actions": ACTIONS,
        "causes": seals.REVOCATION_CAUSES,
        "crumbs": _crumbs((_("电子印章"), reverse("workbench:seals"))),
    })


@require_safe
@official_required
def seal_stamp(request: HttpRequest, code: str) -> HttpResponse:
    """The seal's picture (PNG), to members of its department."""
    seal = _seal_or_404(code)
    _member_or_403(request, seal)
    response = HttpResponse(bytes(seal.stamp_png), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
@official_required
def seal_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    """暂停使用, 恢复使用 or 注销 (POST, with a reason for the first and last)."""
    if action not in ACTIONS:
        raise Http404("unknown action")
    seal = _seal_or_404(code)
    _manager_or_403(request, seal.department.code)
    function, title, needs_reason = ACTIONS[action]
    kwargs: dict[str, Any] = {"actor": request.user}
    if needs_reason:
        form = ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("请填写原因。"))
            return redirect("workbench:seal", code=seal.code)
        kwargs["reason"] = form.cleaned_data["reason"]
    if action == "revoke":
        kwargs["cause"] = request.POST.get("cause", "")
    try:
        getattr(seals, function)(seal, **kwargs)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已完成：%(action)s。") % {"action": title})
    return redirect("workbench:seal", code=seal.code)


@require_POST
@official_required
def seal_custodians(request: HttpRequest, code: str) -> HttpResponse:
    """Replace the custodians (managers of the seal's department)."""
    seal = _seal_or_404(code)
    _manager_or_403(request, seal.department.code)
    members = {str(m.pk): m for m in _officials_of(seal.department.code)}
    chosen = [members[pk] for pk in request.POST.getlist("custodians") if pk in members]
    try:
        seals.set_custodians(seal, chosen, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("印章保管人已更新。"))
    return redirect("workbench:seal", code=seal.code)


# --- re-verification (multi-factor, recent) ---------------------------------------------------

@require_safe
@never_cache
@official_required
def seal_reauth(request: HttpRequest) -> HttpResponse:
    """Sign in again at the identity provider (``prompt=login``, L3), then come back."""
    next_url = identity.safe_next(request, request.GET.get("next"), reverse("workbench:seal_use"))
    views_signin.workbench_client()
    url = identity.firstparty.authorization_url(
        request, client_id=views_signin.CLIENT_ID, redirect_uri=views_signin.callback_uri(),
        acr_values="L3", prompt="login", next_url=next_url, scope=views_signin.SCOPE,
        ui_locales=translation.get_language() or "")
    return HttpResponseRedirect(url)


def _reauth_url(request: HttpRequest, back: str) -> str:
    return f"{reverse('workbench:seal_reauth')}?{urlencode({'next': back})}"


# --- 用印 --------------------------------------------------------------------------------------

class UseForm(forms.Form):
    document = forms.FileField(label=gettext_lazy("待盖章的 PDF 文件"),
                               widget=forms.ClearableFileInput(attrs={"accept":
                                                                      "application/pdf"}))
    seals = forms.MultipleChoiceField(label=gettext_lazy("选择印章"),
                                      widget=forms.CheckboxSelectMultiple,
                                      error_messages={"required":
                                                      gettext_lazy("请至少选择一枚印章。")})
    purpose = forms.CharField(label=gettext_lazy("用印事由"), max_length=200,
                              error_messages={"required": gettext_lazy("请填写用印事由。")},
                              widget=forms.TextInput(attrs={"class": "input"}))
    level = forms.ChoiceField(label=gettext_lazy("签章级别"), choices=LEVEL_CHOICES,
                              widget=forms.Select(attrs={"class": "select"}))
    page = forms.IntegerField(label=gettext_lazy("盖章页码"), min_value=1, max_value=9999,
                              initial=1, widget=forms.NumberInput(attrs={"class": "input"}))

    def __init__(self, *args: Any, choices: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["seals"].choices = [(s.code, s.name) for s in choices]
        self.fields["level"].initial = settings.YIWANG_SEAL_DEFAULT_LEVEL


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@official_required
def seal_use(request: HttpRequest) -> HttpResponse:
    """用印: a custodian seals an uploaded PDF with one or more of their seals, authorising
    each use with a recent multi-factor verification; the sealed PDF is the response."""
    custody = list(seals.seals_in_custody(request.user))
    form = UseForm(request.POST or None, request.FILES or None, choices=custody)
    fresh = seals.recently_verified(request)
    here = reverse("workbench:seal_use")
    status = 200
    if request.method == "POST":
        status = 400
        if not fresh:
            form.add_error(None, _("授权用印前请重新验证身份（多因素认证）。"))
        elif form.is_valid():
            try:
                pdf = _read_pdf_upload(form.cleaned_data["document"])
                sealed = _seal_with(request, pdf, [s for s in custody
                                                   if s.code in form.cleaned_data["seals"]],
                                    purpose=form.cleaned_data["purpose"],
                                    level=form.cleaned_data["level"],
                                    page=form.cleaned_data["page"] - 1)
            except _UploadError as exc:
                form.add_error("document", str(exc))
            except seals.StepUpRequired as exc:
                form.add_error(None, " ".join(exc.messages))
                fresh = False
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                name = form.cleaned_data["document"].name.rsplit(".", 1)[0][:80] or "document"
                response = HttpResponse(sealed, content_type="application/pdf")
                response["Content-Disposition"] = (
                    f"attachment; filename=\"sealed.pdf\"; filename*=UTF-8''"
                    f"{_quote(name)}-sealed.pdf")
                response["Cache-Control"] = "no-store"
                return response
    return render_page(request, "workbench/seals_use.html", NAV, {
        "form": form, "custody": custody, "fresh": fresh,
        "reauth_url": _reauth_url(request, here),
        "window_minutes": max(1, int(settings.YIWANG_SEAL_STEP_UP_SECONDS) // 60),
        "crumbs": _crumbs((_("电子印章"), reverse("workbench:seals"))),
    }, status=status)


def _quote(name: str) -> str:
    return quote(name, safe="")


def _seal_with(request: HttpRequest, pdf: bytes, chosen: list[Any], *, purpose: str,
               level: str, page: int) -> bytes:
    if not chosen:
        raise ValidationError(_("请至少选择一枚印章。"))
    # Several seals: all of them or none. Every seal is applied first and the uses go to
    # the ledger together at the end, so the region's ledger is not held while signing.
    with transaction.atomic(), seals.deferred_ledger():
        for seal in chosen:
            authorisation = seals.authorise_seal_use(
                seal, custodian=request.user, request=request, purpose=purpose,
                document_sha256=hashlib.sha256(pdf).hexdigest())
            pdf = seals.seal_pdf(pdf, seal=seal, authorisation=authorisation, level=level,
                                 page=page, reason=purpose, actor=request.user)
    return pdf


@require_http_methods(["POST"])
@official_required
def seal_standing(request: HttpRequest, code: str) -> HttpResponse:
    """长期授权: the custodian authorises automatic sealing of licences until a date."""
    seal = _seal_or_404(code)
    if not seals.may_use(request.user, seal):
        raise PermissionDenied("not a custodian")
    back = reverse("workbench:seal", args=[seal.code])
    if not seals.recently_verified(request):
        messages.info(request, _("授权用印前请重新验证身份（多因素认证），然后再提交一次。"))
        return redirect(_reauth_url(request, back))
    form = StandingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写正确的授权截止日期。"))
        return redirect(back)
    licence_type = form.cleaned_data["licence_type"].strip()
    until = timezone.make_aware(datetime.combine(form.cleaned_data["until"],
                                                 time(23, 59, 59)))
    purpose = seals.licence_purpose(licence_type) if licence_type else "licence:*"
    try:
        seals.authorise_seal_use(seal, custodian=request.user, request=request,
                                 purpose=purpose, standing_until=until)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已授权：签发电子证照时自动加盖本印章。"))
    return redirect(back)


@require_POST
@official_required
def seal_withdraw(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """Withdraw a standing authorisation (its custodian or a manager)."""
    seal = _seal_or_404(code)
    found = seal.authorisations.filter(pk=pk).first()
    if found is None:
        raise Http404("no such authorisation")
    if found.custodian_id != request.user.pk and not seals.may_manage(
            request.user, seal.department.code):
        raise PermissionDenied("may not withdraw")
    seals.withdraw_authorisation(found, actor=request.user)
    messages.success(request, _("授权已撤回。"))
    return redirect("workbench:seal", code=seal.code)


# --- 用印记录 ----------------------------------------------------------------------------------

USES_PER_PAGE = 50


@require_safe
@never_cache
@official_required
def seal_uses(request: HttpRequest) -> HttpResponse:
    """The seal-use log, newest first, page by page: of the official's departments (with
    ``seals.view_seal_uses``), or of the seals in their custody; ``?seal=<code>`` for one
    seal's uses."""
    departments = [d.code for d in orgs.departments_of(request.user)]
    if request.user.is_superuser:
        uses = seals.uses()
    elif request.user.has_perm(seals.VIEW_USES_PERMISSION):
        uses = seals.uses(department_codes=departments)
    else:
        custody = [s.pk for s in seals.seals_in_custody(request.user)]
        if not custody:
            raise PermissionDenied("neither the permission nor a seal in custody")
        uses = seals.uses(department_codes=departments, seal_ids=custody)
    only = None
    code = request.GET.get("seal", "")[:32]
    if code:
        only = _seal_or_404(code)
        _member_or_403(request, only)
        uses = uses.filter(seal=only)
    page = Paginator(uses, USES_PER_PAGE).get_page(request.GET.get("page"))
    return render_page(request, "workbench/seals_uses.html", NAV, {
        "uses": page.object_list, "page": page, "only": only,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "crumbs": _crumbs((_("电子印章"), reverse("workbench:seals"))),
    })


# --- 验章 --------------------------------------------------------------------------------------

class VerifyForm(forms.Form):
    document = forms.FileField(label=gettext_lazy("已盖章的 PDF 文件"),
                               widget=forms.ClearableFileInput(attrs={"accept":
                                                                      "application/pdf"}))


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@official_required
def seal_verify(request: HttpRequest) -> HttpResponse:
    """验章: upload a PDF, see every signature's checks."""
    form = VerifyForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    retry_after = None
    if request.method == "POST":
        status = 400
        if ratelimit.exceeded("seals.validate", request, per_minute=int(
                settings.YIWANG_SEAL_VALIDATE_RATE_PER_MINUTE or 0)):
            status, retry_after = 429, ratelimit.retry_after()
            form.add_error(None, _(
                "验章请求过于频繁（每分钟最多 %(n)s 次），请 %(seconds)s 秒后再试。") % {
                    "n": settings.YIWANG_SEAL_VALIDATE_RATE_PER_MINUTE, "seconds": retry_after})
        elif form.is_valid():
            try:
                result = seals.validate_pdf(_read_pdf_upload(form.cleaned_data["document"]))
                status = 200
            except _UploadError as exc:
                form.add_error("document", str(exc))
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error("document", message)
    response = render_page(request, "workbench/seals_verify.html", NAV, {
        "form": form, "result": result,
        "crumbs": _crumbs((_("电子印章"), reverse("workbench:seals"))),
    }, status=status)
    if retry_after is not None:
        response["Retry-After"] = retry_after
    return response
