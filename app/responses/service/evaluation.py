"""The assessment of an event (响应等级评估): every plan in force evaluated on the latest totals of
each unit it covers.

A plan evaluates the affected regions at its unit level inside its jurisdiction (the national
plans: each affected province), plus its own jurisdiction when that is a unit inside one of the
event's regions. The figures are the loss-reporting area's rolled-up totals; a provincial unit
also gets the totals of its adjacent affected provinces (联动启动). The evaluation itself is the
pure :func:`response_levels.evaluate`; this module only feeds it.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

import response_levels as rl
from gis import codes

from ...extensions import db
from ...models_common import utcnow
from ...regions import Region, find_region
from ...reports import Event, event_totals, parent_lookup, total_for
from .. import adjacency
from ..models import ContingencyPlan
from .access import get_event, unit_visible
from .plans import active_plan_rows, plan_of


@dataclass
class _Geography:
    """The regions an event touches, with their levels, names and populations."""

    regions: dict[str, Region]
    units_by_level: dict[str, set[str]]


def _geography(event: Event, totals: dict) -> _Geography:
    affected = set(event.region_codes) | set(totals)
    parents = parent_lookup(affected)
    regions = {r.code: r for r in db.session.scalars(
        select(Region).where(Region.code.in_(list(set(parents) | affected))))}
    units: dict[str, set[str]] = defaultdict(set)
    for code in affected:
        while code is not None and code in regions:
            units[regions[code].level].add(code)
            code = parents.get(code)
    return _Geography(regions, units)


def _plan_units(row: ContingencyPlan, event: Event, geo: _Geography) -> list[str]:
    """The units a plan evaluates for an event: affected regions at the plan's unit level inside
    its jurisdiction (the national plans: each affected province), and the plan's own
    jurisdiction when that is a unit and lies inside one of the event's regions."""
    found = {code for code in geo.units_by_level.get(row.unit_level, ())
             if codes.is_within(code, row.jurisdiction_code)}
    own = row.jurisdiction_code
    if own != codes.NATIONAL and own not in found and any(
            codes.is_within(own, code) for code in event.region_codes):
        region = geo.regions.get(own) or find_region(own)
        if region is not None and region.level == row.unit_level:
            geo.regions[own] = region
            found.add(own)
    return sorted(found)


def _evaluate_unit(row: ContingencyPlan, plan: rl.Plan, unit: str, region: Region, totals: dict,
                   provinces: list[str]) -> dict:
    """One plan on one unit: :meth:`response_levels.Evaluation.to_dict` plus what the pages
    and the notifications show with it."""
    total = total_for(unit, totals)
    adjacent = ([p for p in provinces if p != unit and adjacency.adjacent(unit, p)]
                if row.unit_level == "province" else [])
    context = rl.Context(region_code=unit,
                         agricultural_population=region.agricultural_population or None,
                         adjacent=[dict(total_for(p, totals).figures) for p in adjacent])
    result = rl.evaluate(plan, dict(total.figures), context).to_dict()
    result["criteria"] = result.pop("criteria_values")
    result.update(plan_name=plan.name, jurisdiction_code=plan.jurisdiction_code,
                  unit_level=plan.unit_level, region_name=region.name,
                  as_of=total.as_of.isoformat() if total.as_of else None,
                  reporting_units=total.reporting_units,
                  agricultural_population=region.agricultural_population,
                  adjacent_regions=adjacent)
    return result


def evaluate_event(event: Event, rows: list[ContingencyPlan] | None = None,
                   totals: dict | None = None) -> list[dict]:
    """Evaluate every active plan (or ``rows``) on the latest totals of each unit it covers.

    Each result is :meth:`response_levels.Evaluation.to_dict` plus the plan's name and
    jurisdiction, the unit's name, the figures' ``as_of`` and the 农牧业人口 used. ``totals``
    replaces the reported totals (the forecast area passes estimated ones).
    """
    rows = active_plan_rows() if rows is None else rows
    totals = event_totals(event.id) if totals is None else totals
    geo = _geography(event, totals)
    provinces = sorted(geo.units_by_level.get("province", ()))
    out = []
    for row in rows:
        plan = plan_of(row)
        for unit in _plan_units(row, event, geo):
            out.append(_evaluate_unit(row, plan, unit, geo.regions[unit], totals, provinces))
    return out


def assessment(user, event_id: int) -> dict:
    """``GET /events/{id}/assessment``: every plan covering the event, on the latest totals,
    for the units the user may see (:func:`~.access.unit_visible`)."""
    event = get_event(user, event_id)
    return {"event_id": event.id, "computed_at": utcnow().isoformat(),
            "evaluations": [e for e in evaluate_event(event) if unit_visible(user, e["region_code"])]}
