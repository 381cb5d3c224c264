"""What the dispatch and supply-request forms offer instead of typed codes, and the sanity
checks of their quantities: destinations found by name or code (regions and depots), events to
pick, usable stock per item and depot beside each item; a quantity beyond what all depots
together could supply is refused, and one far beyond the event's demand needs a reason.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import or_, select

from gis import codes

from ...extensions import db
from ...i18n import named
from ...regions import name_contains, search_regions
from ...reports import visible_events
from ..models import Depot, Item
from .common import allow
from .levels import usable_stock

#: Destinations a search answers with, at most.
SEARCH_LIMIT = 20
#: A quantity more than this many times the event's demand there needs a written reason.
FAR_BEYOND = 2


def destinations(user, query: str | None, kind: str = "region") -> list[dict]:
    """Regions (``kind="region"``) or depots (``kind="depot"``) whose name holds ``query`` or
    whose code starts with it, with the parent's name for regions of the same name; at most
    :data:`SEARCH_LIMIT`."""
    allow(user, "depot.view")
    text = (query or "").strip()[:40]
    if not text:
        return []
    if kind == "depot":
        stmt = select(Depot).where(Depot.active.is_(True), or_(name_contains(Depot.code, text),
                                                               name_contains(Depot.name, text)))
        return [{"code": d.code, "name": d.name, "label": named(d.name, d.code), "region_code": d.region_code}
                for d in db.session.scalars(stmt.order_by(Depot.code).limit(SEARCH_LIMIT))]
    return search_regions(text, limit=SEARCH_LIMIT)


def event_choices(user) -> list[tuple[str, str]]:
    """The events the user may pick (blank first: no event)."""
    events = db.session.scalars(visible_events(user).limit(100)).all() if user is not None else []
    return [("", "（不关联灾害过程）")] + [(str(e.id), f"#{e.id} {e.name}") for e in events]


def stock_by_item() -> dict[str, dict[str, int]]:
    """``{item: {depot: usable units}}`` over the active depots (unexpired stock on hand)."""
    active = db.session.scalars(select(Depot.code).where(Depot.active.is_(True))).all()
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for (depot, item), units in usable_stock(active).items():
        out[item][depot] = units
    return dict(out)


def _demand_in(event_id: int, region_code: str) -> dict[str, int]:
    """The event's gross demand (需求，before what was sent) per item for a region: the demand
    units inside it, or the unit it lies in."""
    from .demand import event_demand

    out: dict[str, int] = defaultdict(int)
    for line in event_demand(None, event_id):
        unit = line["region_code"]
        if codes.is_within(unit, region_code) or codes.is_within(region_code, unit):
            out[line["item"]] += line["needed"]
    return out


def check_quantities(checked: list[dict], errors: list[dict], *, event_id: int | None, region_code: str | None,
                     reason: str | None, reason_field: str) -> None:
    """Refuse a quantity beyond what all active depots together could supply (``lines[i].quantity``)
    and, for an event, ask a reason (``reason_field``) for one more than :data:`FAR_BEYOND` times
    the event's demand in the region. ``checked``: the lines as :func:`.inputs.checked_lines`
    read them (a line whose item or quantity was refused is left to that refusal)."""
    lines = [(line["index"], db.session.get(Item, line["item"]), line["quantity"]) for line in checked
             if line.get("item") is not None and line.get("quantity") is not None]
    lines = [(index, item, quantity) for index, item, quantity in lines if item is not None]
    if not lines:
        return
    stock = stock_by_item()
    for index, item, quantity in lines:
        total = sum(stock.get(item.code, {}).values())
        if quantity > total:
            errors.append({"field": f"lines[{index}].quantity",
                           "message": f"超过全部物资库可用库存合计（{item.name} {total}{item.unit}），无法供应"})
    if event_id is None or region_code is None or (reason or "").strip():
        return
    demand = _demand_in(event_id, region_code)
    far = [(index, item, quantity) for index, item, quantity in lines
           if quantity > FAR_BEYOND * demand.get(item.code, 0)]
    if far:
        listed = "，".join(f"{item.name} {quantity}（需求 {demand.get(item.code, 0)}）" for _, item, quantity in far)
        errors.append({"field": reason_field, "message": f"数量远超该灾害过程的需求：{listed}，请说明理由"})
