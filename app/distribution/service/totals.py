"""What was handed out, summed for other areas (the relief-work table, 救灾工作情况统计快报表)."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from gis import codes

from ...extensions import db
from ...regions import subtree_condition
from ..models import DistributionPoint, HandOut


def handed_out_by_item(event_id: int, region_code: str) -> dict[str, int] | None:
    """``{item code: quantity}`` handed to households in the event at points in ``region_code``
    and below (every round counted; an item nobody received is absent). ``None`` when the event
    has no distribution point there: nothing is recorded, and a blank never becomes 0; ``{}``
    when points exist and nothing was handed out yet (a true 0)."""
    inside = subtree_condition(DistributionPoint.region_code, region_code)
    rows = db.session.execute(
        select(HandOut.item_code, func.sum(HandOut.quantity))
        .join(DistributionPoint, DistributionPoint.id == HandOut.point_id)
        .where(HandOut.event_id == event_id, inside)
        .group_by(HandOut.item_code)).all()
    if rows:
        return {item: int(total) for item, total in rows}
    point = db.session.scalar(select(DistributionPoint.id).where(DistributionPoint.event_id == event_id, inside)
                              .limit(1))
    return None if point is None else {}


def handed_out_by_region(event_id: int, region_codes: list[str]) -> dict[str, dict[str, int] | None]:
    """:func:`handed_out_by_item` of each of ``region_codes``, in two queries however many
    there are."""
    region_codes = list(dict.fromkeys(region_codes))
    if not region_codes:
        return {}
    inside = or_(*(subtree_condition(DistributionPoint.region_code, code) for code in region_codes))
    rows = db.session.execute(
        select(DistributionPoint.region_code, HandOut.item_code, func.sum(HandOut.quantity))
        .join(DistributionPoint, DistributionPoint.id == HandOut.point_id)
        .where(HandOut.event_id == event_id, inside)
        .group_by(DistributionPoint.region_code, HandOut.item_code)).all()
    points = set(db.session.scalars(select(DistributionPoint.region_code).where(
        DistributionPoint.event_id == event_id, inside).distinct()))
    out: dict[str, dict[str, int] | None] = {}
    for code in region_codes:
        if not any(codes.is_within(point, code) for point in points):
            out[code] = None
            continue
        totals: dict[str, int] = {}
        for point, item, quantity in rows:
            if codes.is_within(point, code):
                totals[item] = totals.get(item, 0) + int(quantity)
        out[code] = totals
    return out
