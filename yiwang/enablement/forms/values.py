"""Per-type checks of one value: the structural check (``coerce``, also for drafts) and the
format checks of a complete submission (``check``).

Both raise :class:`Bad` with a Chinese message that names the field by its label and says
what to type instead; ``Bad.sub`` names a part of the value (``region``, ``lng``) when the
message belongs beside that part.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_noop as _

from yiwang.core.identifiers import service as identifiers
from yiwang.enablement.forms import components as C
from yiwang.platform.regions import service as regions

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
# C0 control characters except tab, line feed and carriage return; plus DEL.
# A value checked against an editor's validate.pattern is at most this long: the patterns are
# kept to those without catastrophic backtracking (definition.is_safe_pattern), and this bounds
# what is left (review 2026-11-27 session 2, M4).
MAX_PATTERN_VALUE = 2_000
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LEVEL_ORDER = {level: i for i, level in enumerate(C.ADDRESS_LEVELS)}
MIN_YEAR, MAX_YEAR = 1900, 2200


# Regions fetched in one query for the submission being checked (see prefetch_regions).
_REGIONS: ContextVar[dict[str, Any] | None] = ContextVar("forms_regions", default=None)


@contextmanager
def prefetch_regions(codes: set[str]) -> Iterator[None]:
    """Look the regions ``codes`` up in one query for the checks run inside the block."""
    token = _REGIONS.set(regions.regions_by_code(c for c in codes if re.fullmatch(r"\d{12}", c)))
    try:
        yield
    finally:
        _REGIONS.reset(token)


def _get_region(code: str) -> Any:
    found = _REGIONS.get()
    if found is not None and code in found:
        return found[code]
    return regions.get_region(code)


class Bad(Exception):
    """A value failed a check; ``message`` is for the person, ``sub`` names a part."""

    def __init__(self, message: str, sub: str | None = None):
        super().__init__(message)
        self.message = message
        self.sub = sub


def english() -> bool:
    return (get_language() or "").startswith("en")


def label(comp: dict[str, Any]) -> str:
    """The component's label in the active language."""
    if english() and comp.get("label_en"):
        return str(comp["label_en"])
    return str(comp.get("label") or comp.get("key") or "")


def localised(comp_part: dict[str, Any], name: str) -> str:
    if english() and comp_part.get(f"{name}_en"):
        return str(comp_part[f"{name}_en"])
    return str(comp_part.get(name) or "")


def is_empty(value: Any) -> bool:
    if value is None or value == "" or value == [] or value == {}:
        return True
    if isinstance(value, dict) and set(value) <= {"region", "detail"}:
        return not value.get("region") and not value.get("detail")
    return False


def _msg(template: str, comp: dict[str, Any], **params: Any) -> str:
    # Templates are marked with _ (gettext_noop, for makemessages) and translated here.
    return gettext(template) % {"label": label(comp), **params}


def today() -> date:
    return timezone.localdate()


# --- structural checks (drafts too) ------------------------------------------------------

