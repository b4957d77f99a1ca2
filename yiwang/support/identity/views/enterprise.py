"""法人账户 and 授权委托 in the portal: my enterprises, opening one, agents, switching.

Who may do what: every page needs a signed-in person with a live identity-provider
session. An enterprise's page exists only for people holding a live mandate for it (404 for
everyone else, so that nobody learns which enterprises have accounts); its agents are listed
and managed only by its representative and agents holding the ``manage`` scope (403 for
other agents). The service functions check the same rules again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.support.identity import enterprise as ent
from yiwang.support.identity.models import EnterpriseAccount, Mandate, MandateRole
from yiwang.support.identity.views.mfa import sign_in_required

View = TypeVar("View", bound=Callable[..., HttpResponse])


signed_in = sign_in_required(after_post="identity:enterprise")


def _crumbs(*extra: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": _("首页"), "href": reverse("portal:home")},
            *({"name": name, "href": href} for name, href in extra)]


def _held(request: HttpRequest, credit_code: str) -> tuple[EnterpriseAccount, Mandate]:
    """The enterprise and the request's live mandate for it; 404 without one."""
    account = ent.get_enterprise(credit_code)
    mandate = ent.mandate_of(request.user, account) if account is not None else None
    if account is None or mandate is None:
        raise Http404("no live mandate for this enterprise")
    return account, mandate


# --- forms -------------------------------------------------------------------------------------

class RegisterForm(forms.Form):
    credit_code = forms.CharField(
        label=gettext_lazy("统一社会信用代码"), max_length=24,
        help_text=gettext_lazy("18 位，见营业执照或登记证书。字母不区分大小写。"),
        error_messages={"required": gettext_lazy("请填写统一社会信用代码。")},
        widget=forms.TextInput(attrs={"class": "input input--id", "autocomplete": "off",
                                      "spellcheck": "false", "autocapitalize": "characters"}))


class GrantForm(forms.Form):
    agent_login = forms.CharField(
        label=gettext_lazy("经办人用户名"), max_length=150, required=False,
        widget=forms.TextInput(attrs={"class": "input", "autocomplete": "off"}))
    agent_name = forms.CharField(
        label=gettext_lazy("经办人姓名"), max_length=64, required=False,
        widget=forms.TextInput(attrs={"class": "input", "autocomplete": "off"}))
    agent_id_number = forms.CharField(
        label=gettext_lazy("经办人公民身份号码"), max_length=18, required=False,
        widget=forms.TextInput(attrs={"class": "input input--id", "autocomplete": "off",
                                      "spellcheck": "false"}))
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("授权范围"), choices=ent.scope_choices(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("请至少选择一项授权范围。"),
                        "invalid_choice": gettext_lazy("授权范围无效。")})
    expires_on = forms.DateField(
        label=gettext_lazy("到期日期"), input_formats=["%Y-%m-%d"],
        help_text=gettext_lazy("授权在这一天结束时失效，最长三年。"),
        error_messages={"required": gettext_lazy("请填写授权的到期日期。"),
                        "invalid": gettext_lazy("请按“年-月-日”的格式填写日期，例如 2026-03-01。")},
        widget=forms.DateInput(attrs={"class": "input", "type": "date"}, format="%Y-%m-%d"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("agent_login", "").strip()
                or (data.get("agent_name", "").strip()
                    and data.get("agent_id_number", "").strip())):
            raise forms.ValidationError(_("请填写经办人的用户名，或者姓名和公民身份号码。"))
        return data

    def expires_at(self) -> datetime:
        """The end of the chosen day in the project's time zone."""
        day: date = self.cleaned_data["expires_on"]
        start = datetime.combine(day + timedelta(days=1), time.min)
        return timezone.make_aware(start) - timedelta(seconds=1)


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("撤销原因"), max_length=ent.REASON_MAX_LENGTH,
        error_messages={"required": gettext_lazy("请填写撤销原因。")},
        widget=forms.TextInput(attrs={"class": "input", "autocomplete": "off"}))


def _apply_errors(form: forms.Form, error: ValidationError, field: str | None = None) -> None:
    for message in error.messages:
        form.add_error(field, message)


# --- pages -------------------------------------------------------------------------------------

@require_http_methods(["GET", "HEAD"])
@never_cache
@signed_in
def enterprise_home(request: HttpRequest) -> HttpResponse:
    """我的企业：the enterprises I may act for, and whom I act as now."""
    return render(request, "identity/enterprise.html", {
        "identities": ent.acting_identities(request.user),
        "acting": ent.current_acting(request),
        "verified": int(getattr(request.user, "level", 1)) >= 2,
        "crumbs": _crumbs(),
    })


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@signed_in
def enterprise_register(request: HttpRequest) -> HttpResponse:
    """开通法人账户：the legal representative enters the credit code."""
    form = RegisterForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            account = ent.register_enterprise_account(
                request.user, form.cleaned_data["credit_code"], actor=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc, "credit_code")
        else:
            messages.success(request, _("已开通 %(name)s 的法人账户。您现在可以授权经办人，"
                                        "也可以切换为以企业身份办事。") % {"name": account.name})
            return redirect("identity:enterprise_detail", credit_code=account.credit_code)
    return render(request, "identity/enterprise_register.html", {
        "form": form,
        "verified": int(getattr(request.user, "level", 1)) >= 2,
        "crumbs": _crumbs((_("我的企业"), reverse("identity:enterprise"))),
    }, status=200 if not form.errors else 400)


