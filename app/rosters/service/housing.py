"""The roster of collapsed and damaged houses (因灾倒塌损坏住房户一览表): one row per household
and damage class (倒塌, 严重损坏, 一般损坏) with its rooms. A household is on an event's roster once
per class (its identity number, whatever the unit); :mod:`.consistency` holds it against the
house figures of the unit's 核报.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError

from ... import audit
from ...errors import Conflict, Forbidden, Invalid
from ...i18n import translate
from ...extensions import db
from ...models_common import utcnow
from ...permissions import can, require
from ...validation import Field, validate
from ... import idcard
from ..models import DAMAGE_CLASSES, DamagedHouse
from ._common import code_arg, event_of, inside_event, unknown_region, within
from .casualties import local_today, shows_id_numbers

HOUSE_FIELDS = {
    "region_code": Field("code", description="所在区划代码（须在灾害过程的受灾区划内）"),
    "head_name": Field("str", max_length=50, description="户主姓名"),
    "id_number": Field("str", max_length=30, description="户主公民身份号码（18 位）"),
    "address": Field("str", max_length=200, description="住址"),
    "rooms": Field("int", min=1, max=200, description="该损坏等级的房屋间数"),
    "damage_class": Field("str", choices=tuple(DAMAGE_CLASSES), description="collapsed 倒塌 | severe 严重损坏 | general 一般损坏"),
}


def check_house(event, values: dict, errors: list[dict], prefix: str = "", today: date | None = None) -> None:
    """The rules of one household row beyond its fields' checks; normalises the identity number."""
    code = values.get("region_code")
    if code is not None and not inside_event(event, code, strict=True):
        errors.append({"field": prefix + "region_code", "message": f"区划 {code} 不在本次灾害过程的受灾区划内"})
    if values.get("id_number") is not None:
        try:
            values["id_number"] = idcard.normalise(values["id_number"], today or local_today())
        except idcard.IdNumberError as exc:
            errors.append({"field": prefix + "id_number", "message": translate(exc.message, **exc.params)})


def registered_houses(event_id: int, keys) -> dict[tuple[str, str], DamagedHouse]:
    keys = sorted(set(keys))
    found = {}
    for start in range(0, len(keys), 300):
        chunk = keys[start:start + 300]
        stmt = select(DamagedHouse).where(DamagedHouse.event_id == event_id,
                                          tuple_(DamagedHouse.id_number, DamagedHouse.damage_class).in_(chunk))
        for row in db.session.scalars(stmt):
            found[(row.id_number, row.damage_class)] = row
    return found


def add_house(user, event_id: int, data: Any) -> DamagedHouse:
    """Add one household and damage class to the roster; every error named at once."""
    require(user, "casualty.edit")
    event = event_of(user, event_id)
    values, errors = validate(HOUSE_FIELDS, data)
    if values["region_code"] is not None and not can(user, "casualty.edit", values["region_code"]):
        raise Forbidden(f"区划 {values['region_code']} 不在当前用户的管辖范围内。",
                        [{"field": "region_code", "message": "不在管辖范围内"}])
    check_house(event, values, errors)
    if not any(e["field"] == "region_code" for e in errors):
        unknown_region(values["region_code"], "region_code", errors)
    if values["id_number"] and values["damage_class"] and not any(e["field"] == "id_number" for e in errors):
        same = registered_houses(event.id, [(values["id_number"], values["damage_class"])])
        if same:
            errors.append({"field": "id_number", "message": "该户此损坏等级已登记"})
    if event.status == "closed":
        raise Conflict("灾害过程已结束，名册不再变更。", [{"field": "event", "message": "已结束"}])
    if errors:
        raise Invalid(f"名册有 {len(errors)} 处错误。", errors)
    row = DamagedHouse(event_id=event.id, **{k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()},
                       created_by_id=user.id, created_by=user.username, created_at=utcnow())
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("该户此损坏等级刚被登记。", [{"field": "id_number", "message": "已登记"}]) from None
    audit.record(user, "housing.add", "damaged_house", row.id, region_code=row.region_code,
                 after={"event_id": event.id, "damage_class": row.damage_class, "rooms": row.rooms})
    db.session.commit()
    return row


def houses_query(user, event_id: int, region_code=None):
    require(user, "casualty.view")
    event = event_of(user, event_id)
    code = code_arg(region_code)
    stmt = select(DamagedHouse).where(DamagedHouse.event_id == event.id,
                                      within(DamagedHouse.region_code, user.region_code))
    if code:
        stmt = stmt.where(within(DamagedHouse.region_code, code))
    return stmt.order_by(DamagedHouse.region_code, DamagedHouse.id)


def house_dicts(user, rows: list[DamagedHouse]) -> list[dict]:
    return [{"id": r.id, "event_id": r.event_id, "region_code": r.region_code, "head_name": r.head_name,
             "id_number": r.id_number if shows_id_numbers(user, r.region_code) else idcard.mask_id(r.id_number),
             "id_number_masked": not shows_id_numbers(user, r.region_code), "address": r.address,
             "rooms": r.rooms, "damage_class": r.damage_class} for r in rows]