def _text(comp: dict[str, Any], value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Bad(_msg(_("“%(label)s”须为文字"), comp))
    text = str(value).strip() if isinstance(value, str) else str(value)
    if not text:
        return None
    limit = comp.get("validate", {}).get("max_length") or C.TEXT_LIMIT.get(comp["type"], 200)
    limit = min(limit, C.MAX_TEXT_LIMIT.get(comp["type"], 1000))
    if len(text) > limit:
        raise Bad(_msg(_("“%(label)s”最多 %(n)d 个字，现在 %(len)d 个字"), comp, n=limit,
                       len=len(text)))
    if CONTROL_RE.search(text) or (comp["type"] != "textarea" and ("\n" in text or "\r" in text)):
        raise Bad(_msg(_("“%(label)s”含有不可见的控制字符或换行，请删除后重新输入"), comp))
    return text


def _short(comp: dict[str, Any], value: Any, limit: int = 40) -> str | None:
    if not isinstance(value, str):
        raise Bad(_msg(_("“%(label)s”须为文字"), comp))
    text = value.strip()
    if not text:
        return None
    if len(text) > limit or CONTROL_RE.search(text) or "\n" in text:
        raise Bad(_msg(_("“%(label)s”的格式不对，请检查后重新输入"), comp))
    return text


def _number(comp: dict[str, Any], value: Any, *, sub: str | None = None) -> int | float | None:
    if isinstance(value, bool):
        raise Bad(_msg(_("“%(label)s”须为数字"), comp), sub)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if not text:
            return None
        if len(text) > 40 or not NUMBER_RE.match(text):
            raise Bad(_msg(_("“%(label)s”须为数字，例如 12 或 12.5"), comp), sub)
        try:
            number = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern excludes it
            raise Bad(_msg(_("“%(label)s”须为数字，例如 12 或 12.5"), comp), sub) from None
        value = int(number) if number == number.to_integral_value() and "." not in text \
            else float(number)
    if not isinstance(value, (int, float)):
        raise Bad(_msg(_("“%(label)s”须为数字"), comp), sub)
    if isinstance(value, float) and not math.isfinite(value):
        raise Bad(_msg(_("“%(label)s”须为有限的数字"), comp), sub)
    if abs(value) > C.MAX_NUMBER:
        raise Bad(_msg(_("“%(label)s”的数值过大"), comp), sub)
    return value


def _date(comp: dict[str, Any], value: Any) -> str | None:
    if not isinstance(value, str):
        raise Bad(_msg(_("“%(label)s”须为日期，格式如 2026-01-31"), comp))
    text = value.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text) if DATE_RE.match(text) else None
    except ValueError:
        day = None
    if day is None or not MIN_YEAR <= day.year <= MAX_YEAR:
        raise Bad(_msg(_("“%(label)s”不是有效日期，请按 2026-01-31 的格式填写"), comp))
    return day.isoformat()


def _options_hint(comp: dict[str, Any]) -> str:
    return "、".join(localised(o, "label") for o in comp.get("options", [])[:10])


def _choice(comp: dict[str, Any], value: Any) -> str | list[str] | None:
    allowed = [o["value"] for o in comp.get("options", [])]
    if comp.get("multiple"):
        if isinstance(value, str):
            value = [value] if value else []
        if not isinstance(value, list):
            raise Bad(_msg(_("“%(label)s”须为选项列表"), comp))
        if len(value) > len(allowed):
            raise Bad(_msg(_("“%(label)s”选择的项目过多"), comp))
        chosen: list[str] = []
        for item in value:
            if not isinstance(item, str) or item not in allowed:
                raise Bad(_msg(_("“%(label)s”只能从这些选项中选择：%(options)s"), comp,
                               options=_options_hint(comp)))
            if item not in chosen:
                chosen.append(item)
        return [v for v in allowed if v in chosen] or None
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in allowed:
        raise Bad(_msg(_("“%(label)s”只能从这些选项中选择：%(options)s"), comp,
                       options=_options_hint(comp)))
    return value


