"""Whether a unit's reported figures agree with its rosters (名册与报表一致性), and the written
explanation when they do not (差异说明).

- Casualties: the unit's deaths and missing (its rolled-up total, :func:`app.reports.total_for`)
  against the people on its roster (and below it) who are dead or missing.
- Houses: at 核报 the unit's collapsed, severely and generally damaged households and rooms
  against the roster's households and rooms of each class (before 核报 the check is shown
  but not yet due).

A unit agrees, or differs with an explanation that names the very counts it explains (a later
change to either side makes it stale), or differs unexplained.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ... import audit
from ...errors import Forbidden, Invalid
from ...extensions import db
from ...models_common import utcnow
from ...permissions import can, require
from ...reports import LossReport, event_totals, total_for
from ...validation import Field, validate
from ..models import DAMAGE_CLASSES, DAMAGE_FIGURES, ROSTERS, DamagedHouse, RosterNote
from ._common import children_in_event, event_of, inside_event, names_of, unit_of, unknown_region, within
from .casualties import roster_counts

NOTE_FIELDS = {
    "region_code": Field("code", description="单位区划代码"),
    "roster": Field("str", choices=tuple(ROSTERS), description="casualty 死亡失踪名册 | housing 倒损住房名册"),
    "text": Field("str", max_length=4000, multiline=True, description="报表数与名册数不一致的原因"),
}
STATUS_LABELS = {"agrees": "一致", "explained": "不一致（已说明）", "unexplained": "不一致（未说明）",
                 "not_due": "未到核报", "no_report": "本级无报表（计入上级报表）"}


def _latest_note(event_id: int, code: str, roster: str) -> RosterNote | None:
    return db.session.scalar(select(RosterNote).where(
        RosterNote.event_id == event_id, RosterNote.region_code == code, RosterNote.roster == roster)
        .order_by(RosterNote.id.desc()).limit(1))


def _judge(event_id: int, code: str, roster: str, counts: dict) -> tuple[str, RosterNote | None]:
    note = _latest_note(event_id, code, roster)
    if counts["roster"] == counts["report"]:
        return "agrees", note
    if note is not None and note.counts == counts:
        return "explained", note
    return "unexplained", note


def casualty_counts(event_id: int, code: str, totals=None) -> dict:
    """``{"roster": {deaths, missing}, "report": {deaths, missing}}`` of one unit."""
    totals = event_totals(event_id) if totals is None else totals
    figures = total_for(code, totals).figures
    on_roster = roster_counts(event_id, code)
    return {"roster": {"deaths": on_roster["deaths"], "missing": on_roster["missing"]},
            "report": {"deaths": int(figures.get("deaths", 0)), "missing": int(figures.get("missing", 0))}}


def house_counts(event_id: int, code: str, totals=None) -> dict:
    """``{"roster": {field: n}, "report": {field: n}}`` over the six house indicators."""
    totals = event_totals(event_id) if totals is None else totals
    figures = total_for(code, totals).figures
    rows = db.session.execute(select(DamagedHouse.damage_class, func.count(), func.coalesce(func.sum(DamagedHouse.rooms), 0))
                              .where(DamagedHouse.event_id == event_id, within(DamagedHouse.region_code, code))
                              .group_by(DamagedHouse.damage_class)).all()
    by = {cls: (int(n), int(rooms)) for cls, n, rooms in rows}
    roster, report = {}, {}
    for cls, (households, rooms) in DAMAGE_FIGURES.items():
        roster[households], roster[rooms] = by.get(cls, (0, 0))
        report[households], report[rooms] = int(figures.get(households, 0)), int(figures.get(rooms, 0))
    return {"roster": roster, "report": report}


def _verified(event_id: int, code: str) -> bool:
    """A 核报 has been filed for ``code`` or a unit below it."""
    return db.session.scalar(select(func.count()).select_from(LossReport).where(
        LossReport.event_id == event_id, LossReport.kind == "final", within(LossReport.region_code, code))) > 0


def unit_check(event_id: int, code: str, roster: str, totals=None) -> dict:
    """One unit's check: its counts, status (:data:`STATUS_LABELS`) and explanation. A region
    with no report at or below it (its figures are in a report above it) is ``no_report``."""
    totals = event_totals(event_id) if totals is None else totals
    counts = (casualty_counts if roster == "casualty" else house_counts)(event_id, code, totals)
    status, note = _judge(event_id, code, roster, counts)
    if status == "unexplained" and total_for(code, totals).reporting_units == 0:
        status = "no_report"
    elif roster == "housing" and status == "unexplained" and not _verified(event_id, code):
        status = "not_due"
    return {"region_code": code, "kind": roster, **counts, "status": status,
            "status_label": STATUS_LABELS[status],
            "explanation": None if note is None else {"text": note.text, "counts": note.counts,
                                                      "by": note.written_by, "at": note.written_at.isoformat(),
                                                      "current": status == "explained"}}


def consistency(user, event_id: int, roster: str, region_code=None) -> dict:
    """The check of a unit and of each region right below it that the event touches."""
    require(user, "casualty.view")
    if roster not in ROSTERS:
        raise Invalid("查询参数有误。", [{"field": "roster", "message": "必须是 casualty 或 housing"}])
    event = event_of(user, event_id)
    code = unit_of(user, event, region_code)
    totals = event_totals(event.id)
    units = [code] + [r.code for r in children_in_event(event, code)]
    rows = [unit_check(event.id, c, roster, totals) for c in units]
    names = names_of(units)
    for row in rows:
        row["name"] = names.get(row["region_code"], "")
    return {"event_id": event.id, "region_code": code, "unit": rows[0], "children": rows[1:]}


def explain(user, event_id: int, data: Any) -> RosterNote:
    """Record why a unit's figures differ from its roster, for the counts as they stand now."""
    require(user, "casualty.edit")
    event = event_of(user, event_id)
    values, errors = validate(NOTE_FIELDS, data)
    code = values["region_code"]
    if code is not None:
        if not can(user, "casualty.edit", code):
            raise Forbidden(f"区划 {code} 不在当前用户的管辖范围内。", [{"field": "region_code", "message": "不在管辖范围内"}])
        if not inside_event(event, code):
            errors.append({"field": "region_code", "message": "不在本次灾害过程的受灾区划内"})
        else:
            unknown_region(code, "region_code", errors)
    if values["text"] is not None and not values["text"].strip():
        errors.append({"field": "text", "message": "必填"})
    if errors:
        raise Invalid(f"说明有 {len(errors)} 处错误。", errors)
    counts = (casualty_counts if values["roster"] == "casualty" else house_counts)(event.id, code)
    if counts["roster"] == counts["report"]:
        raise Invalid("报表数与名册数一致，无须说明。", [{"field": "text", "message": "数字一致，无须说明"}])
    note = RosterNote(event_id=event.id, region_code=code, roster=values["roster"], counts=counts,
                      text=values["text"].strip(), written_by_id=user.id, written_by=user.username,
                      written_at=utcnow())
    db.session.add(note)
    db.session.flush()
    audit.record(user, "roster.explain", "roster_note", note.id, region_code=code,
                 after={"event_id": event.id, "roster": note.roster, "counts": counts, "text": note.text})
    db.session.commit()
    return note
