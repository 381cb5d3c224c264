"""Database side of the roll-up: load an event's latest reports and the region tree, then call
the pure :func:`app.reports.rollup.roll_up`. Used by reports, responses, depots and the map."""
from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..regions.models import Region
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
    frontier = set(codes_needed)
    while frontier:
        rows = db.session.execute(select(Region.code, Region.parent_code)
                                  .where(Region.code.in_(list(frontier)))).all()
        for code, parent in rows:
            parents[code] = parent
        frontier = {p for _, p in rows if p is not None and p not in parents}
    return parents


def event_totals(event_id: int) -> dict[str, Total]:
    """Rolled-up totals of every region touched by the event's reports."""
    latest = latest_reports(event_id)
    parents = parent_lookup(latest)
    return roll_up({code: Latest(r.figures, r.as_of) for code, r in latest.items()}, parents.get)


def region_total(event_id: int, region_code: str) -> Total:
    return total_for(region_code, event_totals(event_id))
