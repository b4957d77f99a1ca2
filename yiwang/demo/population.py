"""Synthetic people, enterprises and the city's departments for 示例市.

Everything is deterministic (seeded) and obviously synthetic: ID numbers use the sequence
numbers 900–999, which the demo reserves; phone numbers all start with 199 0000; names
come from a small fixed list of characters; every row carries ``synthetic=True``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅玉兰志强海燕文博雨欣子涵浩宇思远"
)


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    name_en: str
    # (code, name) in the department's order, head first: the loader numbers them so.
    positions: tuple[tuple[str, str], ...]


COMMON_POSITIONS = (
    ("head", "局长"),
    ("deputy", "副局长"),
    ("section_chief", "科长"),
    ("clerk", "工作人员"),
)
DEPARTMENTS = [
    DepartmentSpec(
        "zwfw",
        "政务服务中心",
        "Government Service Center",
        (("head", "主任"), ("deputy", "副主任"), ("window", "窗口受理员"), ("reviewer", "审批员")),
    ),
    DepartmentSpec(
        "scjg",
        "市场监管局",
        "Administration for Market Regulation",
        (*COMMON_POSITIONS, ("reviewer", "登记审批员"), ("inspector", "执法检查员")),
    ),
    DepartmentSpec(
        "rsj",
        "人社局",
        "Human Resources and Social Security Bureau",
        (*COMMON_POSITIONS, ("reviewer", "社保经办员")),
    ),
    DepartmentSpec(
        "swj", "税务局", "Taxation Bureau", (*COMMON_POSITIONS, ("reviewer", "税收管理员"))
    ),
    DepartmentSpec(
        "slj", "水务局", "Water Affairs Bureau", (*COMMON_POSITIONS, ("patrol", "巡河员"))
    ),
    DepartmentSpec(
        "cgj",
        "城管局",
        "Urban Management Bureau",
        (*COMMON_POSITIONS, ("dispatcher", "派遣员"), ("grid_inspector", "网格员")),
    ),
    DepartmentSpec(
        "bdc",
        "不动产登记中心",
        "Real Estate Registration Center",
        (("head", "主任"), ("deputy", "副主任"), ("reviewer", "登记审核员"), ("clerk", "工作人员")),
    ),
    DepartmentSpec(
        "gaj", "公安局", "Public Security Bureau", (*COMMON_POSITIONS, ("officer", "民警"))
    ),
    DepartmentSpec(
        "sthj",
        "生态环境局",
        "Ecology and Environment Bureau",
        (*COMMON_POSITIONS, ("inspector", "环境监察员")),
    ),
    DepartmentSpec(
        "zjj",
        "住建局",
        "Housing and Urban-Rural Development Bureau",
        (*COMMON_POSITIONS, ("inspector", "质量安全监督员")),
    ),
    DepartmentSpec(
        "zrzy",
        "自然资源局",
        "Natural Resources Bureau",
        (*COMMON_POSITIONS, ("surveyor", "测绘员")),
    ),
    DepartmentSpec(
        "wjw",
        "卫健委",
        "Health Commission",
        (("head", "主任"), ("deputy", "副主任"), ("section_chief", "科长"), ("clerk", "工作人员")),
    ),
]

# Categories of matters (事项/事件) and the departments that answer for them city-wide.
CATEGORIES = [  # (code, name, parent, kind)
    ("city", "城市管理事件", None, "event"),
    ("city.environment", "市容环境", "city", "event"),
    ("city.advertising", "宣传广告", "city", "event"),
    ("city.construction", "施工管理", "city", "event"),
    ("city.emergency", "突发事件", "city", "event"),
    ("city.street_order", "街面秩序", "city", "event"),
    ("city.street_order.vending", "占道经营", "city.street_order", "event"),
    ("city.water", "供排水设施", "city", "component"),
    ("city.pollution", "环境污染", "city", "event"),
    ("services", "政务服务事项", None, "service"),
    ("services.market", "市场主体登记", "services", "service"),
    ("services.social", "社会保障", "services", "service"),
    ("services.tax", "税费办理", "services", "service"),
    ("services.property", "不动产登记", "services", "service"),
]
RESPONSIBILITIES = [  # (department, position or "", category)
    ("cgj", "dispatcher", "city"),
    ("cgj", "", "city.environment"),
    ("cgj", "", "city.advertising"),
    ("cgj", "", "city.street_order"),
    ("zjj", "", "city.construction"),
    ("gaj", "", "city.emergency"),
    ("slj", "", "city.water"),
    ("sthj", "", "city.pollution"),
    ("scjg", "reviewer", "services.market"),
    ("rsj", "reviewer", "services.social"),
    ("swj", "reviewer", "services.tax"),
    ("bdc", "reviewer", "services.property"),
]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def synthetic_phone(n: int) -> str:
    """199 0000 nnnn: a block the demo uses for all its people, never a real subscriber."""
    return f"1990000{n:04d}"


def random_birth_date(rng: random.Random) -> date:
    return date(1945, 1, 1) + timedelta(days=rng.randrange(0, 365 * 75))


ENTERPRISE_WORDS = [
    "星辰",
    "启明",
    "恒信",
    "瑞丰",
    "嘉禾",
    "远航",
    "鼎盛",
    "华光",
    "青禾",
    "云帆",
    "博远",
    "立信",
    "天工",
    "聚贤",
    "万象",
    "和泰",
    "锦程",
    "新源",
    "德润",
    "友邦",
]
ENTERPRISE_TRADES = [
    ("科技", "信息技术"),
    ("餐饮", "餐饮服务"),
    ("建筑工程", "建筑业"),
    ("商贸", "批发零售"),
    ("物流", "交通运输"),
    ("文化传媒", "文化娱乐"),
    ("食品", "制造业"),
    ("物业管理", "房地产"),
    ("医疗器械", "制造业"),
    ("教育咨询", "教育"),
]
ENTERPRISE_KINDS = ["有限责任公司", "有限责任公司", "股份有限公司", "个人独资企业"]


def enterprise_name(rng: random.Random, district: str, index: int) -> tuple[str, str, str]:
    """(name, kind, industry); the index keeps names unique."""
    trade, industry = rng.choice(ENTERPRISE_TRADES)
    kind = rng.choice(ENTERPRISE_KINDS)
    word = ENTERPRISE_WORDS[index % len(ENTERPRISE_WORDS)]
    suffix = "" if index < len(ENTERPRISE_WORDS) else str(index // len(ENTERPRISE_WORDS) + 1)
    return f"示例市{district}{word}{suffix}{trade}{kind}", kind, industry


def registered_capital(rng: random.Random) -> Decimal:
    return Decimal(rng.choice((10, 50, 100, 200, 500, 1000, 3000)))
