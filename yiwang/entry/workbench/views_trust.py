"""密钥与证书 and 信任列表 of the workbench.

密钥与证书: per department, the managed signing keys and the certificates the region's root
CA issued for them; create, rotate and revoke keys, certify a key, revoke a certificate —
each through the keys and trust services, so every step is in the audit log. An official
manages only the departments they belong to, unless superuser or holder of
``trust.manage_all_keys`` (who also sees the region's own keys: root CA, TSA, trust list).

信任列表: published versions with the root fingerprint, publishing a new version, importing
another region's list (upload or paste, after typing its fingerprint), imported regions with
their status, source URL and last automatic refresh, and 立即更新 (refresh one region now).
Needs ``trust.manage_trust_lists``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from yiwang.core.crypto import service as crypto
from yiwang.entry.workbench.access import official_required, permission_required
from yiwang.entry.workbench.views import render_page
from yiwang.platform.orgs import service as orgs
from yiwang.support.trust import service as trust

NAV = "trust"  # the side navigation's module slugs (modules.py): 密钥与证书
NAV_LISTS = "trust_lists"  # 信任列表
REGION = "region"
PER_PAGE = 20  # rows of each table on 信任列表

# Purposes an official may create for a department, with the certificate usage each gets.
DEPARTMENT_PURPOSES = {
    "seal": ("ecdsa-p256", "seal"),
    "licence.vc": ("ed25519", "licence"),
    "licence.cose": ("ecdsa-p256", "licence"),
}
REGION_PURPOSES = {"pki.tsa": ("ecdsa-p256", "tsa"), "trust.list": ("ecdsa-p256", "trust-list")}
PURPOSE_LABELS = {
    "seal": gettext_lazy("电子印章签名"),
    "licence.vc": gettext_lazy("电子证照（可验证凭证）"),
    "licence.cose": gettext_lazy("电子证照（二维码）"),
    "pki.root": gettext_lazy("根证书"),
    "pki.tsa": gettext_lazy("时间戳服务"),
    "trust.list": gettext_lazy("信任列表签名"),
}
REASON_CHOICES = [
    ("unspecified", gettext_lazy("未说明")),
    ("key_compromise", gettext_lazy("密钥泄露")),
    ("affiliation_changed", gettext_lazy("单位变更")),
    ("superseded", gettext_lazy("已被替换")),
    ("cessation_of_operation", gettext_lazy("停止使用")),
]


class CreateKeyForm(forms.Form):
    purpose = forms.ChoiceField(label=gettext_lazy("用途"), choices=[],
                                widget=forms.Select(attrs={"class": "input"}))
    algorithm = forms.ChoiceField(
        label=gettext_lazy("算法"), required=False,
        choices=[("", gettext_lazy("按用途的默认算法")), ("ecdsa-p256", "ECDSA P-256"),
                 ("ed25519", "Ed25519"), ("sm2", "SM2")],
        widget=forms.Select(attrs={"class": "input"}))

    def __init__(self, *args: Any, purposes: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["purpose"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(p, PURPOSE_LABELS.get(p, p)) for p in purposes]


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("撤销原因"), choices=REASON_CHOICES,
                               widget=forms.Select(attrs={"class": "input"}))


class ImportForm(forms.Form):
    fingerprint = forms.CharField(
        label=gettext_lazy("根证书指纹（SHA-256）"), max_length=200,
        help_text=gettext_lazy("通过电话或公文等其他渠道向对方地区索取，逐位核对后填写；"
                               "可含空格或冒号。"),
        widget=forms.TextInput(attrs={"class": "input", "autocomplete": "off",
                                      "spellcheck": "false"}))
    document = forms.FileField(label=gettext_lazy("上传信任列表文件"), required=False,
                               widget=forms.ClearableFileInput(attrs={"accept": ".json"}))
    pasted = forms.CharField(label=gettext_lazy("或粘贴信任列表内容"), required=False,
                             widget=forms.Textarea(attrs={"class": "input", "rows": 6,
                                                          "spellcheck": "false"}))
    source_url = forms.CharField(
        label=gettext_lazy("来源网址（可选）"), required=False, max_length=500,
        help_text=gettext_lazy("对方地区发布信任列表的网址。每小时从这里自动获取新版本，只接受"
                               "同一根证书签发的更新版本。留空则按列表中密钥的网址推定为"
                               "“对方网址/trust/list.json”。"),
        widget=forms.TextInput(attrs={"class": "input", "inputmode": "url",
                                      "spellcheck": "false", "autocomplete": "off"}))

    def __init__(self, *args: Any, root_change: tuple[str, str, str] | None = None,
                 **kwargs: Any) -> None:
        """``root_change`` (region, old, new fingerprints, grouped) adds the confirmation
        that this very change of the region's root is known and checked."""
        super().__init__(*args, **kwargs)
        self.root_change = root_change
        if root_change is not None:
            region, old, new = root_change
            self.fields["previous_root"] = forms.CharField(
                required=False, widget=forms.HiddenInput, initial=old)
            self.fields["confirm_root_change"] = forms.BooleanField(
                required=False, label=gettext(
                    "确认更换根证书：我已通过电话或公文向%(region)s核实，其根证书指纹由 "
                    "%(old)s 更换为 %(new)s。") % {"region": region, "old": old, "new": new})

    def forget_root_change(self) -> None:
        """Drop the confirmation (the import failed for another reason: a root change is
        asked about again once the rest is right)."""
        self.root_change = None
        self.fields.pop("previous_root", None)
        self.fields.pop("confirm_root_change", None)

    def confirmed_root(self) -> str:
        """The previous root fingerprint the admin confirmed replacing, or ""."""
        if not self.cleaned_data.get("confirm_root_change"):
            return ""
        return str(self.cleaned_data.get("previous_root") or "")

    def content(self) -> bytes:
        upload = self.cleaned_data.get("document")
        if upload is not None:
            return bytes(upload.read(int(settings.YIWANG_TRUST_LIST_MAX_BYTES) + 1))
        return str(self.cleaned_data.get("pasted") or "").encode("utf-8")


