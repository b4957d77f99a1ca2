"""PAdES sealing on pyHanko, with the key kept in the vault.

No Django models here: :func:`seal` takes a :class:`SealingKey` (a ``sign`` callable that
reaches the key vault, and the certificate chain), a timestamp callable (yiwang's own RFC 3161
TSA, in-process) and the CRLs and trust roots to embed. ``service.py`` wires it to the keys
and trust apps. The visible stamp is drawn by :mod:`.appearance`; validation (验章) is
:mod:`.validation` (re-exported here: :func:`validate`, :class:`Check`,
:class:`SignatureReport`).

Levels (ETSI EN 319 142-1):

- ``B-B``: CMS signature with the signing certificate attribute, ``/SubFilter
  /ETSI.CAdES.detached``;
- ``B-T``: plus a signature timestamp (unsigned attribute) from the TSA;
- ``B-LT``: plus the validation data — every certificate of the signer's and the TSA's paths
  and the CRLs — in the document security store (DSS), so that it validates offline.
"""

from __future__ import annotations

import asyncio
import io
import logging
import queue
import secrets
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from django.utils import timezone
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.attributes import SigningCertificateV2Provider
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.signers import pdf_cms
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator.registry import SimpleCertificateStore

import yiwang.verify.asn1fix  # noqa: F401  (asn1crypto's 0x80-length correction, before any dump)
from yiwang.support.seals.appearance import stamp_style
from yiwang.support.seals.pdfdoc import (
    KEY_USAGE,
    LEVELS,
    MalformedPdf,
    SealingError,
    open_for_update,
    page_count,
    read_pdf,
)
from yiwang.support.seals.pdfdoc import certificate as _certificate
from yiwang.support.seals.validation import Check, SignatureReport, validate

__all__ = [
    "KEY_USAGE", "LEVELS", "Check", "InProcessTimeStamper", "MalformedPdf", "SealingError",
    "SealingKey", "SignatureReport", "VaultSigner", "open_for_update", "page_count",
    "read_pdf", "seal", "seal_named", "stamp_style", "validate",
]

logger = logging.getLogger(__name__)


