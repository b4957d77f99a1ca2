"""Division codes (行政区划代码): the 12-digit statistical code and its structure.

The 12 digits are province 2 + city 2 + county 2 (GB/T 2260) + street/township 3 +
community/village 3 (the statistical division code used below county level), e.g.
``330106001002``. A region's level is the last non-zero segment; its structural parent is
the code truncated at the nearest level above that gives a different code. Cities without
counties (东莞, 中山) thus have their streets directly below the city:
``441900003000`` → ``441900000000``.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

CODE_LENGTH = 12
GRID_CODE_LENGTH = 15
_CODE_RE = re.compile(r"^\d{12}$")
_GRID_CODE_RE = re.compile(r"^\d{15}$")


class Level(models.TextChoices):
    """Levels of the administrative tree, top-down."""

    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    DISTRICT = "district", _("区县")
    STREET = "street", _("街道")
    COMMUNITY = "community", _("社区")


LEVELS: tuple[Level, ...] = (Level.PROVINCE, Level.CITY, Level.DISTRICT, Level.STREET,
                             Level.COMMUNITY)
# How many leading digits identify a region of each level.
PREFIX_LENGTH: dict[str, int] = {
    Level.PROVINCE: 2, Level.CITY: 4, Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12,
}
_SEGMENTS = ((0, 2), (2, 4), (4, 6), (6, 9), (9, 12))


def check_code(code: object) -> str:
    """Return ``code`` if it is a well-formed 12-digit division code, else raise."""
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise ValidationError(
            gettext("区划代码须为12位数字：%(code)s"), code="invalid_code", params={"code": code}
        )
    if code[:2] == "00":
        raise ValidationError(
            gettext("区划代码的省级部分不能为00：%(code)s"), code="invalid_code",
            params={"code": code},
        )
    return code


def is_code(value: object) -> bool:
    """Whether ``value`` looks like a 12-digit code (no structural checks)."""
    return isinstance(value, str) and bool(_CODE_RE.match(value))


def normalize_code(code: object) -> str:
    """Accept a 12-digit code, or a 2/4/6/9-digit prefix padded with zeros (``330106`` →
    ``330106000000``); raise ValidationError otherwise."""
    if isinstance(code, str) and code.isascii() and code.isdigit() and len(code) in (2, 4, 6, 9):
        code = code.ljust(CODE_LENGTH, "0")
    return check_code(code)


def level_of(code: str) -> Level:
    """The level a (well-formed) code denotes: its last non-zero segment."""
    check_code(code)
    level = Level.PROVINCE
    for lvl, (start, end) in zip(LEVELS, _SEGMENTS, strict=True):
        if code[start:end].strip("0"):
            level = lvl
    return level


def truncate(code: str, level: str) -> str:
    """The code of the ``level`` region that contains ``code``'s region."""
    return code[: PREFIX_LENGTH[level]].ljust(CODE_LENGTH, "0")


def prefix(code: str) -> str:
    """The significant leading digits of a region: every region and grid below it shares
    them."""
    return code[: PREFIX_LENGTH[level_of(code)]]


def structural_parent(code: str) -> str | None:
    """The code of the region directly above ``code`` (None for a province)."""
    level = level_of(code)
    for lvl in reversed(LEVELS[: LEVELS.index(level)]):
        candidate = truncate(code, lvl)
        if candidate != code:
            return candidate
    return None


def check_grid_code(code: object) -> str:
    """Return ``code`` if it is a community code followed by a 3-digit grid number."""
    if not isinstance(code, str) or not _GRID_CODE_RE.match(code):
        raise ValidationError(
            gettext("网格编码须为15位数字（社区代码12位 + 网格序号3位）：%(code)s"),
            code="invalid_code", params={"code": code},
        )
    if code[12:] == "000":
        raise ValidationError(
            gettext("网格序号不能为000：%(code)s"), code="invalid_code", params={"code": code}
        )
    community = code[:12]
    check_code(community)
    if level_of(community) != Level.COMMUNITY:
        raise ValidationError(
            gettext("网格编码的前12位须为社区级区划代码：%(code)s"), code="invalid_code",
            params={"code": code},
        )
    return code


def validate_code(value: str) -> None:
    """Model field validator for region codes."""
    check_code(value)


def validate_grid_code(value: str) -> None:
    """Model field validator for grid codes."""
    check_grid_code(value)
