from datetime import date

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import translation

from yiwang.core.identifiers.fields import (
    CreditCodeFormField,
    IdNumberFormField,
    validate_credit_code_django,
    validate_id_number_django,
)
from yiwang.core.identifiers.service import Sex, generate_id_number

VALID_ID = generate_id_number("110101", date(1990, 3, 7), Sex.MALE, 425)


class ApplicantForm(forms.Form):
    id_number = IdNumberFormField()
    company = CreditCodeFormField(required=False)


def test_form_cleans_to_the_normalised_values():
    form = ApplicantForm(data={"id_number": f" {VALID_ID.lower()} ",
                               "company": "91350100m000100y43"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"id_number": VALID_ID, "company": "91350100M000100Y43"}


def test_form_shows_the_part_specific_message():
    wrong = VALID_ID[:17] + ("0" if VALID_ID[17] != "0" else "1")
    with translation.override("zh-hans"):
        form = ApplicantForm(data={"id_number": wrong})
        assert not form.is_valid()
        assert form.errors["id_number"] == [f"校验位错误：应为 {VALID_ID[17]}"]
        assert form.errors.as_data()["id_number"][0].code == "check"


def test_required_message_is_chinese():
    with translation.override("zh-hans"):
        form = ApplicantForm(data={})
        assert not form.is_valid()
        assert form.errors["id_number"] == ["请输入身份证号码"]


def test_validators_raise_validation_error_with_the_failing_part_as_code():
    with pytest.raises(ValidationError) as info:
        validate_id_number_django("11010120230230001X")
    assert info.value.code == "birth_date"
    with translation.override("zh-hans"):
        assert info.value.messages == ["出生日期无效：20230230 不是真实日期"]
    with pytest.raises(ValidationError) as info:
        validate_credit_code_django("91350100M000100Y44")
    assert info.value.code == "check"
    validate_id_number_django(VALID_ID)
    validate_credit_code_django("91350100M000100Y43")