def _owners(user: Any) -> list[tuple[str, str]]:
    """(code, name) of everything ``user`` may manage, the region first for managers."""
    allowed = trust.departments_managed_by(user)
    if allowed is None:
        return [(REGION, gettext("本地区（根证书、时间戳、信任列表）"))] + [
            (d.code, d.name) for d in orgs.list_departments()]
    names = {d.code: d.name for d in orgs.departments_of(user)}
    return [(code, names.get(code, code)) for code in allowed]


def _require_owner(request: HttpRequest, owner: str) -> str:
    if not trust.may_manage(request.user, owner):
        raise PermissionDenied("not your department")
    if owner == REGION:
        return gettext("本地区")
    department = orgs.get_department(owner)
    if department is None:
        raise PermissionDenied("no such department")
    return department.name


@require_safe
@official_required
def keys_index(request: HttpRequest) -> HttpResponseBase:
    """The departments whose keys the official may manage; straight to the only one."""
    owners = _owners(request.user)
    if len(owners) == 1:
        return redirect("workbench:trust_keys_of", owner=owners[0][0])
    return render_page(request, "workbench/trust_keys_index.html", NAV, {"owners": owners})


def _keys_page(request: HttpRequest, owner: str, name: str, *, status: int = 200,
               create_form: CreateKeyForm | None = None) -> HttpResponse:
    purposes = _purposes(owner)
    keys = crypto.list_signing_keys(owner=owner)
    certificates = trust.list_certificates(owner=owner)
    certified = {c.key_id for c in certificates if c.status == "valid"}
    return render_page(request, "workbench/trust_keys.html", NAV, {
        "owner": owner, "owner_name": name,
        "keys": [{"info": k, "purpose_label": PURPOSE_LABELS.get(k.purpose, k.purpose),
                  "certified": k.id in certified,
                  "certifiable": k.purpose in purposes and k.status == "active"}
                 for k in keys],
        "certificates": certificates,
        "create_form": create_form or CreateKeyForm(purposes=purposes),
        "revoke_form": RevokeForm(),
        "events": trust.audit_trail(owner, limit=30),
        "several": len(_owners(request.user)) > 1,
    }, status=status)


@require_safe
@never_cache
@official_required
def keys_of(request: HttpRequest, owner: str) -> HttpResponse:
    """One department's keys and certificates, with the audit trail."""
    return _keys_page(request, owner, _require_owner(request, owner))


def _purposes(owner: str) -> dict[str, tuple[str, str]]:
    """The purposes this page manages for ``owner``, with default algorithm and usage."""
    return REGION_PURPOSES if owner == REGION else DEPARTMENT_PURPOSES


def _act(request: HttpRequest, owner: str, action: Callable[[], str]) -> HttpResponse:
    """Run ``action`` (through the keys and trust services; it returns the success message)
    and go back to the owner's page with its message, or with the refusal's."""
    _notify(request, action)
    return redirect(reverse("workbench:trust_keys_of", kwargs={"owner": owner}))


def _notify(request: HttpRequest, action: Callable[[], str]) -> None:
    """Run ``action``; its success message, or the refusal of the services, for the next
    page."""
    try:
        message = action()
    except (ValidationError, crypto.CryptoError) as exc:
        messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError)
                       else str(exc))
    else:
        messages.success(request, message)


