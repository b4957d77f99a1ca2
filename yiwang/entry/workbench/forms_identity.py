"""Forms of the workbench's 账户管理 and 接入应用管理 screens."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from yiwang.support.identity import service as identity

ACTIVE_CHOICES = [("", _("全部状态")), ("1", _("正常")), ("0", _("已停用"))]


class AccountSearchForm(forms.Form):
    """The accounts list's search box and filters (GET: user names only, never numbers)."""

    q = forms.CharField(
        label=_("用户名"), max_length=150, required=False,
        help_text=_("完整用户名或其开头。"),
        widget=forms.TextInput(attrs={"class": "input", "type": "search", "autocomplete": "off",
                                      "spellcheck": "false"}))
    type = forms.ChoiceField(label=_("账户类型"), required=False,
                             choices=[("", _("全部类型")), *identity.AccountType.choices],
                             widget=forms.Select(attrs={"class": "input"}))
    level = forms.TypedChoiceField(
        label=_("认证等级"), required=False, coerce=int, empty_value=None,
        choices=[("", _("全部等级")), (1, identity.Level.L1.label), (2, identity.Level.L2.label)],
        widget=forms.Select(attrs={"class": "input"}))
    active = forms.ChoiceField(label=_("账户状态"), required=False, choices=ACTIVE_CHOICES,
                               widget=forms.Select(attrs={"class": "input"}))

    def clean_q(self) -> str:
        q = " ".join(self.cleaned_data["q"].split())
        lookup, _value = identity.classify_query(q)
        if lookup in ("phone", "id_number"):
            raise forms.ValidationError(
                _("手机号码和公民身份号码请在“按号码查找”中填写，号码不会出现在网址中。"),
                code="number_in_url")
        return q

    def criteria(self) -> dict[str, Any]:
        data = self.cleaned_data
        active = {"1": True, "0": False}.get(data.get("active") or "")
        return {"q": data.get("q", ""), "account_type": data.get("type") or "",
                "level": data.get("level"), "active": active}


class AccountLookupForm(forms.Form):
    """Find an account by its full phone number or ID number (POSTed: not in URLs)."""

    number = forms.CharField(
        label=_("手机号码或公民身份号码"), max_length=24,
        error_messages={"required": _("请填写手机号码或公民身份号码。")},
        widget=forms.TextInput(attrs={"class": "input input--id", "autocomplete": "off",
                                      "spellcheck": "false"}))


class ReasonForm(forms.Form):
    """Why an administrator acts on an account (recorded in the audit log)."""

    reason = forms.CharField(
        label=_("原因"), max_length=200,
        help_text=_("将记入审计日志。"),
        error_messages={"required": _("请填写原因。")},
        widget=forms.TextInput(attrs={"class": "input", "autocomplete": "off"}))


# --- relying parties -------------------------------------------------------------------------

def _scope_choices() -> list[tuple[str, str]]:
    scopes = settings.OAUTH2_PROVIDER.get("SCOPES", {})
    return [(name, f"{name} — {label}") for name, label in scopes.items()]


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace(",", " ").split() if line.strip()]


_url = URLValidator(schemes=["https", "http"])


def _check_urls(urls: list[str], *, allow_http_localhost: bool = True) -> list[str]:
    for url in urls:
        try:
            _url(url)
        except forms.ValidationError:
            raise forms.ValidationError(_("“%(url)s”不是有效的网址。"), code="url",
                                        params={"url": url[:200]}) from None
        if url.startswith("http://") and not (allow_http_localhost and url.split("/")[2]
                                              .split(":")[0] in {"localhost", "127.0.0.1"}):
            raise forms.ValidationError(
                _("“%(url)s”须使用 https(仅本机测试地址可用 http)。"), code="https",
                params={"url": url[:200]})
        if "#" in url:
            raise forms.ValidationError(_("回调地址不能含有“#”片段。"), code="fragment")
    return urls


