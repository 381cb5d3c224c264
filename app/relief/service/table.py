"""The relief-work table (救灾工作情况统计快报表) of one event for one unit and the units right
below it: people relocated (from the reports), money received and paid by source (from the
cycles), goods dispatched, signed for and handed out by item (from the depots; hand-outs from
:func:`.sources.handed_out_goods`), and what each unit typed in (rescuers, equipment…).

A typed indicator of a region is its own standing filing's value when it filled that indicator,
else the sum of the regions below it that did (as the reports roll up); with nothing filed at or
below it, it is blank (``None``), never 0.
"""
from __future__ import annotations

from gis import codes

from ...i18n import translate
from ...permissions import can, require
from ...reports import get_event
from ..models import TYPED_FIELDS
from . import sources
from ._common import rows_of, unit_of
from .entries import latest_entries

LEVEL_LABELS = {"province": "省", "prefecture": "市", "county": "县", "township": "乡镇", "village": "村"}


def _toward(code: str, below: str) -> str:
    """The child of ``code`` on the way down to ``below``."""
    current = below
    while True:
        parent = codes.parent_of(current)
        if parent is None or parent == code:
            return current
        current = parent


def rolled(code: str, field: str, entries: dict) -> int | None:
    """``field`` of ``code``: its own filing's value, else the sum of the regions below that
    filed it, else ``None``."""
    own = entries.get(code)
    if own is not None and field in own.figures:
        return own.figures[field]
    kids = {_toward(code, other) for other in entries if other != code and codes.is_within(other, code)}
    values = [v for v in (rolled(kid, field, entries) for kid in sorted(kids)) if v is not None]
    return sum(values) if values else None


def _yuan(by_level: dict | None) -> dict | None:
    if by_level is None:
        return None
    return {level: by_level[level] / 100 for level in sources.FUND_LEVELS if level in by_level}


def _goods(moved: dict, handed: dict | None, items: dict) -> list[dict]:
    wanted = sorted(set(moved) | set(handed or {}))
    return [{"item": item, "name": items[item].name if item in items else item,
             "unit": items[item].unit if item in items else "",
             "dispatched": moved.get(item, {}).get("dispatched", 0), "received": moved.get(item, {}).get("received", 0),
             "handed_out": None if handed is None else handed.get(item, 0)} for item in wanted]


def _checks(row: dict) -> list[str]:
    found = []
    relocated = row["people"]["relocated_population"]
    placed = [row["typed"][n] for n in ("centralised_relocated", "dispersed_relocated")]
    if relocated is not None and any(v is not None for v in placed) and sum(v or 0 for v in placed) > relocated:
        found.append(translate("集中安置与分散安置之和超过报告的紧急转移安置人口"))
    for line in row["goods"]:
        if line["received"] > line["dispatched"]:
            found.append(translate("%(item)s 签收数量多于调拨数量", item=translate(line["name"])))
    return found


def relief_table(user, event_id: int, region_code=None) -> dict:
    """The table for the unit (default: the user's) and the units right below it in the event."""
    require(user, "relief_work.view")
    event = get_event(user, event_id)
    code = unit_of(user, event, region_code)
    regions = rows_of(event, code)
    entries = latest_entries(event.id, code)
    region_codes = [r.code for r in regions]
    people = sources.people(event.id, region_codes)
    items = {item.code: item for item in sources.list_items()}
    # each source once for every row: a fixed number of queries however many units are below
    moneys = sources.event_money_by_region(event.id, region_codes)
    goods = sources.event_goods_by_region(event.id, region_codes)
    handed = sources.handed_out_goods(event.id, region_codes)
    rows = []
    for region in regions:
        money = moneys[region.code]
        own = entries.get(region.code)
        row = {"region_code": region.code, "name": region.name, "level": region.level,
               "level_label": LEVEL_LABELS.get(region.level, region.level), "people": people[region.code],
               "typed": {field: rolled(region.code, field, entries) for field in TYPED_FIELDS},
               "typed_source": "own" if own is not None else ("below" if any(
                   codes.is_within(c, region.code) for c in entries) else "none"),
               "note": own.note if own is not None else "",
               "money": {"received": _yuan(money["received"]), "paid": _yuan(money["paid"])},
               "goods": _goods(goods[region.code], handed[region.code], items),
               "may_edit": can(user, "relief_work.edit", region.code) and event.status != "closed"}
        money_view = row["money"]
        money_view["received_total"] = None if money_view["received"] is None else round(sum(money_view["received"].values()), 2)
        money_view["paid_total"] = round(sum(money_view["paid"].values()), 2)
        row["checks"] = _checks(row)
        rows.append(row)
    return {"event_id": event.id, "event": event, "region_code": code, "rows": rows,
            "handed_out_recorded": handed[code] is not None}
