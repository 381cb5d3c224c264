"""Department sharing (部门共享, domain.md §3b): each department account reads the households of
its jurisdiction with only the fields its task needs (:data:`DEPARTMENT_FIELDS`), every page and
export recorded in the audit log with the fields given; 住建 sends house-safety appraisals that
set a household's damage class, the appraisal document attached; 公安 checks the missing persons
of the roster (公安核查) and records each outcome."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from .. import audit, spreadsheets
from ..cycles import DAMAGE_CLASSES, household_region, household_rows, set_damage_class
from ..errors import Forbidden, Invalid, NotFound
from ..extensions import db
from ..permissions import can, require
from ..rosters import OUTCOMES, missing_persons, verify_missing
from ..validation import Field, validate
from .models import DEPARTMENT_FIELDS, FIELD_LABELS, HouseAppraisal

APPRAISAL_FIELDS = {
    "household_id": Field("int", min=1, description="受灾户"),
    "damage_class": Field("str", choices=tuple(DAMAGE_CLASSES), description="鉴定的房屋损坏等级"),
    "appraisal_no": Field("str", max_length=60, description="鉴定报告编号"),
    "appraised_on": Field("date", description="鉴定日期"),
}
APPRAISAL_TYPES = ("application/pdf", "image/jpeg", "image/png")


def fields_of(user) -> tuple[str, tuple[str, ...]]:
    """The task and the fields of the user's department (403 for anyone else)."""
    if user.role not in DEPARTMENT_FIELDS:
        raise Forbidden("只有部门账户可以使用部门共享。")
    return DEPARTMENT_FIELDS[user.role]


def roster(user, action: str = "department.view") -> dict:
    """The households of the user's jurisdiction, with the department's fields only; audited."""
    require(user, action, user.region_code)
    task, fields = fields_of(user)
    rows = [{f: row[f] for f in fields} | {"id": row["id"]} for row in household_rows(user.region_code)]
    audit.record(user, action, "household", user.region_code,
                 after={"fields": list(fields), "rows": len(rows)}, region_code=user.region_code)
    db.session.commit()
    return {"task": task, "fields": fields, "labels": FIELD_LABELS, "rows": rows,
            "can_import": can(user, "department.import", user.region_code),
            "damage_classes": DAMAGE_CLASSES}


def export(user) -> tuple[bytes, str]:
    """The roster as a workbook (user text escaped against formulas)."""
    page = roster(user, "department.export")
    book = spreadsheets.new_workbook("共享名册")
    sheet = book.active
    for column, field in enumerate(page["fields"], start=1):
        spreadsheets.put(sheet, 1, column, FIELD_LABELS[field])
    for row_number, row in enumerate(page["rows"], start=2):
        for column, field in enumerate(page["fields"], start=1):
            value = row[field]
            spreadsheets.put(sheet, row_number, column, ("是" if value else "否") if isinstance(value, bool) else value)
    return spreadsheets.workbook_bytes(book), f"共享名册-{user.role}-{user.region_code}.xlsx"


def record_appraisal(user, data, upload) -> HouseAppraisal:
    """A house-safety appraisal from 住建: sets the household's damage class, document attached."""
    require(user, "department.import", user.region_code)
    values, errors = validate(APPRAISAL_FIELDS, data)
    region = household_region(values["household_id"]) if values.get("household_id") else None
    if values.get("household_id") and region is None:
        errors.append({"field": "household_id", "message": "受灾户不存在"})
    content = upload.read() if upload is not None and upload.filename else b""
    limit = current_app.config["APPRAISAL_MAX_BYTES"]
    if not content:
        errors.append({"field": "file", "message": "请附上鉴定报告"})
    elif len(content) > limit or (upload.mimetype not in APPRAISAL_TYPES):
        errors.append({"field": "file", "message": f"鉴定报告须为 PDF、JPEG 或 PNG，不超过 {limit // 1024 // 1024} MB"})
    if errors:
        raise Invalid("鉴定结果有误。", errors)
    require(user, "department.import", region)
    before, after = set_damage_class(user, values["household_id"], values["damage_class"],
                                     f"房屋安全鉴定 {values['appraisal_no']}")
    appraisal = HouseAppraisal(household_id=values["household_id"], appraisal_no=values["appraisal_no"],
                               appraised_on=values["appraised_on"], damage_class_before=before, damage_class=after,
                               file_name=(upload.filename or "appraisal")[:200], content_type=upload.mimetype,
                               size=len(content), content=content, recorded_by_id=user.id)
    db.session.add(appraisal)
    db.session.flush()
    audit.record(user, "department.import", "house_appraisal", appraisal.id,
                 after={"household_id": appraisal.household_id, "damage_class": after}, region_code=region)
    db.session.commit()
    return appraisal


def appraisals(user) -> list[HouseAppraisal]:
    require(user, "department.import", user.region_code)
    return db.session.scalars(select(HouseAppraisal).order_by(HouseAppraisal.id.desc()).limit(200)).all()


def appraisal_file(user, appraisal_id: int) -> HouseAppraisal:
    appraisal = db.session.get(HouseAppraisal, appraisal_id)
    if appraisal is None:
        raise NotFound(f"鉴定 {appraisal_id} 不存在。")
    require(user, "department.import", household_region(appraisal.household_id))
    audit.record(user, "department.appraisal_file", "house_appraisal", appraisal.id)
    db.session.commit()
    return appraisal


def missing_page(user) -> dict:
    """For 公安: the missing persons to check (full ID numbers; audited like every access)."""
    if not can(user, "casualty.verify", user.region_code):
        return {"missing": None, "outcomes": OUTCOMES}
    rows = missing_persons(user)
    audit.record(user, "casualty.police_view", "casualty", user.region_code,
                 after={"missing_persons": len(rows)}, region_code=user.region_code)
    db.session.commit()
    return {"missing": rows, "outcomes": OUTCOMES}


def check_missing(user, casualty_id: int, data) -> tuple:
    """公安's check of one missing person: the roster records the outcome (and the counts follow)."""
    return verify_missing(user, casualty_id, data)
