"""The face of a licence (照面), from its type's layout: as rows for the HTML view and as a
PDF drawn with reportlab, the Chinese font embedded (subset) and the QR code on it.

The layout (``LicenceType.layout``) names the title, a subtitle, an accent colour and the
fields to show in order; both renderings read it, so the page and the PDF show the same.
The seal is placed by the sealing service in :data:`SEAL_BOX` (PDF points, page 1).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import zxingcpp
from reportlab import rl_config
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from yiwang.core.masking.service import mask_address, mask_id_number, mask_name, mask_text

_DARK_RUN = re.compile(rb"\x00+")
FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
FONT = "WenQuanYiZenHei"
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 48.0
# Where the issuing department's seal goes (x1, y1, x2, y2 in points from the bottom left),
# over the issuer's name and date as on a paper licence.
SEAL_BOX = (PAGE_WIDTH / 2 - 10, 70.0, PAGE_WIDTH / 2 + 110, 190.0)
QR_SIZE = 150.0


@dataclass(frozen=True)
class FaceRow:
    key: str
    label: str
    label_en: str
    value: str
    personal: bool

    @property
    def name(self) -> str:  # for the ``local_name`` template filter
        return self.label

    @property
    def name_en(self) -> str:
        return self.label_en


@cache
def _font() -> str:
    # Binary (Flate only) streams: ASCII85 on top makes them 25 % larger, and reportlab's
    # pure-Python ASCII85 encoder was a third of the time of a page.
    rl_config.useA85 = 0
    font = TTFont(FONT, FONT_PATH, subfontIndex=0)
    # reportlab cuts the font down to a page's characters on every PDF, copying each table
    # it reads out of the whole file first — the CJK glyph table alone is megabytes, some
    # 4 ms a page. A table's bytes never change: each is copied once per process.
    font.face.get_table = cache(font.face.get_table)
    pdfmetrics.registerFont(font)
    return FONT


def mask_value(field: dict[str, Any], value: str) -> str:
    """A personal field's value masked for lists and pages (the format decides how)."""
    if not value:
        return value
    fmt = field.get("format", "")
    if fmt == "id_number":
        return mask_id_number(value)
    key = field["key"]
    if "name" in key or key in {"owner", "legal_representative"}:
        return mask_name(value)
    if key in {"location", "address", "birthplace"}:
        return mask_address(value)
    masked = mask_text(value)
    return masked if masked != value else value[:1] + "*" * max(len(value) - 1, 0)


def face(layout: dict[str, Any], schema: dict[str, Any], values: dict[str, Any], *,
         masked: bool = False, only: set[str] | None = None) -> list[FaceRow]:
    """The rows to show, in the layout's order; ``masked`` hides personal values; ``only``
    keeps just those keys (what a holder chose to disclose)."""
    by_key = {f["key"]: f for f in schema.get("fields", [])}
    rows = []
    for key in layout.get("rows") or list(by_key):
        field = by_key.get(key)
        if field is None or (only is not None and key not in only):
            continue
        value = "" if values.get(key) is None else str(values[key])
        personal = bool(field.get("personal"))
        if masked and personal:
            value = mask_value(field, value)
        rows.append(FaceRow(key, field.get("label", key), field.get("label_en", key), value,
                            personal))
    return rows


def _wrap(text: str, width: float, size: float) -> list[str]:
    lines, line = [], ""
    for char in text:
        if pdfmetrics.stringWidth(line + char, FONT, size) > width:
            lines.append(line)
            line = char
        else:
            line += char
    return [*lines, line] if line or not lines else lines