def _address(comp: dict[str, Any], value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        raise Bad(_msg(_("“%(label)s”须为地址 {\"region\": 区划代码, \"detail\": 详细地址}"), comp))
    extra = set(value) - {"region", "detail"}
    if extra:
        raise Bad(_msg(_("“%(label)s”含有无法识别的部分：%(names)s"), comp,
                       names="、".join(sorted(map(str, extra)))[:80]))
    region, detail = value.get("region") or "", value.get("detail") or ""
    if not isinstance(region, str) or (region and not re.fullmatch(r"\d{12}", region.strip())):
        raise Bad(_msg(_("“%(label)s”的行政区划须为 12 位区划代码，请从列表中选择"), comp),
                  "region")
    if not isinstance(detail, str):
        raise Bad(_msg(_("“%(label)s”的详细地址须为文字"), comp), "detail")
    detail = detail.strip()
    if len(detail) > 200 or CONTROL_RE.search(detail) or "\n" in detail:
        raise Bad(_msg(_("“%(label)s”的详细地址最多 200 个字，且不能换行"), comp), "detail")
    if not region.strip() and not detail:
        return None
    return {"region": region.strip(), "detail": detail}


def _map_point(comp: dict[str, Any], value: Any) -> dict[str, float] | None:
    if not isinstance(value, dict):
        raise Bad(_msg(_("“%(label)s”须为位置 {\"lng\": 经度, \"lat\": 纬度}"), comp))
    extra = set(value) - {"lng", "lat"}
    if extra:
        raise Bad(_msg(_("“%(label)s”含有无法识别的部分：%(names)s"), comp,
                       names="、".join(sorted(map(str, extra)))[:80]))
    lng = _number(comp, value.get("lng"), sub="lng") if value.get("lng") is not None else None
    lat = _number(comp, value.get("lat"), sub="lat") if value.get("lat") is not None else None
    if lng is None and lat is None:
        return None
    if lng is None or lat is None:
        raise Bad(_msg(_("“%(label)s”须同时填写经度和纬度"), comp), "lng" if lng is None else "lat")
    if not -180 <= lng <= 180:
        raise Bad(_msg(_("“%(label)s”的经度须在 -180 到 180 之间（WGS-84）"), comp), "lng")
    if not -90 <= lat <= 90:
        raise Bad(_msg(_("“%(label)s”的纬度须在 -90 到 90 之间（WGS-84）"), comp), "lat")
    return {"lng": float(lng), "lat": float(lat)}


def _tokens(comp: dict[str, Any], value: Any) -> list[str] | str | None:
    single = comp["type"] == "signature"
    if single:
        if value is None or value == "":
            return None
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str) or not TOKEN_RE.match(value):
            raise Bad(_msg(_("“%(label)s”的签名无效，请重新签名"), comp))
        return value
    if isinstance(value, str):
        value = [value] if value else []
    if not isinstance(value, list):
        raise Bad(_msg(_("“%(label)s”须为上传文件的列表"), comp))
    limit = comp.get("max_files", C.DEFAULT_MAX_FILES)
    if len(value) > limit:
        raise Bad(_msg(_("“%(label)s”最多上传 %(n)d 个文件，现在 %(count)d 个"), comp, n=limit,
                       count=len(value)))
    tokens: list[str] = []
    for item in value:
        if not isinstance(item, str) or not TOKEN_RE.match(item):
            raise Bad(_msg(_("“%(label)s”中有无效的文件，请删除后重新上传"), comp))
        if item not in tokens:
            tokens.append(item)
    return tokens or None


def coerce(comp: dict[str, Any], value: Any) -> Any:
    """The value in its canonical shape (numbers from strings, trimmed text, sorted choices),
    ``None`` when empty; raises Bad for the wrong type or a value past the hard limits."""
    kind = comp["type"]
    if value is None:
        return None
    if kind in ("text", "textarea"):
        return _text(comp, value)
    if kind == "number":
        return _number(comp, value)
    if kind == "date":
        return _date(comp, value)
    if kind == "choice":
        return _choice(comp, value)
    if kind in ("id_number", "credit_code"):
        text = _short(comp, value)
        return text.upper() if text else None
    if kind == "phone":
        text = _short(comp, value)
        return re.sub(r"[\s()]", "", text) if text else None
    if kind == "address":
        return _address(comp, value)
    if kind == "map_point":
        return _map_point(comp, value)
    if kind in C.FILE_TYPES:
        return _tokens(comp, value)
    raise Bad(_msg(_("“%(label)s”不能填写"), comp))  # pragma: no cover - tables handled apart


# --- format checks (complete submissions) ------------------------------------------------

def _bound(value: Any) -> Any:
    return today().isoformat() if value == "today" else value


