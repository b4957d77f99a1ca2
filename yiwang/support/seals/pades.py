"""PAdES sealing and validation on pyHanko, with the key kept in the vault.

No Django models here: :func:`seal` takes a :class:`SealingKey` (a ``sign`` callable that
reaches the key vault, and the certificate chain), a timestamp callable (yiwang's own RFC 3161
TSA, in-process) and the CRLs and trust roots to embed; :func:`validate` takes the trust
roots and current CRLs and returns one :class:`SignatureReport` per signature, each check
named. ``service.py`` wires both to the keys and trust apps.

Levels (ETSI EN 319 142-1):

- ``B-B``: CMS signature with the signing certificate attribute, ``/SubFilter
  /ETSI.CAdES.detached``;
- ``B-T``: plus a signature timestamp (unsigned attribute) from the TSA;
- ``B-LT``: plus the validation data — every certificate of the signer's and the TSA's paths
  and the CRLs — in the document security store (DSS), so that it validates offline.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import queue
import threading
import zlib
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from fontTools import subset, ttLib
from PIL import Image
from pyhanko.pdf_utils import generic, images
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.attributes import SigningCertificateV2Provider
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.signers import pdf_cms
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

logger = logging.getLogger(__name__)


class _NoFetchingNotice(logging.Filter):
    """pyHanko warns on every B-LT seal that it will not fetch revocation data: that is the
    point (we hand it our CRLs), so the warning says nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "fetching is not allowed" not in record.getMessage()


logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(_NoFetchingNotice())

LEVELS = ("B-B", "B-T", "B-LT")
# An ECDSA P-256 DER signature is at most 72 bytes; pyHanko sizes /Contents with a dry run.
_DRY_RUN_SIGNATURE = bytes(72)
# Seal certificates carry digitalSignature and nonRepudiation; either is accepted.
KEY_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"},
                                match_all_key_usages=False)
_STAMP_TEXT_CHARS = "0123456789-:+ ./()UTC电子印章签章时间验证"


class SealingError(Exception):
    """The document could not be sealed (malformed PDF, unusable key or TSA)."""


class MalformedPdf(SealingError):
    """The bytes are not a PDF pyHanko can read."""


@dataclass(frozen=True)
class SealingKey:
    """What signing needs: ``sign(data) -> DER ECDSA signature`` (the vault hashes) and the
    certificate chain, DER, leaf first, ending at the root."""

    sign: Callable[[bytes], bytes]
    chain: Sequence[bytes]


Timestamp = Callable[..., bytes]  # (message_imprint, *, hash_algorithm, nonce) -> DER token


@lru_cache(maxsize=256)
def _certificate(der: bytes) -> asn1_x509.Certificate:
    """Parsed once: asn1crypto parses lazily and pyHanko walks the whole certificate each
    time it builds a CMS, so a fresh object per signature costs more than the signature."""
    return asn1_x509.Certificate.load(der)


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
        nonce = int.from_bytes(hashlib.sha256(message_digest).digest()[:8], "big")
        token = self._timestamp(message_digest, hash_algorithm=md_algorithm, nonce=nonce)
        _TOKEN_SIZE["max"] = max(_TOKEN_SIZE["max"], len(token))
        parsed = cms.ContentInfo.load(token)
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


# --- the visible stamp -------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _font_face() -> bytes:
    """The first face of the configured font (a .ttc collection holds several)."""
    font = ttLib.TTFont(str(settings.YIWANG_SEAL_FONT), fontNumber=0, lazy=False)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@lru_cache(maxsize=64)