def _own_key(request: HttpRequest, owner: str, key_id: str) -> Any:
    """A key of ``owner`` that this page manages: seal keys belong to 印章管理 (revoking one
    here would leave its seal "active"), witness keys to the ledger."""
    key = crypto.get_signing_key(key_id)
    if key is None or key.owner != owner:
        raise PermissionDenied("not this department's key")
    if key.purpose not in _purposes(owner):
        raise PermissionDenied("this key is managed elsewhere")
    return key


KeyAction = Callable[[HttpRequest, str, Any], str]


def _key_action(action: KeyAction) -> Callable[..., HttpResponse]:
    """A POST on one of ``owner``'s keys that this page manages, by an official who may
    manage ``owner``: ``action(request, owner, key)`` does the work and returns the success
    message; a refusal of the services becomes an error message on the page."""

    @require_POST
    @official_required
    @wraps(action)
    def view(request: HttpRequest, owner: str, key_id: str) -> HttpResponse:
        _require_owner(request, owner)
        key = _own_key(request, owner, key_id)
        return _act(request, owner, lambda: action(request, owner, key))

    return view


def _reason(request: HttpRequest) -> str:
    form = RevokeForm(request.POST)
    return str(form.cleaned_data["reason"]) if form.is_valid() else "unspecified"


@require_POST
@official_required
def key_create(request: HttpRequest, owner: str) -> HttpResponse:
    """Create a key (the purpose's previous key is retired) and certify it."""
    name = _require_owner(request, owner)
    purposes = _purposes(owner)
    form = CreateKeyForm(request.POST, purposes=purposes)
    if not form.is_valid():
        return _keys_page(request, owner, name, status=400, create_form=form)
    purpose = form.cleaned_data["purpose"]
    default_algorithm, usage = purposes[purpose]

    def create() -> str:
        key = crypto.create_signing_key(
            owner=owner, purpose=purpose,
            algorithm=form.cleaned_data["algorithm"] or default_algorithm, actor=request.user)
        trust.certify_key(key.id, department_code=owner, usage=usage, actor=request.user)
        return gettext("已生成新密钥并签发证书。")

    return _act(request, owner, create)


@_key_action
def key_rotate(request: HttpRequest, owner: str, key: Any) -> str:
    """Replace a key by a new one of the same purpose, and certify the new one."""
    new = crypto.rotate_signing_key(owner, key.purpose, actor=request.user)
    trust.certify_key(new.id, department_code=owner, usage=_purposes(owner)[key.purpose][1],
                      actor=request.user)
    return gettext("密钥已更换，原密钥停止签名，已签发的文件仍可验证。")


@_key_action
def key_certify(request: HttpRequest, owner: str, key: Any) -> str:
    """Certify an active key that has no valid certificate."""
    trust.certify_key(key.id, department_code=owner, usage=_purposes(owner)[key.purpose][1],
                      actor=request.user)
    return gettext("已签发证书。")


@_key_action
def key_revoke(request: HttpRequest, owner: str, key: Any) -> str:
    """Revoke a key and its certificates (listed on the CRL at once)."""
    if key.purpose == "pki.root":
        raise PermissionDenied("the root key is not revoked here")
    reason = _reason(request)
    with transaction.atomic():  # the key and its certificates, or nothing
        crypto.revoke_signing_key(key.id, reason=reason, actor=request.user)
        for certificate in trust.list_certificates(owner=owner):
            if certificate.key_id == key.id and certificate.status == "valid":
                trust.revoke_certificate(certificate.serial, reason=reason, actor=request.user)
    return gettext("密钥及其证书已撤销，用它签署的文件将验证为“已撤销”。")


@require_POST
@official_required
def certificate_revoke(request: HttpRequest, owner: str, serial: str) -> HttpResponse:
    """Revoke one certificate of the department."""
    _require_owner(request, owner)
    info = trust.get_certificate(serial)
    if info is None or info.owner != owner:
        raise PermissionDenied("not this department's certificate")
    # Only certificates of keys this page manages: a seal's certificate is revoked with the
    # seal (印章管理), so the registry never shows an "active" seal whose certificate is gone.
    _own_key(request, owner, info.key_id)

    def revoke() -> str:
        trust.revoke_certificate(info.serial, reason=_reason(request), actor=request.user)
        return gettext("证书已撤销，并已列入证书撤销列表。")

    return _act(request, owner, revoke)


