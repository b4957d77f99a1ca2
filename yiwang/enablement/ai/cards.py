"""Reading ID cards and business licences from OCR lines, by label anchors and position.

OCR gives boxes of text. They are grouped into rows (boxes whose vertical centres are close),
each row is read left to right as a string of characters with their x positions, and the
labels printed on the document (姓名, 住址, 统一社会信用代码…) split a row into fields. A row
without a label continues a multi-line field (an address) whose value starts at about the
same x. Values are then cleaned per field, and identifiers checked: the ID number with
GB 11643, the credit code with GB 32100; one OCR confusion (O for 0…) is corrected only when
the check character then verifies.
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from yiwang.core.identifiers import service as identifiers
from yiwang.enablement.ai.types import CardReading, FieldValue, Mismatch, OcrLine

# Characters OCR confuses with digits, and digits it confuses with each other.
_LETTER_TO_DIGIT = {"O": "0", "o": "0", "D": "0", "Q": "0", "U": "0", "I": "1", "l": "1",
                    "|": "1", "i": "1", "L": "1", "Z": "2", "z": "2", "S": "5", "s": "5",
                    "B": "8", "G": "6", "b": "6", "g": "9", "q": "9", "T": "7", "A": "4"}
_DIGIT_CONFUSIONS = {"0": "86", "1": "7", "3": "8", "5": "6", "6": "580", "7": "1",
                     "8": "036", "9": "0"}
_CREDIT_CONFUSIONS = {"O": "0", "I": "1", "Z": "2", "S": "5", "V": "U", "0": "D",
                      "1": "L", "2": "Z", "5": "S", "8": "B", "U": "V", "D": "0"}
_CJK = re.compile(r"[\u3400-\u9fff·]")


def normalise(value: str) -> str:
    """NFKC (full-width → half-width), no whitespace, upper case."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    return "".join(text.split()).upper()


# --- rows and labelled fields ----------------------------------------------------------------


@dataclass
class _Char:
    char: str
    x: float
    confidence: float


@dataclass
class _Row:
    y: float
    height: float
    lines: list[OcrLine] = field(default_factory=list)

    def chars(self) -> list[_Char]:
        found: list[_Char] = []
        for line in sorted(self.lines, key=lambda item: item.box[0]):
            text = "".join(unicodedata.normalize("NFKC", line.text).split())
            if not text:
                continue
            step = (line.box[2] - line.box[0]) / len(text)
            found.extend(_Char(c, line.box[0] + step * (i + 0.5), line.confidence)
                         for i, c in enumerate(text))
        return found


def skew(lines: Iterable[OcrLine]) -> float:
    """The median slope (radians) of the top edges of the wider text boxes."""
    angles = []
    for line in lines:
        if len(line.points) == 4:
            (x0, y0), (x1, y1) = line.points[0], line.points[1]
            if x1 - x0 > 2 * max(1.0, line.height) / 1.5:
                angles.append(math.atan2(y1 - y0, x1 - x0))
    return statistics.median(angles) if angles else 0.0


def deskewed(lines: Iterable[OcrLine]) -> list[OcrLine]:
    """The lines with their boxes turned back by the document's skew, so that a row of a
    slightly rotated photo is level again (the parser works on rows)."""
    lines = list(lines)
    angle = skew(lines)
    if abs(angle) < 0.002:
        return lines
    cos, sin = math.cos(-angle), math.sin(-angle)
    turned = []
    for line in lines:
        points = line.points or ((line.box[0], line.box[1]), (line.box[2], line.box[3]))
        moved = [(x * cos - y * sin, x * sin + y * cos) for x, y in points]
        xs, ys = [p[0] for p in moved], [p[1] for p in moved]
        turned.append(OcrLine(line.text, line.confidence, (min(xs), min(ys), max(xs), max(ys)),
                              tuple(moved)))
    return turned


def rows_of(lines: Iterable[OcrLine]) -> list[_Row]:
    """Lines grouped into rows, top to bottom (after undoing the skew)."""
    rows: list[_Row] = []
    for line in sorted(deskewed(lines), key=lambda item: item.centre_y):
        height = max(1.0, line.height)
        if rows and abs(line.centre_y - rows[-1].y) < 0.55 * min(height, rows[-1].height):
            row = rows[-1]
            row.lines.append(line)
            row.y = statistics.fmean(item.centre_y for item in row.lines)
        else:
            rows.append(_Row(line.centre_y, height, [line]))
    return rows


