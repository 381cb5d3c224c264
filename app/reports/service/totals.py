"""Rolled-up figures as the user may see them (灾情汇总): one region's total, the drill-down table
of its children, and its trend over the event. The roll-up itself is :mod:`app.reports.rollup`
(pure) fed by :mod:`app.reports.totals` (the database side).
"""
from __future__ import annotations

from sqlalchemy import select

from ...errors import NotFound
from ...extensions import db
from ...permissions import require
from ...regions import Region
from ..models import Event, LossReport
from ..rollup import Latest, roll_up, total_for
from ..totals import parent_lookup, subtree_latest, subtree_total, within_clause
from ._common import region_arg
from .events import get_event


def totals_of(user, event_id: int, region_code: str | None) -> dict:
    """``GET /events/{id}/totals``: the rolled-up figures of one region."""
    event = get_event(user, event_id)
    code = region_arg(region_code)
    require(user, "report.view", code)
    if db.session.get(Region, code) is None:
        raise NotFound(f"区划 {code} 不存在。")
    return subtree_total(event.id, code).to_dict()


def children_totals(user, event: Event, region_code: str) -> tuple[dict, list[dict]]:
    """The region's total and one row per child region (the drill-down table)."""
    code = region_arg(region_code)
    require(user, "report.view", code)
    region = db.session.get(Region, code)
    if region is None:
        raise NotFound(f"区划 {code} 不存在。")
    latest = subtree_latest(event.id, code)
    parents = parent_lookup(latest)
    all_totals = roll_up({c: Latest(r.figures, r.as_of) for c, r in latest.items()}, parents.get)
    children = db.session.scalars(select(Region).where(Region.parent_code == code).order_by(Region.code)).all()
    rows = []
    for child in children:
        total = total_for(child.code, all_totals)
        rows.append({"region": child, "total": total, "direct": child.code in latest})
    rows.sort(key=lambda r: (r["total"].reporting_units == 0, -r["total"].figures["affected_population"],
                             r["region"].code))
    own = latest.get(code)
    return {"region": region, "total": total_for(code, all_totals), "own_report": own}, rows


def top_rows(user, event: Event, tops: list[str]) -> list[dict]:
    """One row per top region the user sees of the event (when no single region is chosen)."""
    for code in tops:
        require(user, "report.view", code)
    regions = {r.code: r for r in db.session.scalars(select(Region).where(Region.code.in_(tops)))}
    return [{"region": regions[top], "total": subtree_total(event.id, top), "direct": False} for top in tops]


def trend(user, event: Event, region_code: str, points: int = 24) -> list[dict]:
    """The region's rolled-up key figures after each report time (at most ``points`` points)."""
    require(user, "report.view", region_code)
    reports = db.session.scalars(
        select(LossReport).where(LossReport.event_id == event.id,
                                 within_clause(LossReport.region_code, region_code))
        .order_by(LossReport.as_of, LossReport.sequence)).all()
    if not reports:
        return []
    parents = parent_lookup({r.region_code for r in reports})
    times = sorted({r.as_of for r in reports})
    if len(times) > points:
        step = (len(times) - 1) / (points - 1)
        times = sorted({times[round(i * step)] for i in range(points)})
    out = []
    latest: dict[str, Latest] = {}
    index = 0
    for t in times:
        while index < len(reports) and reports[index].as_of <= t:
            r = reports[index]
            latest[r.region_code] = Latest(r.figures, r.as_of)
            index += 1
        total = total_for(region_code, roll_up(latest, parents.get))
        out.append({"as_of": t, "figures": total.figures, "reporting_units": total.reporting_units})
    return out
