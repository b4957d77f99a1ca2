"""Status lists of other regions: fetched from the issuing instance, checked, cached.

A licence issued in another region names its status lists by URL
(``credentialStatus.statusListCredential``). Such a URL is fetched only when its origin
(scheme, host, port) is the origin of the verification method ids of a region whose trust
list was imported — never an arbitrary URL a presenter supplies. The fetch goes through the
shared safe outbound client (``yiwang.core.outbound``), never inside a database transaction
(nothing here writes to the database; callers verify outside their transactions). The list
credential must be a JSON object whose ``id`` is the URL and whose proof verifies with a key
of that same region; it is then kept in the Django cache for
``YIWANG_LICENCES_STATUS_CACHE_SECONDS`` and never past its ``validUntil``. When a fetch
fails, a copy still fresh is used; otherwise the status is unknown, with the reason named,
and the URL is not asked again for :data:`RETRY_AFTER_SECONDS`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from yiwang.core import outbound
from yiwang.support.licences import integration
from yiwang.verify import keys as vkeys

_now = time.time  # the clock of freshness (tests move it)

CACHE_PREFIX = "licences.status-list:"
INDEX_KEY = "licences.status-list-index"
FAILED_PREFIX = "licences.status-list-failed:"
#: After a failed fetch, the same URL is not asked again for this long (nor longer than the
#: cache TTL): a region whose server hangs cannot hold every verification for the deadline.
RETRY_AFTER_SECONDS = 30.0
INDEX_MAX = 1000

# Why a status list is unknown (bilingual, like the verifier's own messages).
REASONS = {
    "not_trusted": "状态列表地址不属于任何已导入地区的发证机构，不予获取 "
                   "(status list URL is not on the origin of an imported issuer)",
    "refused": "状态列表地址被出站规则拒绝 (status list address refused by the outbound rule)",
    "unavailable": "无法获取状态列表 (status list could not be fetched)",
    "malformed": "获取到的状态列表不是有效的 JSON 凭证 (fetched status list is not a JSON "
                 "credential)",
    "wrong_id": "状态列表的标识与其地址不符 (status list id does not match its URL)",
    "wrong_key": "状态列表不是由该地区的密钥签名 (status list not signed by a key of the "
                 "issuing region)",
}


@dataclass(frozen=True)
class Lookup:
    """The outcome of looking up a foreign status list: the credential, or why not."""

    document: dict[str, Any] | None
    reason: str = ""  # a key of REASONS: why there is none, or why a kept copy answered
    detail: str = ""
    cached: bool = False

    @property
    def message(self) -> str:
        text = REASONS.get(self.reason, self.reason)
        return f"{text}: {self.detail}" if self.detail else text


def region_keys(url: str) -> tuple[str, list[dict[str, Any]]] | None:
    """(region code, its trusted keys) of the imported region whose verification method
    ids share ``url``'s origin, or None."""
    wanted = outbound.origin(url)
    if not wanted:
        return None
    by_region: dict[str, list[dict[str, Any]]] = {}
    for key in integration.foreign_keys():
        if outbound.origin(str(key.get("id") or "")) == wanted:
            by_region.setdefault(str(key.get("region") or ""), []).append(key)
    if len(by_region) != 1:  # none, or an origin two regions claim: trust neither
        return None
    region, keys = next(iter(by_region.items()))
    return region, keys


def _cache_key(url: str) -> str:
    return CACHE_PREFIX + hashlib.sha256(url.encode("utf-8")).hexdigest()


def _cached(url: str, region: str) -> dict[str, Any] | None:
    entry = cache.get(_cache_key(url))
    if not isinstance(entry, dict) or entry.get("region") != region \
            or float(entry.get("fresh_until", 0)) <= _now():
        return None
    document = entry.get("document")
    return document if isinstance(document, dict) else None


def _remember(url: str, region: str, document: dict[str, Any]) -> None:
    now = _now()
    fresh_until = now + float(settings.YIWANG_LICENCES_STATUS_CACHE_SECONDS)
    try:
        valid_until = vkeys.parse_time(document.get("validUntil"))
    except ValueError:
        valid_until = None
    if valid_until is not None:
        fresh_until = min(fresh_until, valid_until.timestamp())
    if fresh_until <= now:
        return
    cache.set(_cache_key(url), {"region": region, "document": document,
                                "fresh_until": fresh_until},
              timeout=max(1, int(fresh_until - now) + 1))
    index = cache.get(INDEX_KEY)
    urls = [u for u in index if isinstance(u, str)] if isinstance(index, list) else []
    if url not in urls:
        cache.set(INDEX_KEY, ([*urls, url])[-INDEX_MAX:], timeout=None)


