"""Portal pages of the licences app: the holder's wallet (我的证照), share links, and the
public verification page (证照核验).

Who may do what: the wallet and everything under it needs a signed-in person with a live
identity-provider session, and shows only the licences :func:`service.licence_for` allows (a
citizen's own, those of enterprises they represent or act for with the 证照使用 scope, and
those of the minors they are the current guardian of — 我监护的未成年人的证照, every use
recorded with purpose ``guardian``); any other licence is a 404, so nobody learns which
licences exist. The verification page and
a share link's page are public: they show a verification result and only what the holder
chose to disclose.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from yiwang.support.identity import service as identity
from yiwang.support.licences import service
from yiwang.support.licences.forms import ShareForm, VerifyForm, WalletFilterForm
from yiwang.support.licences.models import Licence, Share, UseKind

PER_PAGE = 20
#: The level of a real-name session (L2 实名认证), needed to show a licence in full.
REAL_NAME_LEVEL = 2
DOWNLOAD_DEDUP_SECONDS = 60


#: portal pages for a signed-in person (after a POST, back to licences_portal:wallet)
signed_in = identity.signed_in_required("licences_portal:wallet")


def _held(request: HttpRequest, pk: int) -> Licence:
    return _held_as(request, pk)[0]


def _held_as(request: HttpRequest, pk: int) -> tuple[Licence, str]:
    """The licence and how the user holds it (``self``, ``enterprise``, ``guardian``); the
    check is the service's (:func:`service.licence_for`), anything else is a 404."""
    found = service.licence_for(request.user, pk)
    if found is None:
        raise Http404("no such licence in this wallet")
    return found


def _crumbs(*extra: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": _("首页"), "href": reverse("portal:home")},
            *({"name": name, "href": href} for name, href in extra)]


def _wallet_crumb() -> tuple[str, str]:
    return (_("我的证照"), reverse("licences_portal:wallet"))


