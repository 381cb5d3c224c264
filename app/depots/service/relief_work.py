"""What the relief-work table (救灾工作情况统计快报表, :mod:`app.relief`) reads of the depots: the
goods dispatched for an event into a region and what the region signed for, by item. No
permission check: the caller checked its own (``relief_work.view``)."""
from __future__ import annotations

from sqlalchemy import func, select

from ...extensions import db
from ...regions import subtree_condition
from ..models import Dispatch, DispatchLine

#: Dispatch states whose goods have left the depot (审批即出库).
LEFT_DEPOT = ("approved", "shipped", "received")


def event_goods(event_id: int, region_code: str) -> dict[str, dict[str, int]]:
    """``{item: {"dispatched", "received"}}``: the quantities of the event's dispatch orders to
    ``region_code`` or below that left their depot, and what was signed for on receipt (调拨 and
    签收). Items with neither are absent."""
    rows = db.session.execute(
        select(DispatchLine.item_code, Dispatch.status, func.sum(DispatchLine.quantity),
               func.sum(DispatchLine.received_quantity))
        .join(Dispatch, DispatchLine.dispatch_id == Dispatch.id)
        .where(Dispatch.event_id == event_id, Dispatch.status.in_(LEFT_DEPOT),
               subtree_condition(Dispatch.to_region_code, region_code))
        .group_by(DispatchLine.item_code, Dispatch.status)).all()
    out: dict[str, dict[str, int]] = {}
    for item, status, quantity, received in rows:
        line = out.setdefault(item, {"dispatched": 0, "received": 0})
        line["dispatched"] += int(quantity or 0)
        if status == "received":
            line["received"] += int(received or 0)
    return out
