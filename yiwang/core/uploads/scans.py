"""The page images of a scanned PDF (扫描件): a scanner or a phone app writes one picture per
page, which OCR can read like a photo. Extracted with pypdf alone (no poppler, no rendering):
the largest image drawn on each page is taken as the page. A page without an image (a PDF
made from a word processor, with its text as text) is refused with a message that says so.
"""

from __future__ import annotations

import io
import logging
import struct
import warnings
import zlib
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

#: A page image smaller than this (pixels) is a logo or a stamp, not a scan of the page.
MIN_SCAN_PIXELS = 200_000
#: Larger ones are refused before decoding (a decompression bomb, or a 1200 dpi poster).
MAX_SCAN_PIXELS = 40_000_000


def _malformed() -> ValidationError:
    return ValidationError(_("PDF 文件已损坏或结构不规范，无法读取其中的扫描图像。"
                             "请重新扫描或改为上传照片。"), code="pdf_malformed")


def _no_image(number: int) -> ValidationError:
    return ValidationError(
        _("PDF 第 %(page)d 页不是扫描件（没有整页图像），无法识别其中的文字。"
          "请上传证件的照片，或扫描后生成的 PDF。") % {"page": number},
        code="pdf_no_image")


def _image_xobjects(page: Any) -> list[tuple[int, Any]]:
    """``(pixels, name)`` of the images the page draws directly, largest first."""
    from pypdf.generic import DictionaryObject

    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else None
    xobjects = resources.get("/XObject") if isinstance(resources, DictionaryObject) else None
    xobjects = xobjects.get_object() if xobjects is not None else None
    if not isinstance(xobjects, DictionaryObject):
        return []
    found = []
    for name, reference in xobjects.items():
        obj = reference.get_object()
        if isinstance(obj, DictionaryObject) and obj.get("/Subtype") == "/Image":
            found.append((int(obj.get("/Width", 0)) * int(obj.get("/Height", 0)), name))
    return sorted(found, key=lambda item: -item[0])


def page_images(content: bytes, *, max_pages: int = 1) -> list[Any]:
    """The scanned image of each of the first ``max_pages`` pages, as Pillow images.

    Raises ``ValidationError`` (a Chinese message a person can act on) when the PDF cannot
    be read, is encrypted, or a page holds no image large enough to be a scan of it.
    Call it on a PDF that went through :func:`accept_upload` (sanitised, not active)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(content), strict=False)
            if reader.is_encrypted:
                raise ValidationError(_("PDF 文件已加密，无法读取。请去除密码后上传。"),
                                      code="pdf_encrypted")
            images = []
            for number, page in enumerate(reader.pages[:max(1, max_pages)], start=1):
                candidates = _image_xobjects(page)
                if not candidates or candidates[0][0] < MIN_SCAN_PIXELS:
                    raise _no_image(number)
                pixels, name = candidates[0]
                if pixels > MAX_SCAN_PIXELS:
                    raise ValidationError(_("PDF 第 %(page)d 页的图像过大，无法识别。"
                                            "请以 300 dpi 以下重新扫描。") % {"page": number},
                                          code="pdf_image_too_large")
                picture = page.images[name].image
                if picture is None:
                    raise _no_image(number)
                width, height = picture.size  # the declared size may lie: check what came
                if width * height > MAX_SCAN_PIXELS:
                    raise ValidationError(_("PDF 第 %(page)d 页的图像过大，无法识别。"
                                            "请以 300 dpi 以下重新扫描。") % {"page": number},
                                          code="pdf_image_too_large")
                picture.load()
                images.append(picture)
    except ValidationError:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            AssertionError, RecursionError, MemoryError, struct.error, zlib.error,
            UnicodeError, NotImplementedError):  # PyPdfError: LimitReachedError, ParseError…
        raise _malformed() from None
    except Exception:  # a new pypdf exception must not become a 500: refuse the file
        logger.exception("uploads.page_images: unexpected error reading a PDF")
        raise _malformed() from None
    return images