@dataclass
class _Field:
    name: str
    chars: list[_Char]
    x: float  # where the value starts (for continuation lines)

    @property
    def text(self) -> str:
        return "".join(c.char for c in self.chars)

    @property
    def confidence(self) -> float:
        return min((c.confidence for c in self.chars), default=0.0)


def labelled_fields(rows: list[_Row], labels: dict[str, str],
                    multiline: Iterable[str] = ()) -> dict[str, _Field]:
    """Split rows at ``labels`` (regex → field name); unlabelled rows continue the nearest
    open field of ``multiline``."""
    pattern = re.compile("|".join(f"(?P<{name}>{regex})" for name, regex in
                                  ((f"f{i}", r) for i, r in enumerate(labels))))
    names = list(labels.values())
    found: dict[str, _Field] = {}
    open_fields: list[_Field] = []
    for row in rows:
        chars = row.chars()
        text = "".join(c.char for c in chars)
        matches = list(pattern.finditer(text))
        if not matches:
            _continue_fields(row, open_fields)
            continue
        open_fields = []
        for number, match in enumerate(matches):
            name = names[int(next(k for k, v in match.groupdict().items() if v)[1:])]
            end = matches[number + 1].start() if number + 1 < len(matches) else len(text)
            value = chars[match.end():end]
            x = value[0].x if value else (chars[match.end() - 1].x if match.end() else 0.0)
            if name in found:
                continue  # the first occurrence wins (the labels repeat in footers)
            found[name] = _Field(name, value, x)
            if name in multiline:
                open_fields.append(found[name])
    return found


def _continue_fields(row: _Row, open_fields: list[_Field]) -> None:
    if not open_fields:
        return
    width = statistics.fmean(
        (line.box[2] - line.box[0]) / max(1, len(line.text)) for line in row.lines)
    for line in sorted(row.lines, key=lambda item: item.box[0]):
        nearest = min(open_fields, key=lambda f: abs(f.x - line.box[0]))
        if abs(nearest.x - line.box[0]) <= 3 * width:
            text = "".join(unicodedata.normalize("NFKC", line.text).split())
            nearest.chars.extend(_Char(c, line.box[0], line.confidence) for c in text)


# --- cleaning values ---------------------------------------------------------------------------


def _cjk_name(text: str) -> str:
    return "".join(_CJK.findall(text))


def _date(text: str) -> str:
    text = "".join(_LETTER_TO_DIGIT.get(c, c) for c in text)
    match = re.search(r"(\d{4})\D{0,3}(\d{1,2})\D{0,3}(\d{1,2})", text)
    if not match:
        return ""
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return ""


def _single_fixes(raw: str, options: Callable[[int, str], str]) -> list[str]:
    candidates = []
    for position, char in enumerate(raw):
        for replacement in options(position, char):
            candidates.append(raw[:position] + replacement + raw[position + 1:])
    return candidates


def check_id_number(text: str) -> tuple[str, bool, bool]:
    """``(number, valid, corrected)`` for an ID number read by OCR."""
    raw = "".join(c for c in normalise(text) if c.isalnum())
    raw = raw[:17] + raw[17:].replace("x", "X")
    if identifiers.is_valid_id_number(raw):
        return raw, True, False
    if len(raw) != 18:
        return raw, False, False
    # Letters where digits belong are certain misreadings: map them all, then accept the
    # result only if its check character verifies.
    mapped = "".join(_LETTER_TO_DIGIT.get(c, c) if i < 17 or c != "X" else c
                     for i, c in enumerate(raw))
    if mapped != raw and sum(a != b for a, b in zip(mapped, raw, strict=True)) == 1 \
            and identifiers.is_valid_id_number(mapped):
        return mapped, True, True
    # One digit read as another: accept only a unique correction that verifies.
    fixes = {candidate for candidate in _single_fixes(
        mapped, lambda i, c: _DIGIT_CONFUSIONS.get(c, "") if i < 17 else "")
        if identifiers.is_valid_id_number(candidate)}
    if len(fixes) == 1:
        return fixes.pop(), True, True
    return raw, False, False


