"""Synthetic documents for tests, the benchmark and the end-to-end test.

:func:`render_id_card` draws the front of a resident ID card (居民身份证人像面) and
:func:`render_business_licence` a business licence (营业执照), with the fields where the real
documents have them, in the CJK font wqy-zenhei (Debian ``fonts-wqy-zenhei``). The people
and companies are invented: use :func:`sample_person` / :func:`sample_enterprise` for
values, with ID numbers and credit codes that pass their checks.
"""

from __future__ import annotations

import io
import math
import random
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from yiwang.core.identifiers import service as identifiers

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

# ID card 85.6 × 54 mm at 10 px/mm; the business licence (A3-like landscape) scaled down.
CARD_SIZE = (856, 540)
LICENCE_SIZE = (1400, 990)
LABEL_BLUE = (38, 110, 170)
INK = (20, 20, 20)

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯"
            "邓曹彭曾肖田董袁潘于蒋蔡余杜叶程")
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红梅玉志海燕文博雨欣子涵浩宇思远"
ETHNICITIES = ("汉", "汉", "汉", "汉", "回", "满", "蒙古", "壮", "苗", "维吾尔", "土家", "朝鲜")
DISTRICTS = (("110101", "北京市东城区"), ("110102", "北京市西城区"), ("110105", "北京市朝阳区"),
             ("310104", "上海市徐汇区"), ("440106", "广州市天河区"), ("330106", "杭州市西湖区"))
STREETS = ("建国门内大街", "朝阳门北大街", "和平里东街", "复兴路", "人民路", "解放大道",
           "中山北路", "文三路", "天河北路", "长安街", "南京西路", "学院路")
WORDS = ("星辰", "启明", "恒信", "瑞丰", "嘉禾", "远航", "鼎盛", "华光", "青禾", "云帆")
TRADES = ("科技", "餐饮", "商贸", "物流", "文化传媒", "物业管理", "教育咨询")
KINDS = ("有限责任公司（自然人投资或控股）", "有限责任公司（自然人独资）", "股份有限公司（非上市）",
         "个人独资企业")


@lru_cache(maxsize=16)
def font(size: int) -> Any:
    return ImageFont.truetype(FONT_PATH, size)


# --- sample values ------------------------------------------------------------------------------


def sample_person(rng: random.Random) -> dict[str, str]:
    """Fields of an invented person: name, sex, ethnicity, birth, address, id_number."""
    region, place = rng.choice(DISTRICTS)
    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    sex = rng.choice(("男", "女"))
    number = identifiers.generate_id_number(
        region, birth, identifiers.Sex.MALE if sex == "男" else identifiers.Sex.FEMALE, rng=rng)
    street = rng.choice(STREETS)
    address = (f"{place}{street}{rng.randrange(1, 300)}号"
               + rng.choice(("", f"{rng.randrange(1, 30)}号楼{rng.randrange(1, 6)}单元"
                                 f"{rng.randrange(101, 2400)}室")))
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return {"name": name, "sex": sex, "ethnicity": rng.choice(ETHNICITIES),
            "birth": birth.isoformat(), "address": address, "id_number": number}


def sample_enterprise(rng: random.Random, *, individual: bool = False) -> dict[str, str]:
    """Fields of an invented business: credit_code, name, kind, legal_representative,
    address, registered_on (and capital); ``individual`` makes a 个体工商户."""
    region, place = rng.choice(DISTRICTS)
    person = sample_person(rng)
    started = date(2005, 1, 1) + timedelta(days=rng.randrange(365 * 20))
    word, trade = rng.choice(WORDS), rng.choice(TRADES)
    if individual:
        return {"credit_code": identifiers.generate_credit_code(region, "9", "2", rng=rng),
                "name": f"{place[3:]}{word}{trade}店", "kind": "个体工商户",
                "legal_representative": person["name"],
                "address": f"{place}{rng.choice(STREETS)}{rng.randrange(1, 300)}号",
                "registered_on": started.isoformat(), "capital": ""}
    return {"credit_code": identifiers.generate_credit_code(region, "9", "1", rng=rng),
            "name": f"{place[:3]}{word}{trade}有限公司", "kind": rng.choice(KINDS[:3]),
            "legal_representative": person["name"],
            "address": f"{place}{rng.choice(STREETS)}{rng.randrange(1, 300)}号"
                       f"{rng.randrange(1, 20)}层{rng.randrange(101, 1999)}室",
            "registered_on": started.isoformat(),
            "capital": f"{rng.choice((10, 50, 100, 200, 500, 1000))}万元"}


# --- drawing ------------------------------------------------------------------------------------


def _background(size: tuple[int, int], rng: random.Random, tint: tuple[int, int, int]) -> Any:
    width, height = size
    image = Image.new("RGB", size, (250, 250, 248))
    draw = ImageDraw.Draw(image)
    for y in range(height):  # a soft vertical gradient
        t = y / height
        colour = tuple(int(250 - (250 - c) * 0.35 * (1 - t)) for c in tint)
        draw.line([(0, y), (width, y)], fill=colour)
    # Faint guilloche-like waves, as on the security print.
    for k in range(14):
        phase = rng.random() * math.tau
        amp = 6 + rng.random() * 10
        base = height * (k + 0.5) / 14
        points = [(x, base + amp * math.sin(x / 37 + phase)) for x in range(0, width, 6)]
        draw.line(points, fill=tuple(min(255, c + 60) for c in tint), width=1)
    return image


