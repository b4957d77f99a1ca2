"""The English catalogue (yiwang/locale/en): complete, consistent with its .mo, and in use.

To update it after changing strings, from the ``yiwang`` package folder (``-P`` keeps the
folder off ``sys.path``, where ``yiwang/platform`` would hide the standard library's)::

    YIWANG_ENV=test ../.venv/bin/python -P -m yiwang makemessages -l en \\
        --ignore "*/tests/*" --no-obsolete
    # translate every new or fuzzy entry in locale/en/LC_MESSAGES/django.po, then
    YIWANG_ENV=test ../.venv/bin/python -P -m yiwang compilemessages
"""

from __future__ import annotations

import ast
import re
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from yiwang.core.identifiers.service import InvalidIdentifier, validate_id_number

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO_FILE = LC_MESSAGES / "django.po"
MO_FILE = LC_MESSAGES / "django.mo"

# printf-style (%(name)s, %s, %d, %%) and str.format-style ({name}) placeholders.
PLACEHOLDER = re.compile(
    r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]|\{[A-Za-z_]\w*\}"
)
CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e]")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0


def parse_po(text: str) -> list[Entry]:
    """The active entries of a PO file, header included: blocks separated by blank lines."""
    entries: list[Entry] = []
    number = 1
    for block in re.split(r"\n[ \t]*\n", text):
        entry, key = Entry(line=number), ""
        for offset, raw in enumerate(block.splitlines()):
            line = raw.strip()
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
                continue
            if not line or line.startswith("#"):  # comments, and obsolete entries (#~)
                continue
            match = re.fullmatch(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")',
                                 line)
            if match:
                key, value = match.group(1), match.group(2)
            elif line.startswith('"') and key:
                value = line
            else:
                raise AssertionError(f"{PO_FILE}:{number + offset}: cannot parse {raw!r}")
            part = ast.literal_eval(value)
            if key.startswith("msgstr"):
                index = int(key[7:-1]) if key != "msgstr" else 0
                entry.msgstr[index] = entry.msgstr.get(index, "") + part
            elif key == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + part
            elif key == "msgctxt":
                entry.msgctxt = (entry.msgctxt or "") + part
            else:
                entry.msgid += part
        if key:
            entries.append(entry)
        number += block.count("\n") + 2
    return entries


def read_mo(data: bytes) -> dict[str, str]:
    """Every (original, translation) pair of a compiled GNU .mo catalogue, decoded."""
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">"
    _revision, count, originals, translations = struct.unpack(order + "4I", data[4:20])

    def string(table: int, i: int) -> str:
        length, offset = struct.unpack(order + "2I", data[table + 8 * i: table + 8 * i + 8])
        return data[offset: offset + length].decode("utf-8")

    return {string(originals, i): string(translations, i) for i in range(count)}


def mo_key(entry: Entry) -> str:
    key = entry.msgid if entry.msgid_plural is None else f"{entry.msgid}\0{entry.msgid_plural}"
    return key if entry.msgctxt is None else f"{entry.msgctxt}\x04{key}"


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return [e for e in parse_po(PO_FILE.read_text(encoding="utf-8")) if e.msgid]


def test_parser_reads_every_entry(entries: list[Entry]) -> None:
    po = PO_FILE.read_text(encoding="utf-8")
    assert len(entries) == len(re.findall(r"^msgid ", po, re.M)) - 1  # minus the header
    assert len(entries) > 400


def test_every_entry_is_translated_and_not_fuzzy(entries: list[Entry]) -> None:
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    untranslated = [e.msgid for e in entries
                    if not e.msgstr or not all(s.strip() for s in e.msgstr.values())
                    or len(e.msgstr) != (1 if e.msgid_plural is None else 2)]
    assert fuzzy == []
    assert untranslated == []


def test_translations_keep_the_placeholders(entries: list[Entry]) -> None:
    wrong = []
    for e in entries:
        for index, msgstr in e.msgstr.items():
            source = e.msgid if index == 0 or e.msgid_plural is None else e.msgid_plural
            if placeholders(msgstr) != placeholders(source):
                wrong.append((e.line, e.msgid, msgstr))
    assert wrong == []


def test_translations_are_english(entries: list[Entry]) -> None:
    # Chinese may appear only in parentheses, as a gloss of a domain term: "grid (网格)".
    chinese = [(e.line, s) for e in entries for s in e.msgstr.values()
               if CJK.search(re.sub(r"\([^)]*\)", "", s))]
    assert chinese == []


def test_the_mo_file_is_compiled_from_the_po_file(entries: list[Entry]) -> None:
    """A stale .mo (the .po changed, compilemessages not run) fails here."""
    compiled = read_mo(MO_FILE.read_bytes())
    compiled.pop("", None)  # the header
    expected = {mo_key(e): "\0".join(e.msgstr[i] for i in sorted(e.msgstr)) for e in entries}
    assert set(compiled) - set(expected) == set(), "msgids in the .mo but not in the .po"
    assert set(expected) - set(compiled) == set(), "msgids in the .po but not in the .mo"
    changed = sorted(k for k in expected if compiled[k] != expected[k])
    assert changed == [], "translations that differ between the .po and the .mo"


@pytest.mark.django_db
def test_the_portal_home_page_is_in_english(public_client: Client) -> None:
    # LocaleMiddleware leaves English active in this thread: restore the language after.
    with translation.override(settings.LANGUAGE_CODE):
        html = public_client.get("/en/").content.decode()
    assert '<html lang="en">' in html
    for chinese, english in [
        ("示例市 · 一网通办", "Shili City · One-Stop Government Services"),
        ("搜索办事服务", "Search services"),
        ("个人办事", "For individuals"),
        ("跳到主要内容", "Skip to main content"),
    ]:
        assert english in html
        assert chinese not in html


@pytest.mark.parametrize(("number", "chinese", "english"), [
    ("1101", "身份证号码应为 18 位，实际为 4 位",
     "ID number must be 18 characters long; you entered 4"),
    ("11010519491231002Y", "身份证号码前 17 位应为数字，最后一位应为数字或 X",
     "The first 17 characters of an ID number must be digits, and the last must be a digit or X"),
    ("１１０１０５１９４９１２３１００２X", "身份证号码含有全角字符，请使用半角数字和字母",
     "ID number contains full-width characters: use ordinary (half-width) digits and letters"),
])
def test_identifier_errors_are_shown_in_the_active_language(
        number: str, chinese: str, english: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_id_number(number)
    with translation.override("en"):
        assert str(caught.value.message) == english
    with translation.override("zh-hans"):
        assert str(caught.value.message) == chinese