def _subset_font(chars: frozenset[str]) -> bytes:
    """The font cut down to ``chars`` (about 10 KB instead of 10 MB), cached: loading and
    subsetting the whole CJK font on every signature would cost more than signing."""
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["BDF", "EBDT", "EBLC", "EBSC", "FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(chars)))
    font = ttLib.TTFont(io.BytesIO(_font_face()))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


class _PresubsetGlyphAccumulator(GlyphAccumulator):
    """pyHanko's OpenType font engine (HarfBuzz shaping, CID-keyed Type 0 font) for a font
    that is already cut down to what the stamp can show: embedded as it is, instead of
    subsetting and recompiling it with fontTools on every signature (most of the cost of a
    B-B seal otherwise)."""

    def __init__(self, writer: Any, *, font_bytes: bytes, compressed: bytes, font_size: int,
                 obj_stream: Any = None) -> None:
        super().__init__(writer=writer, font_handle=io.BytesIO(font_bytes),
                         font_size=font_size, obj_stream=obj_stream)
        descriptor = self.cidfont_obj._font_descriptor

        def set_font_file(target: Any) -> Any:
            stream = generic.StreamObject(
                {generic.pdf_name("/Filter"): generic.pdf_name("/FlateDecode"),
                 generic.pdf_name("/Length1"): generic.NumberObject(len(font_bytes))},
                encoded_data=compressed)
            ref = target.add_object(stream)
            descriptor[generic.pdf_name("/FontFile2")] = ref
            return ref

        self.cidfont_obj.set_font_file = set_font_file  # type: ignore[method-assign,assignment]

    def _extract_subset(self, options: Any = None) -> None:
        return None  # the glyph ids of the embedded font are those shaped with


@dataclass(frozen=True)
class _SubsetFontFactory(GlyphAccumulatorFactory):
    """Hands pyHanko a :class:`_PresubsetGlyphAccumulator` (pyHanko itself only opens paths
    of single-face fonts, and would subset again)."""

    font_bytes: bytes = b""
    compressed: bytes = b""

    def create_font_engine(self, writer: Any, obj_stream: Any = None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()
        return _PresubsetGlyphAccumulator(writer, font_bytes=self.font_bytes,
                                          compressed=self.compressed,
                                          font_size=self.font_size, obj_stream=obj_stream)


@lru_cache(maxsize=64)
def _compressed(data: bytes) -> bytes:
    return zlib.compress(data)


@lru_cache(maxsize=64)
def _stamp_image(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGBA")


@lru_cache(maxsize=64)
def _image_streams(png: bytes) -> tuple[int, int, bytes, bytes]:
    """(width, height, Flate-compressed RGB samples, Flate-compressed alpha samples) of the
    seal picture: what pyHanko's ``pil_image`` writes, compressed once per picture instead
    of on every signature (a 480-pixel square, most of the cost of a B-B seal otherwise)."""
    image = _stamp_image(png)
    alpha = image.split()[-1]
    return (image.width, image.height, zlib.compress(image.convert("RGB").tobytes()),
            zlib.compress(alpha.tobytes()))


class _StampImage(images.PdfImage):
    """The seal picture as an image XObject with a soft mask, written from the streams
    :func:`_image_streams` compressed once (the same objects ``pil_image`` would write)."""

    def __init__(self, png: bytes) -> None:
        super().__init__(_stamp_image(png))
        self._png = png

    @property
    def image_ref(self) -> generic.IndirectObject:
        assert self.writer is not None
        ref = self._image_ref
        if ref is None or ref.get_pdf_handler() is not self.writer:
            width, height, rgb, alpha = _image_streams(self._png)

            def stream(data: bytes, colour_space: str,
                       mask: generic.IndirectObject | None = None) -> generic.StreamObject:
                entries = {
                    generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
                    generic.pdf_name("/Subtype"): generic.pdf_name("/Image"),
                    generic.pdf_name("/Width"): generic.NumberObject(width),
                    generic.pdf_name("/Height"): generic.NumberObject(height),
                    generic.pdf_name("/ColorSpace"): generic.pdf_name(colour_space),
                    generic.pdf_name("/BitsPerComponent"): generic.NumberObject(8),
                    generic.pdf_name("/Filter"): generic.pdf_name("/FlateDecode")}
                if mask is not None:
                    entries[generic.pdf_name("/SMask")] = mask
                return generic.StreamObject(entries, encoded_data=data)

            mask = self.writer.add_object(stream(alpha, "/DeviceGray"))
            ref = self._image_ref = self.writer.add_object(stream(rgb, "/DeviceRGB", mask))
        return ref


def stamp_style(stamp_png: bytes, text: str) -> TextStampStyle:
    """The visible appearance: the seal picture behind two lines of Chinese text."""
    chars = frozenset(text) | frozenset(_STAMP_TEXT_CHARS)
    font_bytes = _subset_font(chars)
    font = _SubsetFontFactory(font_file="", font_size=9, font_bytes=font_bytes,
                              compressed=_compressed(font_bytes))
    return TextStampStyle(
        stamp_text="%(text)s\n签章时间 %(ts)s", timestamp_format="%Y-%m-%d %H:%M:%S %Z",
        text_box_style=TextBoxStyle(font=font), background=_StampImage(stamp_png),
        background_opacity=1.0, border_width=0,
    )


# --- sealing -----------------------------------------------------------------------------------

def read_pdf(pdf: bytes) -> PdfFileReader:
    """Parse ``pdf`` (strict), raising :class:`MalformedPdf` with the reason."""
    if not pdf.startswith(b"%PDF-"):
        raise MalformedPdf("not a PDF (it does not start with %PDF-)")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=True)
        if reader.encrypted:
            raise MalformedPdf("encrypted PDFs are not accepted")
        reader.root["/Pages"]
        return reader
    except MalformedPdf:
        raise
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError,
            AssertionError, RecursionError) as exc:
        raise MalformedPdf(f"the PDF cannot be read: {exc}") from exc


def open_for_update(pdf: bytes) -> IncrementalPdfFileWriter:
    """An incremental writer over ``pdf`` (strict), its reader checked as :func:`read_pdf`
    checks: the document is parsed once for both."""
    if not pdf.startswith(b"%PDF-"):
        raise MalformedPdf("not a PDF (it does not start with %PDF-)")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=True)
        if writer.prev.encrypted:
            raise MalformedPdf("encrypted PDFs are not accepted")
        writer.prev.root["/Pages"]
        return writer
    except MalformedPdf:
        raise
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError,
            AssertionError, RecursionError) as exc:
        raise MalformedPdf(f"the PDF cannot be read: {exc}") from exc