@require_safe
@never_cache
@signed_in
def wallet(request: HttpRequest) -> HttpResponse:
    """The holder's licences, filtered and paginated, holders' codes masked."""
    enterprises = [(a.credit_code, a.name) for a in identity.acting_identities(request.user)
                   if a.is_representative or "licence" in a.scopes]
    english = get_language() == "en"
    types = [(t.code, t.name_en if english and t.name_en else t.name)
             for t in service.list_types()]
    form = WalletFilterForm(request.GET or None, types=types, holders=enterprises)
    criteria = form.cleaned_data if form.is_valid() else {}
    found = service.licences_of(request.user, type_code=criteria.get("type", ""),
                                status=criteria.get("status", ""),
                                holder=criteria.get("holder", ""))
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"licence": lic, "status": service.effective_status(lic),
             "holder": service.masked_holder(lic)} for lic in page.object_list]
    wards = [{"ward": w.ward, "guardianship": w.guardianship,
              "rows": [{"licence": lic, "status": service.effective_status(lic)}
                       for lic in w.licences]}
             for w in service.ward_wallets(request.user)]
    return render(request, "licences/wallet.html", {
        "nav": "licences", "form": form, "page": page, "rows": rows, "wards": wards,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "verified": bool(request.user.id_number), "crumbs": _crumbs(),
    })


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@signed_in
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A licence: its face masked; the POST of 查看完整信息 shows it in full (audited)."""
    licence, held_as = _held_as(request, pk)
    rows = service.face_of(licence, masked=True)
    revealed = False
    if request.method == "POST":
        if identity.level_of(request) < REAL_NAME_LEVEL:
            # The full view shows the whole ID number: only a real-name (L2) session.
            messages.info(request, _("查看完整信息需要实名认证等级(L2)的登录,请先提升认证等级。"))
            query = urlencode({"level": REAL_NAME_LEVEL,
                               "next": reverse("licences_portal:detail", args=[pk])})
            return HttpResponseRedirect(f"{reverse('identity:step_up')}?{query}")
        rows = service.reveal_licence(licence, actor=request.user, purpose="持证人查看")
        # (a guardian's reveal is recorded with purpose "guardian" by the service)
        revealed = True
    share_form = ShareForm(fields=[(r.key, r.label) for r in service.face_of(licence)])
    shares = Paginator(licence.shares.all(), PER_PAGE).get_page(request.GET.get("shares"))
    uses = Paginator(service.uses_of(licence), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "licences/detail.html", {
        "nav": "licences", "licence": licence, "rows": rows, "revealed": revealed,
        "as_guardian": held_as == service.GUARDIAN,
        "status": service.effective_status(licence), "holder": service.masked_holder(licence),
        "share_form": share_form, "shares": shares, "uses": uses,
        "page_range": uses.paginator.get_elided_page_range(uses.number),
        "crumbs": _crumbs(_wallet_crumb()), "now": timezone.now(),
    })


def _step_up_for_download(request: HttpRequest) -> HttpResponse | None:
    """The VC and the PDF carry the whole ID number, as the full view does: below a
    real-name (L2) session, a redirect to step-up that comes back to the download."""
    if identity.level_of(request) >= REAL_NAME_LEVEL:
        return None
    messages.info(request, _("下载电子证照文件(含完整身份证号)需要实名认证等级(L2)的登录,"
                             "请先提升认证等级。"))
    query = urlencode({"level": REAL_NAME_LEVEL, "next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse('identity:step_up')}?{query}")


def _download(licence: Licence, request: HttpRequest, what: str) -> None:
    """Record a download in the 用证记录 — once per session, licence and format a minute.

    The downloads stay plain links (GET: they open in any browser, and a wallet app or a
    script with the holder's session can fetch them), so a link prefetcher, a browser's
    second request or a scanner following the link within the minute would each have made
    a line; now a repeat in the same session within the minute is the same download. HEAD
    never counts."""
    if request.method != "GET":
        return
    session = identity.current_session(request)
    key = (f"licences.download:{getattr(session, 'sid', '') or request.session.session_key}:"
           f"{licence.pk}:{what}")
    if not cache.add(key, 1, timeout=DOWNLOAD_DEDUP_SECONDS):
        return
    service.record_use(licence, UseKind.DOWNLOAD, actor=request.user, detail={"format": what})


@require_safe
@never_cache
@signed_in
def download_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    licence = _held(request, pk)
    stepped = _step_up_for_download(request)
    if stepped is not None:
        return stepped
    _download(licence, request, "pdf")
    response = HttpResponse(service.pdf_bytes(licence), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="licence-{licence.number}.pdf"'
    return response


@require_safe
@never_cache
@signed_in
def download_vc(request: HttpRequest, pk: int) -> HttpResponse:
    licence = _held(request, pk)
    stepped = _step_up_for_download(request)
    if stepped is not None:
        return stepped
    _download(licence, request, "vc")
    response = HttpResponse(licence.vc, content_type="application/vc+ld+json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="licence-{licence.number}.json"'
    return response


@require_safe
@never_cache
@signed_in
def download_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """The QR as an SVG image (``?format=txt``: its text)."""
    licence = _held(request, pk)
    if request.GET.get("format") == "txt":
        _download(licence, request, "qr-text")
        response = HttpResponse(licence.qr, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="licence-{licence.number}.txt"'
        return response
    _download(licence, request, "qr")
    return HttpResponse(_svg(licence.qr), content_type="image/svg+xml")


def _svg(text: str) -> str:
    return str(segno.make(text, error="m", micro=False).svg_inline(scale=3, border=2))


@require_POST
@never_cache
@signed_in
def share(request: HttpRequest, pk: int) -> HttpResponse:
    """Create a verification link; its address and QR are shown on this response only."""
    licence = _held(request, pk)
    form = ShareForm(request.POST, fields=[(r.key, r.label) for r in service.face_of(licence)])
    if not form.is_valid():
        messages.error(request, _("请选择有效期和要展示的信息。"))
        return redirect("licences_portal:detail", pk=pk)
    try:
        created, token = service.create_share(licence, actor=request.user,
                                              hours=form.cleaned_data["hours"],
                                              disclosed=form.cleaned_data["disclosed"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("licences_portal:detail", pk=pk)
    # The public address from settings, not the request's Host header (which a client sets).
    link = settings.YIWANG_PUBLIC_URL.rstrip("/") + reverse("licences_portal:shared",
                                                            args=[token])
    return render(request, "licences/share_created.html", {
        "nav": "licences", "licence": licence, "share": created, "link": link,
        "qr_svg": _svg(link), "crumbs": _crumbs(_wallet_crumb()),
    })


@require_POST
@signed_in
def share_revoke(request: HttpRequest, pk: int, share_pk: int) -> HttpResponse:
    licence = _held(request, pk)
    found = Share.objects.filter(pk=share_pk, licence=licence).first()
    if found is None:
        raise Http404("no such share")
    try:
        service.revoke_share(found, actor=request.user)
    except PermissionDenied:
        raise Http404("no such share") from None
    messages.success(request, _("分享链接已撤销,核验方无法再打开。"))
    return redirect("licences_portal:detail", pk=pk)


@require_safe
@never_cache
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """A share link's page: the verification result and the disclosed fields only."""
    found = service.open_share(token)
    if found is None:
        return render(request, "licences/shared_gone.html", {"nav": "licences"}, status=404)
    licence = found.licence
    outcome = service.verify_licence(licence)
    return render(request, "licences/shared.html", {
        "nav": "licences", "licence": licence, "outcome": outcome,
        "status": service.effective_status(licence),
        "rows": service.face_of(licence, masked=False, only=set(found.disclosed)),
        "share": found, "holder": service.masked_holder(licence),
    })


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def verify(request: HttpRequest) -> HttpResponse:
    """The public verification page: a PDF, a QR text or a VC, each check named."""
    if request.method == "POST" and service.over_verify_rate(request):
        response = render(request, "licences/verify.html", {
            "nav": "licences", "form": VerifyForm(), "outcome": None,
            "limited": _("核验请求过于频繁:同一网络地址每分钟最多核验 %(count)s 次。"
                         "请在 1 分钟后再试。") % {
                "count": settings.YIWANG_LICENCES_VERIFY_RATE_PER_MINUTE},
        }, status=429)
        response["Retry-After"] = service.VERIFY_RETRY_AFTER
        return response
    form = VerifyForm(request.POST or None, request.FILES or None)
    outcome = None
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        payload: bytes | str
        if kind == "pdf":
            upload = form.cleaned_data["file"]
            payload = upload.read(int(upload.size) + 1)
        else:
            payload = form.cleaned_data["text"]
        outcome = service.verify_presented(kind=kind, payload=payload,
                                           channel=UseKind.VERIFY_PAGE)
    status = 200
    if outcome is not None and not outcome.valid:
        status = 422 if any(c["name"] == "malformed" for c in outcome.errors) else 200
    return render(request, "licences/verify.html", {
        "nav": "licences", "form": form, "outcome": outcome,
        "outcome_json": json.dumps(outcome.to_dict(), ensure_ascii=False, indent=2)
        if outcome else "",
    }, status=status)