def _page_links(request: HttpRequest, page: Page[Any], param: str) -> list[dict[str, Any]]:
    """The links of a pager whose page number is the query parameter ``param`` (two pagers
    on one page), the other parameters kept."""

    def url(number: int) -> str:
        query = request.GET.copy()
        query[param] = str(number)
        return "?" + query.urlencode()

    links: list[dict[str, Any]] = []
    if page.has_previous():
        links.append({"url": url(page.previous_page_number()), "rel": "prev",
                      "text": gettext("上一页")})
    for number in page.paginator.get_elided_page_range(page.number):
        if number == page.paginator.ELLIPSIS:
            links.append({"ellipsis": True})
        else:
            links.append({"number": number, "current": number == page.number,
                          "url": url(int(number))})
    if page.has_next():
        links.append({"url": url(page.next_page_number()), "rel": "next",
                      "text": gettext("下一页")})
    return links


def _lists_page(request: HttpRequest, form: ImportForm, *, status: int = 200) -> HttpResponse:
    root = trust.ensure_root_ca()
    published = Paginator(trust.published_versions(), PER_PAGE).get_page(
        request.GET.get("published"))
    imported = Paginator(trust.imported_versions(), PER_PAGE).get_page(
        request.GET.get("imported"))
    return render_page(request, "workbench/trust_lists.html", NAV_LISTS, {
        "fingerprint": trust.trust_list_fingerprint(),
        "root": root,
        "published": published,
        "published_links": _page_links(request, published, "published"),
        "imported": imported,
        "imported_rows": [{"row": row, "status": trust.imported_status(row)}
                          for row in imported.object_list],
        "imported_links": _page_links(request, imported, "imported"),
        "form": form,
    }, status=status)


def _confirm_root_change(request: HttpRequest, content: bytes,
                         exc: trust.RootChanged) -> ImportForm:
    """The import form again, with the confirmation of this root change and the list kept
    in the paste box (an uploaded file is not sent twice)."""
    data = request.POST.copy()
    data["previous_root"] = exc.old
    data.pop("confirm_root_change", None)
    data["pasted"] = content.decode("utf-8", "replace")  # it was parsed as UTF-8 already
    params = exc.params or {}
    form = ImportForm(data, root_change=(str(params.get("region", "")),
                                         str(params.get("old", "")),
                                         str(params.get("new", ""))))
    form.is_valid()
    form.add_error(None, exc)
    return form


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(trust.TRUST_LIST_PERMISSION)
def lists(request: HttpRequest) -> HttpResponse:
    """Published versions and imported regions (GET); import a region's list (POST)."""
    if request.method != "POST":
        return _lists_page(request, ImportForm())
    confirming = "previous_root" in request.POST
    form = ImportForm(request.POST, request.FILES,
                      root_change=("", "", "") if confirming else None)
    if form.is_valid():
        content = form.content()
        if not content.strip():
            form.add_error("pasted", gettext("请上传或粘贴信任列表文件。"))
        else:
            try:
                row = trust.import_trust_list(
                    content, fingerprint=form.cleaned_data["fingerprint"], actor=request.user,
                    root_change_confirmed=form.confirmed_root(),
                    source_url=str(form.cleaned_data.get("source_url") or "").strip() or None)
            except trust.RootChanged as exc:
                form = _confirm_root_change(request, content, exc)
            except ValidationError as exc:
                form.add_error(None, exc)
                form.forget_root_change()
            else:
                messages.success(request, gettext("已导入%(region)s的信任列表第 %(sequence)s 版。")
                                 % {"region": row.region_name, "sequence": row.sequence})
                return redirect("workbench:trust_lists")
    return _lists_page(request, form, status=400)


@require_POST
@permission_required(trust.TRUST_LIST_PERMISSION)
def publish(request: HttpRequest) -> HttpResponse:
    """Publish the next version of this region's trust list."""

    def publish_next() -> str:
        version = trust.publish_trust_list(actor=request.user)
        return gettext("已发布信任列表第 %(sequence)s 版。") % {"sequence": version.sequence}

    _notify(request, publish_next)
    return redirect("workbench:trust_lists")


@require_POST
@permission_required(trust.TRUST_LIST_PERMISSION)
def refresh(request: HttpRequest, region: str) -> HttpResponse:
    """立即更新: fetch one imported region's list from its source URL now (the same rules as
    the hourly refresh: the pinned root only, never an older version); the outcome as a
    message."""
    try:
        result = trust.refresh_region(region, actor=request.user)
    except ValidationError:
        raise Http404("no such imported region") from None
    if result.ok:
        messages.success(request, result.message)
    else:
        messages.error(request, gettext("未能更新：%(reason)s") % {"reason": result.message})
    return redirect("workbench:trust_lists")
