"""Review upward (审核/退回): the level above accepts each unit's latest report or sends it back
with a reason; a returned unit corrects its figures by filing a new report, which is pending
again. A unit's figures count as reviewed only once its latest report is accepted, and the
totals of a region show what is accepted and what is pending.

The units a region reviews are its top reporting units: the regions below it with reports of
their own and no reporting region between them and it (the ones its roll-up adds up).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from gis import codes

from ... import audit
from ...errors import Conflict, Forbidden, Invalid, NotFound
from ...extensions import db
from ...models_common import utcnow
from ...permissions import can, require
from ...reports import FIELDS, LossReport, parent_lookup
from ...validation import Field, validate
from ..models import DECISIONS, ReportReview
from ._common import event_of, names_of, unit_of, within
from .texts import requirements

REVIEW_FIELDS = {
    "region_code": Field("code", description="被审核单位（其最新一份报告）"),
    "decision": Field("str", choices=tuple(DECISIONS), description="accept 审核通过 | return 退回"),
    "reason": Field("str", required=False, max_length=4000, multiline=True, description="意见；退回时必填"),
    "report_id": Field("int", required=False, min=1, bits=64,
                       description="所审核的报告；给出时须仍是该单位的最新报告（否则 409）"),
}
STATUS_LABELS = {"pending": "待审核", "accepted": "已通过", "returned": "已退回，待重报"}


def latest_reports(event_id: int, code: str) -> dict[str, LossReport]:
    """Each region's latest report below (and at) ``code``."""
    newest = (select(LossReport.region_code, func.max(LossReport.sequence).label("seq"))
              .where(LossReport.event_id == event_id, within(LossReport.region_code, code))
              .group_by(LossReport.region_code).subquery())
    rows = db.session.scalars(select(LossReport).join(
        newest, (LossReport.region_code == newest.c.region_code) & (LossReport.sequence == newest.c.seq))
        .where(LossReport.event_id == event_id)).all()
    return {r.region_code: r for r in rows}


def top_units(code: str, reported) -> list[str]:
    """The reporting regions strictly below ``code`` with no reporting region between."""
    parents = parent_lookup(reported)
    tops = []
    for unit in sorted(reported):
        if unit == code:
            continue
        above = parents.get(unit)
        while above is not None and above != code and above not in reported:
            above = parents.get(above)
        if above == code:
            tops.append(unit)
    return tops


def _reviews(report_ids) -> dict[int, ReportReview]:
    ids = list(report_ids)
    if not ids:
        return {}
    return {r.report_id: r for r in db.session.scalars(select(ReportReview).where(ReportReview.report_id.in_(ids)))}


def _status(review: ReportReview | None) -> str:
    if review is None:
        return "pending"
    return "accepted" if review.decision == "accept" else "returned"


def _sum(rows: list[dict]) -> dict:
    figures = {f: 0 for f in FIELDS}
    for row in rows:
        for f in FIELDS:
            figures[f] += row["figures"].get(f, 0) or 0
    return {"units": len(rows), "figures": figures}


def review_state(user, event_id: int, region_code=None) -> dict:
    """The units ``region_code`` reviews, each with its latest report and its review status, and
    the totals of the accepted units and of the others (pending or returned)."""
    require(user, "report.view")
    event = event_of(user, event_id)
    code = unit_of(user, event, region_code)
    latest = latest_reports(event.id, code)
    units = top_units(code, latest)
    reviews = _reviews(latest[u].id for u in units)
    names = names_of(units + [code])
    needs = requirements(event.id, units + [code])
    rows = []
    for unit in units:
        report, review = latest[unit], reviews.get(latest[unit].id)
        rows.append({"region_code": unit, "name": names.get(unit, ""), "report_id": report.id,
                     "kind": report.kind, "sequence": report.sequence, "as_of": report.as_of.isoformat(),
                     "figures": report.figures, "status": _status(review),
                     "status_label": STATUS_LABELS[_status(review)],
                     "review": review.to_dict() if review else None,
                     "may_review": _may_review(user, unit), "requirements": needs[unit]})
    own = latest.get(code)
    own_review = _last_review(event.id, code)
    return {"event_id": event.id, "region_code": code, "name": names.get(code, ""), "units": rows,
            "requirements": needs[code], "may_describe": can(user, "report.submit", code),
            "accepted": _sum([r for r in rows if r["status"] == "accepted"]),
            "pending": _sum([r for r in rows if r["status"] != "accepted"]),
            "own": None if own is None else {
                "report_id": own.id, "kind": own.kind, "sequence": own.sequence,
                "status": _status(own_review if own_review and own_review.report_id == own.id else None),
                "last_review": own_review.to_dict() if own_review else None}}


