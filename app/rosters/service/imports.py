"""Excel import and export of the rosters (因灾死亡失踪人口一览表, 因灾倒塌损坏住房户一览表).

The import checks every row as a single entry is checked, plus duplicates within the file and
against every roster already kept, and names every bad row and field at once (``rows[n].field``,
``n`` the spreadsheet row): any error anywhere and nothing is written. A good file is written in
one bulk insert and one audit line (``bench/rosters.py``: 10,000 people in well under 10 s).
The export writes what the user may see, identity numbers masked unless the role may see them
(a masked export does not import back).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from ... import audit
from ...errors import Conflict, Invalid, ServiceError
from ...extensions import db
from ...models_common import utcnow
from ...permissions import can, require
from ...regions import Region
from ...validation import validate
from .. import excel
from ..models import Casualty, DamagedHouse
from ._common import event_of, names_of
from .casualties import (CASUALTY_FIELDS, casualties_query, casualty_dicts, check_row, duplicate_message,
                         local_today, registered)
from .housing import HOUSE_FIELDS, check_house, house_dicts, houses_query, registered_houses

#: Errors listed at most (the message says how many there are in all).
MAX_ERRORS = 1000


def import_upload(user, event_id: int, roster: str, upload: Any) -> int:
    """An uploaded roster (a werkzeug ``FileStorage``): how many rows were added."""
    try:
        require(user, "casualty.edit")
        event_of(user, event_id)
        if upload is None or not getattr(upload, "filename", None):
            raise Invalid("缺少 Excel 文件。", [{"field": "file", "message": "必填"}])
        return import_roster(user, event_id, roster, upload.stream.read())
    except ServiceError:
        db.session.rollback()
        raise


def import_roster(user, event_id: int, roster: str, content) -> int:
    """Check every row of the table and add them all, or none (one 422 naming every bad row)."""
    require(user, "casualty.edit")
    event = event_of(user, event_id)
    if event.status == "closed":
        raise Conflict("灾害过程已结束，名册不再变更。", [{"field": "event", "message": "已结束"}])
    rows = excel.read_roster(roster, content)
    if not rows:
        raise Invalid("表中没有数据行。", [{"field": "file", "message": "没有数据行"}])
    fields, model = (CASUALTY_FIELDS, Casualty) if roster == "casualty" else (HOUSE_FIELDS, DamagedHouse)
    good, errors = _checked_rows(user, event, roster, fields, rows)
    if errors:
        shown = errors[:MAX_ERRORS]
        bad_rows = len({e["row"] for e in errors})
        raise Invalid(f"{bad_rows} 行有错误（共 {len(errors)} 处{'，仅列出前 %d 处' % MAX_ERRORS if len(errors) > MAX_ERRORS else ''}），"
                      f"全部未导入。", shown)
    now = utcnow()
    for values in good:
        values.update(event_id=event.id, created_by_id=user.id, created_by=user.username, created_at=now)
        if roster == "casualty":
            values["hazard"] = values.get("hazard") or event.hazard
    db.session.execute(insert(model), good)
    audit.record(user, f"{roster}.import", model.__tablename__, event.id,
                 after={"event_id": event.id, "rows": len(good)}, region_code=user.region_code)
    db.session.commit()
    return len(good)


def _checked_rows(user, event, roster: str, fields, rows: list[dict]) -> tuple[list[dict], list[dict]]:
    today = local_today()
    codes_in_file = {r.get("region_code") for r in rows if isinstance(r.get("region_code"), str)}
    known = set(db.session.scalars(select(Region.code).where(Region.code.in_(codes_in_file)))) if codes_in_file else set()
    good, errors, seen = [], [], {}
    allowed: dict[str, bool] = {}
    for body in rows:
        number = body.pop("_row")
        prefix = f"rows[{number}]."
        values, row_errors = validate(fields, body)
        row_errors = [{"field": prefix + e["field"], "message": e["message"]} for e in row_errors]
        code = values.get("region_code")
        if code is not None and code not in known:
            row_errors.append({"field": prefix + "region_code", "message": f"区划 {code} 不存在"})
        elif code is not None and not _allowed(user, code, allowed):
            row_errors.append({"field": prefix + "region_code", "message": f"区划 {code} 不在管辖范围内"})
        (check_row if roster == "casualty" else check_house)(event, values, row_errors, prefix, today)
        key = _key(roster, values)
        if key is not None and not any(e["field"] == prefix + "id_number" for e in row_errors):
            if key in seen:
                row_errors.append({"field": prefix + "id_number", "message": f"与第 {seen[key]} 行重复"})
            seen.setdefault(key, number)
        for error in row_errors:
            errors.append({**error, "row": number})
        if not row_errors:
            good.append({k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()})
    errors += _already_registered(event, roster, good, seen)
    return good, errors


def _allowed(user, code: str, known: dict[str, bool]) -> bool:
    if code not in known:
        known[code] = can(user, "casualty.edit", code)
    return known[code]


def _key(roster: str, values: dict):
    if values.get("id_number") is None:
        return None
    return values["id_number"] if roster == "casualty" else (values["id_number"], values.get("damage_class"))


def _already_registered(event, roster: str, good: list[dict], seen: dict) -> list[dict]:
    """Rows whose identity number is already on a roster (each named with its row)."""
    errors = []
    if roster == "casualty":
        found = registered(v["id_number"] for v in good)
        for number, row in found.items():
            errors.append({"field": f"rows[{seen[number]}].id_number", "message": duplicate_message(row),
                           "row": seen[number]})
    else:
        found = registered_houses(event.id, [(v["id_number"], v["damage_class"]) for v in good])
        for key, row in found.items():
            errors.append({"field": f"rows[{seen[key]}].id_number",
                           "message": f"该户此损坏等级已登记（区划 {row.region_code}，{row.head_name}）", "row": seen[key]})
    return sorted(errors, key=lambda e: e["row"])


def export_roster(user, event_id: int, roster: str, region_code=None) -> tuple[bytes, str]:
    """The roster the user may see as the national table (.xlsx) and its file name."""
    require(user, "casualty.view")
    event = event_of(user, event_id)
    if roster == "casualty":
        rows = casualty_dicts(user, db.session.scalars(casualties_query(user, event.id, region_code)).all())
    else:
        rows = house_dicts(user, db.session.scalars(houses_query(user, event.id, region_code)).all())
    names = names_of(r["region_code"] for r in rows)
    data = excel.write_roster(roster, event, rows, names, exported_by=user.username)
    title = excel.LAYOUTS[roster][0]
    return data, f"{title}-{event.id}.xlsx"
