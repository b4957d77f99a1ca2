"""W3C Bitstring Status List v1.0 — revocation and suspension without asking the issuer.

A status list is a bitstring of at least 131,072 entries (16 KB, so one holder's index tells
little about them), GZIP-compressed and written as multibase base64url (``u…``) in the
``encodedList`` of a ``BitstringStatusListCredential`` — itself a VC, secured with an
``eddsa-jcs-2022`` proof. Index 0 is the left-most (most significant) bit of the first byte.
A credential points at its entry with a ``BitstringStatusListEntry``::

    {"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
     "statusListIndex": "94567", "statusListCredential": "https://…/credentials/status/3"}

:func:`check_status` does the spec's validation (§3.2) against cached lists, offline, and
what a replayed or borrowed list would otherwise slip past: the list credential's ``id`` is
the entry's ``statusListCredential`` URL, its ``type`` includes
``BitstringStatusListCredential``, every key that signed it belongs to the list's own
``issuer`` (which is the credential's issuer), and it is within its ``validFrom`` /
``validUntil`` (give or take :data:`CLOCK_SKEW`) — an expired list says nothing about today,
so the status is then unknown, never "not revoked". A list without ``validUntil`` (as
issuers signed them before they carried one) is accepted only up to ``max_age`` after its
``validFrom`` (:data:`MAX_AGE_WITHOUT_VALID_UNTIL`, 24 hours, by default): otherwise a copy
kept from before a revocation would hide it for ever.
"""

from __future__ import annotations

import datetime as dt
import gzip
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from yiwang.verify import dataintegrity as di
from yiwang.verify import keys as keys_mod
from yiwang.verify import multibase
from yiwang.verify import result as r

MIN_ENTRIES = 131_072  # 16 KB of bits: the spec's minimum, for herd privacy
MAX_BYTES = 16 * 1024 * 1024  # a decoded list larger than this is refused
PURPOSES = ("revocation", "suspension")
LIST_TYPE = "BitstringStatusList"
CREDENTIAL_TYPE = "BitstringStatusListCredential"
ENTRY_TYPE = "BitstringStatusListEntry"
CLOCK_SKEW = di.CLOCK_SKEW  # a list's validity period is stretched by this at both ends
#: How long after its ``validFrom`` a list without ``validUntil`` is still accepted.
MAX_AGE_WITHOUT_VALID_UNTIL = dt.timedelta(hours=24)


class StatusListError(ValueError):
    """An ``encodedList`` that is not a valid status list (encoding, GZIP, length)."""


