"""Type sniffing and sanitising of uploaded files (images re-encoded, PDFs inspected).

Nothing here trusts the file name or the browser's content type: the type is read from the
magic bytes, and a file must then parse completely as that type. What goes to storage is
what we produced (re-encoded images) or what we inspected object by object (PDFs).
"""

from __future__ import annotations

import io
import logging
import re
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"
EXTENSIONS = {JPEG: ".jpg", PNG: ".png", PDF: ".pdf"}
LABELS = {JPEG: "JPEG", PNG: "PNG", PDF: "PDF"}


class UploadRejected(ValidationError):
    """An upload refused; the message tells the person what to do."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message, code=code)


@dataclass(frozen=True)
class Limits:
    max_pixels: int
    max_pdf_pages: int
    max_pdf_objects: int
    jpeg_quality: int
    # Longest side of a stored image: bigger photos are decoded reduced (JPEG) or scaled down
    # before re-encoding, which bounds the work and memory of each upload (review M5).
    max_side: int = 4096


@dataclass(frozen=True)
class Sanitised:
    content: bytes
    content_type: str


# --- sniffing ------------------------------------------------------------------------------

_MARKUP = re.compile(rb"<\s*(script|html|svg|body|iframe|object|embed|\?xml|!doctype|\?php)",
                     re.IGNORECASE)
# Markup that makes an image a polyglot. Not <?xml: photos carry XMP metadata packets.
_ACTIVE_MARKUP = re.compile(rb"<\s*(script|html|svg|body|iframe|object|embed|\?php)",
                            re.IGNORECASE)


def sniff(head: bytes) -> str:
    """The type of a file from its first bytes: one of JPEG, PNG, PDF, or ``""``."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    # Readers accept a PDF header anywhere in the first KiB; we accept it only at the start,
    # so that nothing else (an HTML page, an image) can sit in front of a PDF.
    if head.startswith(b"%PDF-"):
        return PDF
    return ""


def _describe(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:512]
    if _MARKUP.search(text) or text.startswith(b"<"):
        return _("这是网页或 SVG 等标记文件，不是图片或 PDF")
    if head.startswith((b"PK\x03\x04", b"Rar!", b"7z\xbc\xaf")):
        return _("这是压缩文件")
    if head.startswith((b"GIF8", b"BM", b"II*\x00", b"MM\x00*", b"RIFF")):
        return _("这种图片格式不受支持")
    if head[4:8] == b"ftyp":
        return _("这种图片格式（如 HEIC）不受支持，请在手机上导出为 JPEG")
    return _("无法识别文件类型")


def check_type(content: bytes, accept: tuple[str, ...]) -> str:
    """The sniffed type of ``content`` if ``accept`` allows it; raise otherwise."""
    kind = sniff(content[:16])
    allowed = "、".join(LABELS.get(a, a) for a in accept)
    if not kind:
        raise UploadRejected(
            _("%(problem)s。请上传 %(allowed)s 格式的文件。")
            % {"problem": _describe(content[:1024]), "allowed": allowed}, code="type")
    if kind not in accept:
        raise UploadRejected(
            _("不接受 %(kind)s 文件。请上传 %(allowed)s 格式的文件。")
            % {"kind": LABELS[kind], "allowed": allowed}, code="type")
    return kind


# --- images ----------------------------------------------------------------------------------


def _image_end(content: bytes, kind: str) -> int:
    """Where the image data ends (after JPEG's EOI or PNG's IEND chunk), or -1."""
    if kind == PNG:
        pos = 8
        while pos + 12 <= len(content):
            (length,) = struct.unpack(">I", content[pos:pos + 4])
            chunk = content[pos + 4:pos + 8]
            pos += 12 + length
            if chunk == b"IEND":
                return pos
        return -1
    end = content.rfind(b"\xff\xd9")
    return end + 2 if end >= 0 else -1


def _check_polyglot(content: bytes, kind: str) -> None:
    # A file that is an image to one reader and a PDF or a web page to another (polyglot) is
    # refused even though re-encoding would drop the rest: it shows intent, and the original
    # might be handed on before we re-encode it elsewhere.
    if b"%PDF-" in content:
        raise UploadRejected(_("图片中夹带了 PDF 内容，已拒收。请重新拍照或导出图片后上传。"),
                             code="polyglot")
    end = _image_end(content, kind)
    trailer = content[end:] if end > 0 else b""
    if _ACTIVE_MARKUP.search(content[:1024]) or (trailer and (
            _ACTIVE_MARKUP.search(trailer) or trailer.lstrip(b"\x00")[:4] == b"PK\x03\x04")):
        raise UploadRejected(_("图片中夹带了网页、脚本或压缩包内容，已拒收。"
                               "请重新拍照或导出图片后上传。"), code="polyglot")


def _decode_error(kind: str) -> UploadRejected:
    return UploadRejected(_("%(kind)s 图片已损坏或不完整，无法打开。请重新拍照或导出后上传。")
                          % {"kind": LABELS[kind]}, code="malformed")


