"""防篡改账本 on the workbench: the logs, their checkpoints and cosignatures, a lookup by
record hash with its inclusion proof, and the recent entries (types and hashes only).

Every official may look (entries hold hashes, never personal data); publishing a
checkpoint or asking the witnesses to cosign now needs ``ledger.manage_ledger``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from yiwang.enablement.ledger import service as ledger
from yiwang.entry.workbench.access import official_required, permission_required
from yiwang.entry.workbench.views import render_page

NAV = "ledger"
MANAGE = "ledger.manage_ledger"
PER_PAGE = 50


def _lookup(log: str, value: str) -> dict[str, Any]:
    """The entry with record hash (or leaf hash) ``value`` and its verified inclusion proof."""
    value = value.strip().lower()
    found = ledger.find_entry(log, record_hash=value)
    if found is None:
        found = ledger.find_entry(log, leaf_hash=value)
    if found is None:
        return {"error": _("账本中没有这个哈希的条目。")}
    proof = ledger.inclusion_proof(log, found.index)
    verified = ledger.verify_inclusion(log, proof)
    return {"entry": found, "proof": proof, "verified": verified}


@require_safe
@never_cache
@official_required
def overview(request: HttpRequest) -> HttpResponse:
    """The logs, their latest checkpoints with cosigners, the witnesses, and a lookup."""
    logs = ledger.list_logs()
    rows = [{"log": info, "checkpoint": ledger.latest_checkpoint(info.name)} for info in logs]
    context: dict[str, Any] = {
        "rows": rows, "witnesses": ledger.witnesses(),
        "can_manage": request.user.has_perm(MANAGE),
        "lookup_log": request.GET.get("log", "main")[:32],
        "lookup_hash": request.GET.get("hash", "")[:128],
    }
    if context["lookup_hash"]:
        try:
            context["lookup"] = _lookup(context["lookup_log"], context["lookup_hash"])
        except ValidationError as exc:
            context["lookup"] = {"error": " ".join(exc.messages)}
    return render_page(request, "workbench/ledger_index.html", NAV, context)


@require_safe
@never_cache
@official_required
def log_detail(request: HttpRequest, log: str) -> HttpResponse:
    """Recent entries of one log, newest first, and its latest checkpoints."""
    try:
        info = ledger.get_log(log)
    except ValidationError:
        raise Http404("no such log") from None
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    pages = max(1, -(-info.size // PER_PAGE))
    page = min(page, pages)
    end = info.size - (page - 1) * PER_PAGE
    entries = ledger.entries(log, max(0, end - PER_PAGE), end, newest_first=True)
    return render_page(request, "workbench/ledger_log.html", NAV, {
        "log": info, "entries": entries, "page": page, "pages": pages,
        "checkpoints": ledger.list_checkpoints(log, limit=10),
        "log_keys": ledger.log_verifier_keys(log),
    })


@require_POST
@permission_required(MANAGE)
def publish(request: HttpRequest) -> HttpResponseRedirect:
    """Sign a checkpoint of every log that grew, now (instead of at the next period)."""
    try:
        for info in ledger.list_logs():
            ledger.publish_checkpoint(info.name, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已为有新条目的日志发布检查点。"))
    return HttpResponseRedirect(reverse("workbench:ledger"))


@require_POST
@permission_required(MANAGE)
def witness(request: HttpRequest) -> HttpResponseRedirect:
    """Every witness cosigns the latest checkpoint it has not cosigned yet, now."""
    result = ledger.witness_all()
    if result["refused"]:
        messages.error(request, _("见证方拒绝联署:%(items)s") % {
            "items": "; ".join(result["refused"])})
    else:
        messages.success(request, _("见证方已联署 %(n)d 个检查点。") % {
            "n": len(result["cosigned"])})
    return HttpResponseRedirect(reverse("workbench:ledger"))
