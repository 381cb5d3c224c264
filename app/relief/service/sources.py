"""Where the relief-work table's computed figures come from, each through another area's public
surface (``__init__``): the reports' rolled-up figures (people relocated), the cycles' money by
source, the depots' goods dispatched and signed for.

Goods handed out to households (发放到户) will come from the distribution area
(``app.distribution``, being built in parallel): :func:`handed_out_goods` is the one place they
join the table. Until that area exists it says ``None`` — not recorded — and the table shows the
column blank, never 0.
"""
from __future__ import annotations

from ...cycles import FUND_LEVELS, event_money
from ...depots import event_goods, list_items
from ...reports import event_totals, total_for
from ..models import PEOPLE

__all__ = ["FUND_LEVELS", "event_goods", "event_money", "handed_out_goods", "list_items", "people"]



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


def handed_out_goods(event_id: int, region_code: str) -> dict[str, int] | None:
    """JOIN POINT for goods handed out to households (``app.distribution``): ``{item: quantity}``
    for the event in ``region_code`` and below, or ``None`` while no area records hand-outs.
    Replace the body with a call to the distribution area's public function once it is merged
    (and move this area after it in ``app/areas.py`` and the import-linter layers)."""
    return None
