"""The one permission function (权限判定): role × action × region decides every request.

``POLICY`` maps each action to the roles that may take it. A user acts only inside their
jurisdiction (``region_code`` and its descendants; ``000000`` is national). Actions marked
``ANYWHERE`` are reads of reference data (geography, plans, the catalogue) open to every
signed-in user. A depot manager acts on a depot only when assigned to it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gis import codes

from .errors import Forbidden

ROLES = ("admin", "coordinator", "officer", "depot_manager", "auditor")
ROLE_LABELS = {
    "admin": "系统管理员",
    "coordinator": "减灾委协调员",
    "officer": "灾害信息员",
    "depot_manager": "物资库管理员",
    "auditor": "审计员",
}

ALL = frozenset(ROLES)
STAFF = frozenset({"admin", "coordinator"})

POLICY: dict[str, frozenset[str]] = {
    # reference data
    "region.view": ALL,
    "region.import": frozenset({"admin"}),
    "plan.view": ALL,
    "plan.upload": frozenset({"admin"}),
    "item.view": ALL,
    # users and audit: admins manage, auditors read (inside their jurisdiction); every
    # signed-in user manages their own account (password, sessions, tokens)
    "user.view": frozenset({"admin", "auditor"}),
    "user.manage": frozenset({"admin"}),
    "account.view": ALL,
    "audit.view": frozenset({"admin", "auditor"}),
    # events and loss reports (灾情)
    "event.view": ALL,
    "event.create": frozenset({"admin", "coordinator", "officer"}),
    "event.stabilise": STAFF,
    "event.close": STAFF,
    "report.view": ALL,
    "report.submit": frozenset({"admin", "coordinator", "officer"}),
    "report.import": STAFF | {"officer"},
    "report.forward": frozenset({"admin", "coordinator", "officer"}),  # 审核上报 by prefectures and provinces
    # response levels (应急响应)
    "response.view": ALL,
    "response.manage": STAFF,
    "notification.view": ALL,
    # depots and stock (救灾物资)
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
    # relief cycles (救助周期)
    "cycle.view": ALL,
    "cycle.manage": STAFF,
    "household.view": ALL,
    "household.edit": STAFF | {"officer"},
    "household.view_id_number": frozenset({"admin", "coordinator"}),
    "payment.manage": STAFF,
    # dashboard
    "dashboard.view": ALL,
}

#: Reads of reference data, allowed whatever the jurisdiction.
ANYWHERE = frozenset({"region.view", "plan.view", "item.view", "depot.view", "dashboard.view"})
#: Depot actions that need the depot manager to be assigned to the depot.
DEPOT_BOUND = frozenset({"stock.receive", "stock.adjust", "dispatch.approve", "dispatch.ship",
                         "dispatch.cancel", "supply_request.raise"})


@dataclass(frozen=True)
class Target:
    """What an action is taken on: a region, and for depots the users assigned to manage it."""

    region_code: str
    assigned_user_ids: frozenset[int] | None = field(default=None)


def can(user, action: str, target: str | Target | None = None) -> bool:
    """True when ``user`` may take ``action`` on ``target`` (a region code or a :class:`Target`)."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "active", True):
        return False
    roles = POLICY.get(action)
    if roles is None:
        raise KeyError(f"unknown action {action!r}")
    if user.role not in roles:
        return False
    if target is None or action in ANYWHERE:
        return True
    if isinstance(target, str):
        target = Target(target)
    try:
        inside = codes.is_within(target.region_code, user.region_code)
    except codes.CodeError:
        return False
    if not inside:
        return False
    if user.role == "depot_manager" and action in DEPOT_BOUND and target.assigned_user_ids is not None:
        return user.id in target.assigned_user_ids
    return True


def require(user, action: str, target: str | Target | None = None) -> None:
    """Raise :class:`Forbidden` (403) unless :func:`can`."""
    if not can(user, action, target):
        region = target.region_code if isinstance(target, Target) else target
        where = f"（区划 {region}）" if region else ""
        raise Forbidden(f"当前用户无权执行「{action}」{where}：角色或管辖范围不允许。")