class RelyingPartyForm(forms.Form):
    """Register or edit a relying party (接入应用)."""

    name = forms.CharField(label=_("应用名称"), max_length=255,
                           error_messages={"required": _("请填写应用名称。")},
                           widget=forms.TextInput(attrs={"class": "input"}))
    description = forms.CharField(label=_("说明"), max_length=200, required=False,
                                  widget=forms.TextInput(attrs={"class": "input"}))
    client_type = forms.ChoiceField(
        label=_("客户端类型"),
        choices=[("confidential", _("机密客户端（有服务器端，持有密钥）")),
                 ("public", _("公开客户端（单页应用或移动应用，无密钥，须用 PKCE）"))],
        widget=forms.RadioSelect)
    department_code = forms.ChoiceField(label=_("主管部门"), required=False,
                                        widget=forms.Select(attrs={"class": "input"}))
    redirect_uris = forms.CharField(
        label=_("登录回调地址"), help_text=_("每行一个，须与应用发来的地址完全一致。"),
        error_messages={"required": _("请至少填写一个登录回调地址。")},
        widget=forms.Textarea(attrs={"class": "input", "rows": 3, "spellcheck": "false"}))
    post_logout_redirect_uris = forms.CharField(
        label=_("退出后回跳地址"), required=False, help_text=_("每行一个，可不填。"),
        widget=forms.Textarea(attrs={"class": "input", "rows": 2, "spellcheck": "false"}))
    backchannel_logout_uri = forms.CharField(
        label=_("后端注销地址"), required=False, max_length=512,
        help_text=_(
            "用户在任一处退出时，平台向此地址发送注销通知（back-channel logout），可不填。"),
        widget=forms.TextInput(attrs={"class": "input", "spellcheck": "false"}))
    allowed_scopes = forms.MultipleChoiceField(
        label=_("可申请的范围"), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择 openid。")})
    subject_type = forms.ChoiceField(
        label=_("用户标识类型"),
        choices=[("public", _("统一标识：各应用看到同一个用户标识")),
                 ("pairwise", _("按应用区分：每个应用看到不同的用户标识，保护隐私"))],
        widget=forms.RadioSelect)
    sector_identifier_uri = forms.CharField(
        label=_("标识分区文档地址（sector_identifier_uri）"), required=False, max_length=512,
        help_text=_(
            "仅对“按应用区分”的应用有用。标识分区在登记时确定，此后不再改变，用户标识也就不会变："
            "回调地址都在同一主机上时，标识分区就是该主机，此处可不填；回调地址分属多个主机时须填写"
            "此地址，它返回列出全部回调地址的 JSON 数组，标识分区就是它的主机。同一标识分区的应用"
            "看到相同的用户标识，所以一个标识分区只能由一个部门的应用使用。"),
        widget=forms.TextInput(attrs={"class": "input", "spellcheck": "false"}))
    min_level = forms.TypedChoiceField(
        label=_("最低认证等级"), coerce=int,
        choices=[(1, identity.Level.L1.label), (2, identity.Level.L2.label),
                 (3, identity.Level.L3.label)],
        help_text=_("登录等级低于此等级时，平台会要求用户先提升认证等级。"),
        widget=forms.Select(attrs={"class": "input"}))
    first_party = forms.BooleanField(
        label=_("平台自有应用（不显示授权同意页）"), required=False)

    def __init__(self, *args: Any, departments: list[tuple[str, str]], superuser: bool,
                 editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dept = self.fields["department_code"]
        assert isinstance(dept, forms.ChoiceField)
        dept.choices = ([("", _("平台（无主管部门）"))] if superuser else []) + departments
        dept.required = not superuser
        scopes = self.fields["allowed_scopes"]
        assert isinstance(scopes, forms.MultipleChoiceField)
        scopes.choices = _scope_choices()
        if not superuser:
            # Skipping consent is the platform's decision, not a department's.
            self.fields["first_party"].disabled = True
        if editing:
            self.fields["client_type"].disabled = True
        self.initial.setdefault("allowed_scopes", ["openid", "profile"])
        self.initial.setdefault("subject_type", "public")
        self.initial.setdefault("client_type", "confidential")
        self.initial.setdefault("min_level", 1)

    def clean_redirect_uris(self) -> str:
        urls = _check_urls(_lines(self.cleaned_data["redirect_uris"]))
        if not urls:
            raise forms.ValidationError(_("请至少填写一个登录回调地址。"), code="required")
        return " ".join(urls)

    def clean_post_logout_redirect_uris(self) -> str:
        return " ".join(_check_urls(_lines(self.cleaned_data["post_logout_redirect_uris"])))

    def _one_url(self, name: str) -> str:
        value = str(self.cleaned_data[name]).strip()
        if value:
            _check_urls([value])
        return value

    def clean_backchannel_logout_uri(self) -> str:
        return self._one_url("backchannel_logout_uri")

    def clean_sector_identifier_uri(self) -> str:
        return self._one_url("sector_identifier_uri")

    def clean_allowed_scopes(self) -> str:
        scopes = self.cleaned_data["allowed_scopes"]
        if "openid" not in scopes:
            raise forms.ValidationError(_("可申请的范围必须包含 openid。"), code="openid")
        return " ".join(scopes)

    def changes(self) -> dict[str, Any]:
        """The cleaned values as keyword arguments of the provider's functions."""
        data = dict(self.cleaned_data)
        if self.fields["first_party"].disabled:
            data.pop("first_party", None)
        if self.fields["client_type"].disabled:
            data.pop("client_type", None)
        return data
