"""Public facade of the masking app (脱敏): personal data shown partly hidden.

Every ``mask_*`` function takes the full value and returns it with the identifying part
replaced by ``*``; they never raise for text input (an unrecognised value is hidden
entirely or largely, never shown in full). GB/T 35273-2020 (个人信息安全规范) asks for
de-identified display of personal information but prescribes no pattern; yiwang keeps what
a clerk needs to tell records apart and hides what identifies a person:

==================  =========================  =============================================
value               example                    kept
==================  =========================  =============================================
ID number (18)      ``110101********7777``     address code (6) and last 4: birth date and
                                               most of the sequence code are hidden
ID number (15, old) ``110101******777``        address code and last 3
mobile phone        ``138****5678``            carrier prefix (3) and last 4
name                ``张*``, ``欧**``          first character; Latin names: first letter
                    ``J*** S****``             of each word
address             ``北京市朝阳区****``       province, city and district (区/县/市/旗)
credit code         ``91350100********43``     authority, type, region and last 2
e-mail              ``z***@example.com``       first character and the domain
==================  =========================  =============================================

Unified social credit codes of enterprises are public (国家企业信用信息公示系统), so yiwang
shows them unmasked by default; :func:`mask_credit_code` exists for the codes of individual
businesses (个体工商户) where the holder's privacy may call for it.

:func:`mask_text` finds ID numbers and mobile numbers in free text (log lines, audit
details) and masks them.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from yiwang.core.identifiers.service import PROVINCES, is_valid_id_number

__all__ = [
    "mask_address",
    "mask_credit_code",
    "mask_email",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "mask_text",
]

STAR = "*"


def _stars(n: int) -> str:
    return STAR * max(n, 0)


def mask_id_number(value: str) -> str:
    """``110101199003077777`` → ``110101********7777``; 15-digit numbers keep 6 + last 3."""
    text = value.strip()
    if len(text) == 18:
        return text[:6] + _stars(8) + text[-4:]
    if len(text) == 15:
        return text[:6] + _stars(6) + text[-3:]
    if len(text) > 8:
        return text[:2] + _stars(len(text) - 4) + text[-2:]
    return _stars(len(text))


_COUNTRY_CODE = re.compile(r"^(?:\+|00)?86[\s-]?(?=1\d)")


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``, keeping a ``+86`` prefix and separators.

    Other numbers keep their first 3 and last 4 digits when they have at least 8, else their
    last 2 when they have 5 or more; separators are kept, every other digit is hidden.
    """
    text = value.strip()
    prefix = ""
    match = _COUNTRY_CODE.match(text)
    if match and sum(c.isdigit() for c in text[match.end():]) == 11:
        prefix, text = text[: match.end()], text[match.end():]
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    n = len(digits)
    if n >= 8:
        keep = set(digits[:3] + digits[-4:])
    elif n >= 5:
        keep = set(digits[-2:])
    else:
        keep = set()
    return prefix + "".join(c if (i in keep or not c.isalnum()) else STAR
                            for i, c in enumerate(text))


_NAME_SEPARATORS = frozenset(" ·•・.-'")


