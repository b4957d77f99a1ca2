"""The visible stamp of a seal: the seal picture behind two lines of Chinese text, with a
CJK font cut down once to the characters a stamp can show (HarfBuzz shaping through
pyHanko's OpenType engine) and the picture compressed once per seal."""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from fontTools import subset, ttLib
from PIL import Image
from pyhanko.pdf_utils import generic, images
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.stamp import TextStampStyle

_STAMP_TEXT_CHARS = "0123456789-:+ ./()UTC电子印章签章时间验证"

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
