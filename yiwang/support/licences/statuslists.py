"""W3C Bitstring Status Lists of this instance's departments (one per purpose: revocation,
suspension): allocating an entry to a licence, setting its bit, the signed list credential
served at ``/credentials/status/<list id>``; and the lists of other regions (``statusfetch``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from yiwang.support.licences import integration, statusfetch
from yiwang.support.licences.common import public_url
from yiwang.support.licences.models import Licence, StatusList, StatusPurpose

#: Random picks of a free index before the free ones are listed (only a nearly full list
#: needs more than a few: at 90 % full, 48 misses in a row happen about once in 160).
RANDOM_TRIES = 48
#: A list served lazily is signed again when it expires within this (a verifier may keep
#: it for a few minutes: the status endpoint says max-age 60, other regions cache 300 s).
SERVE_MARGIN = timedelta(minutes=10)


def _entry_fields(purpose: str) -> tuple[str, str]:
    prefix = "revocation" if purpose == StatusPurpose.REVOCATION else "suspension"
    return f"{prefix}_list", f"{prefix}_index"


def _free_index(status_list: StatusList) -> int:
    """A random index of ``status_list`` that no licence holds (W3C Bitstring Status List,
    privacy considerations: sequential indexes would reveal the order of issuance)."""
    list_field, index_field = _entry_fields(status_list.purpose)
    holders = Licence.objects.filter(**{list_field: status_list})
    for _attempt in range(RANDOM_TRIES):
        index = secrets.randbelow(status_list.size)
        if not holders.filter(**{index_field: index}).exists():
            return index
    taken = set(holders.values_list(index_field, flat=True))
    free = [i for i in range(status_list.size) if i not in taken]
    if not free:  # the counter was behind: the list is full after all
        raise LookupError(f"status list {status_list.list_id} is full")
    return secrets.choice(free)


def allocate(department_code: str, purpose: str) -> tuple[StatusList, int]:
    """A random free index on the department's open status list for ``purpose``, a new list
    once it is full (:func:`allocate_entries` for one purpose)."""
    return allocate_entries(department_code, [purpose])[0]


def allocate_entries(department_code: str, purposes: Sequence[str]
                     ) -> list[tuple[StatusList, int]]:
    """For each of ``purposes`` (a licence's revocation and suspension entries), in order,
    a random free index on the department's open list for it, a new list once it is full.
    The caller holds the department's issuance lock (:func:`.issuance.next_serial`), so no
    two issuances create or fill a list at once; the unique (list, index) constraints on
    licences back that up. The open lists are read and locked in one query and their
    counters moved in one ``UPDATE``; the bits are not read (only serving a list needs them)."""
    latest = (StatusList.objects.filter(department_code=department_code,
                                        purpose__in=purposes)
              .values("purpose").annotate(last=Max("id")).values("last"))
    found = {row.purpose: row for row in StatusList.objects.select_for_update()
             .defer("bits", "credential").filter(pk__in=latest)}
    result = []
    for purpose in purposes:
        status_list = found.get(purpose)
        index = None
        if status_list is not None and status_list.allocated < status_list.size:
            try:
                index = _free_index(status_list)
            except LookupError:
                index = None
        if status_list is None or index is None:
            number = StatusList.objects.filter(department_code=department_code,
                                               purpose=purpose).count() + 1
            size = int(settings.YIWANG_LICENCES_STATUS_LIST_SIZE)
            status_list = StatusList.objects.create(
                list_id=f"{department_code}-{purpose}-{number}",
                department_code=department_code, purpose=purpose, size=size,
                bits=bytes(size // 8))
            index = _free_index(status_list)
        result.append((status_list, index))
    now = timezone.now()
    StatusList.objects.filter(pk__in=[slist.pk for slist, _index in result]).update(
        allocated=F("allocated") + 1, updated_at=now)
    for slist, _index in result:
        slist.allocated += 1
        slist.updated_at = now
    return result


def status_list_url(status_list: StatusList) -> str:
    return f"{public_url()}/credentials/status/{status_list.list_id}"


def status_entries(licence: Licence) -> list[dict[str, Any]]:
    entries = []
    for purpose, slist, index in (
            (StatusPurpose.REVOCATION, licence.revocation_list, licence.revocation_index),
            (StatusPurpose.SUSPENSION, licence.suspension_list, licence.suspension_index)):
        entries.append(integration.status_entry(list_url=status_list_url(slist), index=index,
                                                purpose=str(purpose)))
    return entries


def set_bit(status_list: StatusList, index: int, value: bool) -> None:
    """Set or clear one licence's bit; the list is signed again when next served."""
    locked = StatusList.objects.select_for_update().get(pk=status_list.pk)
    bits = bytearray(locked.bits)
    # W3C Bitstring Status List: index 0 is the most significant bit of the first byte.
    mask = 0x80 >> (index % 8)
    if value:
        bits[index // 8] |= mask
    else:
        bits[index // 8] &= ~mask & 0xFF
    locked.bits = bytes(bits)
    locked.credential = ""  # re-signed on the next request
    locked.credential_expires_at = None
    locked.save(update_fields=["bits", "credential", "credential_expires_at", "updated_at"])


def _validity() -> timedelta:
    return timedelta(hours=float(settings.YIWANG_LICENCES_STATUS_LIST_VALID_HOURS))


def _needs_signing(status_list: StatusList, within: timedelta) -> bool:
    expires = status_list.credential_expires_at
    return (not status_list.credential or expires is None
            or expires <= timezone.now() + within)


def _signing_method(department_code: str) -> str | None:
    """The verificationMethod the department's lists must be signed by now: its active
    ``licence.vc`` key's, or None when it has none that can sign (revoked, expired: the
    next signing gets a new one)."""
    key = integration.active_vc_key(department_code)
    return integration.verification_method(key) if key is not None else None


def _reusable(status_list: StatusList, within: timedelta,
              method: str | None) -> dict[str, Any] | None:
    """The stored credential if it may be served as it is: signed, carrying a
    ``validUntil`` further than ``within`` away (lists signed before validUntil existed are
    signed again), naming the URL its entries point to, and signed by ``method`` — the
    department's active key. A list signed by a key since revoked or rotated would fail
    every verifier's proof check, and with it every licence of the department."""
    if _needs_signing(status_list, within):
        return None
    try:
        document = json.loads(status_list.credential)
    except ValueError:
        return None
    if not isinstance(document, dict) or not document.get("validUntil"):
        return None
    if document.get("id") != status_list_url(status_list):
        return None
    proof = document.get("proof")
    if method is None or not isinstance(proof, dict) \
            or proof.get("verificationMethod") != method:
        return None
    return document


def _sign(locked: StatusList) -> dict[str, Any]:
    """Sign the list's credential now: ``id`` is the URL its entries point to, ``validFrom``
    set back by the verifiers' clock allowance, ``validUntil`` after
    ``YIWANG_LICENCES_STATUS_LIST_VALID_HOURS`` (an old copy cannot hide a revocation for
    longer)."""
    key = integration.signing_key(locked.department_code, integration.VC_PURPOSE,
                                  integration.VC_ALGORITHM)
    valid_until = timezone.now().replace(microsecond=0) + _validity()
    document = integration.status_list_credential(
        list_url=status_list_url(locked), purpose=locked.purpose, bits=bytes(locked.bits),
        key=key, issuer=integration.issuer_id(locked.department_code),
        valid_until=valid_until)
    locked.credential = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    locked.credential_expires_at = valid_until
    locked.save(update_fields=["credential", "credential_expires_at"])
    return document


def _document(status_list: StatusList, within: timedelta) -> dict[str, Any]:
    """The list's credential, signed again first unless :func:`_reusable` (missing, without
    or close to its ``validUntil``, naming another URL than the one its entries point to,
    or signed by a key that is no longer the department's active one). The key check is
    one query, so it is made on every serve."""
    method = _signing_method(status_list.department_code)
    document = _reusable(status_list, within, method)
    if document is not None:
        return document
    with transaction.atomic():
        locked = StatusList.objects.select_for_update().get(pk=status_list.pk)
        document = _reusable(locked, within, method)
        if document is not None:
            return document
        return _sign(locked)


def status_list_document(list_id: str) -> dict[str, Any] | None:
    """The signed BitstringStatusListCredential of a status list, or None for an unknown
    list. It is kept once signed and signed again after each change and shortly before its
    ``validUntil`` (here, lazily, and by the hourly ``licences.resign_status_lists``)."""
    found = StatusList.objects.filter(list_id=list_id).first()
    if found is None:
        return None
    return _document(found, SERVE_MARGIN)


def resign_status_lists() -> int:
    """Sign again every list of this instance that is unsigned, past half of its validity,
    without a ``validUntil`` or signed by a key that is no longer its department's active
    one, so that those served are always fresh and verifiable; returns how many were
    signed (the hourly task)."""
    signed = 0
    half = _validity() / 2
    methods: dict[str, str | None] = {}
    for found in StatusList.objects.all():
        code = found.department_code
        if code not in methods:
            methods[code] = _signing_method(code)
        if _reusable(found, half, methods[code]) is None:
            with transaction.atomic():
                locked = StatusList.objects.select_for_update().get(pk=found.pk)
                if _reusable(locked, half, _signing_method(code)) is None:
                    _sign(locked)
                    signed += 1
                    methods[code] = _signing_method(code)
    return signed


def status_lists() -> dict[str, Any]:
    """Every status list credential of this instance, by URL (for the verifier)."""
    return {status_list_url(s): status_list_document(s.list_id)
            for s in StatusList.objects.all()}


def _own_list_id(url: Any) -> str | None:
    prefix = f"{public_url()}/credentials/status/"
    if not isinstance(url, str) or not url.startswith(prefix):
        return None
    return url[len(prefix):]


def status_list_at(url: str) -> dict[str, Any] | None:
    """The status list credential at ``url``: one of this instance's, or one of another
    region whose trust list was imported — fetched from the issuing instance when ``url``
    is on the origin of that region's keys, checked against its keys and cached
    (``statusfetch``) — else None (the verifier then names the status unknown)."""
    list_id = _own_list_id(url)
    if list_id is not None:
        return status_list_document(list_id)
    return statusfetch.status_list(url).document


class StatusLookup:
    """``status_list_at`` for one verification, remembering why a list was unavailable so
    that the failed status check can say so."""

    def __init__(self) -> None:
        self.reasons: dict[str, str] = {}

    def __call__(self, url: str) -> dict[str, Any] | None:
        list_id = _own_list_id(url)
        if list_id is not None:
            return status_list_document(list_id)
        found = statusfetch.status_list(url)
        if found.document is None:
            self.reasons[url] = found.message
        return found.document

    def explain(self, checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``checks`` with each unavailable status list's reason in its status check."""
        for check in checks:
            if check.get("name") != "status" or check.get("ok"):
                continue
            message = str(check.get("message") or "")
            for url, reason in self.reasons.items():
                if url in message and "not available" in message:
                    check["message"] = (f"无法取得状态列表，状态未知：{reason} "
                                        f"(status list not available: {url})")
        return checks


def refresh_status_lists(urls: list[str] | None = None) -> dict[str, str]:
    """Fetch the status lists of other regions again at once (each one fetched so far, by
    default), instead of waiting for ``YIWANG_LICENCES_STATUS_CACHE_SECONDS``: URL → '' when
    fetched, else why not (a fresh copy, if any, is kept). Call it outside a transaction."""
    return statusfetch.refresh(urls)

