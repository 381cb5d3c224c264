"""What a unit types into the relief-work table (rescuers, equipment, people sheltered together or
dispersed): validated through the one ``Field`` path, a blank absent (never 0), one append-only
filing per change, audited; the same filing twice files once."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ... import audit
from ...errors import Conflict, Forbidden, Invalid
from ...extensions import db
from ...i18n import translate
from ...models_common import utcnow
from ...permissions import can, require
from ...regions import Region
from ...reports import get_event
from ...validation import Field, validate
from ..models import TYPED, TYPED_FIELDS, ReliefWorkEntry
from ._common import inside_event, within
from .sources import people

#: Each typed indicator: a whole number ≥ 0, blank allowed (and kept blank).
ENTRY_FIELDS = {
    "region_code": Field("code", description="填报单位区划代码（须在灾害过程的受灾区划内）"),
    **{name: Field("int", required=False, min=0, max=10_000_000, description=f"{label}（{unit}）；留空表示未填")
       for name, label, unit in TYPED},
    "note": Field("str", required=False, default="", max_length=2000, multiline=True, description="备注"),
}


def latest_entries(event_id: int, code: str) -> dict[str, ReliefWorkEntry]:
    """The standing (latest) filing of each region at or below ``code``."""
    rows = db.session.scalars(select(ReliefWorkEntry).where(
        ReliefWorkEntry.event_id == event_id, within(ReliefWorkEntry.region_code, code))
        .order_by(ReliefWorkEntry.id)).all()
    return {row.region_code: row for row in rows}


def _rule_errors(event, values: dict) -> list[dict]:
    errors = []
    code = values.get("region_code")
    if code is not None:
        if not inside_event(event, code, strict=True):
            errors.append({"field": "region_code", "message": translate("不在本次灾害过程的受灾区划内")})
        elif db.session.get(Region, code) is None:
            errors.append({"field": "region_code", "message": translate("区划不存在")})
    if code is not None and all(values.get(name) is None for name in TYPED_FIELDS):
        errors.append({"field": TYPED_FIELDS[0], "message": translate("至少填写一项")})
    placed = [values.get(n) for n in ("centralised_relocated", "dispersed_relocated")]
    if code is not None and not errors and any(v is not None for v in placed):
        relocated = people(event.id, [code])[code]["relocated_population"]
        if relocated is not None and sum(v or 0 for v in placed) > relocated:
            message = translate("集中安置与分散安置之和（%(sum)s）超过报告的紧急转移安置人口（%(total)s）",
                                sum=sum(v or 0 for v in placed), total=relocated)
            errors += [{"field": n, "message": message} for n, v in
                       zip(("centralised_relocated", "dispersed_relocated"), placed) if v is not None]
    return errors


def file_entry(user, event_id: int, data: Any) -> ReliefWorkEntry:
    """File a unit's typed-in relief work (page form or JSON body); every error named at once.
    The same figures and note as the standing filing return it and file nothing."""
    require(user, "relief_work.edit")
    event = get_event(user, event_id)
    values, errors = validate(ENTRY_FIELDS, data)
    code = values["region_code"]
    if code is not None and not can(user, "relief_work.edit", code):
        raise Forbidden(translate("区划 %(code)s 不在当前用户的管辖范围内。", code=code),
                        [{"field": "region_code", "message": translate("不在管辖范围内")}])
    if not errors:
        errors = _rule_errors(event, values)
    if errors:
        raise Invalid(translate("救灾工作情况有 %(n)s 处错误。", n=len(errors)), errors)
    if event.status == "closed":
        raise Conflict(translate("灾害过程已结束，不再填报。"), [{"field": "event", "message": translate("已结束")}])
    figures = {name: values[name] for name in TYPED_FIELDS if values[name] is not None}
    note = (values["note"] or "").strip()
    standing = latest_entries(event.id, code).get(code)
    if standing is not None and standing.figures == figures and standing.note == note:
        return standing
    row = ReliefWorkEntry(event_id=event.id, region_code=code, figures=figures, note=note,
                          created_by_id=user.id, created_by=user.username, created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    audit.record(user, "relief_work.file", "relief_work_entry", row.id, region_code=code,
                 before={"figures": standing.figures} if standing is not None else None,
                 after={"event_id": event.id, "figures": figures})
    db.session.commit()
    return row
