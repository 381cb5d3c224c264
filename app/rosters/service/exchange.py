"""The exchange file of an event's reports (灾情数据交换文件): JSON another system can import.

Format ``jiuzai-event-exchange``, version 1::

    {"format": "jiuzai-event-exchange", "version": 1,
     "exported_at": ISO 8601, "exported_by": "username",
     "event": {"id", "name", "hazard", "started_at", "region_codes", "major"},
     "reports": [{"region_code", "kind": "initial|update|final", "sequence", "as_of", "figures": {...},
                  "note", "submitted_by", "submitted_at",
                  "review": null | {"decision": "accept|return", "reason", "reviewed_by", "reviewed_at"}}]}

``reports`` holds every report the exporting user may see, oldest first within each region
(figures by the field names of ``domain.md`` §3, cumulative, as the API has them). Importing a file
into an event (``POST /events/{id}/exchange``) files its reports in that order through every check
of a report, all or nothing (one 422 naming each bad ``rows[n]``, ``n`` counting from 1); the
importing user becomes their submitter, and reviews are not imported (the receiving side
reviews for itself). Export, import into an event over the same regions, export again: the
reports come back the same (``tests/test_rosters_import.py``).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ...extensions import db
from ...models_common import utcnow
from ...permissions import require
from ...reports import LossReport, import_reports
from ...validation import Field, validate
from ...errors import Invalid
from ..models import ReportReview
from ._common import event_of, within

FORMAT = "jiuzai-event-exchange"
VERSION = 1
MAX_REPORTS = 50_000
EXCHANGE_FIELDS = {
    "format": Field("str", choices=(FORMAT,), description="固定为 jiuzai-event-exchange"),
    "version": Field("int", min=VERSION, max=VERSION, description="格式版本（1）"),
    "reports": Field("list", items=Field("dict"), max_items=MAX_REPORTS,
                     description="各份报告：region_code, kind, as_of, figures, note（按区划、先后排列）"),
}


def export_exchange(user, event_id: int) -> dict:
    """The event and the reports the user may see, with their reviews, as the exchange file."""
    require(user, "report.view")
    event = event_of(user, event_id)
    reports = db.session.scalars(select(LossReport).where(
        LossReport.event_id == event.id, within(LossReport.region_code, user.region_code))
        .order_by(LossReport.region_code, LossReport.sequence)).all()
    reviews = {r.report_id: r for r in db.session.scalars(select(ReportReview).where(
        ReportReview.event_id == event.id))}
    return {"format": FORMAT, "version": VERSION, "exported_at": utcnow().isoformat(),
            "exported_by": user.username,
            "event": {"id": event.id, "name": event.name, "hazard": event.hazard,
                      "started_at": event.started_at.isoformat(), "region_codes": event.region_codes,
                      "major": bool(event.major)},
            "reports": [_report(r, reviews.get(r.id)) for r in reports]}


def _report(report: LossReport, review: ReportReview | None) -> dict:
    return {"region_code": report.region_code, "kind": report.kind, "sequence": report.sequence,
            "as_of": report.as_of.isoformat(), "figures": report.figures, "note": report.note,
            "submitted_by": report.submitted_by, "submitted_at": report.submitted_at.isoformat(),
            "review": None if review is None else {
                "decision": review.decision, "reason": review.reason, "reviewed_by": review.reviewed_by,
                "reviewed_at": review.reviewed_at.isoformat()}}


def import_exchange(user, event_id: int, data: Any) -> int:
    """File the reports of an exchange file into the event: how many were filed."""
    require(user, "report.import")
    event = event_of(user, event_id)
    values, errors = validate(EXCHANGE_FIELDS, data)
    if errors:
        raise Invalid(f"交换文件有 {len(errors)} 处错误。", errors)
    if not values["reports"]:
        raise Invalid("交换文件中没有报告。", [{"field": "reports", "message": "没有报告"}])
    rows = [{"_row": number, **{key: report.get(key) for key in ("region_code", "kind", "as_of", "figures", "note")}}
            for number, report in enumerate(values["reports"], start=1)]
    return len(import_reports(user, event.id, rows))
