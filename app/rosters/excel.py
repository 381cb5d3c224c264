"""The rosters in Excel, in the layout of the national tables: 因灾死亡失踪人口一览表 and
因灾倒塌损坏住房户一览表. Row 1 is the title, row 2 the event and who exported it, row 3 the
header, the people or households from row 4; columns are found by their header on import, so
their order may change. Labels (男/女, 死亡/失踪, 倒塌/严重损坏/一般损坏, the hazards in Chinese) are
read back into codes. This module knows the layout only: checking is the service's.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from openpyxl.styles import Font

from .. import spreadsheets
from ..errors import Invalid
from ..models_common import utcnow
from ..reports import HAZARDS
from .models import CASUALTY_STATUSES, DAMAGE_CLASSES, SEXES

#: (header, field) of each roster; ``None`` is the running number, written and ignored on import.
LAYOUTS = {
    "casualty": ("因灾死亡失踪人口一览表", (
        ("序号", None), ("区划代码", "region_code"), ("区划名称", None), ("姓名", "name"), ("性别", "sex"),
        ("身份证号码", "id_number"), ("年龄", "age"), ("住址", "address"), ("死亡或失踪日期", "occurred_on"),
        ("死亡或失踪地点", "place"), ("死亡或失踪原因", "cause"), ("灾种", "hazard"), ("死亡或失踪", "status"))),
    "housing": ("因灾倒塌损坏住房户一览表", (
        ("序号", None), ("区划代码", "region_code"), ("区划名称", None), ("户主姓名", "head_name"),
        ("身份证号码", "id_number"), ("住址", "address"), ("间数", "rooms"), ("损坏等级", "damage_class"))),
}
LABELS = {"sex": SEXES, "hazard": HAZARDS, "status": CASUALTY_STATUSES, "damage_class": DAMAGE_CLASSES}
MAX_ROWS = 20_000


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def write_roster(roster: str, event, rows: list[dict], names: dict[str, str], *, exported_by: str) -> bytes:
    """``rows`` (dicts by field) as the roster's .xlsx table."""
    title, columns = LAYOUTS[roster]
    book = spreadsheets.new_workbook(title[:31])
    sheet = book.active
    spreadsheets.put(sheet, 1, 1, title).font = Font(bold=True, size=14)
    now = utcnow().astimezone(_tz()).strftime("%Y-%m-%d %H:%M")
    spreadsheets.put(sheet, 2, 1, f"灾害过程：{event.name}（编号 {event.id}）  导出时间：{now}  导出人：{exported_by}")
    for column, (header, _field) in enumerate(columns, start=1):
        spreadsheets.put(sheet, 3, column, header).font = Font(bold=True)
    for offset, row in enumerate(rows):
        for column, (header, field) in enumerate(columns, start=1):
            if header == "序号":
                value = offset + 1
            elif header == "区划名称":
                value = names.get(row["region_code"], "")
            else:
                value = row.get(field)
                value = LABELS[field].get(value, value) if field in LABELS else value
                if isinstance(value, date):
                    value = value.isoformat()
            spreadsheets.put(sheet, 4 + offset, column, value)
    return spreadsheets.workbook_bytes(book)