class _NoFetchingNotice(logging.Filter):
    """pyHanko warns on every B-LT seal that it will not fetch revocation data: that is the
    point (we hand it our CRLs), so the warning says nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "fetching is not allowed" not in record.getMessage()


logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(_NoFetchingNotice())

# An ECDSA P-256 DER signature is at most 72 bytes; pyHanko sizes /Contents with a dry run.
_DRY_RUN_SIGNATURE = bytes(72)


@dataclass(frozen=True)
class SealingKey:
    """What signing needs: ``sign(data) -> DER ECDSA signature`` (the vault hashes) and the
    certificate chain, DER, leaf first, ending at the root."""

    sign: Callable[[bytes], bytes]
    chain: Sequence[bytes]


Timestamp = Callable[..., bytes]  # (message_imprint, *, hash_algorithm, nonce) -> DER token



_ENCODED: dict[tuple[str, bytes], bytes] = {}
_CONTENT_TYPE_DATA = simple_cms_attribute("content_type", "data").dump()


def _encoded(key: tuple[str, bytes], value: Any) -> bytes:
    """The DER of ``value``, a function of the signing certificate alone (``key``), encoded
    once per certificate. A value loaded from DER is dumped as its bytes, while one built by
    pyHanko is encoded again on every dump — its issuer name alone costs some 10 ms."""
    found = _ENCODED.get(key)
    if found is None:
        if len(_ENCODED) > 1024:
            _ENCODED.clear()
        found = _ENCODED[key] = value.dump()
    return found


class VaultSigner(pdf_cms.Signer):
    """A pyHanko signer whose raw signature comes from the key vault: the private key never
    leaves it. The vault hashes ``data`` with SHA-256 (``ecdsa-p256``)."""

    def __init__(self, key: SealingKey) -> None:
        chain = [_certificate(der) for der in key.chain]
        # The root is left out of the CMS: validators bring their own trust anchors, and
        # B-LT documents carry it in the DSS.
        super().__init__(signing_cert=chain[0], embed_roots=False,
                         cert_registry=SimpleCertificateStore.from_certs(chain))
        self._sign = key.sign
        self._cert_der = bytes(key.chain[0])

    async def signed_attrs(self, data_digest: bytes, digest_algorithm: str,
                           attr_settings: PdfCMSSignedAttributes | None = None,
                           content_type: str = "data", use_pades: bool = False,
                           timestamper: Any = None, dry_run: bool = False,
                           is_pdf_sig: bool = True) -> cms.CMSAttributes:
        """The signed attributes. For a PAdES signature (ours) they are exactly three —
        content type, message digest and signing-certificate-v2 (what pyHanko's CAdES
        provider spec yields when no CAdES extras are asked for) — and all but the digest
        depend on the certificate alone, so they are assembled from DER encoded once per
        certificate: pyHanko builds them from native values every time and asn1crypto then
        re-encodes the certificate's issuer name on each dump (some 15 ms per signature).

        Anything else (a non-PAdES signature, extra CAdES attributes) takes pyHanko's path,
        with the same swap of the signing-certificate-v2 attribute for one parsed from DER."""
        settings_ = attr_settings or PdfCMSSignedAttributes()
        if (use_pades and is_pdf_sig and content_type == "data"
                and settings_.cades_signed_attrs is None
                and self.signed_attr_prov_spec is None):
            scv2 = _ENCODED.get(("scv2", self._cert_der))
            if scv2 is None:
                attr = await SigningCertificateV2Provider(
                    signing_cert=self.signing_cert).get_attribute()
                scv2 = _encoded(("scv2", self._cert_der), attr)
            return cms.CMSAttributes([
                cms.CMSAttribute.load(_CONTENT_TYPE_DATA),
                cms.CMSAttribute.load(simple_cms_attribute("message_digest",
                                                           data_digest).dump()),
                cms.CMSAttribute.load(scv2)])
        attrs = await super().signed_attrs(
            data_digest, digest_algorithm, attr_settings=attr_settings,
            content_type=content_type, use_pades=use_pades, timestamper=timestamper,
            dry_run=dry_run, is_pdf_sig=is_pdf_sig)
        return cms.CMSAttributes([
            cms.CMSAttribute.load(_encoded(("scv2", self._cert_der), attr))
            if attr["type"].native == "signing_certificate_v2" else attr for attr in attrs])

    def signer_info(self, digest_algorithm: str, signed_attrs: Any, signature: bytes
                    ) -> cms.SignerInfo:
        """The same swap for the signer identifier (issuer name and serial number)."""
        info = super().signer_info(digest_algorithm, signed_attrs, signature)
        info["sid"] = cms.SignerIdentifier.load(_encoded(("sid", self._cert_der), info["sid"]))
        return info

    async def async_sign_raw(self, data: bytes, digest_algorithm: str,
                             dry_run: bool = False) -> bytes:
        if digest_algorithm != "sha256":
            raise SealingError(f"seal keys sign with SHA-256, not {digest_algorithm}")
        if dry_run:
            return _DRY_RUN_SIGNATURE
        return self._sign(data)


class InProcessTimeStamper(TimeStamper):
    """A pyHanko timestamper asking yiwang's own TSA in this process (no HTTP)."""

    def __init__(self, timestamp: Timestamp) -> None:
        super().__init__(include_nonce=True)
        self._timestamp = timestamp
        self.tokens: list[cms.ContentInfo] = []  # what it handed out (for B-LT's DSS)

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str
                              ) -> cms.ContentInfo:
        # Random, never derived from the digest: a remote TSA's reply must answer this request.
        nonce = secrets.randbits(64)
        token = self._timestamp(message_digest, hash_algorithm=md_algorithm, nonce=nonce)
        _TOKEN_SIZE["max"] = max(_TOKEN_SIZE["max"], len(token))
        parsed = cms.ContentInfo.load(token)
        try:
            info = parsed["content"]["encap_content_info"]["content"].parsed
            echoed = info["nonce"].native
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SealingError(f"the timestamp token cannot be read: {exc}") from exc
        if echoed != nonce:
            raise SealingError("the timestamp token does not answer this request (nonce)")
        self.tokens.append(parsed)
        return parsed


# --- running pyHanko's event loop beside the caller -------------------------------------------

