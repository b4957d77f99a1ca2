"""GB/T 36904 licence identifiers: real ones validate, each kind of error names its part."""

from __future__ import annotations

import pytest

from yiwang.verify import identifiers as ids

# Identifiers published by national and provincial platforms (public sample documents).
REAL = [
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
]


@pytest.mark.parametrize("identifier", REAL)
def test_real_identifiers_validate(identifier) -> None:
    result = ids.validate_identifier(identifier)
    assert result.ok, result.messages()
    assert result.version in ("001", "002")


def test_mod37_36_known_values() -> None:
    # The check characters of the real identifiers above, computed over their bodies.
    assert ids.mod37_36("11100000000013338W01111430000006122244L20230000403001") == "U"
    assert ids.mod37_36("11100000000013338W00911330105002500287C2025052201002") == "0"
    # Any single-character change moves the check character (MOD 37,36 catches them all).
    body = "11100000000013338W01111430000006122244L20230000403001"
    for i in range(len(body)):
        for c in "07AZ":
            if c != body[i]:
                assert ids.mod37_36(body[:i] + c + body[i + 1:]) != "U"


def test_uscc_check_characters() -> None:
    for code in ("11430000006122244L", "11330105002500287C", "11100000000013338W",
                 "91350100M000100Y43"):
        assert ids.uscc_problem(code) is None, code
    assert "check character" in ids.uscc_problem("11430000006122244M")


def test_build_round_trip() -> None:
    identifier = ids.build_identifier(type_code="11100000000013338W011",
                                      issuer_code="11430000006122244L", serial="20230000403")
    assert identifier == REAL[0]
    assert ids.validate_identifier(identifier).ok
    numbered = ids.build_identifier(type_code="11100000000013338W011",
                                    issuer_code="11430000006122244L", serial=42, version=2)
    assert ".0000000042.002." in numbered
    assert ids.validate_identifier(numbered).ok


@pytest.mark.parametrize(("kwargs", "part"), [
    ({"type_code": "11100000000013338W01a"}, "type_code"),
    ({"type_code": "1110000000001333"}, "type_code"),
    ({"type_code": "11100000000013338S011"}, "type_code"),
    ({"issuer_code": "11430000006122244M"}, "issuer_code"),
    ({"serial": "abc"}, "serial"),
    ({"serial": ""}, "serial"),
    ({"version": 0}, "version"),
    ({"version": 1000}, "version"),
])
def test_build_refuses_bad_parts(kwargs, part) -> None:
    values = {"type_code": "11100000000013338W011", "issuer_code": "11430000006122244L",
              "serial": "20230000403", **kwargs}
    with pytest.raises(ValueError, match=part):
        ids.build_identifier(**values)


@pytest.mark.parametrize(("identifier", "parts"), [
    (REAL[0][:-1] + "V", ["check"]),
    (REAL[0].replace(".20230000403.", ".20230000404."), ["check"]),
    (REAL[0].replace("11430000006122244L", "11430000006122244M"), ["issuer_code", "check"]),
    (REAL[0].replace("W011", "W01-"), ["type_code"]),
    (REAL[0].replace("W011", "W01A"), ["check"]),
    (REAL[0].replace(".001.", ".1.."), ["format"]),
    (REAL[0].replace(".001.", ".000."), ["version", "check"]),
    (REAL[0].replace("20230000403", "2023-403"), ["serial"]),
    (REAL[0].lower(), ["type_code", "issuer_code", "check"]),
    ("1.2.156.3005.3.X", ["root"]),
    (REAL[0][:-2], ["format"]),
    (REAL[0][:-1] + "u", ["check"]),
])
def test_validation_names_the_wrong_part(identifier, parts) -> None:
    result = ids.validate_identifier(identifier)
    assert not result.ok
    assert list(result.errors) == parts
    assert result.messages()


def test_not_text() -> None:
    assert list(ids.validate_identifier(None).errors) == ["root"]  # type: ignore[arg-type]
