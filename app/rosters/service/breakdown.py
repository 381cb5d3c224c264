"""The quick report with its township breakdown (自然灾害损失情况统计快报表，含分乡镇数据): for each
county of the event inside a unit, the county's rolled-up figures and then each township's, as
the roll-up has them (a region's own latest report, else the sum of its children's), with where
each row's figures come from and, for the counties, whether the level above has accepted them.
"""
from __future__ import annotations

from sqlalchemy import select

from gis import codes

from ...extensions import db
from ...permissions import require
from ...regions import Region
from ...reports import event_totals, total_for
from .. import excel
from ..models import ReportReview
from ._common import event_of, unit_of, within
from .review import STATUS_LABELS, latest_reports

LEVEL_LABELS = {"county": "县", "township": "乡镇"}


def _counties(event, code: str) -> list[Region]:
    """The event's counties inside ``code`` (or the county ``code`` lies in)."""
    wanted: set[str] = set()
    for affected in event.region_codes:
        level = codes.level_of(affected)
        if level in ("county", "township", "village"):
            wanted.add(affected[:6])
        else:
            wanted.update(db.session.scalars(select(Region.code).where(
                Region.level == "county", within(Region.code, affected))))
    inside = sorted(c for c in wanted if codes.is_within(c, code) or codes.is_within(code, c))
    return db.session.scalars(select(Region).where(Region.code.in_(inside)).order_by(Region.code)).all() if inside else []


def _source(total) -> str:
    if total.reporting_units == 0:
        return "未报"
    return "本级报告" if total.direct else "下级汇总"


def breakdown_rows(user, event_id: int, region_code=None) -> tuple[object, list[dict]]:
    """The rows of the table for the unit (default: the user's), county first, then townships."""
    require(user, "report.view")
    event = event_of(user, event_id)
    code = unit_of(user, event, region_code)
    totals = event_totals(event.id)
    counties = _counties(event, code)
    latest = {c: r for county in counties for c, r in latest_reports(event.id, county.code).items()}
    reviewed = {r.report_id: r.decision for r in db.session.scalars(select(ReportReview).where(
        ReportReview.report_id.in_([r.id for r in latest.values()])))} if latest else {}
    rows = []
    for county in counties:
        towns = db.session.scalars(select(Region).where(Region.parent_code == county.code).order_by(Region.code)).all()
        for region in (county, *towns):
            total = total_for(region.code, totals)
            report = latest.get(region.code)
            status = None
            if report is not None:
                decision = reviewed.get(report.id)
                status = STATUS_LABELS["pending" if decision is None else
                                       ("accepted" if decision == "accept" else "returned")]
            rows.append({"region_code": region.code, "name": region.name, "level": LEVEL_LABELS.get(region.level, region.level),
                         "source": _source(total), "review": status,
                         "figures": dict(total.figures)})
    return event, rows


def export_breakdown(user, event_id: int, region_code=None) -> tuple[bytes, str]:
    event, rows = breakdown_rows(user, event_id, region_code)
    data = excel.write_breakdown(event, rows, exported_by=user.username)
    return data, f"{excel.BREAKDOWN_TITLE}-{event.id}.xlsx"
