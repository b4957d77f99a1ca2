"""Automatic refresh of imported trust lists (信任列表自动更新), as the EU DCC gateway and
ETSI TSL consumers do: each imported region's list is fetched again from where that region
publishes it (its ``source_url``, ``<base>/trust/list.json``) and imported under the root
already pinned for it. Private to the app: other apps use ``service.py``.

What is automatic and what is not:

* a newer version under the same root (higher sequence, issued later) is imported and
  supersedes the current one — its CRLs and keys with it;
* the same document again is ``unchanged`` (nothing written but the attempt);
* a list under another root is **refused** (``trust.refresh_refused``): a root change is
  only ever imported by an admin who checked the new fingerprint out of band and confirmed it;
* an older or same-sequence list, or one not issued after the current one, is refused too
  (``trust.refresh_refused``): a replayed old list never supersedes a newer one;
* anything else that goes wrong (network, HTTP status, size, malformed JSON, signature,
  expired list …) is ``trust.refresh_failed`` and the current import stays.

The fetch goes through ``yiwang.core.outbound`` (SSRF rule, no redirects, size limit,
deadline) and never inside a database transaction: only the import and the bookkeeping
of each attempt are.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from yiwang.core import outbound
from yiwang.core.audit import service as audit
from yiwang.support.trust import imports
from yiwang.support.trust.models import ImportedTrustList

logger = logging.getLogger(__name__)

REFRESHED, UNCHANGED, REFUSED, FAILED = "refreshed", "unchanged", "refused", "failed"
#: Import refusals that are the refresh's own rules, not a broken list: audited as
#: ``trust.refresh_refused`` and left for a person.
_REFUSALS = {"fingerprint", "root_changed", "sequence", "not_newer", "region"}


@dataclass(frozen=True)
class RefreshResult:
    """The outcome of refreshing one region's list: ``outcome`` is ``refreshed``,
    ``unchanged``, ``refused`` or ``failed``; ``reason`` a short code (an import refusal's
    code such as ``signature`` or ``fingerprint``, or ``fetch:<outbound reason>``);
    ``message`` says it in Chinese; ``sequence`` is the region's current version after it."""

    region: str
    outcome: str
    reason: str
    message: str
    sequence: int | None
    url: str

    @property
    def ok(self) -> bool:
        return self.outcome in (REFRESHED, UNCHANGED)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_FETCH_REASONS = {
    "resolve": gettext_noop("域名无法解析"),
    "connect": gettext_noop("无法连接"),
    "network": gettext_noop("网络错误"),
    "status": gettext_noop("对方返回的 HTTP 状态不是 200"),
    "redirect": gettext_noop("对方返回重定向（不予跟随）"),
    "too_large": gettext_noop("文件过大"),
    "deadline": gettext_noop("超时"),
}


def fetch_list(url: str) -> bytes:
    """GET a trust list with the shared safe outbound client; raises
    ``outbound.OutboundRefused`` or ``outbound.OutboundFailed``."""
    deadline = float(settings.YIWANG_TRUST_REFRESH_TIMEOUT)
    return outbound.fetch(url, max_bytes=int(settings.YIWANG_TRUST_LIST_MAX_BYTES),
                          allow=list(settings.YIWANG_TRUST_REFRESH_ALLOW),
                          timeout=deadline, deadline=deadline, accept="application/json")


def refreshable() -> list[ImportedTrustList]:
    """Each region's newest import that names a source URL — also when it has expired: a
    fresh list is exactly what such a region needs."""
    return list(ImportedTrustList.objects.defer("document")
                .filter(superseded_at__isnull=True).exclude(source_url="")
                .order_by("region_code"))


def refresh_imported_lists(*, actor: Any = None) -> dict[str, dict[str, Any]]:
    """Refresh every imported region that has a source URL, one after the other; one that
    fails does not stop the others. Region code → :meth:`RefreshResult.as_dict`."""
    summary: dict[str, dict[str, Any]] = {}
    for row in refreshable():
        summary[row.region_code] = refresh_region(row.region_code, actor=actor).as_dict()
    return summary


