"""The roster of the dead and missing (因灾死亡失踪人口一览表): adding a person, a missing person
found dead or alive (with the reason, append-only), and reading the roster with identity
numbers masked for the roles that need not see them.

Every row is checked by :func:`check_row`, which the Excel import (:mod:`.imports`) shares:
the region lies in the event, the identity number passes GB 11643 and is on no roster yet (any
unit, any event), the age agrees with the birth date it carries, the date is not in the future.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ... import audit
from ...errors import Conflict, Forbidden, Invalid, NotFound
from ...i18n import translate
from ...extensions import db
from ...models_common import utcnow
from ...permissions import can, require
from ...reports import HAZARDS
from ...validation import Field, validate
from ... import idcard
from ..models import (CASUALTY_MACHINE, CASUALTY_STATUSES, CHANGE_LABELS, SEXES, Casualty, CasualtyChange)
from ._common import code_arg, event_of, inside_event, unknown_region, within

CASUALTY_FIELDS = {
    "region_code": Field("code", description="所在区划代码（县、乡镇或村，须在灾害过程的受灾区划内）"),
    "name": Field("str", max_length=50, description="姓名"),
    "sex": Field("str", choices=tuple(SEXES), description="male 男 | female 女"),
    "id_number": Field("str", max_length=30, description="公民身份号码（18 位，校验码须正确）"),
    "age": Field("int", required=False, min=0, max=150, description="年龄（岁）；须与身份证出生日期相符"),
    "address": Field("str", max_length=200, description="户籍或常住地址"),
    "occurred_on": Field("date", description="死亡或失踪日期"),
    "place": Field("str", max_length=200, description="死亡或失踪地点"),
    "cause": Field("str", max_length=200, description="死亡或失踪原因"),
    "hazard": Field("str", required=False, choices=tuple(HAZARDS), description="灾种；省略时取灾害过程的灾种"),
    "status": Field("str", choices=("dead", "missing"), description="dead 死亡 | missing 失踪"),
}
STATUS_FIELDS = {
    "action": Field("str", choices=tuple(CHANGE_LABELS), description="found_dead 确认死亡 | found_alive 生还（失踪人员）| death_disproved 死亡登记有误，人员生还"),
    "reason": Field("str", max_length=2000, multiline=True, description="变更原因（必填）"),
}
#: The roster page lists at most this many people of a unit (the API pages through all).
PAGE_ROWS = 300
#: Called as ``listener(user, row, before, after)`` inside the transaction of each status change
#: (the cycles cancel an unpaid condolence line when a person is found alive).
_STATUS_LISTENERS: list = []


def when_status_changes(listener) -> None:
    """Register ``listener`` for every status change of a roster row (once per listener)."""
    if listener not in _STATUS_LISTENERS:
        _STATUS_LISTENERS.append(listener)


def local_today() -> date:
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def check_row(event, values: dict, errors: list[dict], prefix: str = "", today: date | None = None) -> None:
    """The rules of one roster row beyond its fields' own checks, each error named
    ``prefix + field``; ``values["id_number"]`` is normalised in place."""
    today = today or local_today()
    code = values.get("region_code")
    if code is not None and not inside_event(event, code, strict=True):
        errors.append({"field": prefix + "region_code",
                       "message": f"区划 {code} 不在本次灾害过程的受灾区划（{'、'.join(event.region_codes)}）内"})
    number = values.get("id_number")
    if number is not None:
        try:
            values["id_number"] = number = idcard.normalise(number, today)
        except idcard.IdNumberError as exc:
            errors.append({"field": prefix + "id_number", "message": translate(exc.message, **exc.params)})
            number = None
    day = values.get("occurred_on")
    if day is not None and day > today:
        errors.append({"field": prefix + "occurred_on", "message": "日期不能晚于今天"})
    if number and day is not None and values.get("age") is not None:
        expected = idcard.age_on(number, day)
        if expected is not None and abs(expected - values["age"]) > 1:
            errors.append({"field": prefix + "age",
                           "message": f"年龄 {values['age']} 与身份证出生日期不符（应为 {expected} 岁左右）"})


def registered(numbers) -> dict[str, Casualty]:
    """The rows already on the roster (any unit, any event) for these identity numbers."""
    found: dict[str, Casualty] = {}
    numbers = sorted(set(numbers))
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        for row in db.session.scalars(select(Casualty).where(Casualty.id_number.in_(chunk))):
            found[row.id_number] = row
    return found


def duplicate_message(row: Casualty) -> str:
    return f"该身份证号已登记（灾害过程 #{row.event_id}，区划 {row.region_code}，{row.name}）"


def add_casualty(user, event_id: int, data: Any) -> Casualty:
    """Add one person to the roster (page form or JSON body); every error named at once."""
    require(user, "casualty.edit")
    event = event_of(user, event_id)
    values, errors = validate(CASUALTY_FIELDS, data)
    if values["region_code"] is not None and not can(user, "casualty.edit", values["region_code"]):
        raise Forbidden(f"区划 {values['region_code']} 不在当前用户的管辖范围内。",
                        [{"field": "region_code", "message": "不在管辖范围内"}])
    check_row(event, values, errors)
    if not any(e["field"] == "region_code" for e in errors):
        unknown_region(values["region_code"], "region_code", errors)
    if values["id_number"] and not any(e["field"] == "id_number" for e in errors):
        same = registered([values["id_number"]]).get(values["id_number"])
        if same is not None:
            errors.append({"field": "id_number", "message": duplicate_message(same)})
    if event.status == "closed":
        raise Conflict("灾害过程已结束，名册不再变更。", [{"field": "event", "message": "已结束"}])
    if errors:
        raise Invalid(f"名册有 {len(errors)} 处错误。", errors)
    row = Casualty(event_id=event.id, **{k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()},
                   created_by_id=user.id, created_by=user.username, created_at=utcnow())
    row.hazard = row.hazard or event.hazard
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("该身份证号刚被登记。", [{"field": "id_number", "message": "已登记"}]) from None
    audit.record(user, "casualty.add", "casualty", row.id, region_code=row.region_code,
                 after={"event_id": event.id, "status": row.status, "id_number": idcard.mask_id(row.id_number)})
    db.session.commit()
    return row


def change_status(user, casualty_id: int, data: Any) -> Casualty:
    """A missing person found dead or alive: the status moves, and the change and its reason
    are recorded (append-only); the counts follow."""
    require(user, "casualty.edit")
    row = db.session.get(Casualty, casualty_id)
    if row is None:
        raise NotFound("名册中没有该人员。")
    event = event_of(user, row.event_id)
    require(user, "casualty.edit", row.region_code)
    values, errors = validate(STATUS_FIELDS, data)
    if values["reason"] is not None and not values["reason"].strip():
        errors.append({"field": "reason", "message": "必填"})
    if errors:
        raise Invalid(f"状态变更有 {len(errors)} 处错误。", errors)
    if event.status == "closed":
        raise Conflict("灾害过程已结束，名册不再变更。", [{"field": "event", "message": "已结束"}])
    before, after = CASUALTY_MACHINE.fire(row, values["action"])
    db.session.add(CasualtyChange(casualty_id=row.id, from_status=before, to_status=after,
                                  reason=values["reason"].strip(), changed_by_id=user.id,
                                  changed_by=user.username, changed_at=utcnow()))
    audit.record(user, f"casualty.{values['action']}", "casualty", row.id, region_code=row.region_code,
                 before={"status": before}, after={"status": after, "reason": values["reason"].strip()})
    for listener in _STATUS_LISTENERS:
        listener(user, row, before, after)
    db.session.commit()
    return row


def casualties_query(user, event_id: int, region_code=None, status=None):
    """The event's roster inside the jurisdiction (and inside ``region_code``), by region and id."""
    require(user, "casualty.view")
    event = event_of(user, event_id)
    code = code_arg(region_code)
    if status not in (None, "") and status not in CASUALTY_STATUSES:
        raise Invalid("查询参数有误。", [{"field": "status", "message": "必须是 dead、missing 或 found_alive"}])
    stmt = select(Casualty).where(Casualty.event_id == event.id, within(Casualty.region_code, user.region_code))
    if code:
        stmt = stmt.where(within(Casualty.region_code, code))
    if status:
        stmt = stmt.where(Casualty.status == status)
    return stmt.order_by(Casualty.region_code, Casualty.id)