def sanitise_image(content: bytes, kind: str, limits: Limits) -> Sanitised:
    """Decode an image (under the pixel limit), apply its EXIF orientation and re-encode it
    without any metadata (EXIF with GPS, ICC profiles, comments, text chunks)."""
    _check_polyglot(content, kind)
    fmt = "JPEG" if kind == JPEG else "PNG"
    # A PNG cannot be decoded reduced (a JPEG can, see below): one bigger than the largest
    # image we store is refused rather than decoded whole (review M5: a 40 Mpx PNG took
    # 2.4 s and 466 MB).
    max_pixels = limits.max_pixels if kind == JPEG else min(limits.max_pixels,
                                                            limits.max_side ** 2)
    too_big = UploadRejected(
        _("图片尺寸过大（超过 %(pixels)d 万像素）。请缩小后上传。")
        % {"pixels": max_pixels // 10_000}, code="too_large")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check uses a process-wide limit; ours is checked below from
            # the header, before any pixel is decoded, and its warning becomes an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Any = Image.open(io.BytesIO(content), formats=[fmt])
            width, height = image.size
            if width <= 0 or height <= 0:
                raise _decode_error(kind)
            if width * height > max_pixels:
                raise too_big
            if kind == JPEG and max(width, height) > limits.max_side:
                # libjpeg decodes at 1/2, 1/4 or 1/8 scale directly: never the full size.
                scale = next((s for s in (2, 4, 8) if max(width, height) <= limits.max_side * s),
                             8)
                image.draft(image.mode, (-(-width // scale), -(-height // scale)))
            image.load()
            image = ImageOps.exif_transpose(image)
            if max(image.size) > limits.max_side:
                image.thumbnail((limits.max_side, limits.max_side), Image.Resampling.BICUBIC,
                                reducing_gap=2.0)
            return Sanitised(_encode(image, kind, limits), kind)
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error,
            IndexError, TypeError, KeyError):
        raise _decode_error(kind) from None


def _encode(image: Any, kind: str, limits: Limits) -> bytes:
    out = io.BytesIO()
    if kind == JPEG:
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        clean = Image.new(image.mode, image.size)
        clean.paste(image)
        clean.save(out, "JPEG", quality=limits.jpeg_quality, optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA" if ("transparency" in image.info
                                             or "A" in image.mode) else "RGB")
        # A fresh image has an empty info dict: no text chunks, ICC profile or EXIF follow.
        clean = Image.new(image.mode, image.size)
        clean.paste(image)
        clean.save(out, "PNG", optimize=False)
    return out.getvalue()


# --- PDFs ---------------------------------------------------------------------------------------

# Names whose presence anywhere makes a PDF active content: scripts, actions run on opening
# or on events, launching programs, embedded files, forms posting data, rich media.
_FORBIDDEN_KEYS = {
    "/JavaScript": _("含有 JavaScript 脚本"),
    "/JS": _("含有 JavaScript 脚本"),
    "/Launch": _("含有启动外部程序的动作"),
    "/EmbeddedFiles": _("含有嵌入文件"),
    "/EmbeddedFile": _("含有嵌入文件"),
    "/AA": _("含有自动执行的动作"),
    "/XFA": _("含有 XFA 动态表单"),
    "/RichMedia": _("含有多媒体内容"),
    "/SubmitForm": _("含有提交数据的表单动作"),
    "/ImportData": _("含有导入数据的动作"),
    "/GoToE": _("含有打开嵌入文件的动作"),
}
_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToE",
                   "/GoToR", "/URI", "/Rendition", "/RichMediaExecute"}
# Keys whose value is an action (a dictionary, or for /Next an array of them). An action
# there is allowed only when it is /GoTo (a page of the same file): an allow-list, since a
# deny-list misses what it does not name (review 2026-11-27 session 2, M2).
_ACTION_KEYS = {"/A", "/OpenAction", "/Next", "/PA"}
_SAFE_ACTIONS = {"/GoTo"}


def _refuse_pdf(reason: str, code: str = "pdf_active") -> UploadRejected:
    return UploadRejected(
        _("PDF 文件%(reason)s，出于安全原因已拒收。请打印为普通 PDF 或扫描后上传。")
        % {"reason": reason}, code=code)


def _walk(value: Any, budget: list[int], depth: int = 0) -> None:
    """Look at one object's direct contents (indirect references are visited on their own)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

    budget[0] -= 1
    if budget[0] < 0:
        raise _refuse_pdf(_("结构过于复杂"), code="pdf_complex")
    if depth > 64:
        raise _refuse_pdf(_("结构嵌套过深"), code="pdf_complex")
    if isinstance(value, IndirectObject):
        return
    if isinstance(value, (DictionaryObject, StreamObject)):
        if _resolve(value.get("/Type")) == "/Action":
            _check_action(value)
        for key, item in value.items():
            if key in _FORBIDDEN_KEYS:
                raise _refuse_pdf(str(_FORBIDDEN_KEYS[key]))
            if key == "/S" and _resolve(item) in _ACTIVE_ACTIONS:
                # Viewers resolve an indirect /S (pdf.js Dict.get does): so must we.
                raise _refuse_pdf(_("含有 %(action)s 动作") % {"action": str(_resolve(item))[1:]})
            if key in _ACTION_KEYS:
                target = _resolve(item)
                for action in (target if isinstance(target, ArrayObject) else [target]):
                    if isinstance(_resolve(action), DictionaryObject):
                        _check_action(_resolve(action), opening=key == "/OpenAction")
            _walk(item, budget, depth + 1)
    elif isinstance(value, ArrayObject):
        for item in value:
            _walk(item, budget, depth + 1)


def _resolve(value: Any) -> Any:
    from pypdf.generic import IndirectObject

    return value.get_object() if isinstance(value, IndirectObject) else value


def _check_action(action: Any, *, opening: bool = False) -> None:
    """Refuse an action dictionary unless it is /GoTo. A dictionary without /S under /A is
    not an action (a structure element's attributes); an /OpenAction that is a destination
    (an array: go to page n) is not checked here."""
    kind = _resolve(action.get("/S"))
    if kind is None and _resolve(action.get("/Type")) != "/Action":
        return
    if kind not in _SAFE_ACTIONS or "/JS" in action:
        if opening:
            raise _refuse_pdf(_("打开时会自动执行动作"))
        raise _refuse_pdf(_("含有 %(action)s 动作") % {"action": str(kind)[1:][:40]})


def sanitise_pdf(content: bytes, limits: Limits) -> Sanitised:
    """Parse a PDF strictly and refuse it when encrypted, active or too long."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError
    from pypdf.generic import IndirectObject

    malformed = UploadRejected(_("PDF 文件已损坏或结构不规范，无法打开。"
                                 "请重新导出或打印为 PDF 后上传。"), code="malformed")
    if b"%%EOF" not in content[-1024:]:
        raise malformed
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(content), strict=True)
            if reader.is_encrypted:
                raise UploadRejected(_("PDF 文件已加密或设置了密码，无法检查。"
                                       "请去除密码后上传。"), code="pdf_encrypted")
            pages = len(reader.pages)
            if pages == 0:
                raise malformed
            if pages > limits.max_pdf_pages:
                raise UploadRejected(_("PDF 文件有 %(pages)d 页，超过了 %(limit)d 页的上限。"
                                       "请只上传需要的页面。")
                                     % {"pages": pages, "limit": limits.max_pdf_pages},
                                     code="pdf_pages")
            budget = [limits.max_pdf_objects * 20]
            _walk(reader.trailer, budget)
            numbers: set[tuple[int, int]] = set()
            for generation, entries in reader.xref.items():
                numbers.update((number, generation) for number in entries)
            numbers.update((number, 0) for number in reader.xref_objStm)
            if len(numbers) > limits.max_pdf_objects:
                raise _refuse_pdf(_("对象过多"), code="pdf_complex")
            for number, generation in sorted(numbers):
                obj = IndirectObject(number, generation, reader).get_object()
                _walk(obj, budget)
    except UploadRejected:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError,
            AttributeError, IndexError, AssertionError, RecursionError, struct.error,
            zlib.error, UnicodeError):
        # PyPdfError: the base of PdfReadError, PdfStreamError, LimitReachedError (arrays or
        # streams past pypdf's limits) and ParseError (review 2026-11-27 session 2, M11).
        raise malformed from None
    except MemoryError:
        raise _refuse_pdf(_("结构过于复杂"), code="pdf_complex") from None
    except Exception:
        # A new exception of a new pypdf must not become a 500: refuse the file, and log it.
        logger.exception("uploads: unexpected error while checking a PDF; refused")
        raise malformed from None
    return Sanitised(_without_tail(content), PDF)


def _without_tail(content: bytes) -> bytes:
    """``content`` up to its last ``%%EOF`` and end of line: what follows (up to 1 KiB is let
    through above) is read by no PDF reader, and could make the file an HTML page or a ZIP
    archive as well (a polyglot; review 2026-11-27 session 2, L1). Cut rather than rewritten
    with pypdf's writer, which would break the signatures of signed PDFs (电子证照) and change
    the bytes of every page."""
    end = content.rindex(b"%%EOF") + len(b"%%EOF")
    if content[end:end + 2] == b"\r\n":
        return content[:end + 2]
    return content[:end + 1] if content[end:end + 1] in (b"\n", b"\r") else content[:end]


def sanitise(content: bytes, accept: tuple[str, ...], limits: Limits) -> Sanitised:
    """Sniff, check and sanitise ``content``; raise :class:`UploadRejected` if refused."""
    if not content:
        raise UploadRejected(_("文件是空的。请重新选择文件。"), code="empty")
    kind = check_type(content, accept)
    if kind == PDF:
        return sanitise_pdf(content, limits)
    return sanitise_image(content, kind, limits)
