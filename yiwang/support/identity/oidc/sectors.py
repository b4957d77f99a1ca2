"""Sectors of pairwise subject identifiers (标识分区; OpenID Connect Core 1.0, section 8.1).

A pairwise relying party sees each person under a ``sub`` computed for its *sector*, a host
name. The sector is fixed the first time the relying party is pairwise and stored
(``RelyingParty.sector``); changing redirect URIs later never changes it, so nobody's
``sub`` changes either. It is:

* the host of ``sector_identifier_uri`` when one is given. That URL serves a JSON array of
  URLs which must list the redirect URIs being registered (fetched under the outbound rule
  of :mod:`outbound`: short timeout, no redirects, at most 64 KiB);
* otherwise the one host all redirect URIs share; redirect URIs on several hosts need a
  ``sector_identifier_uri``.

Later, a new redirect URI must be on the sector host, or listed in the document when the
relying party has one. A sector belongs to one department, for good: the first relying
party to be pairwise in it claims it (a :class:`~models.PairwiseSector` row, never deleted
or moved), and a relying party of another department can never use it — not after the
first one turned public, was disabled or deleted either — so two agencies never see the
same ``sub`` for a person. Relying parties of the same department may share a sector, and
then share subjects (that is what a sector is for). A pairwise relying party cannot move to
another department: its sector stays behind.

:func:`settle` checks (reading the document over the network); :func:`claim` records the
claim in the write transaction, where the unique host refuses the loser of two
registrations racing for a new sector.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.support.identity.oidc import outbound
from yiwang.support.identity.oidc.models import PairwiseSector, RelyingParty, SubjectType

DOCUMENT_TIMEOUT_SECONDS = 5
DOCUMENT_MAX_BYTES = 64 * 1024
FIELD = "sector_identifier_uri"


@dataclass(frozen=True)
class Before:
    """What a relying party looked like before an update (None at registration)."""

    subject_type: str
    redirect_uris: list[str] = field(default_factory=list)
    sector_identifier_uri: str = ""
    department_code: str = ""

    @classmethod
    def of(cls, rp: RelyingParty) -> Before:
        return cls(subject_type=rp.subject_type, redirect_uris=rp.redirect_uris.split(),
                   sector_identifier_uri=rp.sector_identifier_uri,
                   department_code=rp.department_code)


def host_of(uri: str) -> str:
    """The lower-case host name of ``uri`` ('' when it has none)."""
    try:
        return (urlsplit(uri).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


def _refuse(message: str, code: str, where: str) -> ValidationError:
    return ValidationError({where: [ValidationError(message, code=code)]})


class _Unusable(Exception):
    """Why the document could not be used: ``reason`` a short code, ``detail`` facts."""

    def __init__(self, reason: str, **detail: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def _read_document(uri: str) -> list[str]:
    try:
        with outbound.request("GET", uri, timeout=DOCUMENT_TIMEOUT_SECONDS,
                              headers={"Accept": "application/json"}) as response:
            if response.status_code != 200:
                raise _Unusable("status", status=response.status_code)
            body = outbound.read_limited(response, DOCUMENT_MAX_BYTES)
    except outbound.OutboundRefused as exc:
        raise _Unusable("too_large" if exc.reason == "too_large" else "address",
                        rule=exc.reason) from None
    except outbound.DeadlineExceeded:
        raise _Unusable("too_slow") from None
    except (requests.RequestException, OSError) as exc:
        raise _Unusable("unreachable", error=type(exc).__name__) from None
    try:
        listed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _Unusable("not_json") from None
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        raise _Unusable("not_list")
    return listed


def fetch_document(uri: str, *, rp: RelyingParty | None = None, actor: Any = None) -> list[str]:
    """The redirect URIs listed at ``uri`` (a JSON array of strings), or ValidationError on
    the ``sector_identifier_uri`` field.

    The message is the same whatever went wrong — an HTTP status, no connection, a timeout,
    not JSON …: told apart, they would let whoever may register relying parties probe the
    networks the server reaches. The reason goes to the audit log
    (``oidc.sector_document_refused``, ``detail.reason``) for operations."""
    try:
        return _read_document(uri)
    except _Unusable as exc:
        audit.record("oidc.sector_document_refused", rp if rp is not None and rp.pk else None,
                     actor=actor,
                     detail={"client_id": rp.client_id if rp is not None else "",
                             "uri": uri[:200], "reason": exc.reason, **exc.detail})
        raise _refuse(_("无法读取标识分区文档，或其内容不符合要求：须为 https 地址返回的 "
                        "JSON 数组，并列出全部回调地址。"), "sector_document", FIELD) from None


def _check_uris(rp: RelyingParty, uris: list[str], actor: Any) -> None:
    if not uris:
        return
    if rp.sector_identifier_uri:
        listed = set(fetch_document(rp.sector_identifier_uri, rp=rp, actor=actor))
        missing = [uri for uri in uris if uri not in listed]
        if missing:
            raise _refuse(_("标识分区文档地址（sector_identifier_uri）的文档没有列出"
                            "这些登录回调地址：%(uris)s。请在文档中加入后再保存。")
                          % {"uris": "、".join(missing)[:500]}, "sector_missing_uri", FIELD)
        return
    elsewhere = [uri for uri in uris if host_of(uri) != rp.sector]
    if elsewhere:
        raise _refuse(_("登录回调地址 %(uris)s 不在本应用的标识分区 %(sector)s 上。"
                        "按应用区分用户标识的应用，标识分区登记后不再改变；"
                        "要使用其他主机的回调地址，请填写标识分区文档地址"
                        "（sector_identifier_uri），并在该文档中列出全部回调地址。")
                      % {"uris": "、".join(elsewhere)[:500], "sector": rp.sector},
                      "sector_other_host", "redirect_uris")


def settle(rp: RelyingParty, before: Before | None, *, actor: Any = None) -> bool:
    """Fix ``rp``'s sector when it is pairwise for the first time, or check that the
    change keeps within it (see the module docstring). Raises ValidationError.

    True when ``rp`` must then :func:`claim` its sector (it is pairwise in it for the first
    time, or moves to another department) when it is saved."""
    if rp.subject_type != SubjectType.PAIRWISE:
        return False
    uris = rp.redirect_uris.split()
    document_changed = before is None or before.sector_identifier_uri != rp.sector_identifier_uri
    became_pairwise = before is not None and before.subject_type != SubjectType.PAIRWISE
    fixing = not rp.sector
    if fixing:
        if rp.sector_identifier_uri:
            sector = host_of(rp.sector_identifier_uri)
        else:
            hosts = sorted({host_of(uri) for uri in uris})
            if len(hosts) > 1:
                raise _refuse(_("登录回调地址分属多个主机（%(hosts)s）。"
                                "按应用区分用户标识时，请填写标识分区文档地址"
                                "（sector_identifier_uri）：一个返回 JSON 数组、"
                                "列出全部回调地址的网址，标识分区即为它的主机。")
                              % {"hosts": "、".join(hosts)[:300]}, "sector_required", FIELD)
            if not hosts:
                return False  # nobody can sign in yet; the sector is fixed with the first redirect
            sector = hosts[0]
        rp.sector = sector
        to_check = uris
    else:
        if (rp.sector_identifier_uri and document_changed
                and host_of(rp.sector_identifier_uri) != rp.sector):
            raise _refuse(_("本应用的标识分区已固定为 %(sector)s，不能更改；标识分区文档地址"
                            "（sector_identifier_uri）须位于该主机上。")
                          % {"sector": rp.sector}, "sector_fixed", FIELD)
        if document_changed or became_pairwise:
            to_check = uris
        else:
            known = set(before.redirect_uris) if before is not None else set()
            to_check = [uri for uri in uris if uri not in known]
    _check_uris(rp, to_check, actor)
    needs_claim = (fixing or became_pairwise or before is None
                   or before.department_code != rp.department_code)
    if needs_claim:
        _check_owner(rp, _owner_of(rp.sector))
    return needs_claim


def _owner_of(sector: str) -> str | None:
    """The department code ``sector`` belongs to ('' the platform), None when unclaimed."""
    return (PairwiseSector.objects.filter(host=sector)
            .values_list("department_code", flat=True).first())


def _check_owner(rp: RelyingParty, owner: str | None) -> None:
    """Refuse ``rp`` a sector another department (``owner``) has claimed."""
    if owner is None or owner == rp.department_code:
        return
    raise _refuse(_("标识分区 %(sector)s 已由其他部门的接入应用使用。"
                    "不同部门的应用不能共用标识分区，否则会看到相同的用户标识；"
                    "请使用本部门自己的域名。")
                  % {"sector": rp.sector}, "sector_taken",
                  FIELD if rp.sector_identifier_uri else "redirect_uris")


def claim(rp: RelyingParty) -> None:
    """Record ``rp``'s sector as its department's, or raise ValidationError when it is
    another department's (call in the transaction that saves ``rp``, when :func:`settle`
    said so). Of two registrations racing for a new sector, the unique host lets one in."""
    if rp.subject_type != SubjectType.PAIRWISE or not rp.sector:
        return
    owner = _owner_of(rp.sector)
    if owner is None:
        try:
            with transaction.atomic():
                PairwiseSector.objects.create(host=rp.sector, department_code=rp.department_code)
            return
        except IntegrityError:  # claimed a moment ago by another registration
            owner = _owner_of(rp.sector)
        if owner is None:
            # Claimed, but not visible to this transaction: whose it is cannot be told,
            # so it is not this relying party's.
            owner = "?"
    _check_owner(rp, owner)
