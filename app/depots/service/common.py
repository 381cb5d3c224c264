"""What every subject of the depots service shares: the system user, permission for a user or
for the system, depot targets, today's date in the configured time zone, and the one lookup of a
row by its key (a 404 by name, a fresh locked read for the transaction that changes it, a 403
for a row outside what the user may see).

``user=None`` means the system itself (demo loader, CLI, another area's service that checked
permission already): no permission check, audited as ``system``.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ...database import lock_for_update
from ...errors import Forbidden, Invalid, NotFound
from ...extensions import db
from ...permissions import Target, require
from ...notifications import goods
from ..models import Depot, Dispatch, Item, Replenishment, SupplyRequest

#: Dispatches whose goods count as sent to their region (demand is net of them).
SENT_STATUSES = ("approved", "shipped", "received")
#: Dispatches the map shows as moving (approved: loading; shipped: on the road).
IN_TRANSIT_STATUSES = ("approved", "shipped")
#: Dispatches still waiting for their depot (to approve, then to ship).
WAITING_STATUSES = ("requested", "approved")

#: What a 404 or 403 calls a row of each model.
_NOUNS = {Depot: "物资库", Dispatch: "调拨单", SupplyRequest: "物资申请", Replenishment: "回补"}


def today() -> date:
    """Today in the configured time zone (Asia/Shanghai): the day expiry dates are read against."""
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def lot_key(lot: str | None, expiry: date | None) -> str:
    return f"{lot or ''}|{expiry.isoformat() if expiry else ''}"


def allow(user, action: str, target=None) -> None:
    """Permission first: :func:`app.permissions.require`, except for the system (``None``)."""
    if user is not None:
        require(user, action, target)


def who(user) -> str:
    return getattr(user, "username", None) or "system"


def depot_target(depot: Depot) -> Target:
    """A depot as the target of an action: its region, and the managers assigned to it."""
    return Target(depot.region_code, depot.manager_ids)


def raise_if(errors: list[dict], detail: str = "") -> None:
    """One 422 naming every field refused so far, if any was."""
    if errors:
        raise Invalid(detail or f"请求有 {len(errors)} 处错误。", errors)


def get_row(model, key, *, lock: bool = False):
    """The row of ``model`` with primary key ``key``, or a 404. ``lock=True`` reads it afresh
    and locked for the transaction that changes it (``FOR UPDATE`` on PostgreSQL; see the
    package's note on lock order)."""
    if lock:
        (column,) = model.__mapper__.primary_key
        row = db.session.scalar(lock_for_update(select(model).where(column == key))
                                .execution_options(populate_existing=True))
    else:
        row = db.session.get(model, key)
    if row is None:
        raise NotFound(f"{_NOUNS[model]} {key} 不存在。")
    return row


def readable(model, key, visible):
    """The row (404 when there is none) if the user's query ``visible`` returns it, else 403."""
    row = get_row(model, key)
    if db.session.scalar(visible.where(model.id == key)) is None:
        raise Forbidden(f"{_NOUNS[model]} {key} 不在您的管辖范围内。")
    return row


def get_depot(code: str, *, lock: bool = False) -> Depot:
    return get_row(Depot, code, lock=lock)


def get_dispatch(dispatch_id: int, *, lock: bool = False) -> Dispatch:
    return get_row(Dispatch, dispatch_id, lock=lock)


def get_supply_request(request_id: int, *, lock: bool = False) -> SupplyRequest:
    return get_row(SupplyRequest, request_id, lock=lock)


def goods_value(lines, depots: dict[str, str] | None = None) -> dict:
    """``lines`` (``(item code, quantity)`` or ``(item code, quantity, depot code)``) as a
    notification's list of goods (:func:`app.notifications.goods`): each item by its name and
    unit, in each reader's language; a depot by its name (``depots``: code → name)."""
    lines = list(lines)
    items = {item.code: item for item in db.session.scalars(
        select(Item).where(Item.code.in_({line[0] for line in lines})))}
    out = []
    for code, quantity, *depot in lines:
        item = items.get(code)
        name, unit = (item.name, item.unit) if item is not None else (code, "")
        out.append((name, quantity, unit, (depots or {}).get(depot[0], depot[0])) if depot else (name, quantity, unit))
    return goods(out)