class _Bridge:
    """pyHanko signs inside an asyncio event loop; the vault and the TSA are synchronous
    Django code that must run in the caller's thread — on its database connection, inside
    its transaction, and where no event loop runs (Django refuses ORM calls from one).

    So the loop runs in a worker thread, and whenever it needs a signature or a timestamp it
    hands the call to the caller's thread and waits for the answer."""

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            answer: Future[Any] = Future()
            self._calls.put((function, args, kwargs, answer))
            return answer.result()

        return call

    def run(self, make_coroutine: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        outcome: dict[str, Any] = {}

        def worker() -> None:
            try:
                outcome["value"] = asyncio.run(make_coroutine())
            except BaseException as exc:  # re-raised in the caller's thread
                outcome["error"] = exc
            finally:
                self._calls.put(None)

        thread = threading.Thread(target=worker, name="pyhanko-sign", daemon=True)
        thread.start()
        while (item := self._calls.get()) is not None:
            function, args, kwargs, answer = item
            try:
                answer.set_result(function(*args, **kwargs))
            except BaseException as exc:  # handed to the waiting coroutine
                answer.set_exception(exc)
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]


# --- sealing -----------------------------------------------------------------------------------


def _next_field_name(reader: PdfFileReader) -> str:
    taken = {name for name, *_ in fields.enumerate_sig_fields(reader)}
    n = 1
    while f"Seal{n}" in taken:
        n += 1
    return f"Seal{n}"



def seal(pdf: bytes, **kwargs: Any) -> bytes:
    """:func:`seal_named` without the field's name."""
    return seal_named(pdf, **kwargs)[0]


def seal_named(pdf: bytes, *, key: SealingKey, level: str = "B-LT",
               timestamp: Timestamp | None = None, trust_roots: Sequence[bytes] = (),
               crls: Sequence[bytes] = (), stamp_png: bytes | None = None, stamp_text: str = "",
               page: int = 0, box: tuple[int, int, int, int] | None = None, reason: str = "",
               location: str = "", field_name: str | None = None) -> tuple[bytes, str]:
    """Seal ``pdf`` as an incremental update (earlier signatures stay valid) at ``level``.

    ``timestamp`` is required for B-T and B-LT; ``trust_roots`` and ``crls`` for B-LT (the
    validation data is collected from them, never fetched). ``box`` is the stamp's rectangle
    in PDF points (x1, y1, x2, y2); the default is a 120-point square near the lower right.
    """
    if level not in LEVELS:
        raise SealingError(f"unknown PAdES level {level!r}")
    if level != "B-B" and timestamp is None:
        raise SealingError(f"{level} needs a timestamp authority")
    writer = open_for_update(pdf)
    reader = writer.prev
    pages = page_count(reader)
    if not 0 <= page < pages:
        raise SealingError(f"page {page + 1} does not exist (the document has {pages})")
    name = field_name or _next_field_name(reader)
    if box is None:
        box = _default_box(reader, page, taken=_boxes_on_page(reader, page))
    if level == "B-LT":
        _check_signer(key.chain, trust_roots=trust_roots, crls=crls)
    meta = signers.PdfSignatureMetadata(
        field_name=name, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None, location=location or None, use_pades_lta=False)
    bridge = _Bridge()
    bridged_key = SealingKey(sign=bridge.wrap(key.sign), chain=key.chain)
    timestamper = InProcessTimeStamper(bridge.wrap(timestamp)) \
        if timestamp and level != "B-B" else None
    pdf_signer = signers.PdfSigner(
        meta, VaultSigner(bridged_key), timestamper=timestamper,
        stamp_style=stamp_style(stamp_png, stamp_text) if stamp_png else None,
        new_field_spec=fields.SigFieldSpec(name, on_page=page, box=box))
    # The CMS size is known (chain, attributes, a 72-byte signature, and for B-T/B-LT a
    # timestamp token), so pyHanko's dry run is skipped: it builds the whole CMS a second
    # time and asks the TSA for a dummy token. The reservation counts hexadecimal digits,
    # two per byte.
    reserved = 2 * (sum(len(der) for der in key.chain) + 2048
                    + (_token_allowance() if timestamper is not None else 0))
    try:
        out, sig_contents = bridge.run(lambda: _sign(
            pdf_signer, writer, reserved=reserved, text=stamp_text))
        if level == "B-LT":
            assert timestamper is not None
            out = _add_validation_data(out, sig_contents, chain=key.chain,
                                       tokens=timestamper.tokens, trust_roots=trust_roots,
                                       crls=crls)
    except SealingError:
        raise
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        logger.info("sealing failed", exc_info=True)
        raise SealingError(f"sealing failed: {exc}") from exc
    return out, name