def final_returned(event_id: int, code: str) -> bool:
    """The region's latest report was sent back (退回): a returned 核报 reopens the region for a
    corrected report (registered with :func:`app.reports.reopen_final_when`)."""
    latest = (select(LossReport.id).where(LossReport.event_id == event_id, LossReport.region_code == code)
              .order_by(LossReport.sequence.desc()).limit(1).scalar_subquery())
    return db.session.scalar(select(func.count()).select_from(ReportReview).where(
        ReportReview.report_id == latest, ReportReview.decision == "return")) > 0


def _last_review(event_id: int, code: str) -> ReportReview | None:
    return db.session.scalar(select(ReportReview).where(ReportReview.event_id == event_id,
                                                        ReportReview.region_code == code)
                             .order_by(ReportReview.id.desc()).limit(1))


def _may_review(user, unit: str) -> bool:
    return can(user, "report.review", unit) and unit != codes.normalise(user.region_code)


def review(user, event_id: int, data: Any) -> ReportReview:
    """Accept or return a unit's latest report (the level above only; a return needs a reason).
    409 when that report is already reviewed or a newer one has arrived."""
    require(user, "report.review")
    event = event_of(user, event_id)
    values, errors = validate(REVIEW_FIELDS, data)
    code = values["region_code"]
    if code is not None and not can(user, "report.review", code):
        raise Forbidden(f"区划 {code} 不在当前用户的管辖范围内，不能审核。", [{"field": "region_code", "message": "不在管辖范围内"}])
    if code is not None and code == codes.normalise(user.region_code):
        raise Forbidden("本单位的报告由上一级审核。", [{"field": "region_code", "message": "不能审核本单位的报告"}])
    reason = (values["reason"] or "").strip()
    if values["decision"] == "return" and not reason:
        errors.append({"field": "reason", "message": "退回时须写明原因"})
    if errors:
        raise Invalid(f"审核有 {len(errors)} 处错误。", errors)
    report = latest_reports(event.id, code).get(code)
    if report is None:
        raise NotFound(f"区划 {code} 在本次灾害过程中没有报告。", [{"field": "region_code", "message": "没有报告"}])
    if values["report_id"] is not None and values["report_id"] != report.id:
        raise Conflict("该单位已报送更新的报告，请审核最新一份。", [{"field": "report_id", "message": f"最新报告是 #{report.id}"}])
    if _reviews([report.id]):
        raise Conflict("该报告已审核；退回后须由该单位重新报送。", [{"field": "region_code", "message": "已审核"}])
    row = ReportReview(event_id=event.id, region_code=code, report_id=report.id, decision=values["decision"],
                       reason=reason or None, reviewed_by_id=user.id, reviewed_by=user.username,
                       reviewer_region_code=user.region_code, reviewed_at=utcnow())
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("该报告刚被审核。", [{"field": "region_code", "message": "已审核"}]) from None
    audit.record(user, f"report.{values['decision']}", "loss_report", report.id, region_code=code,
                 after={"event_id": event.id, "decision": row.decision, "reason": row.reason,
                        "sequence": report.sequence})
    db.session.commit()
    return row
