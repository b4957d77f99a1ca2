"""Public facade of the identifiers app (标识): resident ID numbers and unified credit codes.

* Resident ID numbers (居民身份证号码), GB 11643-1999: validate, parse, generate.
* Unified social credit codes (统一社会信用代码), GB 32100-2015: validate, parse, generate.

Validation raises :class:`InvalidIdentifier`, whose ``part`` names the failing part of the
value and whose ``message`` is a translatable Chinese sentence for the person who typed it.
Form fields and Django validators live in ``fields.py``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, cast

from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "ORG_TYPES",
    "PROVINCES",
    "SYNTHETIC_SEQUENCES",
    "CreditCode",
    "IdNumber",
    "InvalidIdentifier",
    "Sex",
    "generate_credit_code",
    "generate_id_number",
    "generate_synthetic_id_number",
    "is_valid_credit_code",
    "is_valid_id_number",
    "validate_credit_code",
    "validate_id_number",
]

# Province-level prefixes of GB/T 2260 administrative division codes. 83 is not in GB/T 2260
# but is the address code of residence permits for Taiwan residents (港澳台居民居住证, 2018),
# which follow GB 11643 like the 81/82 permits of Hong Kong and Macao residents.
PROVINCES: Final[dict[str, str]] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
    "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省",
    "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
    "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区", "83": "台湾居民居住证",
}
# Credit codes of bodies registered by a national authority carry the code 100000 (全国).
_CREDIT_REGION_PREFIXES: Final = frozenset(PROVINCES) | {"10"}


class InvalidIdentifier(ValueError):
    """A resident ID number or credit code failed validation.

    ``part`` names what failed (``length``, ``characters``, ``region``, ``birth_date``,
    ``sequence``, ``check`` for ID numbers; ``authority``, ``org_type``, ``org_code`` too for
    credit codes). ``message`` is lazy: it is translated when shown. ``template`` and
    ``params`` are the untranslated pieces, for Django's ``ValidationError``.
    """

    def __init__(self, part: str, template: StrPromise, params: dict[str, Any] | None = None):
        self.part = part
        self.template = template
        self.params = dict(params or {})
        self.message = _interpolate(template, self.params) if self.params else template
        super().__init__(self.message)


def _format(template: StrPromise, params: dict[str, Any]) -> str:
    return str(template) % params


_lazy_format = lazy(_format, str)


def _interpolate(template: StrPromise, params: dict[str, Any]) -> StrPromise:
    # Stays lazy, so the message is translated into the language active when it is shown.
    return cast("StrPromise", _lazy_format(template, params))


def _normalise(value: object, kind: StrPromise) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier("characters", _("%(kind)s必须是文本"), {"kind": kind})
    text = value.strip()
    # Full-width digits and letters (０-９, Ａ-Ｚ) come from Chinese input methods; the
    # standards allow only half-width characters, so say so instead of "invalid character".
    if any(0xFF01 <= ord(ch) <= 0xFF5E or ch == "\u3000" for ch in text):
        raise InvalidIdentifier(
            "characters", _("%(kind)s含有全角字符，请使用半角数字和字母"), {"kind": kind}
        )
    return text


# --- Resident ID numbers (居民身份证号码), GB 11643-1999 ---------------------------------

_ID_KIND = _("身份证号码")
_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK: Final = "10X98765432"  # ISO 7064 MOD 11-2: check character by (sum mod 11)
_EARLIEST_BIRTH: Final = date(1900, 1, 1)

# Sequence codes the demo uses for every number it makes up (see generate_synthetic_...).
SYNTHETIC_SEQUENCES: Final = range(900, 1000)


class Sex(StrEnum):
    """Sex as encoded by the parity of the sequence code (顺序码): odd male, even female."""

    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True)
class IdNumber:
    """A validated resident ID number and its parts."""

    value: str  # normalised: 18 characters, upper-case X
    region_code: str  # 地址码, GB/T 2260
    birth_date: date
    sex: Sex
    sequence: int  # 顺序码, 1..999

    def __str__(self) -> str:
        return self.value


def _id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def validate_id_number(value: object, *, today: date | None = None) -> IdNumber:
    """Validate a resident ID number (GB 11643-1999) and return its parts.

    Surrounding whitespace is ignored and a lower-case ``x`` is accepted; the returned
    ``value`` is normalised. ``today`` (default: today in the project time zone) bounds the
    birth date. Raises :class:`InvalidIdentifier` naming the first failing part, checked in
    the order length, characters, region, birth date, sequence, check character.
    """
    text = _normalise(value, _ID_KIND).upper()
    if len(text) != 18:
        raise InvalidIdentifier(
            "length", _("身份证号码应为 18 位，实际为 %(length)d 位"), {"length": len(text)}
        )
    if not (text[:17].isascii() and text[:17].isdigit()
            and (text[17] == "X" or (text[17].isascii() and text[17].isdigit()))):
        raise InvalidIdentifier(
            "characters", _("身份证号码前 17 位应为数字，最后一位应为数字或 X")
        )
    region = text[:6]
    if region[:2] not in PROVINCES:
        raise InvalidIdentifier(
            "region", _("地址码无效：%(code)s 不属于任何省级行政区"), {"code": region}
        )
    raw_date = text[6:14]
    try:
        birth = date(int(raw_date[:4]), int(raw_date[4:6]), int(raw_date[6:8]))
    except ValueError:
        raise InvalidIdentifier(
            "birth_date", _("出生日期无效：%(date)s 不是真实日期"), {"date": raw_date}
        ) from None
    if birth < _EARLIEST_BIRTH:
        raise InvalidIdentifier(
            "birth_date", _("出生日期无效：%(date)s 早于 1900 年"), {"date": raw_date}
        )
    if birth > (today or timezone.localdate()):
        raise InvalidIdentifier(
            "birth_date", _("出生日期无效：%(date)s 晚于今天"), {"date": raw_date}
        )
    sequence = int(text[14:17])
    if sequence == 0:
        # Sequence codes are assigned from 001; 000 is never issued.
        raise InvalidIdentifier("sequence", _("顺序码无效：000 不是已分配的顺序码"))
    expected = _id_check_char(text[:17])
    if text[17] != expected:
        raise InvalidIdentifier("check", _("校验位错误：应为 %(expected)s"),
                                {"expected": expected})
    return IdNumber(
        value=text,
        region_code=region,
        birth_date=birth,
        sex=Sex.MALE if sequence % 2 else Sex.FEMALE,
        sequence=sequence,
    )


def is_valid_id_number(value: object, *, today: date | None = None) -> bool:
    """Whether ``value`` is a valid resident ID number (see :func:`validate_id_number`)."""
    try:
        validate_id_number(value, today=today)
    except InvalidIdentifier:
        return False
    return True


def _check_region_code(region_code: str, prefixes: frozenset[str] | dict[str, str]) -> None:
    if not (len(region_code) == 6 and region_code.isascii() and region_code.isdigit()
            and region_code[:2] in prefixes):
        raise ValueError(f"region_code must be a 6-digit GB/T 2260 code, got {region_code!r}")


def generate_id_number(
    region_code: str,
    birth_date: date,
    sex: Sex | str,
    sequence: int | None = None,
    rng: random.Random | None = None,
) -> str:
    """Make a valid resident ID number from its parts.

    ``sequence`` (1..999) must have the parity of ``sex``; when omitted one is drawn from
    ``rng`` (default: the system's random source). Raises ``ValueError`` on bad parts.
    """
    _check_region_code(region_code, PROVINCES)
    sex = Sex(sex)
    if birth_date < _EARLIEST_BIRTH:
        raise ValueError("birth_date must be in 1900 or later")
    if sequence is None:
        rng = rng or random.SystemRandom()
        sequence = rng.randrange(1 if sex is Sex.MALE else 2, 1000, 2)
    if not 1 <= sequence <= 999:
        raise ValueError(f"sequence must be in 1..999, got {sequence}")
    if (sequence % 2 == 1) != (sex is Sex.MALE):
        raise ValueError(f"sequence {sequence} does not encode sex {sex.value}")
    first17 = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + _id_check_char(first17)


def generate_synthetic_id_number(rng: random.Random, region_code: str = "110101") -> str:
    """Make an obviously made-up, valid ID number for demonstration data.

    The demo reserves the sequence codes 900–999 (:data:`SYNTHETIC_SEQUENCES`) for the
    numbers it invents, so a reader of demo data can tell them from numbers typed in by
    people. Real numbers may use these sequence codes too: the convention marks demo data,
    it does not prove that a number belongs to nobody. Birth dates fall in 1940–2005.
    """
    birth = date(1940, 1, 1) + timedelta(days=rng.randrange((date(2005, 12, 31)
                                                             - date(1940, 1, 1)).days + 1))
    sequence = rng.choice(SYNTHETIC_SEQUENCES)
    return generate_id_number(region_code, birth, Sex.MALE if sequence % 2 else Sex.FEMALE,
                              sequence)


# --- Unified social credit codes (统一社会信用代码), GB 32100-2015 -----------------------

_CREDIT_KIND = _("统一社会信用代码")
# The 31 characters of GB 32100: digits and upper-case letters without I, O, Z, S, V.
CREDIT_CODE_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUE: Final = {c: i for i, c in enumerate(CREDIT_CODE_ALPHABET)}
_CREDIT_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))  # 1 3 9 27 19 26 ... 28
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)

# Registration authority (登记管理部门, position 1) -> organisation types (机构类别,
# position 2) it may issue, per GB 32100-2015 appendix A and its later amendments.
ORG_TYPES: Final[dict[str, dict[str, str]]] = {
    "1": {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体",
          "9": "其他"},  # 机构编制
    "2": {"1": "外国常驻新闻机构", "9": "其他"},  # 外交
    "3": {"1": "律师执业机构", "2": "公证处", "3": "基层法律服务所", "4": "司法鉴定机构",
          "5": "仲裁委员会", "9": "其他"},  # 司法行政
    "4": {"1": "外国在华文化中心", "9": "其他"},  # 文化
    "5": {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"},  # 民政
    "6": {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构",
          "9": "其他"},  # 旅游
    "7": {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"},  # 宗教
    "8": {"1": "基层工会", "9": "其他"},  # 工会
    "9": {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"},  # 工商 (市场监管)
    "A": {"1": "军队事业单位", "9": "其他"},  # 中央军委改革和编制办公室
    "N": {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织",
          "9": "其他"},  # 农业
    "Y": {"1": "其他"},  # 其他登记管理部门
}


@dataclass(frozen=True)
class CreditCode:
    """A validated unified social credit code and its parts."""

    value: str
    authority: str  # 登记管理部门代码
    org_type: str  # 机构类别代码
    region_code: str  # 登记管理机关行政区划码
    org_code: str  # 主体标识码 (组织机构代码, GB 11714), 9 characters

    def __str__(self) -> str:
        return self.value


def _credit_check_char(first17: str) -> str:
    total = sum(_CREDIT_VALUE[c] * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def _org_check_char(first8: str) -> str:
    # GB 11714: digits count as themselves, letters A..Z as 10..35.
    total = sum(int(c, 36) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    return {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))


def validate_credit_code(value: object) -> CreditCode:
    """Validate a unified social credit code (GB 32100-2015) and return its parts.

    Surrounding whitespace is ignored and letters are upper-cased. Raises
    :class:`InvalidIdentifier` naming the first failing part, checked in the order length,
    characters, authority, org_type, region, org_code, check. The final check character is
    always enforced. The GB 11714 check digit of the organisation code (position 17) is
    enforced only when the code has GB 11714 form (see the comment in the code).
    """
    text = _normalise(value, _CREDIT_KIND).upper()
    if len(text) != 18:
        raise InvalidIdentifier(
            "length", _("统一社会信用代码应为 18 位，实际为 %(length)d 位"), {"length": len(text)}
        )
    bad = sorted({c for c in text if c not in _CREDIT_VALUE})
    if bad:
        raise InvalidIdentifier(
            "characters",
            _("统一社会信用代码含有不允许的字符：%(chars)s"
              "（只用数字和除 I、O、Z、S、V 以外的大写字母）"),
            {"chars": "".join(bad)},
        )
    authority, org_type, region, org_code = text[0], text[1], text[2:8], text[8:17]
    if authority not in ORG_TYPES:
        raise InvalidIdentifier(
            "authority", _("登记管理部门代码无效：%(code)s"), {"code": authority}
        )
    if org_type not in ORG_TYPES[authority]:
        raise InvalidIdentifier(
            "org_type", _("机构类别代码无效：登记管理部门 %(authority)s 下没有类别 %(code)s"),
            {"authority": authority, "code": org_type},
        )
    if not region.isdigit() or region[:2] not in _CREDIT_REGION_PREFIXES:
        raise InvalidIdentifier(
            "region", _("登记管理机关行政区划码无效：%(code)s"), {"code": region}
        )
    # The 主体标识码 is meant to be a GB 11714 organisation code whose 9th character is its
    # MOD 11 check digit (0-9 or X). Some registration authorities have issued identifiers
    # here that are not GB 11714 codes, ending in another letter; their check digit cannot
    # be computed, so it is enforced only when position 17 is a digit or X. The final MOD 31
    # check character still protects every position against typing errors.
    if org_code[8] == "X" or org_code[8].isdigit():
        expected_org = _org_check_char(org_code[:8])
        if org_code[8] != expected_org:
            raise InvalidIdentifier(
                "org_code", _("组织机构代码校验位错误：应为 %(expected)s"),
                {"expected": expected_org},
            )
    expected = _credit_check_char(text[:17])
    if text[17] != expected:
        raise InvalidIdentifier("check", _("校验位错误：应为 %(expected)s"),
                                {"expected": expected})
    return CreditCode(value=text, authority=authority, org_type=org_type, region_code=region,
                      org_code=org_code)


def is_valid_credit_code(value: object) -> bool:
    """Whether ``value`` is a valid unified social credit code."""
    try:
        validate_credit_code(value)
    except InvalidIdentifier:
        return False
    return True


def generate_credit_code(
    region_code: str, authority: str = "9", org_type: str = "1", rng: random.Random | None = None
) -> str:
    """Make a valid unified social credit code with a random organisation code.

    The organisation code satisfies its GB 11714 check digit and the whole code its GB 32100
    check character. Raises ``ValueError`` for an unknown authority, type or region.
    """
    _check_region_code(region_code, _CREDIT_REGION_PREFIXES)
    if org_type not in ORG_TYPES.get(authority, {}):
        raise ValueError(f"authority {authority!r} has no organisation type {org_type!r}")
    rng = rng or random.SystemRandom()
    body = "".join(rng.choice(CREDIT_CODE_ALPHABET) for _ in range(8))
    first17 = f"{authority}{org_type}{region_code}{body}{_org_check_char(body)}"
    return first17 + _credit_check_char(first17)