def check(comp: dict[str, Any], value: Any) -> Any:
    """Format, range and existence checks of a non-empty value; returns it, normalised."""
    kind = comp["type"]
    rules = comp.get("validate", {})
    if kind in ("text", "textarea"):
        if "min_length" in rules and len(value) < rules["min_length"]:
            raise Bad(_msg(_("“%(label)s”至少 %(n)d 个字"), comp, n=rules["min_length"]))
        pattern = rules.get("pattern")
        if pattern and len(value) > MAX_PATTERN_VALUE:
            raise Bad(_msg(_("“%(label)s”过长：有格式要求的内容不能超过 %(n)d 个字"), comp,
                           n=MAX_PATTERN_VALUE))
        if pattern and not re.fullmatch(pattern, value):
            message = localised(rules, "pattern_message")
            raise Bad(message or _msg(_("“%(label)s”的格式不对"), comp))
    elif kind == "number":
        if rules.get("integer") and value != int(value):
            raise Bad(_msg(_("“%(label)s”须为整数"), comp))
        decimals = rules.get("decimals")
        if decimals is not None and Decimal(str(value)).as_tuple().exponent < -decimals:
            raise Bad(_msg(_("“%(label)s”最多保留 %(n)d 位小数"), comp, n=decimals))
        if "min" in rules and value < rules["min"]:
            raise Bad(_msg(_("“%(label)s”不能小于 %(n)s"), comp, n=rules["min"]))
        if "max" in rules and value > rules["max"]:
            raise Bad(_msg(_("“%(label)s”不能大于 %(n)s"), comp, n=rules["max"]))
    elif kind == "date":
        low, high = _bound(rules.get("min")), _bound(rules.get("max"))
        if low and value < low:
            raise Bad(_msg(_("“%(label)s”不能早于 %(d)s"), comp, d=low))
        if high and value > high:
            raise Bad(_msg(_("“%(label)s”不能晚于 %(d)s"), comp, d=high))
    elif kind == "choice" and comp.get("multiple"):
        if "min_items" in rules and len(value) < rules["min_items"]:
            raise Bad(_msg(_("“%(label)s”至少选择 %(n)d 项"), comp, n=rules["min_items"]))
        if "max_items" in rules and len(value) > rules["max_items"]:
            raise Bad(_msg(_("“%(label)s”最多选择 %(n)d 项"), comp, n=rules["max_items"]))
    elif kind == "id_number":
        return _id_number(comp, value, rules)
    elif kind == "credit_code":
        try:
            return identifiers.validate_credit_code(value).value
        except identifiers.InvalidIdentifier as exc:
            raise Bad(_msg(_("“%(label)s”有误：%(why)s"), comp, why=str(exc.message))) from None
    elif kind == "phone":
        return _phone(comp, value, rules.get("kind", "any"))
    elif kind == "address":
        _check_region(comp, value, rules)
    elif kind == "map_point":
        _check_point(comp, value, rules.get("within"))
    elif kind == "file" and len(value) < rules.get("min_files", 0):
        raise Bad(_msg(_("“%(label)s”至少上传 %(n)d 个文件"), comp, n=rules["min_files"]))
    return value


def _id_number(comp: dict[str, Any], value: str, rules: dict[str, Any]) -> str:
    try:
        parsed = identifiers.validate_id_number(value)
    except identifiers.InvalidIdentifier as exc:
        raise Bad(_msg(_("“%(label)s”有误：%(why)s"), comp, why=str(exc.message))) from None
    now = today()
    born = parsed.birth_date
    age = now.year - born.year - ((now.month, now.day) < (born.month, born.day))
    if "min_age" in rules and age < rules["min_age"]:
        raise Bad(_msg(_("“%(label)s”的持有人须年满 %(n)d 周岁"), comp, n=rules["min_age"]))
    if "max_age" in rules and age > rules["max_age"]:
        raise Bad(_msg(_("“%(label)s”的持有人须不超过 %(n)d 周岁"), comp, n=rules["max_age"]))
    return parsed.value


