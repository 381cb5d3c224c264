"""Import and export of the national quick-report table (自然灾害损失情况统计快报表, Excel).

The import files every row through the checks of a single report (:func:`.reports.check_report`),
against the database and the rows before it: any error anywhere and nothing is written (one 422
naming each row and field, or a 403 when a row is outside the jurisdiction). The export writes
the reports the user may see. The table's layout is :mod:`app.reports.excel`.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ... import audit
from ...errors import Forbidden, Invalid, RetryableConflict, ServiceError
from ...extensions import db
from ...models_common import utcnow
from ...permissions import require
from ...regions import Region
from .. import excel
from ..models import Event, LossReport
from .events import get_event
from .history import reports_query
from .reports import Draft, Previous, Rejected, after_commit, check_report, latest_of, new_report


# --- Import --------------------------------------------------------------------------------------

def import_upload(user, event_id: int, upload: Any) -> list[LossReport]:
    """Read an uploaded table (a werkzeug ``FileStorage``, from the page's form or the API's
    multipart body) and file every row (:func:`import_reports`). A refusal leaves nothing in the
    session."""
    try:
        require(user, "report.import")
        get_event(user, event_id)
        if upload is None or not getattr(upload, "filename", None):
            raise Invalid("缺少 Excel 文件。", [{"field": "file", "message": "必填"}])
        return import_event(user, event_id, upload.stream.read())
    except ServiceError:
        db.session.rollback()
        raise


def import_event(user, event_id: int, content) -> list[LossReport]:
    """Read the table (bytes or a binary stream) and file every row (:func:`import_reports`)."""
    require(user, "report.import")
    get_event(user, event_id)
    return import_reports(user, event_id, excel.read_rows(content))


def import_reports(user, event_id: int, rows: list[dict]) -> list[LossReport]:
    """File many reports at once (the Excel import): every row is checked against the database
    and the rows before it; any error anywhere and nothing is written.

    Each row is ``{"_row": n, "region_code", "kind", "as_of", "figures", "note"}``. Errors carry
    ``row`` and a field ``rows[n].<field>``. Rows outside the jurisdiction make it a 403.
    """
    require(user, "report.import")
    event = get_event(user, event_id)
    if not rows:
        raise Invalid("文件中没有数据行。", [{"field": "file", "message": "没有数据行"}])
    now = utcnow()
    drafts = _checked_rows(user, event, rows, now)
    reports = [new_report(user, event, draft, sequence, now) for draft, sequence in drafts]
    _write(user, event, reports)
    after_commit(event, reports, [draft for draft, _sequence in drafts])
    return reports


def _checked_rows(user, event: Event, rows: list[dict], now) -> list[tuple[Draft, int]]:
    """Each row's draft and sequence number, every row checked against the region's latest
    report, which may be the row before it; raises with the errors of every row."""
    state: dict[str, Previous | None] = {}

    def previous(code: str) -> Previous | None:
        if code not in state:
            state[code] = Previous.of(latest_of(event.id, code))
        return state[code]

    drafts: list[tuple[Draft, int]] = []
    errors: list[dict] = []
    forbidden: list[dict] = []
    for row in rows:
        number = row.get("_row")
        data = {k: v for k, v in row.items() if not k.startswith("_")}
        try:
            draft = check_report(user, event, data, previous, now)
        except Rejected as rejected:
            target = forbidden if rejected.error_type is Forbidden else errors
            target.extend({"row": number, "field": f"rows[{number}].{error['field']}",
                           "message": f"第 {number} 行：{error['message']}"} for error in rejected.errors)
            continue
        prev = previous(draft.region_code)
        sequence = (prev.sequence if prev else 0) + 1
        state[draft.region_code] = Previous(draft.kind, sequence, draft.as_of, draft.figures)
        drafts.append((draft, sequence))
    if forbidden:
        raise Forbidden(f"有 {len(forbidden)} 行的区划不在管辖范围内，未导入任何数据。", forbidden)
    if errors:
        raise Invalid(f"有 {len({e['row'] for e in errors})} 行有错误，未导入任何数据。", errors)
    return drafts


def _write(user, event: Event, reports: list[LossReport]) -> None:
    """The reports, an audit line each and one for the import, in one transaction."""
    db.session.add_all(reports)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise RetryableConflict("导入期间有人提交了同一区划的报告，未导入任何数据，请重试。") from None
    for report in reports:
        audit.record(user, "report.submit", "loss_report", report.id,
                     after={"event_id": event.id, "kind": report.kind, "sequence": report.sequence,
                            "as_of": report.as_of, "figures": report.figures, "note": report.note},
                     region_code=report.region_code, note="excel import")
    audit.record(user, "report.import", "event", event.id, after={"rows": len(reports)},
                 region_code=event.region_codes[0])
    db.session.commit()


# --- Export --------------------------------------------------------------------------------------

def export_event(user, event_id: int, *, latest: bool = False, within: str | None = None) -> tuple[bytes, str]:
    """The event's reports the user may see (all, oldest first per region; or each region's
    latest) as an .xlsx quick-report table, and its file name."""
    event = get_event(user, event_id)
    stmt = reports_query(user, event, within=within)
    reports = db.session.scalars(stmt.order_by(None).order_by(LossReport.region_code, LossReport.sequence)).all()
    if latest:
        newest: dict[str, LossReport] = {}
        for report in reports:
            newest[report.region_code] = report
        reports = list(newest.values())
    names = dict(db.session.execute(select(Region.code, Region.name).where(
        Region.code.in_({r.region_code for r in reports}))).all()) if reports else {}
    content = excel.write_table(event, reports, names, exported_by=user.username)
    return content, f"event-{event.id}-{'latest' if latest else 'all'}-快报表.xlsx"