def _finish(image: Any, *, noise: float, angle: float, rng: random.Random) -> bytes:
    if noise:
        import numpy as np

        generator = np.random.default_rng(rng.randrange(2**32))
        array = np.asarray(image).astype(np.float32)
        array += generator.normal(0, 255 * noise, array.shape)
        image = Image.fromarray(np.clip(array, 0, 255).astype("uint8"))
        image = image.filter(ImageFilter.GaussianBlur(radius=min(1.2, noise * 8)))
    if angle:
        image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True,
                             fillcolor=(120, 120, 120))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _spaced(text: str) -> str:
    """Labels printed with wide letter spacing (名　　称)."""
    return "　".join(text) if len(text) == 2 else text


def render_id_card(fields: dict[str, str], *, noise: float = 0, angle: float = 0,
                   seed: int = 0) -> bytes:
    """A PNG of the front of a resident ID card with ``fields`` (name, sex, ethnicity,
    birth as ``YYYY-MM-DD``, address, id_number). ``noise`` (0–0.1) adds sensor noise and
    blur, ``angle`` rotates the card (degrees) on a grey table."""
    rng = random.Random(seed)  # noqa: S311 - synthetic pictures, not secrets
    image = _background(CARD_SIZE, rng, (170, 200, 225))
    draw = ImageDraw.Draw(image)
    label, value = font(26), font(30)
    left, value_x = 60, 160

    def put_label(x: float, y: float, text: str) -> None:
        draw.text((x, y), text, font=label, fill=LABEL_BLUE)

    put_label(left, 62, _spaced("姓名"))
    draw.text((value_x, 58), fields.get("name", ""), font=font(34), fill=INK)
    put_label(left, 130, _spaced("性别"))
    draw.text((value_x, 127), fields.get("sex", ""), font=value, fill=INK)
    put_label(300, 130, _spaced("民族"))
    draw.text((400, 127), fields.get("ethnicity", ""), font=value, fill=INK)
    put_label(left, 195, _spaced("出生"))
    birth = fields.get("birth", "")
    if birth:
        year, month, day = birth.split("-")
        draw.text((value_x, 192), year, font=value, fill=INK)
        put_label(value_x + 72, 195, "年")
        draw.text((value_x + 112, 192), str(int(month)), font=value, fill=INK)
        put_label(value_x + 152, 195, "月")
        draw.text((value_x + 192, 192), str(int(day)), font=value, fill=INK)
        put_label(value_x + 232, 195, "日")
    put_label(left, 262, _spaced("住址"))
    address = fields.get("address", "")
    per_line = 11
    for number, start in enumerate(range(0, len(address), per_line)):
        draw.text((value_x, 258 + number * 42), address[start:start + per_line], font=value,
                  fill=INK)
    put_label(left, 440, "公民身份号码")
    draw.text((300, 434), fields.get("id_number", ""), font=font(36), fill=INK)
    # The photograph: a grey head and shoulders.
    px, py = 590, 60
    draw.rectangle([px, py, px + 210, py + 260], fill=(225, 228, 232))
    draw.ellipse([px + 60, py + 40, px + 150, py + 150], fill=(150, 150, 155))
    draw.pieslice([px + 20, py + 150, px + 190, py + 330], 180, 360, fill=(150, 150, 155))
    return _finish(image, noise=noise, angle=angle, rng=rng)


def _date_cn(text: str) -> str:
    year, month, day = text.split("-")
    return f"{year}年{int(month):02d}月{int(day):02d}日"