def _next_field_name(reader: PdfFileReader) -> str:
    taken = {name for name, *_ in fields.enumerate_sig_fields(reader)}
    n = 1
    while f"Seal{n}" in taken:
        n += 1
    return f"Seal{n}"


def page_count(reader: PdfFileReader) -> int:
    return int(reader.root["/Pages"]["/Count"])


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


# --- validation --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One named check of a signature: ``ok`` and a message a person can read."""

    name: str
    ok: bool
    message: str


@dataclass
class SignatureReport:
    """What :func:`validate` found about one signature."""

    field_name: str
    signer: str = ""
    signer_organisation: str = ""
    certificate_serial: str = ""  # hex
    certificate_sha256: str = ""
    issuer: str = ""
    signing_time: datetime | None = None  # claimed by the signer
    timestamp_time: datetime | None = None  # vouched for by a TSA
    level: str = ""  # B-B, B-T, B-LT
    coverage: str = ""  # whole | revision | partial | unclear
    revision: int = 0
    checks: list[Check] = field(default_factory=list)
    seal_code: str = ""  # filled in by service.py when the certificate is one of our seals
    seal_name: str = ""

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


_COVERAGE = {
    SignatureCoverageLevel.ENTIRE_FILE: "whole",
    SignatureCoverageLevel.ENTIRE_REVISION: "revision",
    SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START: "partial",
    SignatureCoverageLevel.UNCLEAR: "unclear",
}


def _name(cert: asn1_x509.Certificate) -> tuple[str, str]:
    native = cert.subject.native
    return str(native.get("common_name", "")), str(native.get("organization_name", ""))


def _revoked_serials(crls: Sequence[Any]) -> dict[tuple[bytes, int], datetime]:
    """(issuer name DER, serial) → revocation date, from every CRL given."""
    from asn1crypto import crl as asn1_crl

    revoked: dict[tuple[bytes, int], datetime] = {}
    for item in crls:
        try:
            cert_list = item if isinstance(item, asn1_crl.CertificateList) else \
                asn1_crl.CertificateList.load(item)
            issuer = cert_list.issuer.dump()
            for entry in cert_list["tbs_cert_list"]["revoked_certificates"]:
                revoked[(issuer, entry["user_certificate"].native)] = \
                    entry["revocation_date"].native
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning("unreadable CRL ignored: %s", exc)
    return revoked