def _current(region: str) -> ImportedTrustList | None:
    return (ImportedTrustList.objects.filter(region_code=region, superseded_at__isnull=True)
            .order_by("-sequence").first())


def refresh_region(region: str, *, actor: Any = None) -> RefreshResult:
    """Fetch ``region``'s list from its source URL now and import it under the pinned root
    when it is newer (see the module's docstring); never raises for what the partner
    serves. Each attempt is noted on the region's current import."""
    current = _current(region)
    if current is None:
        raise ValidationError(gettext("没有导入过该地区的信任列表。"), code="unknown_region")
    url = current.source_url
    if not url:
        return _note(current, FAILED, "no_source", url, gettext(
            "%(region)s没有记录来源网址，只能手动导入。") % {"region": current.region_name},
            actor=actor)
    try:
        document = fetch_list(url)
    except outbound.OutboundRefused as exc:
        return _note(current, FAILED, f"fetch:{exc.reason}", url, gettext(
            "来源网址 %(url)s 被出站规则拒绝（%(reason)s）。")
            % {"url": url, "reason": exc.reason}, actor=actor)
    except outbound.OutboundFailed as exc:
        return _note(current, FAILED, f"fetch:{exc.reason}", url, gettext(
            "无法从 %(url)s 获取信任列表：%(reason)s。")
            % {"url": url, "reason": gettext(_FETCH_REASONS.get(exc.reason, exc.reason))},
            actor=actor)
    if (hashlib.sha256(document).hexdigest() == current.sha256
            and current.next_update > timezone.now()):
        return _unchanged(current, url)  # an expired one goes on to fail as ``expired``
    try:
        row = imports.store_trust_list(document, fingerprint=current.root_fingerprint,
                                       actor=actor, source_url=url, refresh_of=current)
    except ValidationError as exc:
        code = str(exc.code or "invalid")
        if code == "unchanged":
            return _unchanged(current, url)
        message = " ".join(exc.messages)
        if code == "fingerprint":
            code = "root_changed"
            message = gettext(
                "%(region)s在来源网址发布的信任列表不是由已核对的根证书签发的（可能更换了根"
                "证书，也可能是冒充）。自动更新从不更换根证书：请向对方地区核实新指纹后，"
                "手动导入并确认更换。") % {"region": current.region_name}
        outcome = REFUSED if code in _REFUSALS else FAILED
        return _note(current, outcome, code, url, message, actor=actor)
    except Exception:  # the ledger, the database…: keep going with the other regions
        logger.exception("trust list refresh of %s failed", region)
        return _note(current, FAILED, "error", url,
                     gettext("更新时发生内部错误，请查看服务器日志。"), actor=actor)
    audit.record("trust.list_refreshed", row, actor=actor,
                 detail={"region": row.region_code, "url": url, "sequence": row.sequence,
                         "previous_sequence": current.sequence})
    return RefreshResult(row.region_code, REFRESHED, "", gettext(
        "已更新%(region)s的信任列表，现为第 %(sequence)s 版。")
        % {"region": row.region_name, "sequence": row.sequence}, row.sequence, url)


def _unchanged(current: ImportedTrustList, url: str) -> RefreshResult:
    message = gettext("%(region)s的信任列表没有新版本（仍为第 %(sequence)s 版）。") % {
        "region": current.region_name, "sequence": current.sequence}
    return _note(current, UNCHANGED, "", url, message)


@transaction.atomic
def _note(current: ImportedTrustList, outcome: str, reason: str, url: str, message: str,
          *, actor: Any = None) -> RefreshResult:
    """Record an attempt that imported nothing on the region's current import, and audit a
    refusal or failure."""
    ImportedTrustList.objects.filter(pk=current.pk).update(
        last_refresh_at=timezone.now(), last_refresh_outcome=outcome,
        last_refresh_message=message[:500])
    if outcome in (REFUSED, FAILED):
        audit.record("trust.refresh_refused" if outcome == REFUSED else "trust.refresh_failed",
                     current, actor=actor,
                     detail={"region": current.region_code, "url": url, "reason": reason,
                             "sequence": current.sequence})
    return RefreshResult(current.region_code, outcome, reason, message, current.sequence, url)
