"""OCR of ID cards and business licences on synthetic documents; parsing and checks."""

from __future__ import annotations

import random
import threading

import pytest
from django.core.exceptions import ValidationError

from yiwang.core.identifiers import service as identifiers
from yiwang.enablement.ai import cards, engine, service, testing
from yiwang.enablement.ai.types import CardReading, FieldValue, OcrLine

PERSON = {"name": "欧阳明远", "sex": "女", "ethnicity": "汉", "birth": "1988-02-29",
          "address": "北京市东城区建国门内大街18号3号楼2单元1201室",
          "id_number": identifiers.generate_id_number(
              "110101", __import__("datetime").date(1988, 2, 29), identifiers.Sex.FEMALE,
              sequence=902)}


def line(text: str, x: float, y: float, w: float | None = None, h: float = 30,
         confidence: float = 0.99) -> OcrLine:
    width = w if w is not None else 30 * len(text)
    return OcrLine(text, confidence, (x, y, x + width, y + h),
                   ((x, y), (x + width, y), (x + width, y + h), (x, y + h)))


def card_lines(number: str, *, address_lines: tuple[str, ...] = ("北京市东城区建国门内",
                                                                 "大街18号")) -> list[OcrLine]:
    lines = [line("姓名", 60, 60), line("张三", 160, 58), line("性别男", 60, 130),
             line("民族", 300, 130), line("汉", 400, 128), line("出生1990年3月7日", 60, 195)]
    lines.append(line("住址" + address_lines[0], 60, 260))
    lines.extend(line(text, 160, 302 + 42 * i) for i, text in enumerate(address_lines[1:]))
    lines += [line("公民身份号码", 60, 440), line(number, 300, 434, h=36)]
    return lines


VALID = identifiers.generate_id_number("110101", __import__("datetime").date(1990, 3, 7),
                                       identifiers.Sex.MALE, sequence=123)


# --- reading rendered documents (runs the real OCR engine) ------------------------------------


def test_read_rendered_id_card() -> None:
    reading = service.read_id_card(testing.render_id_card(PERSON, noise=0.01, angle=1.5))
    assert reading.kind == "id_card"
    assert reading.values() == PERSON
    assert reading.problems == [] and reading.corrected == []
    assert all(0 < value.confidence <= 1 for value in reading.fields.values())
    assert service.compare_fields(reading, PERSON) == []


@pytest.mark.parametrize("individual", [False, True])
def test_read_rendered_business_licence(individual: bool) -> None:
    enterprise = testing.sample_enterprise(random.Random(7), individual=individual)
    reading = service.read_business_licence(
        testing.render_business_licence(enterprise, noise=0.01, angle=-1))
    expected = {name: enterprise[name] for name in service.LICENCE_FIELDS}
    assert service.compare_fields(reading, expected) == []
    assert reading.problems == []


def test_read_upside_down_id_card() -> None:
    from PIL import Image

    image = Image.open(__import__("io").BytesIO(testing.render_id_card(PERSON, noise=0.01)))
    out = __import__("io").BytesIO()
    image.rotate(180).save(out, "PNG")
    reading = service.read_id_card(out.getvalue())
    assert service.compare_fields(reading, PERSON) == []


@pytest.mark.parametrize("on_a4", [False, True])
def test_read_id_card_from_a_scanned_pdf(on_a4: bool) -> None:
    pdf = testing.scanned_pdf(testing.render_id_card(PERSON, noise=0.01, angle=1), on_a4=on_a4)
    assert pdf.startswith(b"%PDF-")
    reading = service.read_id_card(pdf)
    assert service.compare_fields(reading, PERSON) == []


def test_a_pdf_without_a_scan_is_refused_plainly() -> None:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(ValidationError) as refused:
        service.read_id_card(out.getvalue())
    assert refused.value.code == "pdf_no_image"
    assert "不是扫描件" in refused.value.messages[0]


def test_trim_margins_finds_the_card_on_the_page() -> None:
    from PIL import Image

    page = Image.new("RGB", (1240, 1754), (252, 252, 250))
    page.paste((120, 120, 120), (100, 150, 956, 690))
    trimmed = engine.trim_margins(page)
    assert abs(trimmed.size[0] - 856) <= 80 and abs(trimmed.size[1] - 540) <= 80
    blank = Image.new("RGB", (300, 200), (255, 255, 255))
    assert engine.trim_margins(blank).size == (300, 200)


def test_ocr_text_lines_top_to_bottom() -> None:
    lines = service.ocr_text(testing.render_id_card(PERSON))
    texts = [item.text for item in lines]
    assert any("公民身份号码" in text for text in texts)
    assert lines[0].centre_y <= lines[-1].centre_y


@pytest.mark.parametrize("content", [b"", b"not an image", b"<svg/>", b"\xff\xd8\xff" + b"0" * 50])
def test_not_an_image(content: bytes) -> None:
    with pytest.raises(ValidationError):
        service.ocr_text(content)


def test_engine_is_created_once_across_threads() -> None:
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(engine.get_engine()))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(item) for item in seen}) == 1


# --- parsing OCR lines ------------------------------------------------------------------------


def test_parse_labels_values_and_two_line_address() -> None:
    reading = cards.parse_id_card(card_lines(VALID))
    assert reading.values() == {"name": "张三", "sex": "男", "ethnicity": "汉",
                                "birth": "1990-03-07", "address": "北京市东城区建国门内大街18号",
                                "id_number": VALID}