def mask_name(value: str) -> str:
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``, ``John Smith`` → ``J*** S****``.

    Chinese names keep only their first character (a compound surname is not kept whole:
    telling 欧阳 from 欧 would need a surname list and reveals more). Names with Latin
    letters keep the first letter of each word. Separators such as ``·`` are kept.
    """
    text = value.strip()
    if not text:
        return text
    if any(c.isascii() and c.isalpha() for c in text):
        out, start = [], True
        for c in text:
            if c in _NAME_SEPARATORS:
                out.append(c)
                start = True
            else:
                out.append(c if start else STAR)
                start = False
        return "".join(out)
    if len(text) == 1:
        return STAR
    return text[0] + "".join(c if c in _NAME_SEPARATORS else STAR for c in text[1:])


_PROVINCE = re.compile(
    r"(?:北京市|天津市|上海市|重庆市|[^省市区县路街号]{2,7}?(?:省|自治区|特别行政区))"
)
_CITY = re.compile(r"[^省市区县路街道号巷弄村]{1,9}?(?:市|自治州|地区|盟)")
_DISTRICT = re.compile(r"[^省路街道号巷弄村组]{1,9}?(?:区|县|市|旗)")


def mask_address(value: str) -> str:
    """``北京市朝阳区建国路88号`` → ``北京市朝阳区****``.

    Keeps the province, the city and the first district, county, county-level city or
    banner (区/县/市/旗) after them, and replaces the rest with ``****``. An address whose
    divisions cannot be recognised is hidden entirely.
    """
    text = value.strip()
    pos = 0
    for pattern in (_PROVINCE, _CITY, _DISTRICT):
        match = pattern.match(text, pos)
        if match:
            pos = match.end()
    if pos == 0:
        return "****" if text else text
    return text if pos == len(text) else text[:pos] + "****"


def mask_credit_code(value: str) -> str:
    """``91350100M000100Y43`` → ``91350100********43``. Not applied by default: see above."""
    text = value.strip()
    if len(text) == 18:
        return text[:8] + _stars(8) + text[-2:]
    return text[:2] + _stars(len(text) - 4) + text[-2:] if len(text) > 8 else _stars(len(text))


def mask_email(value: str) -> str:
    """``zhangsan@example.com`` → ``z***@example.com`` (the length of the name is hidden)."""
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if not at:
        return _stars(len(text))
    if not local:
        return "***" + at + domain
    return local[0] + "***" + at + domain


# --- Free text ----------------------------------------------------------------------------

_PROVINCE_CODES = frozenset(PROVINCES)
_ONE_DAY = timedelta(days=1)
_MMDD = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
# One pass over the text finds candidates; the callback confirms them. The structure (year,
# month, day) keeps order numbers and timestamps out; the identifiers app's validation of
# 18-character numbers (region, real birth date, sequence, check character) does the rest.
_PERSONAL = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    rf"(?P<id18>[1-8]\d{{5}}(?:18|19|20)\d\d{_MMDD}\d{{3}}[\dXx])"
    rf"|(?P<id15>[1-8]\d{{5}}\d\d{_MMDD}\d{{3}})"
    r"|(?P<cc>(?:\+|00)?86[ -]?)?(?P<mobile>1[3-9]\d(?P<sep>[ -]?)\d{4}(?P=sep)\d{4})"
    r")(?![0-9A-Za-z])"
)


def _replace(match: re.Match[str]) -> str:
    found = match.group(0)
    if (id18 := match.group("id18")) is not None:
        # Tomorrow in UTC is never before today in Asia/Shanghai (UTC+8), so a newborn's
        # number is masked (the birth-date bound errs towards masking); it is also much
        # cheaper than timezone.localdate() for every number found.
        today = timezone.now().date() + _ONE_DAY
        return mask_id_number(id18) if is_valid_id_number(id18, today=today) else found
    if (id15 := match.group("id15")) is not None:
        return mask_id_number(id15) if id15[:2] in _PROVINCE_CODES else found
    mobile, sep = match.group("mobile"), match.group("sep")
    masked = mobile[:3] + sep + "****" + sep + mobile[-4:]
    return (match.group("cc") or "") + masked


def mask_text(text: str) -> str:
    """Mask resident ID numbers and mainland mobile numbers found in free text.

    Finds 18-character ID numbers that ``identifiers.is_valid_id_number`` accepts (a
    known province, a real birth date, a valid check character), 15-digit (pre-1999) ID
    numbers with a plausible date, and mobile numbers (``1[3-9]`` and 9 more digits,
    optionally ``+86``-prefixed or split by spaces or hyphens), none of them inside a longer
    run of letters or digits. Everything else is left as it is, and the length of the text
    does not change. Runs on every log line, so it is one precompiled regular expression.
    """
    if len(text) < 11:
        return text
    return _PERSONAL.sub(_replace, text)
