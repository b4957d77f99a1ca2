import random
from datetime import date

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from yiwang.core.identifiers.service import (
    PROVINCES,
    SYNTHETIC_SEQUENCES,
    IdNumber,
    InvalidIdentifier,
    Sex,
    generate_id_number,
    generate_synthetic_id_number,
    is_valid_id_number,
    validate_id_number,
)

TODAY = date(2026, 1, 1)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_char(first17: str) -> str:
    """Independent restatement of ISO 7064 MOD 11-2: (sum + value(check)*1) ≡ 1 (mod 11)."""
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def with_check(first17: str) -> str:
    return first17 + check_char(first17)


regions = st.builds(
    lambda p, rest: p + rest,
    st.sampled_from(sorted(PROVINCES)),
    st.text("0123456789", min_size=4, max_size=4),
)
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
id_numbers = st.builds(
    lambda region, birth, seq: generate_id_number(
        region, birth, Sex.MALE if seq % 2 else Sex.FEMALE, seq
    ),
    regions, births, st.integers(1, 999),
)


def failure(value, **kwargs) -> InvalidIdentifier:
    with pytest.raises(InvalidIdentifier) as info:
        validate_id_number(value, today=TODAY, **kwargs)
    return info.value


def test_parses_a_valid_number_into_its_parts():
    value = with_check("11010519491231002")
    parsed = validate_id_number(value, today=TODAY)
    assert parsed == IdNumber(value=value, region_code="110105",
                              birth_date=date(1949, 12, 31), sex=Sex.FEMALE, sequence=2)
    assert str(parsed) == value


def test_check_character_x_is_accepted_in_lower_case_and_normalised():
    first17 = next(f"11010119900307{n:03d}" for n in range(1, 1000)
                   if check_char(f"11010119900307{n:03d}") == "X")
    parsed = validate_id_number(f"  {first17}x\n", today=TODAY)
    assert parsed.value == first17 + "X"
    assert parsed.sex is (Sex.MALE if int(first17[-3:]) % 2 else Sex.FEMALE)


@pytest.mark.parametrize(("value", "part"), [
    ("11010119900307", "length"),
    ("1101011990030742581", "length"),
    ("11010119900307425A", "characters"),
    ("1101011990O307425X", "characters"),
])
def test_shape_errors_name_their_part(value, part):
    assert failure(value).part == part


def test_full_width_digits_are_refused_with_a_clear_message():
    exc = failure("１１０１０１１９９００３０７４２５８")
    assert exc.part == "characters"
    with translation.override("zh-hans"):
        assert "全角" in str(exc.message)


def test_unknown_province_is_a_region_error():
    exc = failure(with_check("99010119900307425"))
    assert exc.part == "region"
    with translation.override("zh-hans"):
        assert "990101" in str(exc.message)


def test_impossible_date_names_the_date():
    exc = failure(with_check("11010120230230001"))
    assert exc.part == "birth_date"
    with translation.override("zh-hans"):
        assert str(exc.message) == "出生日期无效：20230230 不是真实日期"


@pytest.mark.parametrize("first17", ["11010118991231001", "11010120260102001"])
def test_birth_dates_before_1900_or_after_today_are_refused(first17):
    assert failure(with_check(first17)).part == "birth_date"


def test_born_today_is_valid():
    assert is_valid_id_number(with_check("11010120260101001"), today=TODAY)


def test_sequence_000_is_refused():
    assert failure(with_check("11010119900307000")).part == "sequence"


def test_wrong_check_character_says_which_is_expected():
    first17 = "11010119900307425"
    wrong = next(c for c in "0123456789X" if c != check_char(first17))
    exc = failure(first17 + wrong)
    assert exc.part == "check"
    with translation.override("zh-hans"):
        assert str(exc.message) == f"校验位错误：应为 {check_char(first17)}"
    assert isinstance(exc, ValueError)


def test_non_text_is_refused_not_crashing():
    assert failure(110101199003074258).part == "characters"
    assert not is_valid_id_number(None)


def test_generate_refuses_a_sequence_of_the_wrong_sex():
    with pytest.raises(ValueError, match="sex"):
        generate_id_number("110101", date(1990, 3, 7), Sex.FEMALE, 1)
    with pytest.raises(ValueError, match="region_code"):
        generate_id_number("990101", date(1990, 3, 7), "male")


def test_generated_sex_is_encoded_in_the_sequence():
    rng = random.Random(7)
    for sex in Sex:
        parsed = validate_id_number(generate_id_number("440305", date(2000, 1, 1), sex, rng=rng))
        assert parsed.sex is sex


def test_synthetic_numbers_use_the_reserved_sequences():
    rng = random.Random(2024)
    for _ in range(50):
        parsed = validate_id_number(generate_synthetic_id_number(rng, "330106"))
        assert parsed.sequence in SYNTHETIC_SEQUENCES
        assert parsed.region_code == "330106"


@given(id_numbers)
def test_generated_numbers_validate(value):
    parsed = validate_id_number(value, today=TODAY)
    assert parsed.value == value
    assert value[17] == check_char(value[:17])


@given(id_numbers, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_every_single_substitution_is_detected(value, position, char):
    if value[position] == char:
        char = "0" if char != "0" else "1"
    changed = value[:position] + char + value[position + 1:]
    assert not is_valid_id_number(changed, today=TODAY)


@given(id_numbers, st.integers(0, 16))
def test_every_adjacent_transposition_is_detected(value, position):
    a, b = value[position], value[position + 1]
    swapped = value[:position] + b + a + value[position + 2:]
    assert (a == b) == is_valid_id_number(swapped, today=TODAY)