def render_business_licence(fields: dict[str, str], *, noise: float = 0, angle: float = 0,
                            seed: int = 0) -> bytes:
    """A PNG of a business licence (营业执照) with ``fields`` (credit_code, name, kind,
    legal_representative, address, registered_on as ``YYYY-MM-DD``, capital). A 个体工商户
    (``kind == "个体工商户"``) gets its own labels (经营者, 经营场所, 注册日期)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic pictures, not secrets
    image = _background(LICENCE_SIZE, rng, (235, 215, 170))
    draw = ImageDraw.Draw(image)
    width, height = LICENCE_SIZE
    border = (150, 40, 30)
    draw.rectangle([20, 20, width - 20, height - 20], outline=border, width=6)
    draw.rectangle([34, 34, width - 34, height - 34], outline=border, width=2)
    individual = fields.get("kind") == "个体工商户"
    label, value = font(30), font(30)
    draw.text((80, 80), "统一社会信用代码", font=font(26), fill=INK)
    draw.text((80, 118), fields.get("credit_code", ""), font=font(32), fill=INK)
    title = font(96)
    text = "营 业 执 照"
    box = draw.textbbox((0, 0), text, font=title)
    draw.text(((width - (box[2] - box[0])) / 2, 150), text, font=title, fill=(160, 20, 20))
    draw.text((width / 2 - 60, 270), "（副　本）", font=font(30), fill=INK)
    # QR-code-like square, top right.
    qx, qy = width - 230, 70
    for i in range(21):
        for j in range(21):
            if rng.random() < 0.5 or (i < 7 and j < 7):
                draw.rectangle([qx + i * 7, qy + j * 7, qx + i * 7 + 6, qy + j * 7 + 6],
                               fill=INK)

    def field(x: int, y: int, name: str, content: str, wrap: int = 16) -> None:
        draw.text((x, y), _spaced(name) if len(name) == 2 else name, font=label, fill=INK)
        for number, start in enumerate(range(0, len(content), wrap)):
            draw.text((x + 190, y + number * 44), content[start:start + wrap], font=value,
                      fill=INK)

    top, step = 360, 78
    if individual:
        field(90, top, "名称", fields.get("name", ""))
        field(90, top + step, "类型", fields.get("kind", ""))
        field(90, top + 2 * step, "经营者", fields.get("legal_representative", ""))
        field(90, top + 3 * step, "经营范围", "餐饮服务；食品销售。", 14)
        field(740, top, "组成形式", "个人经营", 14)
        field(740, top + step, "注册日期", _date_cn(fields.get("registered_on", "2020-01-01")))
        field(740, top + 2 * step, "经营场所", fields.get("address", ""), 14)
    else:
        field(90, top, "名称", fields.get("name", ""))
        field(90, top + step, "类型", fields.get("kind", ""))
        field(90, top + 2 * step, "法定代表人", fields.get("legal_representative", ""))
        field(90, top + 3 * step, "经营范围", "技术开发、技术咨询；销售日用品。", 14)
        field(740, top, "注册资本", fields.get("capital", "") or "100万元", 14)
        field(740, top + step, "成立日期", _date_cn(fields.get("registered_on", "2020-01-01")))
        field(740, top + 2 * step, "营业期限", "长期", 14)
        field(740, top + 3 * step, "住所", fields.get("address", ""), 14)
    draw.text((800, 800), "登记机关", font=label, fill=INK)
    registered = fields.get("registered_on", "2020-01-01")
    draw.text((880, 880), _date_cn(registered), font=value, fill=INK)
    seal = (200, 30, 30)
    draw.ellipse([960, 740, 1160, 940], outline=seal, width=6)
    draw.regular_polygon((1060, 840, 30), 5, fill=seal)
    return _finish(image, noise=noise, angle=angle, rng=rng)


def scanned_pdf(image: bytes, *, on_a4: bool = False, dpi: int = 150) -> bytes:
    """A PDF as a scanner writes it: one page holding one picture (``image``, PNG or JPEG
    bytes). ``on_a4`` puts the picture on a white A4 page at ``dpi``, as when a card is laid
    on the glass of a flatbed scanner."""
    picture = Image.open(io.BytesIO(image)).convert("RGB")
    if on_a4:
        page = Image.new("RGB", (round(8.27 * dpi), round(11.69 * dpi)), (252, 252, 250))
        page.paste(picture, (round(0.8 * dpi), round(1.0 * dpi)))
        picture = page
    out = io.BytesIO()
    picture.save(out, "PDF", resolution=float(dpi))
    return out.getvalue()


def street_video(path: str, *, seconds: int = 60, fps: int = 2, size: tuple[int, int] = (320, 240),
                 objects: tuple[tuple[float, tuple[int, int, int, int], tuple[int, int, int]], ...]
                 = (), walkers: int = 0, seed: int = 1) -> str:
    """Write a synthetic street camera's video (MJPEG AVI) to ``path``: road above, pavement
    below (y ≥ half the height), sensor noise, ``walkers`` people crossing the pavement (moving:
    not static objects), and ``objects`` — ``(arrives at second, (x, y, w, h), BGR colour)`` —
    that stay once they arrive (a stall, a pile of materials). Returns ``path``."""
    import cv2
    import numpy as np

    width, height = size
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    rng = np.random.default_rng(seed)
    for n in range(seconds * fps):
        t = n / fps
        frame = np.full((height, width, 3), (120, 120, 120), np.uint8)
        frame[height // 2:] = (150, 155, 160)
        cv2.line(frame, (0, height // 4), (width, height // 4), (230, 230, 230), 2)
        for arrives, (x, y, w, h), colour in objects:
            if t >= arrives:
                cv2.rectangle(frame, (x, y), (x + w, y + h), colour, -1)
                cv2.rectangle(frame, (x + 5, y + h), (x + w - 5, y + h + h // 2), (20, 20, 20), -1)
        for k in range(walkers):
            speed = 30 + 10 * k
            x = int((t * speed + 97 * k) % (width + 40)) - 20
            y = height // 2 + 20 + (k * 37) % (height // 2 - 50)
            cv2.rectangle(frame, (x, y), (x + 8, y + 24), (60 + 30 * k % 120, 40, 40), -1)
        noise = rng.normal(0, 2, frame.shape)
        writer.write(np.clip(frame + noise, 0, 255).astype(np.uint8))
    writer.release()
    return path
