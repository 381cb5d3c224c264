"""The one registry of user areas (功能区).

Each :class:`Area` is a package ``app/<name>/`` with its pages, JSON API and services, and this
list says everything the rest of the shell needs to know about it: the order in which
``create_app`` registers it (an area depends only on the areas before it), its navigation entries, its home-page panel, its demo step and the
actions of the permission function with the roles that may take them. Navigation, the home
page, ``flask demo load`` and :mod:`app.permissions` read this list and nothing else, so an area
is added in one place (see ``ARCHITECTURE.md``).

This module is data only: it imports no area, so every module may read it. Function references
are ``"module:function"`` strings, resolved (and so checked) when the application is built.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from flask_babel import lazy_gettext as _l

#: Department accounts (部门共享, domain.md §3b): each sees only the fields its task needs
#: (:mod:`app.departments`), nothing of the relief staff's areas.
DEPARTMENT_ROLES = ("dept_education", "dept_housing", "dept_hrss", "dept_health", "dept_police",
                    "dept_finance")
ROLES = ("admin", "coordinator", "officer", "depot_manager", "auditor", "finance") + DEPARTMENT_ROLES
ROLE_LABELS = {
    "admin": _l("系统管理员"),
    "coordinator": _l("减灾委协调员"),
    "officer": _l("灾害信息员"),
    "depot_manager": _l("物资库管理员"),
    "auditor": _l("审计员"),
    "finance": _l("财务人员"),  # the county finance office: the bank's files (发放文件、回盘)
    "dept_education": _l("教育部门"),
    "dept_housing": _l("住房城乡建设部门"),
    "dept_hrss": _l("人力资源社会保障部门"),
    "dept_health": _l("卫生健康部门"),
    "dept_police": _l("公安部门"),
    "dept_finance": _l("财政部门"),
}
#: Every relief staff role (the department accounts are not staff).
ALL = frozenset(ROLES) - frozenset(DEPARTMENT_ROLES)
#: Every role, department accounts included (their own account, their notifications).
EVERYONE = frozenset(ROLES)
DEPARTMENTS = frozenset(DEPARTMENT_ROLES)
STAFF = frozenset({"admin", "coordinator"})


@dataclass(frozen=True)
class NavEntry:
    """A link in the navigation bar, shown to users who may take ``action``."""

    endpoint: str
    label: str
    icon: str  # Font Awesome class
    action: str
    help: str = ""  # one line: what the page is for


@dataclass(frozen=True)
class Area:
    """One user area. ``actions`` maps each action of the permission function to the roles that
    may take it; ``anywhere`` names the actions that are reads of reference data, open whatever
    the jurisdiction; ``depot_bound`` the actions a depot manager takes only on a depot assigned
    to them."""

    name: str
    title: str
    nav: tuple[NavEntry, ...] = ()
    home_panel: str | None = None  # "module:function(user) -> dict | None"
    #: (step, label, "module:function(echo)"): ``flask demo load`` runs every area's steps by
    #: step number (plans before the demo event that is assessed against them)
    demo: tuple[tuple[int, str, str], ...] = ()
    actions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    anywhere: frozenset[str] = frozenset()
    depot_bound: frozenset[str] = frozenset()
    #: actions that only a user whose own region is at one level may take (``"village"``,
    #: ``"township"``, ``"county"``): a step of the official order is done at its level
    level_bound: Mapping[str, str] = field(default_factory=dict)


AREAS: tuple[Area, ...] = (
    Area("audit", _l("审计日志"),
         nav=(NavEntry("audit.index", _l("审计"), "fa-clipboard-list", "audit.view",
                       _l("谁在何时做了什么：只增不改的审计日志。")),),
         actions={"audit.view": frozenset({"admin", "auditor"})}),
    Area("regions", _l("行政区划"),
         nav=(NavEntry("regions.browse", _l("区划"), "fa-sitemap", "region.view",
                       _l("逐级浏览行政区划及其人口、户数。")),),
         demo=((1, _l("区划（山西省）"), "app.regions.demo:load_regions"),),
         actions={"region.view": ALL, "region.import": frozenset({"admin"})},
         anywhere=frozenset({"region.view"})),
    Area("auth", _l("用户与登录"),
         nav=(NavEntry("auth.users", _l("用户"), "fa-users", "user.view",
                       _l("管辖范围内的用户：新建、重置密码、停用、作废令牌。")),
              NavEntry("auth.account", _l("我的账户"), "fa-user-gear", "account.view",
                       _l("修改密码，查看并退出我的登录会话和令牌。"))),
         demo=((2, _l("演示用户"), "app.auth.demo:load_users"),),
         # admins manage, auditors read (inside their jurisdiction); every signed-in user
         # manages their own account (password, sessions, tokens)
         actions={"user.view": frozenset({"admin", "auditor"}), "user.manage": frozenset({"admin"}),
                  "account.view": EVERYONE}),
    Area("notifications", _l("通知"),
         home_panel="app.notifications.service:home_panel",
         actions={"notification.view": EVERYONE}),
    Area("reports", _l("灾情报送"),
         nav=(NavEntry("reports.events", _l("灾情"), "fa-triangle-exclamation", "event.view",
                       _l("灾害过程、初报续报核报、汇总与报送时限。")),),
         home_panel="app.reports.views:home_panel",
         demo=((5, _l("演示灾害过程与灾情"), "app.reports.demo:load_event"),),
         actions={"event.view": ALL,
                  "event.create": frozenset({"admin", "coordinator", "officer"}),
                  "event.stabilise": STAFF,
                  "event.close": STAFF,
                  "report.view": ALL,
                  "report.submit": frozenset({"admin", "coordinator", "officer"}),
                  "report.import": STAFF | {"officer"},
                  # 审核上报 by prefectures and provinces
                  "report.forward": frozenset({"admin", "coordinator", "officer"})}),
    Area("responses", _l("应急响应"),
         nav=(NavEntry("responses.plans", _l("预案"), "fa-book", "plan.view",
                       _l("各级自然灾害救助应急预案及其启动条件。")),),
         demo=((3, _l("应急预案"), "app.responses.demo:load_plans"),),
         actions={"plan.view": ALL, "plan.upload": frozenset({"admin"}),
                  "response.view": ALL, "response.manage": STAFF},
         anywhere=frozenset({"plan.view"})),
    Area("rosters", _l("统计名册与审核"),
         nav=(NavEntry("rosters.index", _l("名册"), "fa-list-check", "casualty.view",
                       _l("因灾死亡失踪人口、倒塌损坏住房户一览表，及上级对下级报告的审核与退回。")),),
         actions={"casualty.view": ALL,
                  "casualty.edit": STAFF | {"officer"},
                  "casualty.view_id_number": STAFF,
                  # 公安核查: the police department checks the missing (full ID numbers)
                  "casualty.verify": frozenset({"dept_police"}),
                  # 审核/退回 by the level above
                  "report.review": STAFF | {"officer"}}),
    Area("depots", _l("救灾物资"),
         nav=(NavEntry("depots.index", _l("物资"), "fa-boxes-stacked", "depot.view",
                       _l("储备库、库存台账、调拨单与物资申请。")),),
         home_panel="app.depots.views:home_panel",
         demo=((4, _l("物资目录、物资库与库存"), "app.depots.demo:load_depots"),),
         actions={"item.view": ALL,
                  "depot.view": ALL,
                  "depot.create": STAFF,
                  "depot.assign": STAFF,
                  "stock.receive": frozenset({"admin", "depot_manager"}),
                  "stock.adjust": frozenset({"admin", "depot_manager"}),
                  "stock.configure": STAFF,  # reserve floors and demand norms (保底储备、需求定额)
                  "dispatch.request": STAFF | {"depot_manager", "officer"},
                  "dispatch.approve": STAFF | {"depot_manager"},
                  "dispatch.ship": STAFF | {"depot_manager"},
                  "dispatch.receive": STAFF | {"depot_manager", "officer"},
                  "dispatch.cancel": STAFF | {"depot_manager"},
                  "supply_request.raise": STAFF | {"depot_manager"},
                  "supply_request.fill": STAFF,
                  # 转报上级: the addressed level sends what it cannot fill to the next level up
                  "supply_request.forward": STAFF,
                  # 回补: the level that drew on a lower level's depot sends the goods back
                  "replenishment.make": STAFF,
                  "allocation.accept": STAFF | {"depot_manager"}},
         anywhere=frozenset({"item.view", "depot.view"}),
         depot_bound=frozenset({"stock.receive", "stock.adjust", "dispatch.approve", "dispatch.ship",
                                "dispatch.cancel", "supply_request.raise"})),
    Area("forecast", _l("预判"),
         nav=(NavEntry("forecast.index", _l("预判"), "fa-cloud-showers-heavy", "forecast.view",
                       _l("报告到达之前：按灾害影响范围估算暴露人口，预判响应等级，提出物资预置方案。")),),
         actions={"forecast.view": STAFF | {"auditor"}, "forecast.manage": STAFF}),
    Area("cycles", _l("救助周期"),
         nav=(NavEntry("cycles.index", _l("救助"), "fa-hand-holding-heart", "cycle.view",
                       _l("过渡期、冬春、倒损住房重建等救助：名册、公示、发放。")),),
         home_panel="app.cycles.views:home_panel",
         demo=((6, _l("救助周期"), "app.cycles.demo:load_cycles"),),
         actions={"cycle.view": ALL,
                  "cycle.manage": STAFF,
                  "household.view": ALL,
                  "household.edit": STAFF | {"officer"},
                  "household.view_id_number": frozenset({"admin", "coordinator"}),
                  "payment.manage": STAFF,
                  # 抚慰金: the county turns the roster's dead into condolence lines
                  "condolence.generate": STAFF,
                  # the bank's payment file carries full identity numbers: the finance office only
                  "payment.bank_file": frozenset({"finance"}),
                  "payment.reconcile": frozenset({"finance"}),
                  # the official order (domain.md §4): 申请 → 民主评议 (village) → 公示 → 乡审 → 县批,
                  # each step by a user of that level (a village clerk, the township, the county)
                  "cycle.village_review": STAFF | {"officer"},
                  "cycle.township_review": STAFF | {"officer"},
                  "cycle.county_approve": STAFF,
                  # 逐户核查: the township checks each damaged house within 15 days of stabilisation
                  "reconstruction.check": STAFF | {"officer"}},
         level_bound={"cycle.village_review": "village", "cycle.township_review": "township",
                      "cycle.county_approve": "county", "reconstruction.check": "township"}),
    Area("distribution", _l("发放签领"),
         nav=(NavEntry("distribution.index", _l("发放"), "fa-people-carry", "distribution.view",
                       _l("救灾物资发放到户：发放点接收、逐户签领（可离线）、退回物资库、谁领了什么、谁还没领。")),),
         # the village and township clerks (灾害信息员) hand out and run their points; opening a
         # second round is a decision of the coordinators
         actions={"distribution.view": ALL,
                  "distribution.manage": STAFF | {"officer"},
                  "distribution.handout": STAFF | {"officer"},
                  "distribution.round": STAFF},
         demo=((9, _l("演示发放点"), "app.distribution.demo:load_points"),)),
    # no navigation entry (the bar is full): the event page links to the table
    # (templates/relief/_event_panel.html); every staff role reads the table, those who
    # report (officers, coordinators) file their unit's typed-in figures
    Area("relief", _l("救灾工作情况"),
         actions={"relief_work.view": ALL, "relief_work.edit": STAFF | {"officer"}}),
    Area("releases", _l("统一发布"),
         nav=(NavEntry("releases.index", _l("发布"), "fa-bullhorn", "release.view",
                       _l("灾情统一发布：起草、预览、审核、更正；公众页面、订阅源与 CAP 预警。")),),
         demo=((7, _l("演示灾情通报"), "app.releases.demo:load_releases"),),
         # a coordinator drafts; another coordinator (or an admin) approves: never one's own draft
         actions={"release.view": ALL, "release.draft": STAFF, "release.approve": STAFF}),
    Area("complaints", _l("投诉举报"),
         nav=(NavEntry("complaints.index", _l("投诉"), "fa-envelope-open-text", "complaint.view",
                       _l("公众投诉举报：登记、分派、办理时限、逾期督办、答复。")),),
         home_panel="app.complaints.views:home_panel",
         demo=((8, _l("演示投诉举报"), "app.complaints.demo:load_complaints"),),
         # officers never see complaints (they may be the person complained about); only
         # coordinators and admins see who complained, and only when not anonymous
         actions={"complaint.view": STAFF | {"auditor"}, "complaint.handle": STAFF,
                  "complaint.view_identity": STAFF}),
    Area("departments", _l("部门共享"),
         nav=(NavEntry("departments.index", _l("部门共享"), "fa-building-columns", "department.view",
                       _l("教育、住建、人社、卫健、公安、财政：按职责可见的字段，每次访问均留痕。")),),
         actions={"department.view": DEPARTMENTS, "department.export": DEPARTMENTS,
                  "department.import": frozenset({"dept_housing"})}),
    Area("dashboard", _l("灾情地图"),
         nav=(NavEntry("dashboard.index", _l("地图"), "fa-map-location-dot", "dashboard.view",
                       _l("受灾村庄、储备库、最近有库存的储备库与保障盲区。")),),
         actions={"dashboard.view": ALL},
         anywhere=frozenset({"dashboard.view"})),
    Area("main", _l("首页")),
)

#: What each action is called where a person reads it (a refusal says "you may not 审批调拨单",
#: never "dispatch.approve"), in Chinese: ``app.i18n.translate`` gives the reader's language
#: (plain strings, not lazy ones: a refusal can be raised outside a request). An action
#: missing here is named 此操作 ("this action").
ACTION_LABELS: Mapping[str, str] = {
    "audit.view": "查看审计日志",
    "region.view": "查看行政区划", "region.import": "导入行政区划",
    "user.view": "查看用户", "user.manage": "管理用户", "account.view": "查看我的账户",
    "notification.view": "查看通知",
    "event.view": "查看灾情", "event.create": "新建灾害过程", "event.stabilise": "标记灾情稳定",
    "event.close": "结束灾害过程", "report.view": "查看灾情报告", "report.submit": "填报灾情",
    "report.import": "导入快报表", "report.forward": "审核上报",
    "plan.view": "查看预案", "plan.upload": "上传预案", "response.view": "查看应急响应",
    "response.manage": "启动、调整或终止应急响应",
    "item.view": "查看物资目录", "depot.view": "查看物资库", "depot.create": "新建物资库",
    "depot.assign": "指派物资库管理员", "stock.receive": "物资入库", "stock.adjust": "盘点调整库存",
    "stock.configure": "设置保底储备和需求定额", "dispatch.request": "申请调拨",
    "dispatch.approve": "审批调拨单", "dispatch.ship": "调拨发货", "dispatch.receive": "签收调拨物资",
    "dispatch.cancel": "撤销调拨单", "supply_request.raise": "提出物资申请",
    "supply_request.fill": "受理物资申请", "supply_request.forward": "转报上级物资申请",
    "replenishment.make": "回补下级物资库",
    "cycle.view": "查看救助周期", "cycle.manage": "管理救助周期", "household.view": "查看受灾户",
    "household.edit": "登记受灾户", "household.view_id_number": "查看完整身份证号码",
    "payment.manage": "管理救助资金发放",
    "cycle.village_review": "办理村级民主评议", "cycle.township_review": "办理乡镇审核",
    "cycle.county_approve": "办理县级审批", "reconstruction.check": "逐户核查倒损住房",
    "condolence.generate": "从名册生成抚慰金发放对象",
    "relief_work.view": "查看救灾工作情况统计快报表", "relief_work.edit": "填报救灾工作情况",
    "dashboard.view": "查看灾情地图",
    "casualty.view": "查看死亡失踪人口与倒损住房名册", "casualty.edit": "登记名册",
    "casualty.view_id_number": "查看名册中的完整身份证号码", "casualty.verify": "核查失踪人员", "report.review": "审核或退回下级报告",
    "allocation.accept": "采纳调拨方案", "forecast.view": "查看预判", "forecast.manage": "上传灾害影响范围",
    "payment.bank_file": "下载银行发放文件", "payment.reconcile": "导入银行回盘并对账",
    "release.view": "查看统一发布", "release.draft": "起草灾情通报", "release.approve": "审核发布灾情通报",
    "complaint.view": "查看投诉举报", "complaint.handle": "办理投诉举报",
    "complaint.view_identity": "查看投诉人身份",
    "department.view": "查看部门共享数据", "department.export": "导出部门共享数据",
    "department.import": "导入房屋安全鉴定",
    "distribution.view": "查看物资发放", "distribution.manage": "管理发放点（接收、退回）",
    "distribution.handout": "发放物资到户", "distribution.round": "开启新一轮发放",
}

#: The order of the navigation bar (by endpoint), which is not the order of registration.
NAV_ORDER = ("reports.events", "rosters.index", "dashboard.index", "forecast.index", "responses.plans", "depots.index", "cycles.index", "distribution.index",
             "releases.index", "complaints.index", "departments.index",
             "regions.browse", "auth.users", "audit.index", "auth.account")


def by_name() -> dict[str, Area]:
    return {area.name: area for area in AREAS}


def nav_entries() -> list[NavEntry]:
    entries = {entry.endpoint: entry for area in AREAS for entry in area.nav}
    return [entries[endpoint] for endpoint in NAV_ORDER if endpoint in entries] + \
        [entry for endpoint, entry in entries.items() if endpoint not in NAV_ORDER]


def policy() -> dict[str, frozenset[str]]:
    """Every action of every area with the roles that may take it; an action named by two areas
    is a mistake and raises."""
    merged: dict[str, frozenset[str]] = {}
    for area in AREAS:
        for action, roles in area.actions.items():
            if action in merged:
                raise ValueError(f"action {action!r} is declared by two areas")
            if not roles <= EVERYONE:
                raise ValueError(f"action {action!r} names unknown roles {sorted(roles - EVERYONE)}")
            merged[action] = frozenset(roles)
    return merged


def level_bound() -> dict[str, str]:
    """Every action that only a user of one region level may take, with that level."""
    return {action: level for area in AREAS for action, level in area.level_bound.items()}


def resolve(target: str):
    """The function a ``"module:function"`` reference names (imports the module)."""
    import importlib

    module_name, attribute = target.split(":")
    return getattr(importlib.import_module(module_name), attribute)
