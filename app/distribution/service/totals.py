"""What was handed out, summed for other areas (the relief-work table, 救灾工作情况统计快报表)."""
from __future__ import annotations

from sqlalchemy import func, select

from gis import codes

from ...extensions import db
from ..models import DistributionPoint, HandOut


def handed_out_by_item(event_id: int, region_code: str) -> dict[str, int]:
    """``{item code: quantity}`` handed to households in the event at points in ``region_code``
    and below (every round counted; an item nobody received is absent)."""
    rows = db.session.execute(
        select(HandOut.item_code, func.sum(HandOut.quantity))
        .join(DistributionPoint, DistributionPoint.id == HandOut.point_id)
        .where(HandOut.event_id == event_id,
               DistributionPoint.region_code.like(codes.prefix_of(region_code) + "%"))
        .group_by(HandOut.item_code)).all()
    return {item: int(total) for item, total in rows}
