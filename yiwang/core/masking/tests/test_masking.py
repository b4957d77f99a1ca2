import random
from datetime import date

import pytest
from django.template import Context, Template
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from yiwang.core.identifiers.service import (
    PROVINCES,
    Sex,
    generate_id_number,
    generate_synthetic_id_number,
    is_valid_id_number,
)
from yiwang.core.masking.service import (
    mask_address,
    mask_credit_code,
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_text,
)

ID = generate_id_number("110101", date(1990, 3, 7), Sex.MALE, 777)


def test_id_number_keeps_address_code_and_last_four():
    masked = mask_id_number(ID)
    assert masked == ID[:6] + "********" + ID[-4:]
    assert "19900307" not in masked


def test_old_15_digit_id_number_hides_the_birth_date():
    assert mask_id_number("110101900307777") == "110101******777"


@pytest.mark.parametrize(("value", "expected"), [
    ("13812345678", "138****5678"),
    ("+86 138-1234-5678", "+86 138-****-5678"),
    ("010-12345678", "010-****5678"),
    ("12345", "***45"),
    ("110", "***"),
])
def test_phone(value, expected):
    assert mask_phone(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("张三", "张*"),
    ("王小明", "王**"),
    ("欧阳娜娜", "欧***"),
    ("张", "*"),
    ("买买提·艾力", "买**·**"),
    ("John Smith", "J*** S****"),
    ("", ""),
])
def test_name(value, expected):
    assert mask_name(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("北京市朝阳区建国路88号", "北京市朝阳区****"),
    ("上海市浦东新区世纪大道100号", "上海市浦东新区****"),
    ("广东省深圳市南山区科技园南路1号", "广东省深圳市南山区****"),
    ("江苏省苏州市昆山市玉山镇", "江苏省苏州市昆山市****"),
    ("新疆维吾尔自治区乌鲁木齐市天山区解放北路", "新疆维吾尔自治区乌鲁木齐市天山区****"),
    ("湖北省恩施土家族苗族自治州恩施市舞阳大道", "湖北省恩施土家族苗族自治州恩施市****"),
    ("北京市朝阳区建国路华贸市场", "北京市朝阳区****"),
    ("广东省东莞市南城街道", "广东省东莞市****"),
    ("浙江省杭州市西湖区", "浙江省杭州市西湖区"),
    ("建国路88号", "****"),
])
def test_address(value, expected):
    assert mask_address(value) == expected


def test_credit_code_and_email():
    assert mask_credit_code("91350100M000100Y43") == "91350100********43"
    assert mask_email("zhangsan@example.com") == "z***@example.com"
    assert mask_email("not-an-address") == "*" * len("not-an-address")


def test_text_masks_id_numbers_and_mobiles():
    text = f"公民 {ID} 手机 13812345678，备用 +86 139-1234-5678。"
    masked = mask_text(text)
    assert masked == (f"公民 {mask_id_number(ID)} 手机 138****5678，"
                      "备用 +86 139-****-5678。")


def test_text_masks_old_15_digit_numbers_and_lower_case_x():
    first17 = next(f"11010119900307{n:03d}" for n in range(1, 1000)
                   if is_valid_id_number(f"11010119900307{n:03d}X"))
    masked = mask_text(f"旧号 110101900307777 新号 {first17}x")
    assert "900307" not in masked
    assert "19900307" not in masked


@pytest.mark.parametrize("text", [
    "订单号 202301011234567890123 已支付",  # longer digit run
    "order 138123456789012 and 913812345678",  # mobiles inside longer runs
    "ts=1700000000000 took 13812ms",  # millisecond timestamp
    "request 20260101123045123 done",  # datetime-like 17 digits
    "SKU AB13812345678 shipped",  # letters glued to the number
])
def test_text_leaves_ordinary_numbers_alone(text):
    assert mask_text(text) == text


def test_text_leaves_18_digit_runs_with_a_wrong_check_digit_alone():
    wrong = ID[:17] + ("0" if ID[17] != "0" else "1")
    assert mask_text(f"no {wrong} here") == f"no {wrong} here"


@given(st.sampled_from(sorted(PROVINCES)), st.integers(1800, date.today().year - 1),
       st.integers(1, 12), st.integers(1, 31), st.integers(0, 999))
@example("11", 1990, 2, 30, 123)  # no such day
@example("11", 1990, 4, 31, 123)
@example("11", 1990, 3, 7, 0)  # sequence 000 is never issued
@example("11", 1899, 3, 7, 123)  # before 1900
def test_text_masks_exactly_the_id_numbers_identifiers_accepts(province, year, month, day,
                                                                sequence):
    first17 = f"{province}0101{year:04d}{month:02d}{day:02d}{sequence:03d}"
    for check in "0123456789X":
        value = first17 + check
        masked = mask_text(f"号码 {value} 已核验")
        assert (value not in masked) == is_valid_id_number(value), value


def test_text_masks_the_id_number_of_a_child_born_today():
    value = generate_id_number("110101", timezone.localdate(), Sex.FEMALE, 2)
    assert value not in mask_text(f"新生儿 {value}")


@given(st.text())
def test_text_never_raises_and_keeps_its_length(text):
    masked = mask_text(text)
    assert len(masked) == len(text)


@given(st.randoms(use_true_random=False), st.text(max_size=20), st.text(max_size=20))
def test_generated_id_numbers_in_text_are_always_masked(rng, before, after):
    value = generate_synthetic_id_number(rng, "440305")
    # Separate the number from its neighbours the way real text would.
    masked = mask_text(f"{before} {value} {after}")
    assert value not in masked
    assert mask_id_number(value) in masked


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.sampled_from("3456789"))
def test_every_mobile_number_is_masked(rest, second):
    number = "1" + second + rest
    assert mask_text(f"电话{number}。") == f"电话{number[:3]}****{number[-4:]}。"


@given(st.text())
def test_mask_functions_never_raise(text):
    for mask in (mask_id_number, mask_phone, mask_name, mask_address, mask_credit_code,
                 mask_email):
        assert isinstance(mask(text), str)


def test_template_filters():
    template = Template(
        "{% load masking %}{{ p.id|mask_id }}|{{ p.phone|mask_phone }}|{{ p.name|mask_name }}|"
        "{{ p.address|mask_address }}|{{ p.missing|mask_phone }}"
    )
    person = {"id": ID, "phone": "13812345678", "name": "张三",
              "address": "北京市朝阳区建国路88号", "missing": None}
    assert template.render(Context({"p": person})) == (
        f"{mask_id_number(ID)}|138****5678|张*|北京市朝阳区****|"
    )


def test_template_filters_keep_autoescaping():
    template = Template("{% load masking %}{{ name|mask_name }}")
    rendered = template.render(Context({"name": "<b>x</b>"}))
    assert rendered.startswith("&lt;")
    assert "<" not in rendered


def test_random_text_with_many_numbers_does_not_expose_ids():
    rng = random.Random(5)
    ids = [generate_synthetic_id_number(rng, "320505") for _ in range(20)]
    log = " ".join(f"user={i} amount={rng.randrange(10**6)}" for i in ids)
    masked = mask_text(log)
    assert not any(i in masked for i in ids)
