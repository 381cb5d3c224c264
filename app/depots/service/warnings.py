"""Stock warnings (预警) of depots: items whose usable stock is under the depot's reserve floor
(低于保底储备) and units past their expiry date that wait for a write-off (待核销).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select

from ...extensions import db
from ..models import Item, StockBalance
from .common import today
from .levels import reserves


def stock_warnings(depot_codes, on: date | None = None) -> dict[str, dict]:
    """Per depot: ``below_floor`` (names of the items whose usable stock is under the reserve
    floor, 低于保底储备) and ``expired`` (units past their expiry date, 待核销)."""
    on = on or today()
    depot_codes = list(depot_codes)
    out = {code: {"below_floor": [], "expired": 0} for code in depot_codes}
    if not depot_codes:
        return out
    usable: dict[tuple[str, str], int] = defaultdict(int)
    for row in db.session.scalars(select(StockBalance).where(StockBalance.depot_code.in_(depot_codes),
                                                             StockBalance.on_hand > 0)):
        if row.expiry is not None and row.expiry < on:
            out[row.depot_code]["expired"] += row.on_hand
        else:
            usable[(row.depot_code, row.item_code)] += row.on_hand
    names = dict(db.session.execute(select(Item.code, Item.name)).all())
    for (depot, item), reserve in sorted(reserves(depot_codes).items()):
        if reserve.floor > 0 and usable[(depot, item)] < reserve.floor:
            out[depot]["below_floor"].append(names.get(item, item))
    return out
