"""Demand and allocation (需求、调拨方案) of a disaster event: the latest rolled-up loss figures
of each affected county-level region × that region's norms, less what was already sent there;
and a proposed allocation of that demand from the depots' usable stock (``stockpile.allocate``
with great-circle distances), which moves no stock.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlalchemy import select

import stockpile
from gis import codes, great_circle_km

from ...errors import NotFound
from ...extensions import db
from ...permissions import can, require
from ...regions import Region
from ...reports import Event, event_totals
from ...validation import Field, validate
from ..models import Depot, Dispatch, Item
from .catalogue import all_norms, norms_for
from .common import SENT_STATUSES, raise_if
from .inputs import DEPOT, ITEM, known_depot, known_item, region_names
from .levels import reserves, usable_stock

PLAN_FIELDS = {"items": Field("list", required=False, items=ITEM),
               "max_distance_km": Field("number", required=False, min=0, max=20_000),
               "released": Field("list", required=False, items=DEPOT, description="动用保底储备的物资库")}


def _event(user, event_id: int) -> Event:
    """The event (404), once the user may see it: inside the jurisdiction of one of its regions."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(f"灾害过程 {event_id} 不存在。")
    if user is not None:
        regions = event.region_codes or [codes.NATIONAL]
        if not any(can(user, "event.view", code) for code in regions):
            require(user, "event.view", regions[0])
    return event


def _demand_units(totals) -> dict[str, dict]:
    """The regions demand is computed for: every county-level region with figures; a region
    above the county that reported directly counts when no unit lies inside it."""
    units = {code for code in totals if codes.level_of(code) == "county"}
    above = sorted((code for code, total in totals.items()
                    if total.direct and codes.level_of(code) in ("prefecture", "province")),
                   key=lambda code: codes.LEVELS.index(codes.level_of(code)), reverse=True)
    for code in above:
        if not any(codes.is_within(unit, code) for unit in units):
            units.add(code)
    return {code: totals[code].figures for code in sorted(units)}


def _dispatched(event_id: int, units) -> dict[tuple[str, str], int]:
    """Units already sent (approved, shipped; received counts what arrived) to each unit."""
    sent: dict[tuple[str, str], int] = defaultdict(int)
    rows = db.session.scalars(select(Dispatch).where(Dispatch.event_id == event_id,
                                                     Dispatch.status.in_(SENT_STATUSES))).all()
    for dispatch in rows:
        unit = next((u for u in units if codes.is_within(dispatch.to_region_code, u)), None)
        if unit is None:
            continue
        for line in dispatch.lines:
            quantity = line.received_quantity if dispatch.status == "received" else line.quantity
            sent[(unit, line.item_code)] += quantity or 0
    return sent


def event_demand(user, event_id: int, items=None) -> list[dict]:
    """Outstanding needs of an event (需求), for a user who may see the event: the latest
    rolled-up figures of each affected county-level region × that region's norms, less what was
    already dispatched there."""
    _event(user, event_id)
    units = _demand_units(event_totals(event_id))
    sent = _dispatched(event_id, units)
    grouped = all_norms()
    names = region_names(units)
    out = []
    for code, figures in units.items():
        _, norms = norms_for(code, grouped)
        gross = {line.item: line.quantity for line in stockpile.compute_demand({code: figures}, norms)}
        for line in stockpile.compute_demand({code: figures}, norms, dispatched=sent):
            if items and line.item not in items:
                continue
            out.append({"region_code": line.region_code, "region_name": names.get(code, code),
                        "item": line.item, "quantity": line.quantity,
                        "needed": gross.get(line.item, line.quantity),
                        "dispatched": sent.get((code, line.item), 0)})
    return out


def _plan_options(data) -> dict:
    """The plan's options, checked: items in the catalogue, depots that exist."""
    values, errors = validate(PLAN_FIELDS, data)
    for index, code in enumerate(values["items"] or []):
        known_item(code, f"items[{index}]", errors)
    for index, code in enumerate(values["released"] or []):
        known_depot(code, f"released[{index}]", errors)
    raise_if(errors)
    return values


