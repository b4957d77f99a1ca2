"""Other regions' trust lists (跨地区互认): importing one after its checks, the root-change
confirmation, and which imported versions are current. Private to the app: other apps use
``service.py``."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from yiwang.core import outbound
from yiwang.core.audit import service as audit
from yiwang.core.crypto import service as crypto
from yiwang.support.trust import pki, trustlist
from yiwang.support.trust.common import error, ledger_append, public_url, region_code
from yiwang.support.trust.models import Certificate, ImportedKey, ImportedTrustList


def current_imports() -> list[ImportedTrustList]:
    """The newest imported list of each region, while it is valid: a list past its
    nextUpdate is trusted no more (a partner that stopped publishing would otherwise be
    trusted for ever, with revocations we never received)."""
    return list(ImportedTrustList.objects.filter(superseded_at__isnull=True,
                                                 next_update__gt=timezone.now())
                .order_by("region_code"))


def imported_versions() -> QuerySet[ImportedTrustList]:
    """Every imported version, by region and newest first, lazily and without the documents
    (for a paginator: only the page's rows are read)."""
    return ImportedTrustList.objects.defer("document").order_by("region_code", "-sequence")


def list_imported() -> list[ImportedTrustList]:
    """Every imported version, by region and newest first."""
    return list(ImportedTrustList.objects.order_by("region_code", "-sequence"))


def root_of(imported: ImportedTrustList) -> bytes:
    document = json.loads(bytes(imported.document))
    return pki.pem_to_der(document["root"]["certificate"].encode("ascii"))


def crls_of(imported: ImportedTrustList) -> list[bytes]:
    """The DER CRLs an imported list carries."""
    document = json.loads(bytes(imported.document))
    return [base64.b64decode(item["crl"]) for item in document.get("crls", [])
            if isinstance(item, dict) and isinstance(item.get("crl"), str)]


def imported_status(row: ImportedTrustList) -> str:
    """``current``, ``expired`` (its nextUpdate passed: import a newer one) or
    ``superseded``."""
    if row.superseded_at is not None:
        return "superseded"
    return "expired" if row.next_update <= timezone.now() else "current"


_IMPORT_MESSAGES = {
    "too_large": gettext_noop("信任列表文件过大（上限 %(detail)s 字节）。"),
    "malformed": gettext_noop(
        "这不是有效的信任列表文件（问题所在：%(detail)s）。请确认上传的是对方发布的 "
        "list.json 原文。"),
    "fingerprint": gettext_noop(
        "根证书指纹不符：文件中根证书的指纹是 %(detail)s，与您输入的不同。"
        "请通过电话等其他渠道向对方地区核实指纹，切勿导入来源不明的列表。"),
    "certificate": gettext_noop(
        "信任列表的证书无效（%(detail)s）：签名证书不是由其根证书签发的，或已过期。"),
    "signature": gettext_noop(
        "信任列表的签名验证失败：文件在发布后被改动过，或不是由该地区签名的。"),
    "expired": gettext_noop("信任列表已于 %(detail)s 过期，请向对方地区索取最新版本。"),
    "signer_usage": gettext_noop(
        "信任列表的签名证书不是信任列表签名证书（缺少扩展密钥用途 %(detail)s），不能导入："
        "该地区的其他证书（如印章、证照签名证书）不能代表该地区签发信任列表。"
        "请对方用信任列表签名证书重新发布。"),
    "signer_revoked": gettext_noop(
        "信任列表的签名证书（序列号 %(detail)s）已被该地区撤销，不能导入。"
        "请向对方地区索取用有效证书签名的最新版本。"),
}


def _verify(algorithm: str, public_key: bytes, data: bytes, signature: bytes) -> bool:
    try:
        return bool(crypto.verify_signature(algorithm, public_key, data, signature))
    except crypto.CryptoError:
        return False


class RootChanged(ValidationError):
    """The list's root is not the root of the region's previous import: ``old`` and ``new``
    are the two SHA-256 fingerprints (lower-case hex). Importing it needs
    ``root_change_confirmed=old``."""

    def __init__(self, *, region_name: str, old: str, new: str) -> None:
        super().__init__(
            gettext("%(region)s的根证书与上次导入时不同：原指纹 %(old)s，新指纹 %(new)s。"
                    "根证书更换是重大变更，也可能是冒充；请通过电话或公文向对方地区核实"
                    "新指纹，确认后勾选“确认更换根证书”再导入。"),
            code="root_changed",
            params={"region": region_name, "old": pki.grouped(old), "new": pki.grouped(new)})
        self.old, self.new = old, new


def _earlier_crls(region: str) -> list[bytes]:
    """The CRLs of the newest list imported before from ``region``: a signer its region
    revoked stays refused even in a later list that leaves the CRL out (the check counts
    them only when they are signed by the new list's root)."""
    previous = (ImportedTrustList.objects.filter(region_code=region)
                .order_by("-sequence").first())
    return crls_of(previous) if previous is not None else []


def import_trust_list(document: bytes, *, fingerprint: str, actor: Any = None,
                      root_change_confirmed: str = "", source_url: str | None = None
                      ) -> ImportedTrustList:
    """Import another region's trust list after checking it: the SHA-256 of its root
    certificate must equal ``fingerprint`` (typed by the admin, obtained out of band), the
    signing certificate must chain to that root and carry the trust-list usage, and must
    not be on a CRL of the list (or of the region's previous list), the signature must
    cover the whole list, it must not have expired, and its sequence must be higher than
    the last one imported from that region. Its keys resolve from then on; the previous
    version is superseded. Written to the ledger as ``trust.list_imported``.

    A list whose root differs from the one of the region's previous import raises
    :class:`RootChanged` unless ``root_change_confirmed`` is the previous root's fingerprint
    (the admin confirmed that very change); a confirmed change is audited as
    ``trust.root_changed`` and recorded in the ledger entry.

    ``source_url`` is where the region publishes its list, for the automatic refresh
    (``refresh.refresh_imported_lists``): an http(s) URL without credentials; None derives
    it from the list itself (``<the partner's base URL>/trust/list.json``, the base its key
    ids sit under), "" records none (the list is then only ever imported by hand)."""
    return store_trust_list(document, fingerprint=fingerprint, actor=actor,
                            root_change_confirmed=root_change_confirmed,
                            source_url=source_url)


_SOURCE_URL_MAX = 500


def checked_source_url(url: str) -> str:
    """``url`` stripped, when it may be where a region's list is fetched from: http or
    https, a host, no user name or password, no fragment, at most 500 characters. Raises a
    ValidationError (code ``source_url``) otherwise."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a bad port raises ValueError here
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname
            or parts.username is not None or parts.password is not None
            or "@" in parts.netloc or parts.fragment or len(url) > _SOURCE_URL_MAX
            or any(c.isspace() for c in url)):
        raise error(gettext("来源网址必须是不含用户名和密码的 http 或 https 网址，例如 "
                             "https://对方地区的网址/trust/list.json。"), "source_url")
    return url


def derived_source_url(keys: list[trustlist.ListedKey]) -> str:
    """``<base>/trust/list.json`` of the instance the list's key ids point to (a yiwang
    key id is ``<base>/trust/keys/<id>``; otherwise its origin), or "" for a list without
    keys."""
    for key in keys:
        for ref in (key.ref, key.issuer_id):
            base, found, _rest = ref.partition("/trust/")
            if found and _origin(base):
                return f"{base}/trust/list.json"
    for key in keys:
        parts = urlsplit(key.ref)
        if _origin(key.ref):
            return f"{parts.scheme}://{parts.netloc}/trust/list.json"
    return ""


@transaction.atomic
def store_trust_list(document: bytes, *, fingerprint: str, actor: Any = None,
                     root_change_confirmed: str = "", source_url: str | None = None,
                     refresh_of: ImportedTrustList | None = None) -> ImportedTrustList:
    """:func:`import_trust_list`, and for the automatic refresh (``refresh_of``: the
    region's current import, whose root ``fingerprint`` is) also: the list must be of that
    region (``region``), not the one already imported (``unchanged``) and issued after it
    (``not_newer``: a replayed older list never supersedes a newer one); a root change is
    never accepted here."""
    if source_url:
        source_url = checked_source_url(source_url)
    if not isinstance(document, bytes | bytearray) or not document:
        raise error(gettext("请上传或粘贴信任列表文件。"), "empty")
    if not fingerprint or not fingerprint.strip():
        raise error(gettext("请输入对方地区提供的根证书指纹。"), "fingerprint_missing")
    if len(pki.normalise_fingerprint(fingerprint)) != 64:
        raise error(gettext("指纹应为 64 位十六进制数字（SHA-256），可含空格或冒号。"),
                     "fingerprint_format")
    try:
        checked = trustlist.check(bytes(document), fingerprint=fingerprint, verify=_verify,
                                  now=timezone.now(),
                                  max_bytes=settings.YIWANG_TRUST_LIST_MAX_BYTES,
                                  earlier_crls=_earlier_crls)
        keys = trustlist.listed_keys(checked, verify=_verify)
    except trustlist.TrustListError as exc:
        raise error(gettext(_IMPORT_MESSAGES[exc.code]), exc.code, detail=str(exc)) from None
    if checked.region_code == region_code():
        raise error(gettext("这是本地区自己的信任列表，无需导入。"), "own_region")
    if refresh_of is not None and checked.region_code != refresh_of.region_code:
        raise error(gettext("来源网址提供的是%(other)s的信任列表，不是%(region)s的，"
                             "不予导入。"), "region", other=checked.region_name,
                     region=refresh_of.region_name)
    _refuse_foreign_claims(checked.region_code, keys)
    previous = (ImportedTrustList.objects.select_for_update()
                .filter(region_code=checked.region_code).order_by("-sequence").first())
    if refresh_of is not None and previous is not None:
        _refuse_stale(checked, previous)
    if previous is not None and checked.sequence <= previous.sequence:
        raise error(gettext("%(region)s的信任列表已导入第 %(known)s 版，这份是第 %(sequence)s "
                             "版，不能用旧版本或相同版本替换。"), "sequence",
                     region=checked.region_name, known=previous.sequence,
                     sequence=checked.sequence)
    root_changed = (previous is not None
                    and previous.root_fingerprint != checked.root_fingerprint)
    confirmed = refresh_of is None and pki.normalise_fingerprint(
        root_change_confirmed or "") == getattr(previous, "root_fingerprint", None)
    if previous is not None and root_changed and not confirmed:
        raise RootChanged(region_name=checked.region_name, old=previous.root_fingerprint,
                          new=checked.root_fingerprint)
    if source_url is None:
        source_url = derived_source_url(keys)
    now = timezone.now()
    ImportedTrustList.objects.filter(region_code=checked.region_code,
                                     superseded_at__isnull=True).update(superseded_at=now)
    row = ImportedTrustList.objects.create(
        region_code=checked.region_code, region_name=checked.region_name,
        sequence=checked.sequence, document=bytes(document), sha256=checked.sha256,
        root_fingerprint=checked.root_fingerprint, issued_at=checked.issued,
        next_update=checked.next_update,
        imported_by=actor if getattr(actor, "pk", None) else None,
        source_url=source_url,
        last_refresh_at=now if refresh_of is not None else None,
        last_refresh_outcome="refreshed" if refresh_of is not None else "")
    ImportedKey.objects.bulk_create([
        ImportedKey(trust_list=row, ref=key.ref[:255], kid=key.kid, algorithm=key.algorithm,
                    public_key=key.public_key, issuer_id=key.issuer_id[:128],
                    issuer_name=key.issuer_name[:128], licence_types=key.licence_types,
                    valid_from=key.valid_from, valid_until=key.valid_until,
                    status=key.status[:16], certificate=key.certificate)
        for key in keys])
    record: dict[str, Any] = {
        "region": checked.region_code, "sequence": checked.sequence,
        "document_sha256": checked.sha256, "root_fingerprint": checked.root_fingerprint,
        "keys": len(keys)}
    if previous is not None and root_changed:
        record["previous_root_fingerprint"] = previous.root_fingerprint
        audit.record("trust.root_changed", row, actor=actor,
                     detail={"region": checked.region_code,
                             "old_fingerprint": previous.root_fingerprint,
                             "new_fingerprint": checked.root_fingerprint,
                             "sequence": checked.sequence})
    row.ledger_index = ledger_append("trust.list_imported", record)
    row.save(update_fields=["ledger_index"])
    audit.record("trust.list_imported", row, actor=actor,
                 detail={"region": checked.region_code, "sequence": checked.sequence,
                         "sha256": checked.sha256, "keys": len(keys)})
    return row

def _refuse_stale(checked: trustlist.CheckedList, previous: ImportedTrustList) -> None:
    """What the automatic refresh adds: the same list again is ``unchanged``, a list not
    issued after the region's newest import is ``not_newer`` (with a higher sequence too:
    a replay of an old list, or a partner's clock gone back, is for a person to look at)."""
    if checked.sha256 == previous.sha256:
        raise error(gettext("%(region)s的信任列表没有新版本（仍为第 %(sequence)s 版）。"),
                     "unchanged", region=checked.region_name, sequence=previous.sequence)
    if checked.sequence > previous.sequence and checked.issued <= previous.issued_at:
        raise error(gettext("%(region)s的这份信任列表（第 %(sequence)s 版）的发布时间不晚于"
                             "已导入的第 %(known)s 版，不予替换：可能是重放的旧列表。"),
                     "not_newer", region=checked.region_name, sequence=checked.sequence,
                     known=previous.sequence)


def _origin(url: str) -> str | None:
    """The server of an http(s) URL without credentials in it (``outbound.origin``); None
    for anything else."""
    try:
        credentials = bool(urlsplit(url).username)
    except ValueError:
        return None
    return None if credentials else (outbound.origin(url) or None)


def _refuse_foreign_claims(region: str, keys: list[trustlist.ListedKey]) -> None:
    """A region speaks only for itself: every issuer id and key id of its list must be on one
    origin of its own (never this instance's), and no key id, COSE kid or issuer id may be
    one this instance or another imported region already uses — else a partner could sign
    licences "issued" by our departments, or shadow our keys in verifiers."""
    origins = {_origin(k.issuer_id) for k in keys} | {_origin(k.ref) for k in keys}
    if None in origins or _origin(public_url()) in origins or len(origins) > 1:
        raise error(gettext("信任列表中的发证机构和密钥标识必须都在对方地区自己的网址下，"
                             "不能使用本地区或其他网址，不能导入。"), "namespace")
    refs = {k.ref for k in keys}
    issuers = {k.issuer_id for k in keys}
    kids = {k.kid for k in keys if k.kid}
    local = Certificate.objects.filter(Q(kid__in=kids) | Q(certificate_kid__in=kids))
    others = ImportedKey.objects.filter(trust_list__superseded_at__isnull=True).exclude(
        trust_list__region_code=region).filter(
            Q(ref__in=refs) | Q(issuer_id__in=issuers) | Q(kid__in=kids))
    if (kids and local.exists()) or others.exists():
        raise error(gettext("信任列表中的密钥或发证机构标识与本地区或已导入的其他地区重复，"
                             "不能导入。"), "collision")