def check_credit_code(text: str) -> tuple[str, bool, bool]:
    """``(code, valid, corrected)`` for a unified social credit code read by OCR."""
    raw = "".join(c for c in normalise(text) if c.isalnum())
    if identifiers.is_valid_credit_code(raw):
        return raw, True, False
    if len(raw) != 18:
        return raw, False, False
    fixes = {candidate for candidate in _single_fixes(
        raw, lambda i, c: _CREDIT_CONFUSIONS.get(c, ""))
        if identifiers.is_valid_credit_code(candidate)}
    if len(fixes) == 1:
        return fixes.pop(), True, True
    return raw, False, False


def _value(found: dict[str, _Field], name: str) -> tuple[str, float]:
    item = found.get(name)
    return (item.text, item.confidence) if item else ("", 0.0)


# --- ID cards ----------------------------------------------------------------------------------

# What OCR makes of the security print between the letters of a widely spaced label
# (姓　　名): a stroke read as 一, a dot, a dash.
_GAP = "[一．.·•・\\-_~—]{0,2}"
_LEADING_JUNK = "一．.·•・-_~—、，,:：;；'\"|"


def spaced(label: str) -> str:
    """A regex for a two-character label printed with wide spacing."""
    return label[0] + _GAP + label[1] if len(label) == 2 else label


_ID_LABELS = {spaced("姓名"): "name", spaced("性别"): "sex", spaced("民族"): "ethnicity",
              spaced("出生"): "birth", spaced("住址"): "address",
              r"公民身份号码|公民身份号|身份号码": "id_number"}
_ID_PATTERN = re.compile(r"[0-9OoDQIlZSB]{17}[0-9Xx]")


def read_id_card(image: bytes) -> CardReading:
    from yiwang.enablement.ai import engine

    return parse_id_card(engine.ocr_lines(image))


def parse_id_card(lines: list[OcrLine]) -> CardReading:
    """A :class:`CardReading` of an ID card front from its OCR lines."""
    found = labelled_fields(rows_of(lines), _ID_LABELS, multiline=("address",))
    fields: dict[str, FieldValue] = {}
    problems: list[str] = []
    corrected: list[str] = []

    text, confidence = _value(found, "name")
    if name := _cjk_name(text.lstrip(_LEADING_JUNK)):
        fields["name"] = FieldValue(name, confidence)
    text, confidence = _value(found, "sex")
    if sex := next((c for c in text if c in "男女"), ""):
        fields["sex"] = FieldValue(sex, confidence)
    text, confidence = _value(found, "ethnicity")
    ethnicity = _cjk_name(text).removesuffix("族")
    if ethnicity:
        fields["ethnicity"] = FieldValue(ethnicity, confidence)
    text, confidence = _value(found, "birth")
    if birth := _date(text):
        fields["birth"] = FieldValue(birth, confidence)
    text, confidence = _value(found, "address")
    if address := "".join(text.split()).lstrip(_LEADING_JUNK).rstrip(_LEADING_JUNK[1:]):
        fields["address"] = FieldValue(address, confidence)

    text, confidence = _value(found, "id_number")
    if not _ID_PATTERN.search(normalise(text)):
        # The label was not read: take the 18-character run anywhere on the card.
        for line in lines:
            if match := _ID_PATTERN.search(normalise(line.text)):
                text, confidence = match[0], line.confidence
                break
    if text:
        number, valid, was_corrected = check_id_number(text)
        if number:
            fields["id_number"] = FieldValue(number, confidence if valid else
                                             min(confidence, 0.3))
        if was_corrected:
            corrected.append("id_number")
        if not valid:
            problems.append(_("公民身份号码未通过校验（GB 11643），请人工核对。"))
        else:
            _cross_check(fields, number, problems)
    return CardReading("id_card", fields, problems, corrected)