def read_roster(roster: str, content) -> list[dict]:
    """The rows of an uploaded roster as bodies by field (``_row`` = spreadsheet row)."""
    title, columns = LAYOUTS[roster]
    by_header = {header: field for header, field in columns if field}
    with spreadsheets.open_sheet(content, field="file") as sheet:
        found, rows = None, []
        for number, values in sheet.rows():
            if found is None:
                texts = [str(v).strip() if v is not None else "" for v in values]
                if "身份证号码" in texts:
                    found = {i: by_header[t] for i, t in enumerate(texts) if t in by_header}
                continue
            if not values or all(v is None or str(v).strip() == "" for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise Invalid(f"一次最多导入 {MAX_ROWS} 行。", [{"field": "file", "message": "行数过多"}])
            rows.append({"_row": number, **{field: _cell(field, values[i] if i < len(values) else None)
                                             for i, field in found.items()}})
    if found is None:
        raise Invalid(f"找不到表头：应有「{title}」的表头行（含「身份证号码」）。", [{"field": "file", "message": "缺少表头行"}])
    missing = [h for h, f in columns if f and f not in found.values() and f not in ("hazard", "age")]
    if missing:
        raise Invalid("表头缺少必需的列。", [{"field": "file", "message": f"缺少列：{h}"} for h in missing])
    return rows


_CODES = {field: {label: code for code, label in labels.items()} for field, labels in LABELS.items()}


def _cell(field: str, value):
    """A cell's value as the JSON body has it: text stripped, labels read as codes, numbers
    that are whole as integers, dates as ISO text."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if field in ("region_code", "id_number") and isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        if field in _CODES:
            return _CODES[field].get(value, value)
        if field in ("age", "rooms"):
            try:
                return int(value)
            except ValueError:
                return value
    return value


# --- The quick report with its township breakdown (含分乡镇数据) -----------------------------------

BREAKDOWN_TITLE = "自然灾害损失情况统计快报表（分乡镇）"
BREAKDOWN_LEAD = ("区划代码", "区划名称", "层级", "数据来源", "审核状态")


def _figure_header(indicator) -> str:
    unit = f"（{indicator.unit}）"
    return indicator.label if indicator.label.endswith(unit) else indicator.label + unit


def write_breakdown(event, rows: list[dict], *, exported_by: str) -> bytes:
    """Each county's rolled-up figures followed by each of its townships' (``rows``: dicts with
    ``region_code, name, level, source, review, figures``)."""
    from ..reports import BY_FIELD, FIELDS

    book = spreadsheets.new_workbook("分乡镇")
    sheet = book.active
    spreadsheets.put(sheet, 1, 1, BREAKDOWN_TITLE).font = Font(bold=True, size=14)
    now = utcnow().astimezone(_tz()).strftime("%Y-%m-%d %H:%M")
    spreadsheets.put(sheet, 2, 1, f"灾害过程：{event.name}（编号 {event.id}）  导出时间：{now}  导出人：{exported_by}")
    headers = [*BREAKDOWN_LEAD, *(_figure_header(BY_FIELD[f]) for f in FIELDS)]
    for column, header in enumerate(headers, start=1):
        spreadsheets.put(sheet, 3, column, header).font = Font(bold=True)
    for offset, row in enumerate(rows):
        values = [row["region_code"], row["name"], row["level"], row["source"], row["review"] or ""]
        values += [row["figures"].get(f, 0) for f in FIELDS]
        for column, value in enumerate(values, start=1):
            cell = spreadsheets.put(sheet, 4 + offset, column, value)
            if row["level"] == "县":
                cell.font = Font(bold=True)
    return spreadsheets.workbook_bytes(book)


def read_breakdown(content) -> list[dict]:
    """The rows of a township-breakdown table: ``{"region_code", "level", "figures"}``."""
    from ..reports import BY_FIELD, FIELDS

    by_header = {_figure_header(BY_FIELD[f]): f for f in FIELDS}
    with spreadsheets.open_sheet(content, field="file") as sheet:
        columns, rows = None, []
        for _number, values in sheet.rows():
            texts = [str(v).strip() if v is not None else "" for v in values]
            if columns is None:
                if texts and texts[0] == "区划代码":
                    columns = {i: t for i, t in enumerate(texts)}
                continue
            if not any(texts):
                continue
            row = {"region_code": texts[0], "level": texts[2], "figures": {}}
            for i, header in columns.items():
                if header in by_header and i < len(values):
                    row["figures"][by_header[header]] = values[i] if values[i] is not None else 0
            rows.append(row)
    if columns is None:
        raise Invalid("找不到表头：第一列应为「区划代码」。", [{"field": "file", "message": "缺少表头行"}])
    return rows
