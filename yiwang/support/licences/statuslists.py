"""W3C Bitstring Status Lists of this instance's departments (one per purpose: revocation,
suspension): allocating an entry to a licence, setting its bit, the signed list credential
served at ``/credentials/status/<list id>``; and the lists of other regions (``statusfetch``).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import transaction

from yiwang.support.licences import integration, statusfetch
from yiwang.support.licences.common import public_url
from yiwang.support.licences.models import Licence, StatusList, StatusPurpose


def allocate(department_code: str, purpose: str) -> tuple[StatusList, int]:
    """A free index on the department's open status list for ``purpose`` (the row is locked,
    which also serialises the department's issuances)."""
    found = (StatusList.objects.select_for_update()
             .filter(department_code=department_code, purpose=purpose)
             .order_by("-id").first())
    if found is None or found.next_index >= found.size:
        number = StatusList.objects.filter(department_code=department_code,
                                           purpose=purpose).count() + 1
        size = int(settings.YIWANG_LICENCES_STATUS_LIST_SIZE)
        found = StatusList.objects.create(
            list_id=f"{department_code}-{purpose}-{number}", department_code=department_code,
            purpose=purpose, size=size, bits=bytes(size // 8))
    index = found.next_index
    found.next_index = index + 1
    found.save(update_fields=["next_index", "updated_at"])
    return found, index


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
    locked.save(update_fields=["bits", "credential", "updated_at"])



def status_list_document(list_id: str) -> dict[str, Any] | None:
    """The signed BitstringStatusListCredential of a status list (signed again after each
    change, then kept), or None for an unknown list."""
    found = StatusList.objects.filter(list_id=list_id).first()
    if found is None:
        return None
    if found.credential:
        return dict(json.loads(found.credential))
    with transaction.atomic():
        locked = StatusList.objects.select_for_update().get(pk=found.pk)
        if not locked.credential:
            key = integration.signing_key(locked.department_code, integration.VC_PURPOSE,
                                          integration.VC_ALGORITHM)
            document = integration.status_list_credential(
                list_url=status_list_url(locked), purpose=locked.purpose,
                bits=bytes(locked.bits), key=key,
                issuer=integration.issuer_id(locked.department_code))
            locked.credential = json.dumps(document, ensure_ascii=False,
                                           separators=(",", ":"))
            locked.save(update_fields=["credential"])
        return dict(json.loads(locked.credential))


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