def validate(pdf: bytes, *, trust_roots: Sequence[bytes], crls: Sequence[bytes] = ()
             ) -> list[SignatureReport]:
    """Validate every signature of ``pdf`` against ``trust_roots`` (DER) and the current
    ``crls`` (DER) plus whatever validation data the document embeds. No fetching.

    Raises :class:`MalformedPdf` when ``pdf`` cannot be read."""
    reader = read_pdf(pdf)
    try:
        embedded = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise MalformedPdf(f"the signatures cannot be read: {exc}") from exc
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except (PdfError, ValueError, KeyError, TypeError, AttributeError):
        dss = None
    roots = [asn1_x509.Certificate.load(der) for der in trust_roots]
    revoked = _revoked_serials([*_dss_crls(dss), *crls])
    reports = []
    last = len(embedded) - 1
    size = len(pdf.rstrip(b"\r\n\t \x00"))
    for position, signature in enumerate(embedded):
        kwargs: dict[str, Any] = {"trust_roots": roots, "crls": list(crls),
                                  "allow_fetching": False, "revocation_mode": "soft-fail"}
        context = dss.as_validation_context(kwargs) if dss is not None else \
            ValidationContext(**kwargs)
        reports.append(_validate_one(signature, context, revoked, dss,
                                     is_last=position == last, size=size))
    return reports