def _cross_check(fields: dict[str, FieldValue], number: str, problems: list[str]) -> None:
    parsed = identifiers.validate_id_number(number)
    birth = parsed.birth_date.isoformat()
    sex = "男" if parsed.sex is identifiers.Sex.MALE else "女"
    if "birth" not in fields:
        fields["birth"] = FieldValue(birth, 0.5)
    elif fields["birth"].value != birth:
        problems.append(_("出生日期与公民身份号码不一致。"))
    if "sex" not in fields:
        fields["sex"] = FieldValue(sex, 0.5)
    elif fields["sex"].value != sex:
        problems.append(_("性别与公民身份号码不一致。"))


# --- business licences -------------------------------------------------------------------------

_LICENCE_LABELS = {
    "统一社会信用代码": "credit_code", spaced("名称"): "name", spaced("类型"): "kind",
    "法定代表人|负责人|经营者|投资人|执行事务合伙人": "legal_representative",
    "主要经营场所|经营场所|" + spaced("住所"): "address", "成立日期|注册日期": "registered_on",
    "注册资本|出资额|组成形式": "_capital", "营业期限|经营期限|合伙期限": "_term",
    "经营范围": "_scope", "登记机关": "_authority",
}
_CREDIT_PATTERN = re.compile(r"[0-9A-Z]{18}")


def read_business_licence(image: bytes) -> CardReading:
    from yiwang.enablement.ai import engine

    return parse_business_licence(engine.ocr_lines(image))


def parse_business_licence(lines: list[OcrLine]) -> CardReading:
    """A :class:`CardReading` of a business licence from its OCR lines."""
    rows = rows_of(lines)
    found = labelled_fields(rows, _LICENCE_LABELS, multiline=("address", "_scope", "name"))
    fields: dict[str, FieldValue] = {}
    problems: list[str] = []
    corrected: list[str] = []

    # The code is printed under (or beside) its label: take the first 18-character run
    # from the label's row on.
    text, confidence = _value(found, "credit_code")
    if not _CREDIT_PATTERN.search(normalise(text)):
        for line in lines:
            if match := _CREDIT_PATTERN.search(normalise(line.text)):
                text, confidence = match[0], line.confidence
                break
        else:
            # No 18-character run: report the longest code-like run (a character dropped
            # by OCR), which fails its check and is flagged, rather than nothing.
            runs = [(len(m[0]), m[0], line.confidence) for line in lines
                    for m in re.finditer(r"[0-9A-Z]{15,20}", normalise(line.text))]
            if not text and runs:
                _length, text, confidence = max(runs)
    if text:
        run = _CREDIT_PATTERN.search(normalise(text))
        code, valid, was_corrected = check_credit_code(run[0] if run else text)
        fields["credit_code"] = FieldValue(code, confidence if valid else min(confidence, 0.3))
        if was_corrected:
            corrected.append("credit_code")
        if not valid:
            problems.append(_("统一社会信用代码未通过校验（GB 32100），请人工核对。"))
    for name in ("name", "kind", "address"):
        text, confidence = _value(found, name)
        text = text.lstrip(_LEADING_JUNK).rstrip(_LEADING_JUNK[1:] + "。")
        if name != "address":  # names and kinds are printed with full-width brackets
            text = text.replace("(", "（").replace(")", "）")
        if text:
            fields[name] = FieldValue(text, confidence)
    text, confidence = _value(found, "legal_representative")
    if person := _cjk_name(text.lstrip(_LEADING_JUNK)):
        fields["legal_representative"] = FieldValue(person, confidence)
    text, confidence = _value(found, "registered_on")
    if registered := _date(text):
        fields["registered_on"] = FieldValue(registered, confidence)
    return CardReading("business_licence", fields, problems, corrected)


# --- comparing -----------------------------------------------------------------------------------


def _comparable(name: str, value: str) -> str:
    text = normalise(value)
    if name in ("birth", "registered_on") or re.fullmatch(r"[\d年月日./-]+", text):
        digits = _date(text)
        return digits or text
    return text.strip("、，,.。:：;；")


def compare(reading: CardReading, expected: dict[str, str]) -> list[Mismatch]:
    mismatches = []
    for name, value in expected.items():
        read = reading.get(name)
        if _comparable(name, read) != _comparable(name, value or ""):
            mismatches.append(Mismatch(name, read, value or ""))
    return mismatches