def roster_counts(event_id: int, code: str) -> dict[str, int]:
    """``{"deaths", "missing", "found_alive"}`` on the roster of ``code`` and everything below it."""
    rows = db.session.execute(select(Casualty.status, func.count()).where(
        Casualty.event_id == event_id, within(Casualty.region_code, code)).group_by(Casualty.status)).all()
    by = dict(rows)
    return {"deaths": by.get("dead", 0), "missing": by.get("missing", 0), "found_alive": by.get("found_alive", 0)}


def shows_id_numbers(user, code: str) -> bool:
    return can(user, "casualty.view_id_number", code)


def casualty_dict(row: Casualty, full_ids: bool, changes: list[CasualtyChange] = ()) -> dict:
    """One person as the API and the pages show it (identity number masked unless ``full_ids``)."""
    return {"id": row.id, "event_id": row.event_id, "region_code": row.region_code, "name": row.name,
            "sex": row.sex, "id_number": row.id_number if full_ids else idcard.mask_id(row.id_number),
            "id_number_masked": not full_ids, "age": row.age, "address": row.address,
            "occurred_on": row.occurred_on.isoformat(), "place": row.place, "cause": row.cause,
            "hazard": row.hazard, "status": row.status,
            "changes": [{"from": c.from_status, "to": c.to_status, "reason": c.reason, "by": c.changed_by,
                         "at": c.changed_at.isoformat()} for c in changes]}


def casualty_dicts(user, rows: list[Casualty]) -> list[dict]:
    """Rows as dicts, with each one's status changes (one query) and the masking the user needs."""
    ids = [r.id for r in rows]
    changes: dict[int, list[CasualtyChange]] = {}
    if ids:
        for change in db.session.scalars(select(CasualtyChange).where(CasualtyChange.casualty_id.in_(ids))
                                         .order_by(CasualtyChange.id)):
            changes.setdefault(change.casualty_id, []).append(change)
    return [casualty_dict(r, shows_id_numbers(user, r.region_code), changes.get(r.id, [])) for r in rows]