def _recent_failure(url: str) -> Lookup | None:
    entry = cache.get(FAILED_PREFIX + _cache_key(url))
    if not isinstance(entry, dict) or float(entry.get("until", 0)) <= _now():
        return None
    return Lookup(None, str(entry.get("reason") or "unavailable"), str(entry.get("detail") or ""))


def _remember_failure(url: str, found: Lookup) -> None:
    wait = min(RETRY_AFTER_SECONDS, float(settings.YIWANG_LICENCES_STATUS_CACHE_SECONDS))
    if wait > 0:
        cache.set(FAILED_PREFIX + _cache_key(url),
                  {"reason": found.reason, "detail": found.detail, "until": _now() + wait},
                  timeout=int(wait) + 1)


logger = logging.getLogger(__name__)

#: A status list credential nests four levels deep (credential, subject or proof, …); a
#: document nesting deeper than this is refused before it is parsed.
MAX_DEPTH = 32
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text ``raw`` nests arrays/objects deeper than ``limit`` (strings,
    which may hold brackets, are skipped; a C-speed pass, then one over the structure)."""
    depth = 0
    for byte in _STRING.sub(b'""', raw):
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        elif byte in b"]}":
            depth -= 1
    return False


def _fetch(url: str, keys: list[dict[str, Any]]) -> Lookup:
    try:
        raw = integration.fetch_status_list(url)
    except integration.OutboundRefused as exc:
        return Lookup(None, "refused", exc.reason)
    except integration.OutboundFailed as exc:
        return Lookup(None, "unavailable", exc.reason)
    if too_deep(raw):
        return Lookup(None, "malformed", "nested too deeply")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return Lookup(None, "malformed")
    if not isinstance(document, dict):
        return Lookup(None, "malformed")
    if document.get("id", url) != url:
        return Lookup(None, "wrong_id")
    failed = integration.verify_with_keys(document, keys)
    if failed:
        return Lookup(None, "wrong_key", ", ".join(failed))
    return Lookup(document)


def status_list(url: str, *, refresh: bool = False) -> Lookup:
    """The status list credential of another region at ``url`` — cached, or fetched now
    (``refresh`` fetches even when a fresh copy is kept). Never raises on bad input."""
    if not isinstance(url, str) or len(url) > 2048:
        return Lookup(None, "not_trusted")
    found = region_keys(url)
    if found is None:
        return Lookup(None, "not_trusted")
    region, keys = found
    kept = _cached(url, region)
    if kept is not None and not refresh:
        return Lookup(kept, cached=True)
    fetched = None if refresh else _recent_failure(url)
    if fetched is None:
        fetched = _fetch(url, keys)
        if fetched.document is not None:
            cache.delete(FAILED_PREFIX + _cache_key(url))
            _remember(url, region, fetched.document)
            return fetched
        _remember_failure(url, fetched)
    if kept is not None:  # the fetch failed: a copy still fresh says what it said
        return Lookup(kept, fetched.reason, fetched.detail, cached=True)
    return fetched


def known_urls() -> list[str]:
    """The URLs of the foreign status lists fetched so far (this cache's index)."""
    index = cache.get(INDEX_KEY)
    return [u for u in index if isinstance(u, str)] if isinstance(index, list) else []


def refresh(urls: list[str] | None = None) -> dict[str, str]:
    """Fetch the given foreign status lists (every known one by default) again now: URL →
    '' when fetched, else the reason it was not (the fresh copy, if any, is kept)."""
    outcome: dict[str, str] = {}
    for url in urls if urls is not None else known_urls():
        try:
            found = status_list(url, refresh=True)
        except Exception:  # one bad list must not stop the refresh of the others
            logger.exception("refreshing the status list at %s failed", url)
            outcome[url] = "error"
            continue
        outcome[url] = found.message if found.reason else ""
    return outcome
