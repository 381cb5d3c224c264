"""What a unit files beside its figures, and what the level above checks before accepting: the
text descriptions (灾情文字说明, 救灾工作文字说明; append-only, the latest of each kind stands) and
the photo rule (an event under any response in force needs at least ``REPORT_MAJOR_MIN_PHOTOS``
photos from each reporting unit), tracked per unit as requirements met or not.
"""
from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import func, select

from ... import audit
from ...errors import Conflict, Forbidden, Invalid
from ...extensions import db
from ...models_common import utcnow
from ...permissions import can, require
from ...reports import LossReport, ReportPhoto
from ...responses import active_responses
from ...validation import Field, validate
from ..models import TEXT_KINDS, ReportText
from ._common import event_of, inside_event, unknown_region

TEXT_FIELDS = {
    "region_code": Field("code", description="报送单位"),
    "kind": Field("str", choices=tuple(TEXT_KINDS), description="disaster 灾情文字说明 | relief 救灾工作文字说明"),
    "text": Field("str", max_length=20000, multiline=True,
                  description="灾情：背景、过程、特点、趋势；救灾工作：措施、力量、资金、物资、需求、困难、下一步"),
}


def write_text(user, event_id: int, data: Any) -> ReportText:
    """File (a new version of) a unit's text description."""
    require(user, "report.submit")
    event = event_of(user, event_id)
    values, errors = validate(TEXT_FIELDS, data)
    code = values["region_code"]
    if code is not None:
        if not can(user, "report.submit", code):
            raise Forbidden(f"区划 {code} 不在当前用户的管辖范围内。", [{"field": "region_code", "message": "不在管辖范围内"}])
        if not inside_event(event, code):
            errors.append({"field": "region_code", "message": "不在本次灾害过程的受灾区划内"})
        else:
            unknown_region(code, "region_code", errors)
    if values["text"] is not None and not values["text"].strip():
        errors.append({"field": "text", "message": "必填"})
    if errors:
        raise Invalid(f"文字说明有 {len(errors)} 处错误。", errors)
    if event.status == "closed":
        raise Conflict("灾害过程已结束。", [{"field": "event", "message": "已结束"}])
    row = ReportText(event_id=event.id, region_code=code, kind=values["kind"], text=values["text"].strip(),
                     written_by_id=user.id, written_by=user.username, written_at=utcnow())
    db.session.add(row)
    db.session.flush()
    audit.record(user, "report.describe", "report_text", row.id, region_code=code,
                 after={"event_id": event.id, "kind": row.kind, "length": len(row.text)})
    db.session.commit()
    return row


def latest_texts(event_id: int, units) -> dict[tuple[str, str], ReportText]:
    """``(region, kind) → the latest text`` for these units."""
    units = list(units)
    if not units:
        return {}
    rows = db.session.scalars(select(ReportText).where(ReportText.event_id == event_id,
                                                       ReportText.region_code.in_(units)).order_by(ReportText.id))
    return {(r.region_code, r.kind): r for r in rows}


def photo_counts(event_id: int, units) -> dict[str, int]:
    units = list(units)
    if not units:
        return {}
    return dict(db.session.execute(select(LossReport.region_code, func.count(ReportPhoto.id))
                                   .join(ReportPhoto, ReportPhoto.report_id == LossReport.id)
                                   .where(LossReport.event_id == event_id, LossReport.region_code.in_(units))
                                   .group_by(LossReport.region_code)).all())


def requirements(event_id: int, units) -> dict[str, dict]:
    """Per unit: which text descriptions it has filed and whether the photo rule is met."""
    units = list(units)
    texts = latest_texts(event_id, units)
    photos = photo_counts(event_id, units)
    required = int(current_app.config["REPORT_MAJOR_MIN_PHOTOS"]) if active_responses(event_id) else 0
    out = {}
    for unit in units:
        descriptions = {kind: (texts[(unit, kind)].text if (unit, kind) in texts else None) for kind in TEXT_KINDS}
        count = photos.get(unit, 0)
        out[unit] = {"descriptions": descriptions, "photos": {"count": count, "required": required,
                                                               "met": count >= required},
                     "met": all(descriptions.values()) and count >= required}
    return out
