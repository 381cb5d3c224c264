"""Where the relief-work table's computed figures come from, each through another area's public
surface (``__init__``): the reports' rolled-up figures (people relocated), the cycles' money by
source, the depots' goods dispatched and signed for.

Goods handed out to households (发放到户) come from the distribution area (``app.distribution``)
through :func:`handed_out_goods`, the one place they join the table.
"""
from __future__ import annotations

from ...cycles import FUND_LEVELS, event_money_by_region
from ...depots import event_goods_by_region, list_items
from ...distribution import handed_out_by_region
from ...reports import event_totals, total_for
from ..models import PEOPLE

__all__ = ["FUND_LEVELS", "event_goods_by_region", "event_money_by_region", "handed_out_goods", "list_items",
           "people"]



def people(event_id: int, codes: list[str]) -> dict[str, dict[str, int | None]]:
    """For each region, the reported people figures of :data:`PEOPLE` as rolled up (``None`` when
    nothing is reported at or below it)."""
    totals = event_totals(event_id)
    out = {}
    for code in codes:
        total = total_for(code, totals)
        out[code] = {name: (int(total.figures.get(name) or 0) if total.reporting_units else None)
                     for name, _label in PEOPLE}
    return out


def handed_out_goods(event_id: int, region_codes: list[str]) -> dict[str, dict[str, int] | None]:
    """Goods handed out to households (``app.distribution``), for each region: ``{item:
    quantity}`` for the event in it and below, an item nobody received there absent (shown 0);
    ``None`` where the event has no distribution point (nothing recorded: shown blank, never 0)."""
    return handed_out_by_region(event_id, region_codes)