class StatusList:
    """A mutable bitstring of 1-bit statuses (``statusSize`` 1)."""

    def __init__(self, length: int = MIN_ENTRIES, bits: bytes | None = None) -> None:
        if bits is None:
            if length < MIN_ENTRIES or length % 8:
                raise ValueError(f"a status list has at least {MIN_ENTRIES} entries, "
                                 "a multiple of 8")
            bits = bytes(length // 8)
        self.bits = bytearray(bits)

    def __len__(self) -> int:
        return len(self.bits) * 8

    def _locate(self, index: int) -> tuple[int, int]:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self):
            raise IndexError(f"status list index {index!r} out of range 0..{len(self) - 1}")
        return index >> 3, 0x80 >> (index & 7)

    def get(self, index: int) -> int:
        """The status bit at ``index`` (1 = revoked/suspended for the list's purpose)."""
        byte, mask = self._locate(index)
        return 1 if self.bits[byte] & mask else 0

    def set(self, index: int, value: bool | int = True) -> None:
        """Set (or clear) the status bit at ``index``."""
        byte, mask = self._locate(index)
        if value:
            self.bits[byte] |= mask
        else:
            self.bits[byte] &= ~mask & 0xFF

    def encode(self) -> str:
        """The ``encodedList``: multibase base64url of the GZIP-compressed bitstring."""
        return multibase.encode(gzip.compress(bytes(self.bits), compresslevel=9, mtime=0), "u")

    @classmethod
    def decode(cls, encoded: Any) -> StatusList:
        """Parse an ``encodedList``; :class:`StatusListError` if it is not a valid one."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise StatusListError("encodedList is not multibase base64url ('u…')")
        try:
            compressed = multibase.decode(encoded)
        except multibase.MultibaseError:
            raise StatusListError("encodedList is not valid base64url") from None
        inflater = zlib.decompressobj(wbits=31)  # 31: GZIP container
        try:
            bits = inflater.decompress(compressed, MAX_BYTES)
        except zlib.error:
            raise StatusListError("encodedList is not GZIP data") from None
        if inflater.unconsumed_tail:
            raise StatusListError("status list larger than the limit")
        if not inflater.eof:
            raise StatusListError("encodedList GZIP data is truncated")
        if len(bits) * 8 < MIN_ENTRIES:
            raise StatusListError(f"status list shorter than {MIN_ENTRIES} entries")
        return cls(bits=bits)


def status_of(status_list: Any, index: int) -> int:
    """The bit at ``index`` of a list, an ``encodedList`` or a status list credential."""
    if isinstance(status_list, Mapping):
        subject = status_list.get("credentialSubject")
        if not isinstance(subject, Mapping):
            raise StatusListError("not a status list credential")
        status_list = subject.get("encodedList")
    if not isinstance(status_list, StatusList):
        status_list = StatusList.decode(status_list)
    return status_list.get(index)


def status_entry(*, list_url: str, index: int, purpose: str = "revocation") -> dict[str, Any]:
    """The ``credentialStatus`` entry pointing at ``index`` of the list at ``list_url``."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown status purpose {purpose!r}")
    return {"id": f"{list_url}#{purpose}-{index}", "type": ENTRY_TYPE, "statusPurpose": purpose,
            "statusListIndex": str(index), "statusListCredential": list_url}


