"""电子证照标识 — licence identifiers in the GB/T 36904-2018 layout, with their check character.

Layout (dot-separated)::

    1.2.156.3005.2 . 证照类型代码 . 证照颁发机构代码 . 流水号 . 版本号 . 校验位
    root OID         type code      issuer code        serial   version  check

- root: ``1.2.156.3005.2``, the OID arc of China's electronic licences (电子证照根代码);
- 证照类型代码 (licence type code): from the national licence catalogue — the 18-character
  unified social credit code (统一社会信用代码, GB 32100) of the authority that defines the
  type, then a sequence, e.g. ``11100000000013338W011``. The catalogue assigns these codes, so
  only their shape is checked: 19–24 characters, the first 18 from GB 32100's character set,
  the rest digits or capital letters;
- 证照颁发机构代码 (issuer code, 18 characters): the issuing department's unified social credit
  code;
- 流水号 (serial): 1–40 digits or capital letters, unique per issuer and type;
- 版本号 (version): 3 digits, ``001`` for the first issue of a licence;
- 校验位 (check character): ISO/IEC 7064 MOD 37,36 (GB/T 17710) over type code + issuer code
  + serial + version, without the dots.

The standard's text is not freely published; this layout and the check algorithm follow the
public descriptions of it and reproduce identifiers issued by national platforms (see
``docs/adr/0016-credential-formats.md``). Unified social credit codes carry their own GB 32100
check character, which is checked too, so a validation names exactly which part is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ROOT = "1.2.156.3005.2"
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALNUM_VALUE = {c: i for i, c in enumerate(_ALNUM)}
# GB 32100-2015: 31 characters (no I, O, S, V, Z) and the weights 3^i mod 31.
_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(_USCC)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SERIAL = re.compile(r"[0-9A-Z]{1,40}")
_TYPE_SEQ = re.compile(r"[0-9A-Z]{1,6}")
_VERSION = re.compile(r"[0-9]{3}")


def mod37_36(text: str) -> str:
    """The ISO/IEC 7064 MOD 37,36 (hybrid) check character of ``text`` (digits, A–Z)."""
    m = 36
    p = m
    for ch in text:
        p = (p + _ALNUM_VALUE[ch]) % m or m
        p = (p * 2) % (m + 1)
    return _ALNUM[(m + 1 - p) % m]


def uscc_check_character(code17: str) -> str:
    """The GB 32100 check character of the first 17 characters of a unified social credit code."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(code17, _USCC_WEIGHTS, strict=True))
    return _USCC[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or None if it is one."""
    if len(code) != 18:
        return f"应为 18 位 (must be 18 characters, is {len(code)})"
    if any(c not in _USCC_VALUE for c in code):
        return "含有不允许的字符 (characters outside GB 32100's set: digits and A–Y without " \
               "I, O, S, V, Z)"
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        return f"校验码错误 (GB 32100 check character is {code[17]}, expected {expected})"
    return None


@dataclass
class IdentifierValidation:
    """The parts of an identifier and what is wrong with each (``errors``: part → message)."""

    text: str
    type_code: str = ""
    issuer_code: str = ""
    serial: str = ""
    version: str = ""
    check: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def messages(self) -> list[str]:
        """One line per wrong part, naming it in Chinese and English."""
        names = {"format": "标识格式 (layout)", "root": "根代码 (root OID)",
                 "type_code": "证照类型代码 (licence type code)",
                 "issuer_code": "证照颁发机构代码 (issuer code)", "serial": "流水号 (serial)",
                 "version": "版本号 (version)", "check": "校验位 (check character)"}
        return [f"{names[part]}: {message}" for part, message in self.errors.items()]


def _type_code_problem(code: str) -> str | None:
    if not 19 <= len(code) <= 24:
        return f"应为 19–24 位 (must be 19–24 characters, is {len(code)})"
    if any(c not in _USCC_VALUE for c in code[:18]):
        return ("前 18 位应为统一社会信用代码的字符 (first 18 characters must be a unified "
                "social credit code's: digits and A–Y without I, O, S, V, Z)")
    if not _TYPE_SEQ.fullmatch(code[18:]):
        return "序号应为数字或大写字母 (the sequence after the code must be digits or capitals)"
    return None


def _serial_problem(serial: str) -> str | None:
    if not _SERIAL.fullmatch(serial):
        return "应为 1–40 位数字或大写字母 (must be 1–40 digits or capital letters)"
    return None


def _version_problem(version: str) -> str | None:
    if not _VERSION.fullmatch(version) or version == "000":
        return "应为 001–999 的三位数字 (must be three digits, 001–999)"
    return None


def build_identifier(*, type_code: str, issuer_code: str, serial: int | str,
                     version: int | str = 1) -> str:
    """A GB/T 36904 identifier; ValueError naming the part that is not acceptable.

    ``serial`` as an integer is written with ten digits (``0000000042``); as text it is used
    as given. ``version`` 1 is the licence's first issue (``001``).
    """
    if isinstance(serial, int) and not isinstance(serial, bool) and serial >= 0:
        serial = f"{serial:010d}"
    serial = str(serial)
    version_text = f"{int(version):03d}" if isinstance(version, int) else version
    licence_type_code = type_code
    for part, problem in (("type_code", _type_code_problem(licence_type_code)),
                          ("issuer_code", uscc_problem(issuer_code)),
                          ("serial", _serial_problem(serial)),
                          ("version", _version_problem(version_text))):
        if problem:
            raise ValueError(f"{part}: {problem}")
    body = licence_type_code + issuer_code + serial + version_text
    return ".".join((ROOT, licence_type_code, issuer_code, serial, version_text, mod37_36(body)))


def validate_identifier(text: str) -> IdentifierValidation:
    """Check an identifier part by part; the result names every part that is wrong."""
    result = IdentifierValidation(text=text if isinstance(text, str) else "")
    if not isinstance(text, str) or not text.startswith(ROOT + "."):
        result.errors["root"] = f"应以 {ROOT} 开头 (must start with {ROOT})"
        return result
    parts = text[len(ROOT) + 1:].split(".")
    if len(parts) != 5:
        result.errors["format"] = ("应为 根代码.类型代码.机构代码.流水号.版本号.校验位 (must be "
                                   "root.type.issuer.serial.version.check)")
        return result
    result.type_code, result.issuer_code, result.serial, result.version, result.check = parts
    for part, problem in (("type_code", _type_code_problem(result.type_code)),
                          ("issuer_code", uscc_problem(result.issuer_code)),
                          ("serial", _serial_problem(result.serial)),
                          ("version", _version_problem(result.version))):
        if problem:
            result.errors[part] = problem
    if len(result.check) != 1 or result.check not in _ALNUM_VALUE:
        result.errors["check"] = "应为一位数字或大写字母 (must be one digit or capital letter)"
    elif all(c in _ALNUM_VALUE for c in "".join(parts[:4])):
        expected = mod37_36("".join(parts[:4]))
        if result.check != expected:
            result.errors["check"] = (f"校验位错误 (check character is {result.check}, "
                                      f"expected {expected})")
    return result