async def _sign(pdf_signer: signers.PdfSigner, writer: IncrementalPdfFileWriter, *,
                reserved: int, text: str) -> tuple[bytes, bytes]:
    """pyHanko's ``async_sign_pdf`` without the pre-signing validation (B-LT's validation
    data is added by :func:`_add_validation_data` from what we hold) and without the dry
    run: (the signed PDF, the signature's /Contents with its padding)."""
    session = pdf_signer.init_signing_session(writer)
    tbs = session.prepare_tbs_document(validation_info=None, bytes_reserved=reserved,
                                       appearance_text_params={"text": text})
    digest, output = tbs.digest_tbs_document()
    signed = await tbs.perform_signature(
        document_digest=digest.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(signing_time=session.system_time))
    await signed.post_signature_processing(output)
    output.seek(0)
    return output.read(), bytes(signed.sig_contents)


# The largest timestamp token seen in this process: the reservation for the next one.
_TOKEN_SIZE = {"max": 0}


def _token_allowance() -> int:
    return max(8192, 2 * _TOKEN_SIZE["max"])


@lru_cache(maxsize=16)
def _crl(der: bytes) -> asn1_crl.CertificateList:
    return asn1_crl.CertificateList.load(der)


def _check_signer(chain: Sequence[bytes], *, trust_roots: Sequence[bytes],
                  crls: Sequence[bytes]) -> None:
    """What pyHanko's pre-signing validation refused before embedding validation data: a
    seal certificate out of its validity period, revoked on the given CRLs, or (when trust
    roots are given) not issued under one of them. The chain is our own, from the trust
    app, so the full path validation is not run again for every signature."""
    leaf = _certificate(bytes(chain[0]))
    now = timezone.now()
    if not leaf.not_valid_before <= now <= leaf.not_valid_after:
        raise SealingError("the seal certificate is outside its validity period")
    if trust_roots and bytes(chain[-1]) not in {bytes(der) for der in trust_roots}:
        raise SealingError("the seal certificate does not chain to a trusted root")
    issuer = leaf.issuer.dump()
    for der in crls:
        cert_list = _crl(bytes(der))
        if cert_list.issuer.dump() != issuer:
            continue
        for entry in cert_list["tbs_cert_list"]["revoked_certificates"]:
            if entry["user_certificate"].native == leaf.serial_number:
                raise SealingError("the seal certificate is revoked")


def _add_validation_data(pdf: bytes, sig_contents: bytes, *, chain: Sequence[bytes],
                         tokens: Sequence[cms.ContentInfo], trust_roots: Sequence[bytes],
                         crls: Sequence[bytes]) -> bytes:
    """B-LT: the validation data — the seal's chain, the TSA's certificates (and the root
    that issued them) and the CRLs — into the document security store, with a VRI entry
    for the signature, as an incremental update after it (what pyHanko's post-signing step
    writes from its validation paths, without validating the paths once more)."""
    certs = [_certificate(bytes(der)) for der in chain]
    for token in tokens:
        for choice in token["content"]["certificates"] or ():
            if choice.name == "certificate":
                certs.append(_certificate(choice.chosen.dump()))
    issuers = {cert.issuer.dump() for cert in certs}
    for der in trust_roots:
        root = _certificate(bytes(der))
        if root.subject.dump() in issuers:
            certs.append(root)
    unique = list({cert.dump(): cert for cert in certs}.values())
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=True)
    DocumentSecurityStore.supply_dss_in_writer(
        writer, sig_contents, certs=unique, crls=[_crl(bytes(der)) for der in crls])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _boxes_on_page(reader: PdfFileReader, page: int) -> list[tuple[float, ...]]:
    boxes = []
    annots = _page(reader, page).get("/Annots", [])
    for annot in annots.get_object() if annots else []:
        annot = annot.get_object()
        if annot.get("/FT") == "/Sig" or annot.get("/Subtype") == "/Widget":
            boxes.append(tuple(float(v) for v in annot.get("/Rect", [])))
    return boxes


def _page(reader: PdfFileReader, page: int) -> Any:
    return reader.find_page_for_modification(page)[0].get_object()


def _default_box(reader: PdfFileReader, page: int, *, taken: list[tuple[float, ...]]
                 ) -> tuple[int, int, int, int]:
    """A 120-point square near the lower right, moved left for each seal already there."""
    mediabox = [float(v) for v in _page(reader, page).get("/MediaBox", [0, 0, 595, 842])]
    right, bottom = mediabox[2] - 40, mediabox[1] + 60
    size = 120
    x2 = int(right - len(taken) * (size + 10))
    if x2 - size < mediabox[0]:
        x2 = int(right)
    return (x2 - size, int(bottom), x2, int(bottom) + size)