def status_list_credential(*, list_url: str, issuer: str, purpose: str,
                           status_list: StatusList, valid_from: dt.datetime | None = None,
                           valid_until: dt.datetime | None = None) -> dict[str, Any]:
    """An unsigned ``BitstringStatusListCredential``; secure it with ``dataintegrity.add_proof``."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown status purpose {purpose!r}")
    credential: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": list_url,
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": di.format_time(valid_from or keys_mod.utcnow()),
        "credentialSubject": {"id": f"{list_url}#list", "type": LIST_TYPE,
                              "statusPurpose": purpose, "encodedList": status_list.encode()},
    }
    if valid_until is not None:
        credential["validUntil"] = di.format_time(valid_until)
    return credential


StatusLists = Mapping[str, Any] | Callable[[str], Any]


def _fetch(status_lists: StatusLists | None, url: str) -> Any:
    if status_lists is None:
        return None
    if callable(status_lists):
        return status_lists(url)
    return status_lists.get(url)


def _issuer_id(credential: Mapping[str, Any]) -> Any:
    issuer = credential.get("issuer")
    return issuer.get("id") if (type(issuer) is dict or isinstance(issuer, Mapping)) else issuer


def _entries(value: Any) -> Iterable[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class _Verified(NamedTuple):
    """The time-independent outcome of checking a list credential for one URL."""

    error: str | None
    bits: StatusList | None
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    issuer: str | None = None  # the list's issuer id
    purpose: str | None = None  # its credentialSubject.statusPurpose


class ListCache:
    """Verified status lists kept between checks, for a verifier whose lists do not change
    while it holds them (``offline.Verifier`` snapshots its lists when it is made).

    Keyed by URL and the list credential object; it keeps the object, so its id is never
    reused for another. What is cached is the time-independent part — the list's id, type
    and issuer, the proof (verified without its validity period), the decoded bits and the
    parsed validFrom/validUntil; the validity period is checked against ``now`` on every use.
    """

    def __init__(self) -> None:
        self._items: dict[str, tuple[Any, _Verified]] = {}

    def get(self, url: str, credential: Any) -> _Verified | None:
        item = self._items.get(url)
        if item is None or item[0] is not credential:
            return None
        return item[1]

    def put(self, url: str, credential: Any, verified: _Verified) -> None:
        self._items[url] = (credential, verified)


_NO_ENTRY = r.Check(r.STATUS, True, "未登记状态列表 (no status list entry)")


def check_status(credential: Mapping[str, Any], status_lists: StatusLists | None,
                 resolve_key: keys_mod.KeyResolver, *, now: dt.datetime | None = None,
                 entries: Any = None, cache: ListCache | None = None,
                 required: bool = False,
                 max_age: dt.timedelta = MAX_AGE_WITHOUT_VALID_UNTIL) -> list[r.Check]:
    """The status checks of a credential (or of QR ``entries`` given explicitly).

    Each ``BitstringStatusListEntry`` is looked up in ``status_lists`` (URL → list credential,
    or a callable); the list credential must be the one the entry names (its ``id``), of type
    ``BitstringStatusListCredential``, with a proof that verifies with ``resolve_key`` by keys
    of the list's own issuer, within its validity period (± :data:`CLOCK_SKEW`), and come from
    the credential's issuer (when the credential names one); a list without ``validUntil``
    only until ``max_age`` after its ``validFrom`` (never, without either). A set bit fails
    the check as
    revoked (吊销) or suspended (中止). No entries: one check, passing with a note — or
    failing if ``required`` (a credential that always carries entries, such as a yiwang
    licence, without any has had them stripped or was never meant to be checked).
    """
    now = now or keys_mod.utcnow()
    found = list(_entries(credential.get("credentialStatus") if entries is None else entries))
    if not found:
        if required:
            return [r.Check(r.STATUS, False, "证照未携带状态列表条目，状态未知 (no "
                                             "credentialStatus: this licence type always has "
                                             "status list entries; status unknown)")]
        return [_NO_ENTRY]
    issuer = _issuer_id(credential)
    return [_check_entry(issuer, entry, status_lists, resolve_key, now, cache, max_age)
            for entry in found]


def _verified_list(url: str, list_credential: Mapping[str, Any],
                   resolve_key: keys_mod.KeyResolver, now: dt.datetime) -> _Verified:
    """What a list credential is, checked for ``url``, without its validity period."""
    list_id = list_credential.get("id")
    if list_id != url:
        shown = list_id if isinstance(list_id, str) else repr(list_id)
        return _Verified(f"状态列表凭证不是条目所指的列表 (status list credential id {shown} "
                         f"is not the entry's statusListCredential {url})", None)
    if CREDENTIAL_TYPE not in _types(list_credential.get("type")):
        return _Verified(f"状态列表凭证类型不符 (status list credential type does not include "
                         f"{CREDENTIAL_TYPE})", None)
    list_issuer = _issuer_id(list_credential)
    if not isinstance(list_issuer, str) or not list_issuer:
        return _Verified("状态列表凭证未注明签发机构 (status list credential names no issuer)",
                         None)
    signers: list[keys_mod.KeyInfo] = []

    def resolve(method: str) -> keys_mod.KeyInfo | None:
        key = keys_mod.key_info(resolve_key(method))
        if key is not None:
            signers.append(key)
        return key

    proof = di.verify_proof(dict(list_credential), resolve, now=now, check_validity=False)
    if not proof.valid:
        names = ", ".join(proof.failed_names())
        return _Verified(f"状态列表凭证未通过验证 (status list credential not valid: {names})",
                         None)
    for key in signers:
        if key.issuer_id != list_issuer:
            return _Verified(f"状态列表的签名密钥不属于其签发机构 (status list signed by a key "
                             f"of another issuer: {key.issuer_id or 'none named'}, not "
                             f"{list_issuer})", None)
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("statusPurpose") not in PURPOSES:
        return _Verified("状态列表凭证格式错误 (not a status list credential)", None)
    try:
        valid_from = keys_mod.parse_time(list_credential.get("validFrom"))
        valid_until = keys_mod.parse_time(list_credential.get("validUntil"))
    except (ValueError, TypeError, OverflowError):
        return _Verified("状态列表有效期格式无效 (status list validFrom/validUntil is not a "
                         "valid date-time)", None)
    try:
        bits = StatusList.decode(subject.get("encodedList"))
    except StatusListError as exc:
        return _Verified(f"状态列表无效 (status list invalid: {exc})", None)
    return _Verified(None, bits, valid_from, valid_until, list_issuer,
                     subject.get("statusPurpose"))


def _period_error(verified: _Verified, now: dt.datetime,
                  max_age: dt.timedelta = MAX_AGE_WITHOUT_VALID_UNTIL) -> str | None:
    if verified.valid_from is not None and now + CLOCK_SKEW < verified.valid_from:
        shown = di.format_time(verified.valid_from)
        return (f"状态列表尚未生效（{shown} 起生效），状态未知 (status list not yet valid: "
                f"valid from {shown}; status unknown)")
    if verified.valid_until is None:
        hours = f"{max_age.total_seconds() / 3600:g}"
        if verified.valid_from is None:
            return ("状态列表既无 validUntil 也无 validFrom，无法判断是否过时，状态未知 "
                    "(status list has neither validUntil nor validFrom; status unknown)")
        if now - CLOCK_SKEW > verified.valid_from + max_age:
            shown = di.format_time(verified.valid_from)
            return (f"状态列表未注明有效期（validUntil），且签发于 {shown}，已超过 {hours} "
                    f"小时，状态未知；请取得最新的状态列表 (status list has no validUntil and "
                    f"was issued at {shown}, more than {hours} h ago; status unknown: fetch "
                    f"a fresh list)")
    if verified.valid_until is not None and now - CLOCK_SKEW > verified.valid_until:
        shown = di.format_time(verified.valid_until)
        return (f"状态列表已于 {shown} 过期，状态未知 (status list expired at {shown}; "
                f"status unknown)")
    return None


def _check_entry(issuer: Any, entry: Any, status_lists: StatusLists | None,
                 resolve_key: keys_mod.KeyResolver, now: dt.datetime,
                 cache: ListCache | None,
                 max_age: dt.timedelta = MAX_AGE_WITHOUT_VALID_UNTIL) -> r.Check:
    def fail(message: str) -> r.Check:
        return r.Check(r.STATUS, False, message)

    if (not (type(entry) is dict or isinstance(entry, Mapping))
            or entry.get("type", ENTRY_TYPE) != ENTRY_TYPE):
        return fail("状态条目格式错误 (credentialStatus is not a BitstringStatusListEntry)")
    purpose = entry.get("statusPurpose")
    url = entry.get("statusListCredential")
    try:
        index = int(str(entry.get("statusListIndex")), 10)
    except ValueError:
        return fail("状态索引无效 (statusListIndex is not an integer)")
    if purpose not in PURPOSES or not isinstance(url, str) or index < 0:
        return fail("状态条目格式错误 (statusPurpose / statusListCredential / index invalid)")
    try:
        list_credential = _fetch(status_lists, url)
    except Exception:
        list_credential = None
    if not (type(list_credential) is dict or isinstance(list_credential, Mapping)):
        return fail(f"无法取得状态列表，状态未知 (status list not available: {url})")
    verified = cache.get(url, list_credential) if cache is not None else None
    if verified is None:
        verified = _verified_list(url, list_credential, resolve_key, now)
        if cache is not None:
            cache.put(url, list_credential, verified)
    bits = verified.bits
    if verified.error is not None or bits is None:
        return fail(verified.error or "状态列表无效 (status list invalid)")
    period_error = _period_error(verified, now, max_age)
    if period_error is not None:
        return fail(period_error)
    if issuer is not None and verified.issuer != issuer:
        return fail("状态列表不是由凭证签发机构发布 (status list not issued by the credential's "
                    "issuer)")
    if verified.purpose != purpose:
        return fail("状态列表用途与条目不符 (status list purpose does not match the entry)")
    raw = bits.bits
    if index >= len(raw) * 8:
        return fail("状态索引超出列表范围 (statusListIndex outside the list)")
    if raw[index >> 3] & (0x80 >> (index & 7)):  # StatusList.get without its checks
        if purpose == "revocation":
            return fail("证照已吊销 (revoked)")
        return fail("证照已中止 (suspended)")
    return _NOT_REVOKED if purpose == "revocation" else _NOT_SUSPENDED


_NOT_REVOKED = r.Check(r.STATUS, True, "未吊销 (not revoked)")
_NOT_SUSPENDED = r.Check(r.STATUS, True, "未中止 (not suspended)")
