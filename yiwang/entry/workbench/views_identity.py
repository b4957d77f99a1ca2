"""账户管理 and 接入应用管理 of the workbench: accounts and relying parties.

Who may do what:

- ``identity.manage_accounts``: the accounts list (masked, keyset-paged), an account's page
  (masked, audited), and the actions on it — deactivate, reactivate, sign out everywhere,
  reset multi-factor authentication — each a POST with a reason, after a confirmation page;
- ``identity.reveal_accounts`` as well: 查看完整信息 of an account for a stated purpose
  (recorded in the audit log; the values appear in that response only);
- ``identity.manage_relying_parties``: relying parties (接入应用) of the departments the
  official belongs to — list, register, edit, rotate the secret, disable and enable.
  Superusers manage every relying party, including the platform's own.

Everyone else gets 403 (anonymous visitors are sent to sign in). A phone number or ID
number is looked up through a POST, so that numbers stay out of URLs and access logs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from yiwang.entry.portal.service import Crumb
from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.forms import REVEAL_PURPOSES, RevealForm
from yiwang.entry.workbench.forms_identity import (
    AccountLookupForm,
    AccountSearchForm,
    ReasonForm,
    RelyingPartyForm,
)
from yiwang.entry.workbench.views import render_page
from yiwang.platform.orgs import service as orgs
from yiwang.support.identity import service as identity

MANAGE = "identity.manage_accounts"
REVEAL = "identity.reveal_accounts"
MANAGE_RPS = "identity.manage_relying_parties"
ROWS_PER_PAGE = 50
_KEYS = ("after_id", "before_id", "after_username", "before_username")

# The actions on an account: (title, explanation, button, service function name).
ACTIONS: dict[str, tuple[Any, Any, Any, str]] = {
    "deactivate": (gettext_lazy("停用账户"), gettext_lazy(
        "停用后该账户不能再登录；它的全部登录会话立即结束，发给各接入应用的令牌立即作废，"
        "各应用会收到注销通知。"), gettext_lazy("确认停用"), "deactivate_account"),
    "reactivate": (gettext_lazy("启用账户"), gettext_lazy(
        "启用后该账户可以重新登录；已结束的会话和已作废的令牌不会恢复。"),
        gettext_lazy("确认启用"), "reactivate_account"),
    "sign-out": (gettext_lazy("结束全部会话"), gettext_lazy(
        "该账户在所有设备上的登录立即结束，发给各接入应用的令牌立即作废。"),
        gettext_lazy("确认结束全部会话"), "end_account_sessions"),
    "reset-mfa": (gettext_lazy("重置多因素认证"), gettext_lazy(
        "删除该账户的身份验证器、通行密钥和恢复码，并结束其全部会话。请先用其他方式核实"
        "申请人的身份。"), gettext_lazy("确认重置"), "reset_account_factors"),
}


def _crumbs(*extra: tuple[str, str]) -> list[Crumb]:
    return [Crumb(_("工作台首页"), reverse("workbench:home")),
            *(Crumb(name, href) for name, href in extra)]


# --- accounts ----------------------------------------------------------------------------------

def _keys(request: HttpRequest) -> dict[str, Any]:
    """The paging key of the URL (one at most), validated."""
    for name in _KEYS:
        value = request.GET.get(name)
        if value is None or value == "":
            continue
        if name.endswith("_id"):
            if not (value.isascii() and value.isdigit()) or len(value) > 18:
                return {}
            return {name: int(value)}
        return {name: value[:150]}
    return {}


def _page_url(request: HttpRequest, key: dict[str, Any] | None) -> str:
    if key is None:
        return ""
    params = {k: v for k, v in request.GET.items() if k not in _KEYS and v}
    params.update({k: str(v) for k, v in key.items()})
    return f"?{urlencode(params)}"


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(MANAGE)
def accounts(request: HttpRequest) -> HttpResponse:
    """Accounts, newest first (or by user name for a name search), masked, keyset-paged;
    POST a phone number or ID number to open that account."""
    lookup = AccountLookupForm(request.POST if request.method == "POST" else None)
    if lookup.is_valid():
        try:
            found = identity.find_account(lookup.cleaned_data["number"], actor=request.user)
        except ValidationError as exc:
            lookup.add_error("number", exc.messages[0])
        else:
            if found is not None:
                return redirect("workbench:account", pk=found.pk)
            lookup.add_error("number", _("没有找到使用这个号码的账户。"))
    form = AccountSearchForm(request.GET)
    page = None
    if form.is_valid():
        page = identity.search_accounts(**form.criteria(), **_keys(request),
                                        limit=ROWS_PER_PAGE)
    filtered = bool(form.is_valid() and any(v not in ("", None) for v in form.criteria().values()))
    return render_page(request, "workbench/identity_accounts.html", "accounts", {
        "form": form, "lookup": lookup, "page": page, "filtered": filtered,
        "next_url": _page_url(request, page.next_key) if page else "",
        "previous_url": _page_url(request, page.previous_key) if page else "",
        "first_url": _page_url(request, {}) if page and page.previous_key else "",
    }, status=400 if lookup.errors else 200)


def _account_or_404(pk: int) -> Any:
    user = identity.get_account(pk)
    if user is None:
        raise Http404("no such account")
    return user


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(MANAGE)
def account(request: HttpRequest, pk: int) -> HttpResponse:
    """One account, masked, with its level, factors, sessions and mandates; the POST of
    查看完整信息 shows its personal data for a stated purpose (and records it)."""
    may_reveal = request.user.has_perm(REVEAL)
    user = _account_or_404(pk)
    form = RevealForm()
    revealed: dict[str, str] | None = None
    if request.method == "POST":
        if not may_reveal:
            raise PermissionDenied("may not reveal personal data")
        form = RevealForm(request.POST)
        if form.is_valid():
            revealed = identity.reveal_account(user, identity.REVEALABLE_ACCOUNT_FIELDS,
                                               purpose=form.cleaned_data["purpose"],
                                               actor=request.user)
    detail = identity.account_detail(pk, actor=request.user)
    if detail is None:
        raise Http404("no such account")
    audit_url = reverse("workbench:audit") + "?" + urlencode(
        {"object_type": "identity.user", "object_id": str(pk)})
    return render_page(request, "workbench/identity_account.html", "accounts", {
        "detail": detail, "account": detail.user, "form": form, "revealed": revealed,
        "may_reveal": may_reveal, "purposes": REVEAL_PURPOSES, "audit_url": audit_url,
        "may_audit": request.user.has_perm("audit.view_auditevent"),
        "actions": ACTIONS, "is_self": detail.user.pk == request.user.pk,
        "crumbs": _crumbs((_("账户管理"), reverse("workbench:accounts"))),
    })


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(MANAGE)
def account_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Confirm, then do, one of :data:`ACTIONS` with a reason."""
    if action not in ACTIONS:
        raise Http404("unknown action")
    title, explanation, button, function = ACTIONS[action]
    user = _account_or_404(pk)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            getattr(identity, function)(user, actor=request.user,
                                        reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        except PermissionDenied:
            form.add_error(None, _("只有超级管理员可以对超级管理员的账户执行此操作。"))
        else:
            messages.success(request, _("已完成：%(action)s。") % {"action": title})
            return redirect("workbench:account", pk=user.pk)
    return render_page(request, "workbench/identity_account_action.html", "accounts", {
        "account": user, "masked": identity.masked_account(user), "form": form,
        "action": action, "title": title, "explanation": explanation, "button": button,
        "crumbs": _crumbs((_("账户管理"), reverse("workbench:accounts")),
                          (user.username, reverse("workbench:account", args=[user.pk]))),
    }, status=400 if form.errors else 200)


# --- relying parties ---------------------------------------------------------------------------

def _provider(name: str) -> Any:
    """The provider's function ``name`` from the identity facade (written by the OIDC work)."""
    function = getattr(identity, name, None)
    if function is None:
        raise Http404(f"the relying-party function {name} is not installed")
    return function


def _department_choices(request: HttpRequest) -> list[tuple[str, str]]:
    if request.user.is_superuser:
        departments = list(orgs.list_departments())
    else:
        departments = identity.relying_party_departments(request.user)
    return [(d.code, d.name) for d in departments]


def _show_errors(form: RelyingPartyForm, exc: ValidationError) -> None:
    """The provider's refusal on the form: on its field when the form has one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error.messages)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _rp_form(request: HttpRequest, data: Any = None, **kwargs: Any) -> RelyingPartyForm:
    return RelyingPartyForm(data, departments=_department_choices(request),
                            superuser=request.user.is_superuser, **kwargs)


def _rp_or_404(request: HttpRequest, client_id: str) -> Any:
    rp = _provider("get_relying_party")(client_id)
    if rp is None:
        raise Http404("no such relying party")
    if not identity.may_manage_relying_party(request.user, rp):
        raise PermissionDenied("relying party of another department")
    return rp


def _rp_crumbs(*extra: tuple[str, str]) -> list[Crumb]:
    return _crumbs((_("接入应用管理"), reverse("workbench:relying_parties")), *extra)


@require_safe
@never_cache
@permission_required(MANAGE_RPS)
def relying_parties(request: HttpRequest) -> HttpResponse:
    """The relying parties this official may manage (superusers: all of them)."""
    list_rps = _provider("list_relying_parties")
    if request.user.is_superuser:
        rows = list(list_rps())
    else:
        rows = []
        for code, _name in _department_choices(request):
            rows.extend(list_rps(department_code=code))
    names = dict(_department_choices(request)) if not request.user.is_superuser else {
        d.code: d.name for d in orgs.list_departments()}
    return render_page(request, "workbench/identity_relying_parties.html", "relying_parties", {
        "rows": [(rp, names.get(rp.department_code, "")) for rp in rows],
    })


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(MANAGE_RPS)
def relying_party_new(request: HttpRequest) -> HttpResponse:
    """Register a relying party; a confidential client's secret is shown once, here."""
    form = _rp_form(request, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.changes()
        if not request.user.is_superuser and data["department_code"] not in dict(
                _department_choices(request)):
            raise PermissionDenied("not a department of this official")
        try:
            rp, secret = _provider("register_relying_party")(**data, actor=request.user)
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            return _show_secret_once(request, rp, secret, created=True)
    return render_page(request, "workbench/identity_relying_party_form.html",
                       "relying_parties", {"form": form, "rp": None, "crumbs": _rp_crumbs()},
                       status=400 if form.errors else 200)


def _initial(rp: Any) -> dict[str, Any]:
    return {
        "name": rp.name, "description": rp.description, "client_type": rp.client_type,
        "department_code": rp.department_code,
        "redirect_uris": "\n".join(str(rp.redirect_uris or "").split()),
        "post_logout_redirect_uris": "\n".join(str(rp.post_logout_redirect_uris or "").split()),
        "backchannel_logout_uri": rp.backchannel_logout_uri,
        "allowed_scopes": str(rp.allowed_scopes or "").split(),
        "subject_type": rp.subject_type, "sector_identifier_uri": rp.sector_identifier_uri,
        "min_level": rp.min_level, "first_party": rp.first_party,
    }


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(MANAGE_RPS)
def relying_party(request: HttpRequest, client_id: str) -> HttpResponse:
    """A relying party: its settings, editable by who may manage it."""
    rp = _rp_or_404(request, client_id)
    if request.method == "POST":
        form = _rp_form(request, request.POST, initial=_initial(rp), editing=True)
        if form.is_valid():
            changes = form.changes()
            if (not request.user.is_superuser
                    and changes["department_code"] not in dict(_department_choices(request))):
                raise PermissionDenied("not a department of this official")
            try:
                _provider("update_relying_party")(rp, actor=request.user, **changes)
            except ValidationError as exc:
                _show_errors(form, exc)
            else:
                messages.success(request, _("已保存。"))
                return redirect("workbench:relying_party", client_id=rp.client_id)
    else:
        form = _rp_form(request, initial=_initial(rp), editing=True)
    return render_page(request, "workbench/identity_relying_party_form.html",
                       "relying_parties", {"form": form, "rp": rp,
                                           "crumbs": _rp_crumbs()},
                       status=400 if form.errors else 200)


@require_POST
@never_cache
@permission_required(MANAGE_RPS)
def relying_party_rotate(request: HttpRequest, client_id: str) -> HttpResponse:
    """Give a confidential client a new secret (the old one stops working), shown once."""
    rp = _rp_or_404(request, client_id)
    if rp.client_type != "confidential":
        raise Http404("public clients have no secret")
    secret = _provider("rotate_client_secret")(rp, actor=request.user)
    return _show_secret_once(request, rp, secret, created=False)


SECRET_ONCE = "workbench_rp_secret_once"  # noqa: S105 - a session key, not a secret


def _show_secret_once(request: HttpRequest, rp: Any, secret: str | None, *,
                      created: bool) -> HttpResponse:
    """Post/redirect/get: the secret waits in the session for one view of the secret page,
    so that reloading that page never registers the app (or rotates the secret) again."""
    request.session[SECRET_ONCE] = {"client_id": rp.client_id, "secret": secret or "",
                                    "created": created}
    return redirect("workbench:relying_party_secret", client_id=rp.client_id)


@require_http_methods(["GET", "HEAD"])
@never_cache
@permission_required(MANAGE_RPS)
def relying_party_secret(request: HttpRequest, client_id: str) -> HttpResponse:
    """The page that shows a new client secret once; afterwards it leads to the app."""
    rp = _rp_or_404(request, client_id)
    once = request.session.get(SECRET_ONCE)
    if not once or once.get("client_id") != rp.client_id:
        return redirect("workbench:relying_party", client_id=rp.client_id)
    del request.session[SECRET_ONCE]
    return render_page(request, "workbench/identity_relying_party_secret.html",
                       "relying_parties", {"rp": rp, "secret": once["secret"] or None,
                                           "created": bool(once["created"]),
                                           "crumbs": _rp_crumbs()})


@require_POST
@never_cache
@permission_required(MANAGE_RPS)
def relying_party_active(request: HttpRequest, client_id: str) -> HttpResponse:
    """Disable (or enable again) a relying party: a disabled one gets no tokens."""
    rp = _rp_or_404(request, client_id)
    active = request.POST.get("active") == "1"
    _provider("set_relying_party_active")(rp, active, actor=request.user)
    messages.success(request, _("已启用该应用。") if active else _("已停用该应用。"))
    return redirect("workbench:relying_party", client_id=rp.client_id)
