"""The QR drawn on a licence PDF reads back as the licence's ``YW1:`` text."""

from __future__ import annotations

import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from yiwang.support.licences import rendering

SCALE = 4
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def _raster(text: str) -> Image.Image:
    """Paint the runs as the PDF path would (y from the bottom), SCALE pixels a module."""
    n, runs = rendering.qr_runs(text)
    image = Image.new("L", (n * SCALE, n * SCALE), 255)
    for left, bottom, width in runs:
        top = n - 1 - bottom  # PDF's y grows upwards, the image's downwards
        image.paste(0, (left * SCALE, top * SCALE, (left + width) * SCALE, (top + 1) * SCALE))
    return image


def test_a_licence_sized_qr_reads_back() -> None:
    text = "YW1:" + ("6BFOXN*TSMAHN6H4LGB8O3W9+QH$G$NBG" * 13)
    found = zxingcpp.read_barcode(_raster(text))
    assert found is not None and found.text == text
    assert found.ec_level == "M"


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet=ALPHANUMERIC, min_size=1, max_size=600))
def test_any_base45_text_reads_back(text: str) -> None:
    found = zxingcpp.read_barcode(_raster(text))
    assert found is not None and found.text == text


def test_the_quiet_zone_is_two_modules() -> None:
    n, runs = rendering.qr_runs("YW1:ABC")
    assert min(left for left, _, _ in runs) == 2
    assert max(left + width for left, _, width in runs) == n - 2
    assert {bottom for _, bottom, _ in runs} == set(range(2, n - 2))