def test_parse_rotated_card() -> None:
    import math

    angle = math.radians(3)

    def turn(item: OcrLine) -> OcrLine:
        moved = tuple((x * math.cos(angle) - y * math.sin(angle),
                       x * math.sin(angle) + y * math.cos(angle)) for x, y in item.points)
        xs, ys = [p[0] for p in moved], [p[1] for p in moved]
        return OcrLine(item.text, item.confidence, (min(xs), min(ys), max(xs), max(ys)), moved)

    reading = cards.parse_id_card([turn(item) for item in card_lines(VALID)])
    assert reading.get("sex") == "男" and reading.get("ethnicity") == "汉"
    assert reading.get("address") == "北京市东城区建国门内大街18号"


def test_letter_o_for_zero_is_corrected_when_the_check_verifies() -> None:
    reading = cards.parse_id_card(card_lines(VALID.replace("0", "O", 1)))
    assert reading.get("id_number") == VALID
    assert reading.corrected == ["id_number"] and reading.problems == []


def test_two_misreadings_are_not_corrected() -> None:
    number = VALID.replace("0", "O", 2)
    reading = cards.parse_id_card(card_lines(number))
    assert reading.get("id_number") == number and reading.corrected == []
    assert reading.problems and reading.fields["id_number"].confidence <= 0.3


def test_digit_slip_corrected_only_when_unique() -> None:
    for position in range(17):
        for wrong in cards._DIGIT_CONFUSIONS.get(VALID[position], ""):
            misread = VALID[:position] + wrong + VALID[position + 1:]
            number, valid, corrected = cards.check_id_number(misread)
            # Either the unique verifying candidate is taken, or the number is left as read
            # and flagged: never a number whose check character fails.
            assert (valid and corrected and identifiers.is_valid_id_number(number)) or (
                not valid and number == misread)


def test_id_number_found_without_its_label() -> None:
    lines = [item for item in card_lines(VALID) if item.text != "公民身份号码"]
    assert cards.parse_id_card(lines).get("id_number") == VALID


def test_missing_birth_comes_from_a_valid_number() -> None:
    lines = [item for item in card_lines(VALID) if not item.text.startswith("出生")]
    reading = cards.parse_id_card(lines)
    assert reading.get("birth") == "1990-03-07"
    assert reading.fields["birth"].confidence == 0.5


def test_birth_disagreeing_with_number_is_a_problem() -> None:
    lines = [line("出生1991年3月7日", 60, 195) if item.text.startswith("出生") else item
             for item in card_lines(VALID)]
    assert any("出生日期" in problem for problem in cards.parse_id_card(lines).problems)


def test_credit_code_confusion_corrected() -> None:
    code = identifiers.generate_credit_code("110101", rng=random.Random(3))
    assert cards.check_credit_code(code) == (code, True, False)
    if "0" in code:
        misread = code.replace("0", "O", 1)
        assert cards.check_credit_code(misread) == (code, True, True)
    assert cards.check_credit_code("91110101ABC")[1] is False


def test_licence_two_columns_split_by_labels() -> None:
    code = identifiers.generate_credit_code("110101", rng=random.Random(4))
    lines = [line("统一社会信用代码", 80, 80), line(code, 80, 120),
             line("名称", 90, 360), line("示例科技有限公司", 280, 360), line("注册资本", 740, 360),
             line("100万元", 930, 360), line("类型", 90, 440),
             line("有限责任公司（自然人独资）", 280, 440), line("成立日期", 740, 440),
             line("2019年O5月06日", 930, 440), line("法定代表人", 90, 520), line("李四", 280, 520),
             line("经营范围", 90, 600), line("技术开发；销售住所", 280, 600, w=560),
             line("示例市示例区人民路", 930, 600), line("品。", 280, 642), line("8号", 930, 642)]
    reading = cards.parse_business_licence(lines)
    assert reading.values() == {"credit_code": code, "name": "示例科技有限公司",
                                "kind": "有限责任公司（自然人独资）",
                                "legal_representative": "李四",
                                "address": "示例市示例区人民路8号",
                                "registered_on": "2019-05-06"}


# --- comparing ---------------------------------------------------------------------------------


def test_compare_normalises_width_spaces_and_dates() -> None:
    reading = CardReading("id_card", {
        "name": FieldValue("张 三", 0.9), "id_number": FieldValue("11010119900307123x", 0.9),
        "birth": FieldValue("1990-03-07", 0.9), "address": FieldValue("示例路１号", 0.9)})
    assert service.compare_fields(reading, {
        "name": "张三", "id_number": "11010119900307123X", "birth": "1990年3月7日",
        "address": "示例路1号"}) == []
    mismatches = service.compare_fields(reading, {"name": "李四", "sex": "男"})
    assert [(m.field, m.read, m.expected) for m in mismatches] == [
        ("name", "张 三", "李四"), ("sex", "", "男")]


def test_security_print_read_inside_spaced_labels() -> None:
    # OCR reads the guilloche between the letters of 出　　生 / 住　　址 as 一 or a dot.
    lines = [line("出一生1990年3月7日", 60, 195) if item.text.startswith("出生")
             else line("住．址一北京市东城区建国门内", 60, 260) if item.text.startswith("住址")
             else item for item in card_lines(VALID)]
    reading = cards.parse_id_card(lines)
    assert reading.get("birth") == "1990-03-07"
    assert reading.fields["birth"].confidence > 0.5  # read from the card, not the number
    assert reading.get("address") == "北京市东城区建国门内大街18号"
