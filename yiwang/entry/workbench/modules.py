"""The officials' modules of the workbench side navigation, built or not yet.

A built module links to its page (``url_name``); an unbuilt one to the workbench's honest
"not yet available" (暂未开放) page, which says what it will do. A module with a
``permission`` is listed only to the users who hold it (its pages refuse the others).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class Module:
    slug: str
    name: Promise
    summary: Promise
    group: str  # a key of GROUPS
    url_name: str | None = None  # None: not built yet
    # "app_label.codename" needed to see it (or a tuple: any of them); None: every official
    permission: str | tuple[str, ...] | None = None

    @property
    def built(self) -> bool:
        return self.url_name is not None

    def visible_to(self, user: Any) -> bool:
        if self.permission is None:
            return True
        wanted = (self.permission,) if isinstance(self.permission, str) else self.permission
        return bool(user) and any(user.has_perm(p) for p in wanted)


SERVE, GOVERN, COOPERATE, PLATFORM = "serve", "govern", "cooperate", "platform"
GROUPS: dict[str, Promise] = {
    SERVE: _("一网通办"),
    GOVERN: _("一网统管"),
    COOPERATE: _("一网协同"),
    PLATFORM: _("基础与运维"),
}

MODULES: list[Module] = [
    Module("approvals", _("办件审批"), _(
        "受理、审查和审批一网通办的申请件:按事项配置的审批流程在工作台流转,支持材料核验、"
        "电子证照复用、限时办结和超期提醒;办结后签发电子证照并加盖电子印章。"), SERVE,
        "workbench:applications_inbox", permission="applications.handle_application"),
    Module("evaluations", pgettext_lazy("workbench module", "好差评"), _(
        "本部门办件的“好差评”:按评价等级、事项、日期和整改状态查看评价,统计满意度和好评率;"
        "每条差评在规定的工作日内核实整改并答复申请人,逾期未整改的醒目提示。"), SERVE,
        "workbench:evaluations", permission="applications.handle_application"),
    Module("services", _("服务事项"), _(
        "政务服务事项目录和办事指南:编写办事指南,用表单搭建器和流程编辑器配置申请表单、审批流程、"
        "收费和证照,发布后在一网通办门户上线;版本可追溯,已受理的办件按原版本办理。"), SERVE,
        "workbench:services", permission="services.change_matter"),
    Module("calendar", _("工作日历"), _(
        "办件法定时限和承诺时限所用的工作日历:法定节假日和调休上班日,逐日修改或按年导入,"
        "并可计算两个日期之间的工作日数;每次修改记入审计日志。"), SERVE,
        "workbench:calendar", permission="workflow.manage_calendar"),
    Module("licences", _("电子证照"), _(
        "电子证照的签发、变更、注销与核验:发证部门签发可验证的电子证照,证照摘要写入防篡改"
        "账本,实现跨地区、跨部门互认互通。"), SERVE, "workbench:licences",
        permission="licences.manage_licence_status"),
    Module("seals", _("电子印章"), _(
        "电子印章的制作、授权与使用:为电子证照、电子公文和电子证明加盖电子印章,并提供印章"
        "验证服务,保障跨部门、跨层级的数据交换可信。"), SERVE, "workbench:seals"),
    Module("payments", _("统一支付"), _(
        "查看和核对非税收入、公共服务缴费等收费业务的网上缴纳记录,管理各部门的收费项目,"
        "与支付渠道对账。"), SERVE, "workbench:payments_orders",
        permission="payments.collect_payment"),
    Module("credit", _("信用"), _(
        "归集各部门的行政许可、行政处罚和信用承诺信息,管理信用红黑名单,为审批和监管提供"
        "信用核查。"), SERVE, "workbench:credit",
        permission=("credit.publish_record", "credit.review_dispute", "credit.check_credit")),
    Module("assistant", _("智能客服"), _(
        "接待群众在智能客服中转人工的对话,查看智能客服未能回答的问题。"), SERVE,
        "workbench:assistant_queue", permission="assistant.answer_chat"),
    Module("cases", _("案卷处置"), _(
        "一网统管的城市运行案卷:来自感知设备、视频巡检、市民随手拍和网格员上报的事件,按发生地"
        "网格立案,派发到责任部门和人员限时处置,经核查、结案和评价,全过程留痕。"), GOVERN,
        "workbench:city_cases"),
    Module("regions", _("区划与网格"), _("浏览行政区划树和网格。"), GOVERN, "workbench:regions"),
    Module("devices", _("感知设备"), _(
        "物联感知设备和视频源的登记、状态监测与读数查看:设备按网格登记,异常读数和视频识别的"
        "事件可自动生成城市运行案卷。"), GOVERN, "workbench:iot_devices",
        permission="perception.view_device"),
    Module("cockpit", _("数字驾驶舱"), _(
        "市级、区县级、街道级数字驾驶舱:城市运行体征、办件和案卷的统计与趋势、高频事件和预警,"
        "一屏可视化,辅助决策指挥。"), GOVERN, "workbench:cockpit", permission="city.view_cockpit"),
    Module("office", _("协同办公"), _(
        "一网协同:部门之间的通知公告、电子公文(加盖电子印章)、督办任务和数据共享申请,"
        "在政务内网中流转。"), COOPERATE),
    Module("departments", _("部门与人员"), _("查看部门、岗位和人员。"), COOPERATE,
           "workbench:departments"),
    Module("registry", _("基础数据"), _(
        "人口库和法人库的查询:列表只显示脱敏信息,查看完整信息须填写事由并记入审计日志。"),
        PLATFORM, "workbench:persons", permission="registry.view_person"),
    Module("accounts", _("账户管理"), _(
        "查询和管理统一身份认证的账户:按用户名、手机号码或身份证号查找,查看认证等级、"
        "登录方式和会话,停用或启用账户、结束全部会话、重置多因素认证。"), PLATFORM,
        "workbench:accounts", permission="identity.manage_accounts"),
    Module("relying_parties", _("接入应用管理"), _(
        "登记通过统一身份认证登录的政务应用(OpenID Connect 接入应用):回调地址、可申请的"
        "范围、最低认证等级、密钥轮换和停用。"), PLATFORM, "workbench:relying_parties",
        permission="identity.manage_relying_parties"),
    Module("search", _("统一搜索"), _(
        "维护搜索同义词,查看群众搜索过但没有结果的词,重建搜索索引。"), PLATFORM,
        "workbench:search_admin", permission="search.manage_search"),
    Module("ledger", _("防篡改账本"), _(
        "证照签发、用印、信任列表等关键记录的摘要按 RFC 9162 写入只增不改的默克尔日志:"
        "查看签名检查点和各部门见证人的联署,按记录摘要查询包含证明。"), PLATFORM,
        "workbench:ledger"),
    Module("trust", _("密钥与证书"), _(
        "本部门的签名密钥和数字证书:创建、轮换、签发证书和吊销,私钥始终加密保存在密钥库中。"),
        PLATFORM, "workbench:trust_keys", permission="trust.manage_department_keys"),
    Module("trust_lists", _("信任列表"), _(
        "发布本地区的电子证照信任列表,核对指纹后导入其他地区的信任列表,实现跨地区互认。"),
        PLATFORM, "workbench:trust_lists", permission="trust.manage_trust_lists"),
    Module("audit", _("审计日志"), _(
        "查看每一次重要操作的审计记录:谁、在何时、从哪个网络分区、对什么做了什么。记录只增"
        "不改,可供安全审计和追溯。"), PLATFORM, "workbench:audit",
        permission="audit.view_auditevent"),
    Module("articles", _("政务公开"), _(
        "起草、发布和撤回本部门的政策文件和通知公告:发布后在门户的“政务公开”栏目中向公众"
        "显示,发布后仍可修改。"), COOPERATE, "workbench:articles",
        permission="portal.publish_article"),
]

BY_SLUG = {m.slug: m for m in MODULES}
UNBUILT = {m.slug: m for m in MODULES if not m.built}


def grouped(user: Any = None) -> list[tuple[Promise, list[Module]]]:
    """The modules ``user`` may see, by group, in the order of the side navigation (no
    user: every module). Groups left empty are left out."""
    shown = [m for m in MODULES if user is None or m.visible_to(user)]
    by_group = [(name, [m for m in shown if m.group == key]) for key, name in GROUPS.items()]
    return [(name, found) for name, found in by_group if found]