def _dss_crls(dss: DocumentSecurityStore | None) -> list[bytes]:
    if dss is None:
        return []
    found = []
    for ref in dss.crls:
        try:
            found.append(bytes(ref.get_object().data))
        except (PdfError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return found


def _validate_one(signature: Any, context: ValidationContext,
                  revoked: dict[tuple[bytes, int], datetime], dss: Any, *, is_last: bool,
                  size: int) -> SignatureReport:
    report = SignatureReport(field_name=str(signature.field_name))
    checks = report.checks
    try:
        cert = signature.signer_cert
        report.signer, report.signer_organisation = _name(cert)
        report.certificate_serial = format(cert.serial_number, "x")
        report.certificate_sha256 = hashlib.sha256(cert.dump()).hexdigest()
        report.issuer = _name_of(cert.issuer)
        report.signing_time = signature.self_reported_timestamp
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        checks.append(Check("malformed", False,
                            _("签名数据无法解析：%(reason)s") % {"reason": exc}))
        return report
    try:
        status: PdfSignatureStatus = validate_pdf_signature(
            signature, signer_validation_context=context, ts_validation_context=context,
            key_usage_settings=KEY_USAGE)
    except Exception as exc:
        checks.append(Check("malformed", False, _("签名无法验证：%(reason)s") % {
            "reason": type(exc).__name__}))
        return report
    report.coverage = _COVERAGE.get(status.coverage, "unclear")  # type: ignore[arg-type]
    report.level = _level(signature, status, dss)
    if status.timestamp_validity is not None:
        report.timestamp_time = status.timestamp_validity.timestamp

    # 1. Integrity: the signed bytes hash to what was signed, and the signature verifies.
    if status.intact and status.valid:
        checks.append(Check("integrity", True, _("文件内容与签名一致，签名值正确。")))
    elif not status.intact:
        checks.append(Check("integrity", False, _("签名后文件内容被改动（摘要不一致）。")))
    else:
        checks.append(Check("integrity", False, _("签名值与签章证书的公钥不符。")))

    # 2. Coverage and what changed after signing. pyHanko overlooks bytes after the last
    # %%EOF that are not a revision; they are not signed either.
    level = status.modification_level
    if not _ends_signed(signature, size) and not _later_revisions(signature):
        report.coverage = "partial"
        checks.append(Check("coverage", False, _("签名未覆盖整个文件（文件末尾有未签名的数据）。")))
    elif status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        checks.append(Check("coverage", True, _("签名覆盖整个文件。")))
    elif status.coverage == SignatureCoverageLevel.ENTIRE_REVISION:
        from pyhanko.sign.diff_analysis import ModificationLevel

        allowed = ModificationLevel.LTA_UPDATES if is_last else ModificationLevel.FORM_FILLING
        if level is not None and level <= allowed and status.docmdp_ok is not False:
            checks.append(Check("coverage", True, _("签名覆盖其所在版本；其后只追加了验证数据。")
                                if level <= ModificationLevel.LTA_UPDATES
                                else _("签名覆盖其所在版本；其后只追加了其他签章。")))
        else:
            checks.append(Check("coverage", False,
                                _("签名后文件被追加了未经签名的修改（签名未覆盖整个文件）。")))
    else:
        checks.append(Check("coverage", False, _("签名未覆盖整个文件。")))

    # 3. Chain to a trusted root, validity period and revocation.
    revoked_at = revoked.get((cert.issuer.dump(), cert.serial_number))
    ind = status.trust_problem_indic
    ind_name = getattr(ind, "name", "") if ind is not None else ""
    if status.revoked or revoked_at is not None or "REVOKED" in ind_name:
        checks.append(Check("revocation", False, _("签章证书已被吊销（吊销时间 %(when)s）。")
                            % {"when": f"{revoked_at:%Y-%m-%d %H:%M}"} if revoked_at
                            else _("签章证书已被吊销。")))
    elif "EXPIRED" in ind_name or "NOT_YET_VALID" in ind_name or _expired(cert, status):
        checks.append(Check("validity", False,
                            _("签章证书不在有效期内（有效期 %(start)s 至 %(end)s）。") % {
                                "start": f"{cert.not_valid_before:%Y-%m-%d}",
                                "end": f"{cert.not_valid_after:%Y-%m-%d}"}))
    elif not status.trusted:
        checks.append(Check("trust", False,
                            _("签章证书不是由受信任的根证书签发的（签发者：%(issuer)s）。")
                            % {"issuer": report.issuer or "?"}))
    else:
        checks.append(Check("trust", True, _("证书链可追溯到受信任的根证书（%(issuer)s）。") % {
            "issuer": report.issuer}))
        checks.append(Check("revocation", True, _("签章证书未被吊销。")))

    # 4. The timestamp, when there is one.
    ts = status.timestamp_validity
    if ts is not None:
        if ts.intact and ts.valid and ts.trusted:
            checks.append(Check("timestamp", True,
                                _("时间戳有效，签章时间 %(time)s。") % {
                                    "time": f"{ts.timestamp:%Y-%m-%d %H:%M:%S %Z}"}))
        else:
            checks.append(Check("timestamp", False,
                                _("时间戳无效或不是受信任的时间戳机构签发的。")))
    return report


def _later_revisions(signature: Any) -> bool:
    try:
        return bool(signature.reader.xrefs.total_revisions - 1 > signature.signed_revision)
    except (AttributeError, TypeError, ValueError):
        return False


def _ends_signed(signature: Any, size: int) -> bool:
    """Whether the signed byte range reaches the end of the file (trailing whitespace
    aside, which some tools append)."""
    try:
        _a, _b, c, d = (int(v) for v in signature.sig_object["/ByteRange"])
    except (KeyError, TypeError, ValueError):
        return False
    return c + d >= size


def _expired(cert: asn1_x509.Certificate, status: PdfSignatureStatus) -> bool:
    moment = status.validation_time
    if moment is None:
        return False
    return not (cert.not_valid_before <= moment <= cert.not_valid_after)


def _name_of(name: asn1_x509.Name) -> str:
    native = name.native
    return str(native.get("common_name") or native.get("organization_name") or "")


def _level(signature: Any, status: PdfSignatureStatus, dss: Any) -> str:
    """B-B, B-T or B-LT as far as the document shows: a signature timestamp makes B-T;
    embedded validation data covering the signer's certificate makes B-LT."""
    if status.timestamp_validity is None:
        return "B-B"
    if dss is not None and dss.crls and signature.signer_cert.dump() in {
            c.dump() for c in dss.load_certs()}:
        return "B-LT"
    return "B-T"
