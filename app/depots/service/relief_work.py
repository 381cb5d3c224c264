"""What the relief-work table (救灾工作情况统计快报表, :mod:`app.relief`) reads of the depots: the
goods dispatched for an event into a region and what the region signed for, by item. No
permission check: the caller checked its own (``relief_work.view``)."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from gis import codes

from ...extensions import db
from ...regions import subtree_condition
from ..models import Dispatch, DispatchLine

#: Dispatch states whose goods have left the depot (审批即出库).
LEFT_DEPOT = ("approved", "shipped", "received")


def event_goods_by_region(event_id: int, region_codes: list[str]) -> dict[str, dict[str, dict[str, int]]]:
    """:func:`event_goods` of each of ``region_codes``, in one query however many there are."""
    region_codes = list(dict.fromkeys(region_codes))
    out: dict[str, dict[str, dict[str, int]]] = {code: {} for code in region_codes}
    if not region_codes:
        return out
    rows = db.session.execute(
        select(Dispatch.to_region_code, DispatchLine.item_code, Dispatch.status, func.sum(DispatchLine.quantity),
               func.sum(DispatchLine.received_quantity))
        .join(Dispatch, DispatchLine.dispatch_id == Dispatch.id)
        .where(Dispatch.event_id == event_id, Dispatch.status.in_(LEFT_DEPOT),
               or_(*(subtree_condition(Dispatch.to_region_code, code) for code in region_codes)))
        .group_by(Dispatch.to_region_code, DispatchLine.item_code, Dispatch.status)).all()
    for to_region, item, status, quantity, received in rows:
        for code in region_codes:
            if codes.is_within(to_region, code):
                line = out[code].setdefault(item, {"dispatched": 0, "received": 0})
                line["dispatched"] += int(quantity or 0)
                if status == "received":
                    line["received"] += int(received or 0)
    return out


def event_goods(event_id: int, region_code: str) -> dict[str, dict[str, int]]:
    """``{item: {"dispatched", "received"}}``: the quantities of the event's dispatch orders to
    ``region_code`` or below that left their depot, and what was signed for on receipt (调拨 and
    签收). Items with neither are absent."""
    return event_goods_by_region(event_id, [region_code])[region_code]
