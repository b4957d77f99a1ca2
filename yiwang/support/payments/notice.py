"""Non-tax payment notice numbers (非税收入缴款码): the 20 digits a payer quotes at any channel
— a bank counter, online banking, a QR code — to pay one order.

Layout (yiwang's, after the provincial non-tax systems' shape): the 6-digit division code of
the collecting region (GB/T 2260), the 2-digit year, an 11-digit serial, and a check digit by
the Damm algorithm over the first 19 digits, which catches every single wrong digit and every
swap of two neighbouring digits — the mistakes people make when they type a number read off
paper. (ISO/IEC 7064 MOD 11,10, the scheme of many Chinese codes, lets about 2 % of
neighbour swaps through.)
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

LENGTH = 20
_DIGITS = re.compile(r"\d{20}")


_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2), (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9), (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8), (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4), (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5), (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def check_digit(digits: str) -> str:
    """The Damm check digit of a string of digits (a totally anti-symmetric quasigroup of
    order 10: the digits followed by it reduce to 0)."""
    interim = 0
    for char in digits:
        interim = _DAMM[interim][int(char)]
    return str(interim)


def make_notice_number(region_code: str, year: int, serial: int) -> str:
    """The notice number of the ``serial``-th order of ``year`` in a region."""
    if not re.fullmatch(r"\d{6}", region_code[:6]):
        raise ValueError(f"not a division code: {region_code!r}")
    if not 0 <= serial < 10**11:
        raise ValueError("serial out of range")
    first19 = f"{region_code[:6]}{year % 100:02d}{serial:011d}"
    return first19 + check_digit(first19)


def validate_notice_number(value: object) -> str:
    """The notice number without spaces or dashes (as printed in groups of four), or a
    ValidationError saying what is wrong with it."""
    text = re.sub(r"[\s-]", "", str(value or ""))
    if not _DIGITS.fullmatch(text):
        raise ValidationError(_("缴款码应为 20 位数字，请核对缴款通知书。"), code="format")
    if check_digit(text[:19]) != text[19]:
        raise ValidationError(_("缴款码校验位不符，可能有数字输错，请核对。"), code="checksum")
    return text


def grouped(notice_number: str) -> str:
    """``1234 5678 …``: the number as printed for people."""
    return " ".join(notice_number[i:i + 4] for i in range(0, len(notice_number), 4))
