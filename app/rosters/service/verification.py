"""公安核查: the police's check of a missing person (domain.md §3b, cooperation with 公安).

A 公安 department account sees the missing persons of the roster inside its jurisdiction, with
their full ID numbers (the check is by identity), and records the outcome of each check with
its reference: still missing (recorded in the audit log), found alive or found dead (the
person's status moves through the roster's state machine with the check as the reason, so the
counts follow, exactly as a clerk's change would).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ... import audit
from ...errors import Conflict, Invalid, NotFound
from ...extensions import db
from ...models_common import utcnow
from ...permissions import require
from ...reports import Event
from ...validation import Field, validate
from ..models import CASUALTY_MACHINE, SEXES, Casualty, CasualtyChange
from ._common import within

OUTCOMES = {"still_missing": "仍未找到", "found_alive": "已找到，生还", "found_dead": "已找到，确认遇难"}
VERIFY_FIELDS = {
    "outcome": Field("str", choices=tuple(OUTCOMES), description="核查结果：still_missing | found_alive | found_dead"),
    "reference": Field("str", max_length=60, description="公安核查编号"),
    "note": Field("str", required=False, max_length=2000, multiline=True, description="说明"),
}


def missing_persons(user) -> list[dict]:
    """The missing persons of the roster inside the user's jurisdiction, newest first."""
    require(user, "casualty.verify", user.region_code)
    rows = db.session.execute(
        select(Casualty, Event.name).join(Event, Event.id == Casualty.event_id)
        .where(Casualty.status == "missing", within(Casualty.region_code, user.region_code))
        .order_by(Casualty.occurred_on.desc(), Casualty.id.desc()).limit(500)).all()
    return [{"id": c.id, "event": event_name, "name": c.name, "sex": SEXES.get(c.sex, c.sex), "age": c.age,
             "id_number": c.id_number, "address": c.address, "occurred_on": c.occurred_on,
             "place": c.place, "region_code": c.region_code} for c, event_name in rows]


def verify_missing(user, casualty_id: int, data: Any) -> tuple[Casualty, str]:
    """Record the outcome of a check of a missing person; commits, with audit."""
    require(user, "casualty.verify", user.region_code)
    row = db.session.get(Casualty, casualty_id)
    if row is None:
        raise NotFound("名册中没有该人员。")
    require(user, "casualty.verify", row.region_code)
    values, errors = validate(VERIFY_FIELDS, data)
    if errors:
        raise Invalid(f"核查结果有 {len(errors)} 处错误。", errors)
    if row.status != "missing":
        raise Conflict("该人员已不是失踪状态，无需核查。", [{"field": "outcome", "message": "已不是失踪"}])
    if db.session.get(Event, row.event_id).status == "closed":
        raise Conflict("灾害过程已结束，名册不再变更。", [{"field": "outcome", "message": "已结束"}])
    reason = f"公安核查（{values['reference']}）：{OUTCOMES[values['outcome']]}" + \
        (f"。{values['note']}" if values["note"] else "")
    after = {"outcome": values["outcome"], "reference": values["reference"]}
    if values["outcome"] != "still_missing":
        before, status = CASUALTY_MACHINE.fire(row, values["outcome"])
        db.session.add(CasualtyChange(casualty_id=row.id, from_status=before, to_status=status, reason=reason,
                                      changed_by_id=user.id, changed_by=user.username, changed_at=utcnow()))
        after["status"] = status
    audit.record(user, "casualty.police_check", "casualty", row.id, region_code=row.region_code,
                 before={"status": "missing"}, after=after, note=reason)
    db.session.commit()
    return row, values["outcome"]
