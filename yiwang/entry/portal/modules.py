"""The public modules that are not built yet, and the life events of the home page.

Each unbuilt module has an honest "not yet available" (暂未开放) page that says what it will do,
in the words of the white paper, so that the navigation of the portal is complete from day one
and a visitor is never sent to a dead end.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class Module:
    slug: str
    name: Promise
    summary: Promise


UNBUILT: dict[str, Module] = {
    m.slug: m
    for m in [
        Module(
            "services",
            _("办事服务"),
            _(
                "一网通办服务目录将按个人和法人的生命周期事件(出生、上学、就业、婚育、置业、"
                "退休,企业开办、变更、注销等)汇集各部门的政务服务事项,提供办事指南、在线申报、"
                "材料复用和办理进度查询,让更多服务网上办、掌上办、一次办。"
            ),
        ),
    ]
}


@dataclass(frozen=True)
class LifeEvent:
    slug: str
    name: Promise
    hint: Promise


PERSONAL_EVENTS = [
    LifeEvent("birth", _("出生"), _("出生医学证明、户口登记、医保参保")),
    LifeEvent("school", _("上学"), _("入园入学、学籍、资助")),
    LifeEvent("work", _("就业"), _("求职登记、社保、职业培训")),
    LifeEvent("marriage", _("婚育"), _("婚姻登记、生育登记、育儿补贴")),
    LifeEvent("housing", _("置业"), _("不动产登记、公积金、落户")),
    LifeEvent("retirement", _("退休"), _("退休申请、养老金、医保待遇")),
]

ENTERPRISE_EVENTS = [
    LifeEvent("open", _("开办"), _("设立登记、刻章、税务登记、社保开户")),
    LifeEvent("change", _("变更"), _("名称、地址、法定代表人变更")),
    LifeEvent("permit", _("经营许可"), _("食品经营、建设工程等行政许可")),
    LifeEvent("close", pgettext_lazy("life event", "注销"), _("简易注销、清税、社保注销")),
]

LIFE_EVENTS = {e.slug: e for e in [*PERSONAL_EVENTS, *ENTERPRISE_EVENTS]}
