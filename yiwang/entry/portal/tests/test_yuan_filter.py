"""Amounts are kept in fen (分) and shown to people in yuan with two decimals."""

from __future__ import annotations

import pytest

from yiwang.entry.portal.templatetags.yiwang_ui import yuan


@pytest.mark.parametrize(("fen", "shown"), [
    (1250, "12.50"), (5, "0.05"), (0, "0.00"), (100000000, "1000000.00"), (-250, "-2.50"),
    ("2550", "25.50"), (None, "—"), ("", "—"), ("abc", "abc")])
def test_fen_are_shown_as_yuan(fen: object, shown: str) -> None:
    assert yuan(fen) == shown
