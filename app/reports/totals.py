"""Database side of the roll-up: load an event's latest reports and the region tree, then call
the pure :func:`app.reports.rollup.roll_up`. Used by reports, responses, depots and the map."""
from __future__ import annotations

import json

from sqlalchemy import Text, cast, func, select

from ..extensions import db
from ..regions import Region, subtree_condition
from .models import LossReport
from .rollup import Latest, Total, roll_up, total_for


def latest_reports(event_id: int) -> dict[str, LossReport]:
    """Each region's latest report for the event (highest sequence)."""
    newest = (select(LossReport.region_code, func.max(LossReport.sequence).label("seq"))
              .where(LossReport.event_id == event_id).group_by(LossReport.region_code).subquery())
    rows = db.session.scalars(
        select(LossReport).join(newest, (LossReport.region_code == newest.c.region_code)
                                & (LossReport.sequence == newest.c.seq))
        .where(LossReport.event_id == event_id)).all()
    return {r.region_code: r for r in rows}


def parent_lookup(codes_needed) -> dict[str, str | None]:
    """``code → parent_code`` for the given codes and all their ancestors, from the database."""
    parents: dict[str, str | None] = {}
    frontier = sorted(set(codes_needed))
    while frontier:
        rows = []
        for start in range(0, len(frontier), 5000):  # bounded IN lists (SQLite's variable limit)
            rows += db.session.execute(select(Region.code, Region.parent_code)
                                       .where(Region.code.in_(frontier[start:start + 5000]))).all()
        for code, parent in rows:
            parents[code] = parent
        frontier = sorted({p for _, p in rows if p is not None and p not in parents})
    return parents


def latest_figures(event_id: int, code: str | None = None) -> dict[str, Latest]:
    """Each region's latest figures for the event (optionally only ``code``'s subtree), read as
    plain columns: no ORM objects, so 30,000 village reports load quickly."""
    newest = select(LossReport.region_code, func.max(LossReport.sequence).label("seq")) \
        .where(LossReport.event_id == event_id)
    if code is not None:
        newest = newest.where(within_clause(LossReport.region_code, code))
    newest = newest.group_by(LossReport.region_code).subquery()
    # PostgreSQL: JSONB read as text and decoded here is about twice as fast as the driver's
    # per-value JSONB loader for tens of thousands of rows.
    as_text = db.session.get_bind().dialect.name == "postgresql"
    figures = cast(LossReport.figures, Text) if as_text else LossReport.figures
    rows = db.session.execute(
        select(LossReport.region_code, figures, LossReport.as_of)
        .join(newest, (LossReport.region_code == newest.c.region_code) & (LossReport.sequence == newest.c.seq))
        .where(LossReport.event_id == event_id)).all()
    if as_text:
        return {region: Latest(json.loads(text), as_of) for region, text, as_of in rows}
    return {region: Latest(values, as_of) for region, values, as_of in rows}


def reported_parents(event_id: int, code: str | None = None) -> dict[str, str | None]:
    """:func:`parent_lookup` for every region the event has reports for (optionally only in
    ``code``'s subtree), the reported regions' parents read in one query without a long list of
    parameters."""
    reported = select(LossReport.region_code).where(LossReport.event_id == event_id)
    if code is not None:
        reported = reported.where(within_clause(LossReport.region_code, code))
    rows = db.session.execute(select(Region.code, Region.parent_code)
                              .where(Region.code.in_(reported.distinct().scalar_subquery()))).all()
    parents: dict[str, str | None] = dict(rows)
    above = {p for p in parents.values() if p is not None and p not in parents}
    parents.update(parent_lookup(above))
    return parents


def event_totals(event_id: int) -> dict[str, Total]:
    """Rolled-up totals of every region touched by the event's reports."""
    latest = latest_figures(event_id)
    return roll_up(latest, reported_parents(event_id).get)


def region_total(event_id: int, region_code: str) -> Total:
    return total_for(region_code, event_totals(event_id))


# --- Subtrees (added by the loss-reporting area; the functions above are unchanged) ------------

#: A SQL condition: ``column`` is ``code`` or one of its descendants.
within_clause = subtree_condition


def subtree_latest(event_id: int, code: str) -> dict[str, LossReport]:
    """Each region's latest report for the event, only for ``code`` and its descendants."""
    newest = (select(LossReport.region_code, func.max(LossReport.sequence).label("seq"))
              .where(LossReport.event_id == event_id, within_clause(LossReport.region_code, code))
              .group_by(LossReport.region_code).subquery())
    rows = db.session.scalars(
        select(LossReport).join(newest, (LossReport.region_code == newest.c.region_code)
                                & (LossReport.sequence == newest.c.seq))
        .where(LossReport.event_id == event_id)).all()
    return {r.region_code: r for r in rows}


def subtree_total(event_id: int, code: str) -> Total:
    """The same figure as :func:`region_total`, reading only the region's own subtree."""
    latest = latest_figures(event_id, code)
    return total_for(code, roll_up(latest, reported_parents(event_id, code).get))



def below_totals(event_id: int, code: str) -> dict[str, Total]:
    """For ``code`` and every region beneath it: the sum of its children's totals (汇总下级), as
    the region's total would be without a report of its own. Only regions with a reporting
    descendant appear; ``reporting_units`` counts the units below, ``as_of`` is their latest."""
    latest = latest_figures(event_id, code)
    parents = reported_parents(event_id, code)
    totals = roll_up(latest, parents.get)
    below: dict[str, Total] = {}
    for child, total in totals.items():
        parent = parents.get(child)
        if parent is None or not total.reporting_units:
            continue
        target = below.setdefault(parent, Total(parent))
        for name, value in total.figures.items():
            target.figures[name] += value
        target.reporting_units += total.reporting_units
        if total.as_of and (target.as_of is None or total.as_of > target.as_of):
            target.as_of = total.as_of
    return below
