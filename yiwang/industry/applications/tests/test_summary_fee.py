"""The application summary shows the fee in yuan with two decimals (kept in fen)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string


@pytest.mark.parametrize(("fen", "shown"), [
    (1250, "¥12.50"), (2550, "¥25.50"), (5, "¥0.05"), (90, "¥0.90"), (100, "¥1.00"),
    (100_000_000, "¥1000000.00"),
])
def test_the_fee_is_shown_in_yuan_with_two_decimals(fen: int, shown: str) -> None:
    application = SimpleNamespace(number="YW-1", matter_name="测试事项", state="submitted",
                                  get_state_display="已提交", fee_fen=fen, fee_paid_at=None,
                                  fee_notice_no="")
    html = render_to_string("applications/_summary.html",
                            {"application": application, "zone": "public"})
    fee = html.split('data-testid="fee">', 1)[1].split("</dd>", 1)[0].strip()
    assert fee == shown
    assert "分" not in html
