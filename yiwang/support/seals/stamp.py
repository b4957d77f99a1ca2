"""The seal's picture (印模): a round red seal drawn by our own code.

The layout follows the common shape of Chinese official seals (GA 241 / 国务院国发〔1999〕25号
describe it for physical seals): a red ring, the organisation's name along the upper arc
reading clockwise, a five-pointed star in the centre, and the seal's purpose (e.g.
行政审批专用章) on a straight line below the star. The picture is only the visible mark; what
makes a sealed PDF trustworthy is its PAdES signature, never the picture.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

RED = (230, 0, 18, 255)
SIZE = 480  # pixels; drawn once per seal and stored


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(settings.YIWANG_SEAL_FONT), size=size, index=0)


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, outer: float) -> None:
    inner = outer * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = math.radians(-90 + i * 36)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=RED)


def _arc_text(image: Image.Image, text: str, *, radius: float, font_size: int,
              span_degrees: float) -> None:
    """Draw ``text`` along the upper arc, each character upright towards the centre."""
    if not text:
        return
    font = _font(font_size)
    centre = SIZE / 2
    count = len(text)
    step = span_degrees / max(count - 1, 1) if count > 1 else 0.0
    start = -90 - span_degrees / 2 if count > 1 else -90.0
    for i, char in enumerate(text):
        angle = start + i * step
        tile = Image.new("RGBA", (font_size * 2, font_size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((font_size, font_size), char, font=font, fill=RED,
                                  anchor="mm")
        # At -90° (the top) a character stands upright; elsewhere its top points outwards.
        tile = tile.rotate(-(angle + 90), resample=Image.Resampling.BICUBIC, expand=True)
        x = centre + radius * math.cos(math.radians(angle)) - tile.width / 2
        y = centre + radius * math.sin(math.radians(angle)) - tile.height / 2
        image.alpha_composite(tile, (round(x), round(y)))


def render_stamp(organisation: str, purpose: str = "") -> bytes:
    """The seal picture as PNG bytes: ``organisation`` along the arc, a star, ``purpose``
    (专用章 wording, may be empty for a 公章) below it. Transparent background."""
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    ring = SIZE * 0.035
    draw.ellipse((ring / 2, ring / 2, SIZE - ring / 2, SIZE - ring / 2), outline=RED,
                 width=round(ring))
    count = max(len(organisation), 1)
    # Longer names get a wider arc and smaller characters, as engravers do.
    span = min(240.0, 100.0 + 12.0 * count)
    font_size = max(26, min(60, round(SIZE * math.pi * span / 360 * 0.8 / count)))
    _arc_text(image, organisation, radius=SIZE / 2 - ring - font_size * 0.75,
              font_size=font_size, span_degrees=span)
    _star(draw, SIZE / 2, SIZE / 2, SIZE * 0.16)
    if purpose:
        size = max(22, min(44, round(SIZE * 0.62 / max(len(purpose), 1))))
        draw.text((SIZE / 2, SIZE * 0.74), purpose, font=_font(size), fill=RED, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