@require_http_methods(["GET", "HEAD"])
@never_cache
@signed_in
def enterprise_detail(request: HttpRequest, credit_code: str) -> HttpResponse:
    """An enterprise I act for: my mandate; its agents if I manage them."""
    account, mandate = _held(request, credit_code)
    manager = ent.managing_mandate(request.user, account)
    agents = ent.mandates_of_enterprise(account, actor=request.user) if manager else []
    now = timezone.now()
    for row in agents:
        row.state = ("revoked" if row.revoked_at else  # type: ignore[attr-defined]
                     "expired" if row.expires_at and row.expires_at <= now else "live")
    return render(request, "identity/enterprise_detail.html", {
        "account": account, "mandate": mandate, "acting": ent.acting_from(mandate),
        "manager": manager is not None, "agents": agents,
        "scopes": ent.SCOPES,
        "crumbs": _crumbs((_("我的企业"), reverse("identity:enterprise"))),
    })


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@signed_in
def enterprise_grant(request: HttpRequest, credit_code: str) -> HttpResponse:
    """授权经办人：only the representative or a managing agent (403 for other agents)."""
    account, _mandate = _held(request, credit_code)
    if ent.managing_mandate(request.user, account) is None:
        raise PermissionDenied("not a manager of this enterprise")
    form = GrantForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            granted = ent.grant_mandate(
                account, agent_login=data["agent_login"], agent_name=data["agent_name"],
                agent_id_number=data["agent_id_number"], scopes=data["scopes"],
                expires_at=form.expires_at(), actor=request.user)
        except ValidationError as exc:
            field = {"scope_unknown": "scopes", "scope_required": "scopes",
                     "scope_beyond_granter": "scopes", "agent_id_number": "agent_id_number",
                     }.get(str(exc.code or ""))
            if str(exc.code or "").startswith("expiry"):
                field = "expires_on"
            _apply_errors(form, exc, field)
        else:
            messages.success(request, _("已授权 %(name)s 为经办人。") % {
                "name": granted.agent.username})
            return redirect("identity:enterprise_detail", credit_code=account.credit_code)
    return render(request, "identity/enterprise_grant.html", {
        "account": account, "form": form,
        "max_date": (timezone.localdate() + timedelta(days=ent.MAX_MANDATE_DAYS - 1)).isoformat(),
        "min_date": (timezone.localdate() + timedelta(days=1)).isoformat(),
        "crumbs": _crumbs((_("我的企业"), reverse("identity:enterprise")),
                          (account.name, reverse("identity:enterprise_detail",
                                                 args=[account.credit_code]))),
    }, status=200 if not form.errors else 400)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@signed_in
def mandate_revoke(request: HttpRequest, credit_code: str, pk: int) -> HttpResponse:
    """撤销授权：confirm with a reason. Managers revoke agents; an agent may give theirs up."""
    account, _mandate = _held(request, credit_code)
    target = (Mandate.objects.select_related("agent", "enterprise")
              .filter(pk=pk, enterprise=account).first())
    if target is None:
        raise Http404("no such mandate")
    is_self = target.agent_id == request.user.pk
    if not is_self and ent.managing_mandate(request.user, account) is None:
        raise PermissionDenied("not a manager of this enterprise")
    if target.role == MandateRole.REPRESENTATIVE or target.revoked_at is not None:
        raise Http404("nothing to revoke")
    form = RevokeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            ent.revoke_mandate(target, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _apply_errors(form, exc, "reason")
        else:
            messages.success(request, _("已撤销 %(name)s 的授权，立即生效。") % {
                "name": target.agent.username})
            if is_self:
                return redirect("identity:enterprise")
            return redirect("identity:enterprise_detail", credit_code=account.credit_code)
    return render(request, "identity/enterprise_revoke.html", {
        "account": account, "target": target, "form": form, "is_self": is_self,
        "crumbs": _crumbs((_("我的企业"), reverse("identity:enterprise")),
                          (account.name, reverse("identity:enterprise_detail",
                                                 args=[account.credit_code]))),
    }, status=200 if not form.errors else 400)


@require_POST
@signed_in
def switch(request: HttpRequest) -> HttpResponse:
    """切换办事身份 (the switcher's form): act as an enterprise, or as oneself with ``""``."""
    code = str(request.POST.get("credit_code", ""))[:24]
    next_url = str(request.POST.get("next", ""))
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = reverse("identity:enterprise")
    try:
        acting = ent.switch_identity(request, code)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("identity:enterprise")
    if acting is None:
        messages.success(request, _("您现在以个人身份办事。"))
    else:
        messages.success(request, _("您现在以 %(name)s 的身份办事。") % {"name": acting.name})
    return HttpResponseRedirect(next_url)