def _supply(wanted: set[str]) -> tuple[list[stockpile.Supply], dict[str, Depot]]:
    """The usable stock of every active depot in the items wanted, with the floors it keeps."""
    depots = {d.code: d for d in db.session.scalars(select(Depot).where(Depot.active.is_(True)))}
    usable = usable_stock(list(depots))
    floors = reserves(list(depots))
    supply = []
    for (code, item), units in sorted(usable.items()):
        if item not in wanted or units <= 0:
            continue
        depot = depots[code]
        reserve = floors.get((code, item))
        floor = 0 if reserve is None or reserve.released else min(reserve.floor, units)
        supply.append(stockpile.Supply(code, item, units, depot.tier, depot.region_code, floor))
    return supply, depots


def _distances(depot_codes: list[str], depots: dict[str, Depot], regions: list[str]) -> stockpile.DistanceMatrix:
    """Great-circle kilometres from each depot to each region's point (unreachable without one)."""
    points = {r.code: r for r in db.session.scalars(select(Region).where(Region.code.in_(regions)))}
    dlon = np.array([depots[c].lon for c in depot_codes], dtype=float)
    dlat = np.array([depots[c].lat for c in depot_codes], dtype=float)
    rlon = np.array([points[c].lon if points[c].lon is not None else np.nan for c in regions], dtype=float)
    rlat = np.array([points[c].lat if points[c].lat is not None else np.nan for c in regions], dtype=float)
    km = np.round(great_circle_km(dlon[:, None], dlat[:, None], rlon[None, :], rlat[None, :]), 3) \
        if depot_codes and regions else np.zeros((len(depot_codes), len(regions)))
    return stockpile.DistanceMatrix(depot_codes, regions, np.nan_to_num(km, nan=np.inf))


def allocation_plan(user, event_id: int, data) -> dict:
    """A proposed allocation (调拨方案) of the event's outstanding demand from the depots' usable
    stock: ``data`` ``{items, max_distance_km, released}``; ``stockpile.allocate`` with
    great-circle distances. It moves no stock."""
    event = _event(user, event_id)
    options = _plan_options(data)
    body = _allocate(event_demand(None, event.id, options["items"]), options)
    body["event_id"] = event.id
    return body


def needs_allocation(figures_by_region: dict[str, dict], data) -> dict:
    """A proposed allocation for figures that are not the event's reports (the forecast area's
    estimate per county: 预置): each region's figures × its norms, from the depots' usable
    stock, under the same options as :func:`allocation_plan`. For services that checked
    permission themselves; it moves no stock."""
    options = _plan_options(data)
    grouped = all_norms()
    names = region_names(figures_by_region)
    lines = []
    for code, figures in sorted(figures_by_region.items()):
        _, norms = norms_for(code, grouped)
        for line in stockpile.compute_demand({code: figures}, norms):
            if options["items"] and line.item not in options["items"]:
                continue
            lines.append({"region_code": code, "region_name": names.get(code, code), "item": line.item,
                          "quantity": line.quantity, "needed": line.quantity, "dispatched": 0})
    return _allocate(lines, options)


def _allocate(lines: list[dict], options: dict) -> dict:
    demand = [stockpile.DemandLine(l["region_code"], l["item"], l["quantity"]) for l in lines]
    supply, depots = _supply({l.item for l in demand})
    matrix = _distances(sorted({s.depot_code for s in supply}), depots, sorted({l.region_code for l in demand}))
    rules = stockpile.AllocationRules(max_distance_km=options["max_distance_km"],
                                      released=frozenset(options["released"] or ()))
    body = stockpile.allocate(demand, supply, matrix, rules).to_dict()
    body["demand"] = lines
    _name_lines(body, depots, {l["region_code"]: l["region_name"] for l in lines})
    return body


def _name_lines(body: dict, depots: dict[str, Depot], regions: dict[str, str]) -> None:
    """Names beside the codes of a plan's lines, for the pages (the codes stay for machines)."""
    items = dict(db.session.execute(select(Item.code, Item.name)).all())
    for line in body["lines"] + body["unmet"]:
        line["region_name"] = regions.get(line["region_code"], line["region_code"])
        line["item_name"] = items.get(line["item"], line["item"])
        if "depot_code" in line:
            depot = depots.get(line["depot_code"])
            line["depot_name"] = depot.name if depot is not None else line["depot_code"]