def qr_runs(text: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The QR symbol of ``text`` (error correction M) as runs of dark modules: the side
    ``n`` in modules with a quiet zone of two, and ``(x, y, width)`` for each run, in module
    units from the bottom left (PDF's orientation)."""
    symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = memoryview(symbol.to_image(scale=1, add_quiet_zones=False))  # type: ignore[arg-type]
    count, width = image.shape or (0, 0)  # one byte per module, 0 = dark
    pixels = image.tobytes()
    n = count + 4
    runs: list[tuple[int, int, int]] = []
    for r in range(count):
        row = pixels[r * width:(r + 1) * width]
        runs.extend((m.start() + 2, n - r - 3, m.end() - m.start())
                    for m in _DARK_RUN.finditer(row))
    return n, runs


def draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """Draw ``text`` as a QR code (error correction M) in a ``size`` square at (x, y): one
    path of rectangles, one per run of dark modules, written in module units under a scaling
    transform — small, and quick to make (formatting thousands of coordinates one call at a
    time took longer than the rest of the page).

    The symbol comes from zxing-cpp (C++; its encoder picks the best of the eight masks in
    about 1.4 ms, where segno took 8 ms with one fixed mask and 35 ms choosing): a fifth of
    a licence's issuance time went into the QR before (ADR 0018)."""
    n, runs = qr_runs(text)
    module = size / n
    path = "\n".join(f"{left} {bottom} {w} 1 re" for left, bottom, w in runs)
    canvas.saveState()
    canvas.setFillColor(HexColor("#000000"))
    canvas.translate(x, y)
    canvas.scale(module, module)
    canvas.addLiteral(path + "\nf")
    canvas.restoreState()


def render_pdf(*, layout: dict[str, Any], schema: dict[str, Any], values: dict[str, Any],
               identifier: str, issuer_name: str, issued_on: str, valid_until: str,
               qr_text: str, title: str = "") -> bytes:
    """The licence as a one-page A4 PDF (unsealed); deterministic for the same input."""
    font = _font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True, pageCompression=1)
    canvas.setTitle(title or layout.get("title", ""))
    canvas.setAuthor(issuer_name)
    canvas.setSubject(identifier)
    colour = HexColor(layout.get("colour") or "#9b1c1c")
    # Frame
    canvas.setStrokeColor(colour)
    canvas.setLineWidth(3)
    canvas.rect(MARGIN / 2, MARGIN / 2, PAGE_WIDTH - MARGIN, PAGE_HEIGHT - MARGIN)
    canvas.setLineWidth(0.8)
    canvas.rect(MARGIN / 2 + 6, MARGIN / 2 + 6, PAGE_WIDTH - MARGIN - 12,
                PAGE_HEIGHT - MARGIN - 12)
    # Title
    y = PAGE_HEIGHT - MARGIN - 50
    canvas.setFillColor(colour)
    canvas.setFont(font, 30)
    canvas.drawCentredString(PAGE_WIDTH / 2, y, layout.get("title", ""))
    if layout.get("subtitle"):
        canvas.setFont(font, 13)
        canvas.drawCentredString(PAGE_WIDTH / 2, y - 24, layout["subtitle"])
    canvas.setFont(font, 11)
    canvas.drawCentredString(PAGE_WIDTH / 2, y - 42, layout.get("title_en", ""))
    canvas.setFillColor(HexColor("#222222"))
    canvas.setFont(font, 8.5)
    canvas.drawString(MARGIN + 4, y - 66, f"证照标识 {identifier}")
    # Fields
    y -= 100
    label_x, value_x = MARGIN + 20, MARGIN + 150
    value_width = PAGE_WIDTH - value_x - MARGIN - 10
    for row in face(layout, schema, values):
        canvas.setFillColor(colour)
        canvas.setFont(font, 12)
        canvas.drawString(label_x, y, row.label)
        canvas.setFillColor(HexColor("#111111"))
        for line in _wrap(row.value, value_width, 12):
            canvas.drawString(value_x, y, line)
            y -= 17
        y -= 9
    # Validity, issuer, date
    canvas.setFont(font, 12)
    canvas.setFillColor(HexColor("#111111"))
    canvas.drawString(label_x, 250, f"有效期至  {valid_until or '长期'}")
    canvas.drawString(PAGE_WIDTH / 2, 160, f"颁发机构  {issuer_name}")
    canvas.drawString(PAGE_WIDTH / 2, 138, f"颁证日期  {issued_on}")
    # QR code
    draw_qr(canvas, qr_text, MARGIN + 10, 60, QR_SIZE)
    canvas.setFont(font, 8)
    canvas.drawString(MARGIN + 14, 52, "扫码核验 Scan to verify")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
