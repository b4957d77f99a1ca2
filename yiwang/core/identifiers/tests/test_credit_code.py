import random

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from yiwang.core.identifiers.service import (
    CREDIT_CODE_ALPHABET,
    ORG_TYPES,
    CreditCode,
    InvalidIdentifier,
    generate_credit_code,
    is_valid_credit_code,
    validate_credit_code,
)

# Codes of real, publicly registered bodies (国家企业信用信息公示系统 and government sites).
PUBLISHED = [
    "91350100M000100Y43",
    "11100000000013127D",  # 公安部; often misquoted with a final C
    "91110108551385082Q",
    "12440600MB2C07549J",
]


def check_char(first17: str) -> str:
    """Independent restatement of GB 32100: weights 3^i mod 31, (sum + check) ≡ 0 mod 31."""
    total = sum(CREDIT_CODE_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return CREDIT_CODE_ALPHABET[-total % 31]


def failure(value) -> InvalidIdentifier:
    with pytest.raises(InvalidIdentifier) as info:
        validate_credit_code(value)
    return info.value


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_validate(code):
    assert validate_credit_code(code.lower()).value == code


def test_the_often_quoted_ministry_code_with_c_is_wrong():
    exc = failure("11100000000013127C")
    assert exc.part == "check"
    with translation.override("zh-hans"):
        assert str(exc.message) == "校验位错误：应为 D"


def test_parts_are_returned():
    assert validate_credit_code(" 91350100M000100Y43 ") == CreditCode(
        value="91350100M000100Y43", authority="9", org_type="1", region_code="350100",
        org_code="M000100Y4",
    )


@pytest.mark.parametrize(("value", "part"), [
    ("91350100M000100Y4", "length"),
    ("91350100M000100I43", "characters"),
    ("B1350100M000100Y43", "authority"),
    ("94350100M000100Y43", "org_type"),
    ("Y2350100M000100Y43", "org_type"),
    ("91990100M000100Y43", "region"),
])
def test_each_part_is_checked(value, part):
    assert failure(value).part == part


def test_forbidden_letters_are_named():
    exc = failure("91350100M0001O0S43")
    with translation.override("zh-hans"):
        assert "OS" in str(exc.message)


def test_org_code_check_digit_is_enforced_when_it_is_a_digit_or_x():
    # Change the organisation code's check digit and repair the final check character, so
    # only the GB 11714 check can notice.
    body = "91350100M000100Y" + "5"
    exc = failure(body + check_char(body))
    assert exc.part == "org_code"
    with translation.override("zh-hans"):
        assert str(exc.message) == "组织机构代码校验位错误：应为 4"


def test_org_code_ending_in_another_letter_is_not_checked_against_gb_11714():
    body = "91350100M000100YA"
    assert is_valid_credit_code(body + check_char(body))


@given(st.sampled_from(sorted(ORG_TYPES)), st.data(), st.randoms(use_true_random=False))
def test_generated_codes_validate(authority, data, rng):
    org_type = data.draw(st.sampled_from(sorted(ORG_TYPES[authority])))
    code = generate_credit_code("440300", authority, org_type, rng=rng)
    parsed = validate_credit_code(code)
    assert (parsed.authority, parsed.org_type, parsed.region_code) == (authority, org_type,
                                                                       "440300")
    assert code[17] == check_char(code[:17])


codes = st.randoms(use_true_random=False).map(lambda rng: generate_credit_code("110108", rng=rng))


@given(codes, st.integers(0, 17), st.sampled_from(CREDIT_CODE_ALPHABET))
def test_every_single_substitution_is_detected(code, position, char):
    if code[position] == char:
        char = CREDIT_CODE_ALPHABET[(CREDIT_CODE_ALPHABET.index(char) + 1) % 31]
    assert not is_valid_credit_code(code[:position] + char + code[position + 1:])


def test_generate_refuses_unknown_combinations():
    with pytest.raises(ValueError, match="organisation type"):
        generate_credit_code("110108", authority="9", org_type="9")
    with pytest.raises(ValueError, match="region_code"):
        generate_credit_code("1101", rng=random.Random(1))
