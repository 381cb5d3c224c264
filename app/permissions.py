"""The one permission function (权限判定): role × action × region decides every request.

``POLICY`` maps each action to the roles that may take it; each area declares its own actions
in :mod:`app.areas`. A user acts only inside their
jurisdiction (``region_code`` and its descendants; ``000000`` is national). Actions marked
``ANYWHERE`` are reads of reference data (geography, plans, the catalogue) open to every
signed-in user. A depot manager acts on a depot only when assigned to it. A step of the
official order (``LEVEL_BOUND``: 民主评议, 乡审, 县批) is taken only by a user whose own region is
at that step's level: a provincial coordinator does not do a village's review.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gis import codes

from . import areas
from .errors import Forbidden

ROLES, ROLE_LABELS, ALL, STAFF = areas.ROLES, areas.ROLE_LABELS, areas.ALL, areas.STAFF

#: Every action of every area (:mod:`app.areas`) with the roles that may take it.
POLICY: dict[str, frozenset[str]] = areas.policy()
#: Reads of reference data, allowed whatever the jurisdiction.
ANYWHERE = frozenset().union(*(area.anywhere for area in areas.AREAS))
#: Depot actions that need the depot manager to be assigned to the depot.
DEPOT_BOUND = frozenset().union(*(area.depot_bound for area in areas.AREAS))
#: Actions only a user whose own region is at one level may take (a step of the official order:
#: 民主评议 by a village, 乡审 by a township, 县批 by a county), whatever their role.
LEVEL_BOUND: dict[str, str] = areas.level_bound()


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
    if action in LEVEL_BOUND and not _at_level(user, LEVEL_BOUND[action]):
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


def _at_level(user, level: str) -> bool:
    try:
        return codes.level_of(user.region_code) == level
    except codes.CodeError:
        return False


def require(user, action: str, target: str | Target | None = None) -> None:
    """Raise :class:`Forbidden` (403) unless :func:`can`."""
    if not can(user, action, target):
        from .i18n import translate

        region = target.region_code if isinstance(target, Target) else target
        what = translate(areas.ACTION_LABELS.get(action, "此操作"))
        if region:
            raise Forbidden(translate("您无权在区划 %(region)s %(action)s：角色或管辖范围不允许。",
                                      region=region, action=what))
        raise Forbidden(translate("您无权%(action)s：角色或管辖范围不允许。", action=what))