def _phone(comp: dict[str, Any], value: str, kind: str) -> str:
    text = re.sub(r"^(\+?86)[- ]?(?=1\d{10}$)", "", value)
    if MOBILE_RE.match(text) and kind in ("any", "mobile"):
        return text
    if LANDLINE_RE.match(text) and kind in ("any", "landline"):
        return text
    if kind == "mobile":
        raise Bad(_msg(_("“%(label)s”须为 11 位手机号码，例如 13800138000"), comp))
    if kind == "landline":
        raise Bad(_msg(_("“%(label)s”须为带区号的固定电话，例如 0571-87654321"), comp))
    raise Bad(_msg(_("“%(label)s”须为 11 位手机号码或带区号的固定电话，例如 13800138000 或 "
                   "0571-87654321"), comp))


def _check_region(comp: dict[str, Any], value: dict[str, str], rules: dict[str, Any]) -> None:
    code = value.get("region")
    if not code:
        raise Bad(_msg(_("请为“%(label)s”选择所在的行政区划"), comp), "region")
    try:
        region = _get_region(code)
    except (ObjectDoesNotExist, ValidationError):
        raise Bad(_msg(_("“%(label)s”的行政区划 %(code)s 不存在，请从列表中选择"), comp,
                       code=code), "region") from None
    within = rules.get("within")
    if within and not regions.covers(within, code):
        name = _region_name(within)
        raise Bad(_msg(_("“%(label)s”须在%(name)s范围内"), comp, name=name), "region")
    min_level = rules.get("min_level")
    if min_level and LEVEL_ORDER.get(region.level, 0) < LEVEL_ORDER[min_level]:
        raise Bad(_msg(_("“%(label)s”请选择到%(level)s一级"), comp,
                       level=regions.level_label(min_level)), "region")
    if comp.get("required") and not value.get("detail"):
        raise Bad(_msg(_("请填写“%(label)s”的详细地址（街道、门牌号）"), comp), "detail")


def _region_name(code: str) -> str:
    try:
        region = _get_region(code)
    except (ObjectDoesNotExist, ValidationError):
        return code
    return str(region.name_en if english() and region.name_en else region.name)


def _check_point(comp: dict[str, Any], value: dict[str, float], within: str | None) -> None:
    if within:
        try:
            areas = [_get_region(within)]
        except (ObjectDoesNotExist, ValidationError):
            return
    else:
        areas = list(regions.children(None)[:20])
    boxes = [(r, (r.min_lon, r.min_lat, r.max_lon, r.max_lat)) for r in areas
             if r.min_lon is not None and r.min_lat is not None and r.max_lon is not None
             and r.max_lat is not None]
    if not boxes:
        return  # the region service cannot tell
    lng, lat = value["lng"], value["lat"]
    for _region, (x0, y0, x1, y1) in boxes:
        if x0 <= lng <= x1 and y0 <= lat <= y1:
            return
    names = "、".join(str(r.name_en if english() and r.name_en else r.name) for r, _ in boxes)
    raise Bad(_msg(_("“%(label)s”不在%(name)s范围内，请在地图上重新选择"), comp, name=names), "lng")


def calculated(comp: dict[str, Any], value: Any) -> Any:
    """A calculation's result in the field's type, or None when it has none."""
    kind = comp["type"]
    if value is None or isinstance(value, (dict, list)):
        return None
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                value = float(value)
            except (TypeError, ValueError):
                return None
        if not math.isfinite(value) or abs(value) > C.MAX_NUMBER:
            return None
        if isinstance(value, float):
            value = round(value, 10)
            return int(value) if value.is_integer() else value
        return value
    text = value if isinstance(value, str) else (
        ("true" if value else "false") if isinstance(value, bool) else str(value))
    if kind == "date":
        try:
            return _date(comp, text)
        except Bad:
            return None
    return text[: C.TEXT_LIMIT.get(kind, 200)] or None
