"""The offline verifier: a VC, a QR text or a sealed PDF, against a trust bundle and cached
status lists, without the server.

::

    verifier = Verifier(json.load(open("bundle.json")), {url: status_list_credential, ...})
    result = verifier.verify(text_or_bytes_or_dict)
    result.valid, [(c.name, c.ok, c.message) for c in result.checks]

Beyond the format's own checks (proof, signature, validity), a licence must come from an
issuer on the bundle whose signing key belongs to it, that was authorised for the licence's
type when it was issued, and whose status lists say it is neither revoked nor suspended.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from yiwang.verify import dataintegrity as di
from yiwang.verify import keys as keys_mod
from yiwang.verify import qr as qr_mod
from yiwang.verify import result as r
from yiwang.verify import statuslist
from yiwang.verify.bundle import TrustBundle


def _issuer_id(value: Any) -> Any:
    return value.get("id") if (type(value) is dict or isinstance(value, Mapping)) else value


def licence_type_of(credential: Mapping[str, Any]) -> str | None:
    """The licence type code of a yiwang licence VC (``credentialSubject.licence.type``)."""
    subject = credential.get("credentialSubject")
    if not (type(subject) is dict or isinstance(subject, Mapping)):
        return None
    licence = subject.get("licence")
    if type(licence) is dict or isinstance(licence, Mapping):
        value = licence.get("type")
        if isinstance(value, str):
            return value
    value = subject.get("licenceType")
    return value if isinstance(value, str) else None


class Verifier:
    """Verifies licences offline. ``status_lists``: status list URL → list credential (dict or
    JSON text), or a callable doing that lookup; None means status cannot be checked (and a
    licence with status entries then fails its status check, as "status unknown")."""

    def __init__(self, trust_bundle: Mapping[str, Any] | TrustBundle,
                 status_lists: Mapping[str, Any] | Any = None, *,
                 now: dt.datetime | None = None) -> None:
        self.bundle = (trust_bundle if isinstance(trust_bundle, TrustBundle)
                       else TrustBundle(trust_bundle))
        # A mapping is taken as a snapshot (parsed once, verified once per list, cached);
        # a callable is asked every time.
        self.status_lists: Any = status_lists
        self._cache: statuslist.ListCache | None = None
        if isinstance(status_lists, Mapping):
            self.status_lists = {
                url: json.loads(doc) if isinstance(doc, str | bytes) else copy.deepcopy(doc)
                for url, doc in status_lists.items()}
            self._cache = statuslist.ListCache()
        self.now = now

    # --- entry points ---------------------------------------------------------------------

    def verify(self, item: Any) -> r.Result:
        """Verify whatever ``item`` is: a VC (dict or JSON text/bytes), a QR text, a PDF."""
        if type(item) is dict or isinstance(item, Mapping):
            return self.verify_credential(dict(item))
        if isinstance(item, bytes | bytearray):
            if bytes(item[:1024]).lstrip().startswith(b"%PDF-"):
                return self.verify_pdf(bytes(item))
            try:
                item = bytes(item).decode("utf-8")
            except UnicodeDecodeError:
                return r.Result().failed(r.MALFORMED, "无法识别的内容 (unrecognised input: not a "
                                                      "PDF, VC or QR text)")
        if isinstance(item, str):
            text = item.strip().lstrip("\ufeff")
            if text.startswith("{"):
                try:
                    document = json.loads(text)
                except (ValueError, RecursionError):
                    return r.Result().failed(r.MALFORMED, "不是有效的 JSON (not valid JSON)")
                return self.verify_credential(document)
            return self.verify_qr(text)
        return r.Result().failed(r.MALFORMED, "无法识别的内容 (unrecognised input)")

    def verify_credential(self, credential: Any) -> r.Result:
        """A licence VC with a Data Integrity proof."""
        now = self._now()
        try:
            res = di.verify_proof(credential, self.bundle.resolve, now=now)
        except RecursionError:  # nested deeper than any credential: refuse, never crash
            return r.Result().failed(r.MALFORMED, "凭证嵌套过深 (credential nested too deeply)")
        res.summary.setdefault("kind", "vc")
        if not (type(credential) is dict or isinstance(credential, Mapping)):
            return res
        signed = _signature_ok(res)
        # An undated proof is judged as signed now: never let off the authorisation window.
        created = _created(credential) or now
        self._check_issuer(res, _issuer_id(credential.get("issuer")), signed)
        licence_type = licence_type_of(credential)
        self._check_authorised(res, licence_type, created, signed)
        if signed:
            # Every licence carries status entries: one without any had them stripped.
            res.checks.extend(statuslist.check_status(credential, self.status_lists,
                                                      self.bundle.resolve, now=now,
                                                      cache=self._cache,
                                                      required=licence_type is not None))
        subject = credential.get("credentialSubject")
        licence = (subject.get("licence")
                   if type(subject) is dict or isinstance(subject, Mapping) else None)
        if type(licence) is dict or isinstance(licence, Mapping):
            res.summary.update({"identifier": licence.get("identifier"),
                                "licence_type": licence_type, "name": licence.get("name")})
        return res

    def verify_qr(self, text: Any) -> r.Result:
        """A licence QR text (``YW1:…``)."""
        now = self._now()
        res = qr_mod.decode_and_verify(text, self.bundle.resolve, now=now)
        signed = _signature_ok(res)
        issuer = res.summary.get("issuer")
        if not signed:
            claimed = res.summary.get("claimed_issuer")
            if res.key is None:
                if claimed is not None:  # signed by no key we know: name whose it claims
                    self._check_claimed_issuer(res, claimed)
                return res
            issuer = claimed  # a known key that failed: only a mismatch can be named
        self._check_issuer(res, issuer, signed)
        licence = res.subject if isinstance(res.subject, dict) else {}
        iat = res.summary.get("iat")
        # No iat: judged as issued now, never let off the authorisation window.
        issued = dt.datetime.fromtimestamp(iat, dt.UTC) if isinstance(iat, int) else now
        licence_type = licence.get("type")
        licence_type = licence_type if isinstance(licence_type, str) and licence_type else None
        self._check_authorised(res, licence_type, issued, signed)
        if signed:
            res.checks.extend(statuslist.check_status(
                {"issuer": issuer}, self.status_lists, self.bundle.resolve, now=now,
                entries=licence.get("status"), cache=self._cache,
                required=licence_type is not None))
        return res

    def verify_pdf(self, data: bytes) -> r.Result:
        """A sealed PDF: every signature against the bundle's roots and CRLs (pyHanko)."""
        try:
            from yiwang.verify import pdf
        except ImportError:
            return r.Result().failed(r.MALFORMED, "未安装 pyHanko，无法核验 PDF (pyHanko is not "
                                                  "installed: cannot verify PDFs)")
        return pdf.verify_pdf(data, self.bundle)

    # --- shared checks --------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        return self.now or keys_mod.utcnow()

    def _check_issuer(self, res: r.Result, issuer: Any, signed: bool) -> None:
        key = res.key
        if not isinstance(issuer, str) or not issuer:
            res.failed(r.ISSUER, "凭证未注明签发机构 (credential names no issuer)")
        elif issuer not in self.bundle.issuers:
            res.failed(r.ISSUER, f"签发机构不在任何可信列表中 (issuer not on any trusted list: "
                                 f"{issuer})")
        elif key is not None and key.issuer_id != issuer:
            res.failed(r.ISSUER, "签名密钥不属于所称的签发机构 (signing key does not belong to "
                                 "the named issuer)")
        elif signed:
            name = self.bundle.issuers.get(issuer) or issuer
            region = self.bundle.region_name(key.region) if key is not None else ""
            res.summary.update({"issuer_id": issuer, "issuer_name": name, "region": region})
            res.passed(r.ISSUER, f"签发机构可信：{name} (issuer trusted: {name}"
                                 f"{', ' + region if region else ''})")

    def _check_claimed_issuer(self, res: r.Result, claimed: str) -> None:
        """The issuer check of a QR whose kid is unknown: the issuer it names is only a claim
        (nothing verified it), so the check fails either way and says so."""
        if claimed in self.bundle.issuers:
            name = self.bundle.issuers.get(claimed) or claimed
            res.failed(r.ISSUER, f"所称签发机构 {name} 受信任，但签名密钥不是其可信密钥（未验证的"
                                 f"声明）(claimed issuer {claimed} is trusted, but the QR is "
                                 f"not signed by one of its keys; unverified claim)")
        else:
            res.failed(r.ISSUER, f"签发机构 {claimed} 不在任何受信任列表中（未验证的声明）"
                                 f"(issuer not on any trusted list: {claimed}; unverified "
                                 f"claim)")

    def _check_authorised(self, res: r.Result, licence_type: str | None,
                          issued: dt.datetime | None, signed: bool) -> None:
        key = res.key
        if key is None or not signed:
            return
        if not licence_type:
            res.failed(r.AUTHORISED, "凭证未注明证照类型 (credential names no licence type)")
            return
        span = key.authorisations.get(licence_type)
        if span is not None and issued is not None:
            start, end = span
            # Proof times are written to the second: compare at that granularity.
            start = start.replace(microsecond=0) if start else None
            if (start and issued < start) or (end and issued >= end):
                res.failed(r.AUTHORISED, f"签发时该机构无权签发此类证照 (issuer was not "
                                         f"authorised for {licence_type} when it was issued)")
                return
        elif licence_type not in key.licence_types:
            res.failed(r.AUTHORISED, f"该机构无权签发此类证照 (issuer not authorised for "
                                     f"{licence_type})")
            return
        res.passed(r.AUTHORISED, f"机构有权签发此类证照 (issuer authorised for {licence_type})")


def _signature_ok(res: r.Result) -> bool:
    """At least one signature check was made, and every one passed."""
    ok = False
    for name, passed, _ in res.checks:
        if name == r.SIGNATURE:
            if not passed:
                return False
            ok = True
    return ok


def _created(credential: Mapping[str, Any]) -> dt.datetime | None:
    proof = credential.get("proof")
    if isinstance(proof, list) and proof:
        proof = proof[0]
    if not (type(proof) is dict or isinstance(proof, Mapping)):
        return None
    try:
        return keys_mod.parse_time(proof.get("created"))
    except (ValueError, TypeError):
        return None
