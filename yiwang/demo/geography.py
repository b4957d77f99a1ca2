"""The synthetic geography of 示例市 (Shili City): a region tree whose polygons tile the city.

Everything is generated from a fixed seed, so every run produces the same city: loading is
an idempotent upsert, and a load interrupted at any point completes on the next run.

The city occupies a rectangle split into 2 x 2 districts; each district into 3 streets
(vertical strips); each street into 3 or 4 communities (horizontal bands); each community
into 5 x 2 grid cells. Inside a street the cell corners are jittered (the street's outline
stays straight), so the cells look like city blocks while still tiling exactly: every
polygon is built from the same shared corner points.

Codes follow GB/T 2260 and the statistical division code: the city uses the prefecture
code 99 under province 33, which no real city has, so synthetic ID numbers pass the
GB 11643 checks without belonging to a real place.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import Polygon, mapping
from shapely.ops import unary_union

SEED = 20261127
PROVINCE = ("330000000000", "示例省", "Shili Province")
CITY = ("339900000000", "示例市", "Shili City")
WEST, SOUTH, EAST, NORTH = 120.00, 30.10, 120.48, 30.42

DISTRICTS = [  # (county code, name, English name)
    ("02", "青山区", "Qingshan District"),
    ("03", "临江区", "Linjiang District"),
    ("04", "南湖区", "Nanhu District"),
    ("05", "高新区", "Gaoxin District"),
]
STREET_NAMES = [
    "人民路街道",
    "文昌街道",
    "东湖街道",
    "望江街道",
    "白塔街道",
    "城南街道",
    "北山街道",
    "清河街道",
    "长乐街道",
    "新华街道",
    "梧桐街道",
    "云栖街道",
]
STREET_NAMES_EN = [
    "Renmin Road",
    "Wenchang",
    "Donghu",
    "Wangjiang",
    "Baita",
    "Chengnan",
    "Beishan",
    "Qinghe",
    "Changle",
    "Xinhua",
    "Wutong",
    "Yunqi",
]
COMMUNITY_SUFFIXES = ["社区", "社区", "社区", "村"]
COMMUNITY_STEMS = [
    "和平",
    "幸福",
    "光明",
    "锦绣",
    "春晖",
    "翠苑",
    "丰收",
    "桂花",
    "安居",
    "兴旺",
    "景园",
    "明珠",
    "朝阳",
    "枫林",
    "金桥",
    "玉泉",
    "松涛",
    "海棠",
    "滨江",
    "银湖",
    "长青",
    "百合",
    "紫荆",
    "星光",
    "同心",
    "秀水",
    "杏坛",
    "蓝天",
    "荷塘",
    "梅园",
    "竹溪",
    "鹿鸣",
    "书香",
    "福寿",
    "泰和",
    "龙井",
    "柳岸",
    "芳草",
    "晨曦",
    "宝石",
]
COMMUNITY_STEMS_EN = ["Heping", "Xingfu", "Guangming", "Jinxiu", "Chunhui", "Cuiyuan",
                      "Fengshou", "Guihua", "Anju", "Xingwang", "Jingyuan", "Mingzhu",
                      "Chaoyang", "Fenglin", "Jinqiao", "Yuquan", "Songtao", "Haitang",
                      "Binjiang", "Yinhu", "Changqing", "Baihe", "Zijing", "Xingguang",
                      "Tongxin", "Xiushui", "Xingtan", "Lantian", "Hetang", "Meiyuan",
                      "Zhuxi", "Luming", "Shuxiang", "Fushou", "Taihe", "Longjing", "Liu'an",
                      "Fangcao", "Chenxi", "Baoshi"]
GRID_COLS, GRID_ROWS_PER_COMMUNITY = 5, 2
COMMUNITIES_PER_STREET = [4, 3, 3, 4, 3, 3, 4, 3, 3, 4, 3, 3]  # 40 in all


@dataclass
class Area:
    code: str
    name: str
    name_en: str
    level: str
    parent_code: str | None
    geometry: dict[str, Any] = field(default_factory=dict)


@dataclass
class City:
    regions: list[Area]
    grids: list[Area]

    def of_level(self, level: str) -> list[Area]:
        return [r for r in self.regions if r.level == level]


def _geojson(shape: Any) -> dict[str, Any]:
    geometry = mapping(shape)
    return {"type": geometry["type"], "coordinates": _lists(geometry["coordinates"])}


def _lists(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_lists(v) for v in value]
    return round(value, 6)


def _street_cells(
    rng: random.Random, box: tuple[float, float, float, float], rows: int
) -> list[list[Polygon]]:
    """Jittered cells of one street: cells[row][col], rows counted from the north."""
    west, south, east, north = box
    dx, dy = (east - west) / GRID_COLS, (north - south) / rows
    corners: dict[tuple[int, int], tuple[float, float]] = {}
    for i in range(GRID_COLS + 1):
        for j in range(rows + 1):
            x, y = west + i * dx, north - j * dy
            if 0 < i < GRID_COLS:
                x += rng.uniform(-0.25, 0.25) * dx
            if 0 < j < rows:
                y += rng.uniform(-0.25, 0.25) * dy
            corners[(i, j)] = (round(x, 6), round(y, 6))
    return [
        [
            Polygon(
                [
                    corners[(i, j)],
                    corners[(i + 1, j)],
                    corners[(i + 1, j + 1)],
                    corners[(i, j + 1)],
                    corners[(i, j)],
                ]
            )
            for i in range(GRID_COLS)
        ]
        for j in range(rows)
    ]


def build_city() -> City:
    """Generate the whole city, deterministically."""
    rng = random.Random(SEED)
    regions: list[Area] = []
    grids: list[Area] = []
    mid_x, mid_y = (WEST + EAST) / 2, (SOUTH + NORTH) / 2
    district_boxes = [
        (WEST, mid_y, mid_x, NORTH),
        (mid_x, mid_y, EAST, NORTH),
        (WEST, SOUTH, mid_x, mid_y),
        (mid_x, SOUTH, EAST, mid_y),
    ]
    city_code = CITY[0]
    street_no = community_no = 0
    district_shapes = []
    for (county, d_name, d_en), (dw, ds, de, dn) in zip(DISTRICTS, district_boxes, strict=True):
        d_code = city_code[:4] + county + "000000"
        street_shapes = []
        width = (de - dw) / 3
        for s in range(3):
            s_code = d_code[:6] + f"{s + 1:03d}" + "000"
            s_box = (dw + s * width, ds, dw + (s + 1) * width, dn)
            n_comm = COMMUNITIES_PER_STREET[street_no]
            cells = _street_cells(rng, s_box, n_comm * GRID_ROWS_PER_COMMUNITY)
            community_shapes = []
            for c in range(n_comm):
                stem = COMMUNITY_STEMS[community_no]
                stem_en = COMMUNITY_STEMS_EN[community_no]
                suffix = COMMUNITY_SUFFIXES[community_no % 4] if s == 2 else "社区"
                kind_en = "Village" if suffix == "村" else "Community"
                c_code = s_code[:9] + f"{c + 1:03d}"
                rows = cells[c * GRID_ROWS_PER_COMMUNITY : (c + 1) * GRID_ROWS_PER_COMMUNITY]
                grid_no = 0
                for row in rows:
                    for cell in row:
                        grid_no += 1
                        grids.append(
                            Area(
                                code=f"{c_code}{grid_no:03d}",
                                name=f"{stem}{suffix}第{grid_no}网格",
                                name_en=f"{stem_en} {kind_en} Grid {grid_no}",
                                level="grid",
                                parent_code=c_code,
                                geometry=_geojson(cell),
                            )
                        )
                shape = unary_union([cell for row in rows for cell in row])
                community_shapes.append(shape)
                regions.append(
                    Area(
                        c_code,
                        f"{stem}{suffix}",
                        f"{stem_en} {kind_en}",
                        "community",
                        s_code,
                        _geojson(shape),
                    )
                )
                community_no += 1
            street_shape = unary_union(community_shapes)
            street_shapes.append(street_shape)
            regions.append(
                Area(
                    s_code,
                    STREET_NAMES[street_no],
                    f"{STREET_NAMES_EN[street_no]} Subdistrict",
                    "street",
                    d_code,
                    _geojson(street_shape),
                )
            )
            street_no += 1
        district_shape = unary_union(street_shapes)
        district_shapes.append(district_shape)
        regions.append(Area(d_code, d_name, d_en, "district", city_code, _geojson(district_shape)))
    city_shape = unary_union(district_shapes)
    regions.append(Area(city_code, CITY[1], CITY[2], "city", PROVINCE[0], _geojson(city_shape)))
    regions.append(
        Area(
            PROVINCE[0],
            PROVINCE[1],
            PROVINCE[2],
            "province",
            None,
            _geojson(city_shape.envelope.buffer(0.05, join_style="mitre")),
        )
    )
    order = {"province": 0, "city": 1, "district": 2, "street": 3, "community": 4}
    regions.sort(key=lambda r: (order[r.level], r.code))
    return City(regions=regions, grids=grids)
