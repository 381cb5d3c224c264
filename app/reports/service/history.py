"""Reading the reports as filed (报告历史): an event's reports the user may see (one region's
history, a subtree, or everything in the jurisdiction), one report with its photos, and the API's
dict of a report (kind label, photo count, photos required). Reports are never changed.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import func, select

from gis import codes

from ...errors import NotFound
from ...extensions import db
from ...permissions import can, require
from ...regions import Region
from ...validation import Field
from ..models import REPORT_KINDS, Event, LossReport, ReportPhoto
from ..totals import within_clause
from ._common import CODE_ARG, query
from .events import get_event
from .reports import photos_required

_REPORT_ARGS = {
    "kind": Field("str", required=False, choices=tuple(REPORT_KINDS), description="initial | update | final"),
    "region_code": CODE_ARG,
    "within": CODE_ARG,
}


def reports_query(user, event: Event, *, region_code: str | None = None, within: str | None = None,
                  kind: str | None = None):
    """A ``select`` of an event's reports, oldest first: one region's history
    (``region_code``), a subtree (``within``), or all the user may see."""
    require(user, "report.view")
    args = query(_REPORT_ARGS, {"region_code": region_code, "within": within, "kind": kind})
    stmt = select(LossReport).where(LossReport.event_id == event.id)
    if args["region_code"]:
        require(user, "report.view", args["region_code"])
        stmt = stmt.where(LossReport.region_code == args["region_code"])
    if args["within"]:
        require(user, "report.view", args["within"])
        stmt = stmt.where(within_clause(LossReport.region_code, args["within"]))
    if args["kind"]:
        stmt = stmt.where(LossReport.kind == args["kind"])
    if user.region_code != codes.NATIONAL:
        stmt = stmt.where(within_clause(LossReport.region_code, user.region_code))
    return stmt.order_by(LossReport.submitted_at, LossReport.id)


def event_and_report(user, event_id: int, report_id: int) -> tuple[Event, LossReport]:
    """The event and one of its reports, when the user may see both."""
    event = get_event(user, event_id)
    report = db.session.get(LossReport, report_id)
    if report is None or report.event_id != event.id:
        raise NotFound(f"报告 {report_id} 不存在。")
    require(user, "report.view", report.region_code)
    return event, report


def get_report(user, event_id: int, report_id: int) -> LossReport:
    return event_and_report(user, event_id, report_id)[1]


def _photos(report_id: int) -> list[ReportPhoto]:
    return db.session.scalars(select(ReportPhoto).filter_by(report_id=report_id).order_by(ReportPhoto.id)).all()


def photos_of(user, event_id: int, report_id: int) -> list[ReportPhoto]:
    return _photos(get_report(user, event_id, report_id).id)


def report_dicts(event: Event, reports: Iterable[LossReport]) -> list[dict]:
    """Reports as API dicts with kind label and photo counts."""
    reports = list(reports)
    counts = dict(db.session.execute(
        select(ReportPhoto.report_id, func.count()).where(ReportPhoto.report_id.in_([r.id for r in reports]))
        .group_by(ReportPhoto.report_id)).all()) if reports else {}
    out = []
    for report in reports:
        item = report.to_dict()
        item["kind_label"] = REPORT_KINDS[report.kind]
        item["photo_count"] = counts.get(report.id, 0)
        item["photos_required"] = photos_required(event, report.figures)
        out.append(item)
    return out


def report_body(user, event_id: int, report_id: int) -> dict:
    """``GET /events/{id}/reports/{id}``: the report's dict with its photos."""
    event, report = event_and_report(user, event_id, report_id)
    body = report_dicts(event, [report])[0]
    body["photos"] = [photo.to_dict() for photo in _photos(report.id)]
    return body


def report_page(user, event_id: int, report_id: int) -> dict:
    """What the report page shows: the event, the report's dict, its region and photos, and
    what the user may do there."""
    event, report = event_and_report(user, event_id, report_id)
    return {"event": event, "report": report_dicts(event, [report])[0],
            "region": db.session.get(Region, report.region_code), "photos": _photos(report.id),
            "allowed": {"upload": can(user, "report.submit", report.region_code)}}
