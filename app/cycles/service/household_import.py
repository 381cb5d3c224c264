"""Importing the damaged-house ledger (因灾倒塌损坏住房户台账) from Excel, all or nothing.

Each row is checked by the registry's own fields and rules (:func:`clean_household`); a village
may be named instead of coded (乡镇 + 村 inside the user's jurisdiction). Errors name the row and
the column as the file shows it (``第 5 行 身份证号码``), sorted by row; a single error means
nothing is imported. ``create`` refuses an identity number already registered, ``upsert``
updates that household instead (inside the user's jurisdiction).
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select

from ... import audit
from ...errors import Invalid
from ...extensions import db
from ...i18n import translate
from ...permissions import can, require
from ...regions import Region
from ...validation import Field, validate
from .. import excel
from ..models import Household
from .base import within_clause
from .households import clean_household

IMPORT_FIELDS = {
    "mode": Field("str", required=False, default="create", choices=("create", "upsert"),
                  description="create：已登记的户视为错误；upsert：用文件内容更新"),
}


def import_ledger(user, data, upload) -> dict:
    """Import the workbook ``upload`` (a file, or ``None``) with the options of the posted form
    ``data`` (``mode``). Returns ``{"created", "updated", "rows"}``."""
    require(user, "household.edit", user.region_code)
    values, errors = validate(IMPORT_FIELDS, data)
    if upload is None or not getattr(upload, "filename", "x"):
        errors.append({"field": "file", "message": "必填（multipart 字段 file）"})
    if errors:
        raise Invalid("请上传文件。" if errors[-1]["field"] == "file" else "导入方式有误。", errors)
    records, read_errors = excel.read_ledger(upload.stream)
    return import_households(user, records, read_errors, mode=values["mode"])


def import_households(user, records: list[dict], read_errors: Iterable[dict] = (), *,
                      mode: str = "create") -> dict:
    """Import ledger rows (each with ``_row``, and ``_unreadable``: fields already reported in
    ``read_errors``), all or nothing."""
    require(user, "household.edit", user.region_code)
    errors = list(read_errors)
    cleaned = _clean_rows(user, records, errors)
    existing = {h.id_number: h for h in db.session.scalars(
        select(Household).where(Household.id_number.in_([c["id_number"] for _, c in cleaned]))).all()}
    errors += _registered_errors(user, cleaned, existing, mode)
    if not records and not errors:
        errors.append({"field": "file", "message": "文件中没有数据行"})
    if errors:
        errors.sort(key=_row_order)
        raise Invalid(translate("台账有 %(count)s 处错误，未导入任何数据。", count=len(errors)), errors)
    created, updated = _write(user, cleaned, existing)
    audit.record(user, "household.import", "household", "-", after={"created": created, "updated": updated},
                 region_code=user.region_code)
    db.session.commit()
    return {"created": created, "updated": updated, "rows": len(records)}


def _clean_rows(user, records: list[dict], errors: list[dict]) -> list[tuple[int, dict]]:
    """The rows without any error, as ``(row, clean values)``; the errors of the others added to
    ``errors`` named by row and column."""
    seen: dict[str, int] = {}
    cleaned: list[tuple[int, dict]] = []
    for record in records:
        row = record["_row"]
        data, unreadable = dict(record), set(record.get("_unreadable", set()))
        _name_the_village(user, data, unreadable, row, errors)
        clean, row_errors = clean_household(data)
        if clean.get("village_code") and not can(user, "household.edit", clean["village_code"]):
            row_errors.append({"field": "village_code", "message": "不在本人管辖范围内"})
        number = clean.get("id_number")
        if number:
            if number in seen:
                row_errors.append({"field": "id_number", "message": f"与第 {seen[number]} 行重复"})
            seen.setdefault(number, row)
        row_errors = [e for e in row_errors if e["field"] not in unreadable]
        errors.extend({"field": f"第 {row} 行 {excel.LABELS.get(e['field'], e['field'])}", "message": e["message"]}
                      for e in row_errors)
        if not row_errors and not unreadable:
            cleaned.append((row, clean))
    return cleaned


def _name_the_village(user, data: dict, unreadable: set, row: int, errors: list[dict]) -> None:
    """A row that names its village (乡镇, 村) instead of coding it gets the code, or an error."""
    if data.get("village_code") or not data.get("village_name"):
        return
    found: list[dict] = []
    code = _resolve_village(user, data.get("township_name") or "", data["village_name"], found)
    if code:
        data["village_code"] = code
        return
    unreadable.add("village_code")
    errors.extend({"field": f"第 {row} 行 {excel.LABELS['village_code']}", "message": e["message"]} for e in found)


def _resolve_village(user, township_name: str, village_name: str, errors: list[dict]) -> str | None:
    stmt = select(Region).where(Region.level == "village", Region.name == village_name.strip(),
                                within_clause(Region.code, user.region_code))
    candidates = db.session.scalars(stmt).all()
    if township_name:
        towns = {r.code for r in db.session.scalars(select(Region).where(
            Region.level == "township", Region.name == township_name.strip())).all()}
        candidates = [c for c in candidates if c.parent_code in towns]
    if len(candidates) == 1:
        return candidates[0].code
    message = "在管辖范围内找不到该村" if not candidates else "村名不唯一，请填写村代码"
    errors.append({"field": "village_code", "message": message})
    return None


def _registered_errors(user, cleaned, existing: dict[str, Household], mode: str) -> list[dict]:
    """``create``: a number already registered is an error; ``upsert``: only outside the
    user's jurisdiction."""
    errors = []
    for row, clean in cleaned:
        found = existing.get(clean["id_number"])
        if found is None:
            continue
        if mode == "create":
            errors.append({"field": f"第 {row} 行 身份证号码", "message": "已在受灾户台账中（可选择“更新已有户”）"})
        elif not can(user, "household.edit", found.village_code):
            errors.append({"field": f"第 {row} 行 身份证号码", "message": "已登记在本人管辖范围以外的村"})
    return errors


def _write(user, cleaned, existing: dict[str, Household]) -> tuple[int, int]:
    created = updated = 0
    for _row, clean in cleaned:
        found = existing.get(clean["id_number"])
        if found is None:
            db.session.add(Household(**clean, created_by_id=getattr(user, "id", None)))
            created += 1
        else:
            for key, value in clean.items():
                setattr(found, key, value)
            updated += 1
    return created, updated


def _row_order(error: dict):
    text = error["field"]
    if text.startswith("第 "):
        try:
            return (int(text.split(" ")[1]), text)
        except ValueError:
            pass
    return (0, text)
