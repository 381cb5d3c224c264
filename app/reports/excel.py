"""Excel in and out in the layout of the national quick-report table (自然灾害损失情况统计快报表).

Columns: 区划代码, 区划名称, 报告类型, 截至时间, then every indicator of ``domain.md`` §3 with its
Chinese name and unit, then 说明, 报送人, 报送时间. The import reads the same layout (columns
are found by their header, so their order may change; 区划名称, 报送人 and 报送时间 are ignored)
and files every row through the same checks as the API, all or nothing
(:mod:`app.reports.service.import_export`). This module knows the layout only: it reads rows
into report bodies and writes reports into a workbook.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .. import spreadsheets
from ..errors import Invalid
from ..models_common import utcnow
from .indicators import INDICATORS
from .models import HAZARDS, REPORT_KINDS, Event, LossReport

TITLE = "自然灾害损失情况统计快报表"
SHEET = "快报表"
MAX_ROWS = 20000
KIND_BY_LABEL = {**{label: kind for kind, label in REPORT_KINDS.items()}, **{k: k for k in REPORT_KINDS}}


def header_of(indicator) -> str:
    unit = f"（{indicator.unit}）"
    return indicator.label if indicator.label.endswith(unit) else indicator.label + unit


LEAD = ("区划代码", "区划名称", "报告类型", "截至时间")
TAIL = ("说明", "报送人", "报送时间")
HEADERS = (*LEAD, *(header_of(i) for i in INDICATORS), *TAIL)


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _local(value: datetime) -> datetime:
    return value.astimezone(_tz()).replace(tzinfo=None)


def write_table(event: Event, reports: list[LossReport], names: dict[str, str], *, exported_by: str) -> bytes:
    """``reports`` (with their regions' ``names``) as the .xlsx quick-report table."""
    book = spreadsheets.new_workbook(SHEET)
    sheet = book.active
    _title(sheet, event, exported_by)
    _header_row(sheet)
    for offset, report in enumerate(reports):
        row = 4 + offset
        values = [report.region_code, names.get(report.region_code, ""), REPORT_KINDS[report.kind],
                  _local(report.as_of)]
        values += [report.figures.get(i.field, 0) for i in INDICATORS]
        values += [report.note or "", report.submitted_by, _local(report.submitted_at)]
        for column, value in enumerate(values, start=1):
            cell = spreadsheets.put(sheet, row, column, value)
            if isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
        sheet.cell(row, 1).number_format = "@"
    sheet.freeze_panes = "C4"
    return spreadsheets.workbook_bytes(book)


def _title(sheet, event: Event, exported_by: str) -> None:
    """Rows 1 and 2: the table's title, then the event, when and by whom it was exported."""
    put = spreadsheets.put
    width = len(HEADERS)
    put(sheet, 1, 1, TITLE).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    started = _local(event.started_at).strftime("%Y-%m-%d %H:%M")
    put(sheet, 2, 1, f"灾害过程：{event.name}（{HAZARDS.get(event.hazard, event.hazard)}，编号 {event.id}）"
                     f"  开始时间：{started}  导出时间：{_local(utcnow()).strftime('%Y-%m-%d %H:%M')}"
                     f"  导出人：{exported_by}")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)


def _header_row(sheet) -> None:
    fill = PatternFill("solid", fgColor="DDEBF7")
    for column, text in enumerate(HEADERS, start=1):
        cell = spreadsheets.put(sheet, 3, column, text)
        cell.font, cell.fill = Font(bold=True), fill
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        sheet.column_dimensions[get_column_letter(column)].width = 14 if column > 4 else (16 if column != 2 else 20)


def _number(value):
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            return value  # validation names it: 必须是数字
        return int(number) if number.is_integer() else number
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _as_of(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time()).isoformat()
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def read_rows(content) -> list[dict]:
    """Rows of an uploaded quick-report table (bytes or a binary stream) as report bodies
    (``_row`` = spreadsheet row), read through :func:`app.spreadsheets.open_sheet`."""
    with spreadsheets.open_sheet(content, field="file", sheet=SHEET) as sheet:
        columns, rows = _bodies(sheet.rows())
    if columns is None:
        raise Invalid("找不到表头：第一列应为「区划代码」。", [{"field": "file", "message": "缺少表头行"}])
    missing = [h for h in ("区划代码", "报告类型", "截至时间") if ("lead", h) not in columns.values()]
    if missing:
        raise Invalid("表头缺少必需的列。", [{"field": "file", "message": f"缺少列：{h}"} for h in missing])
    return rows


def _bodies(numbered_rows) -> tuple[dict | None, list[dict]]:
    by_header = {h: ("lead", h) for h in LEAD}
    for indicator in INDICATORS:
        for text in (header_of(indicator), indicator.label, indicator.field):
            by_header[text] = ("figure", indicator.field)
    by_header["说明"] = ("lead", "说明")
    columns: dict[int, tuple[str, str]] | None = None
    rows: list[dict] = []
    for number, values in numbered_rows:
        if columns is None:
            if values and str(values[0] or "").strip() == "区划代码":
                columns = {i: by_header[str(v).strip()] for i, v in enumerate(values)
                           if v is not None and str(v).strip() in by_header}
            continue
        if not values or all(v is None or str(v).strip() == "" for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise Invalid(f"一次最多导入 {MAX_ROWS} 行。", [{"field": "file", "message": "行数过多"}])
        body: dict = {"_row": number, "figures": {}}
        for index, (role, name) in columns.items():
            value = values[index] if index < len(values) else None
            if role == "figure":
                value = _number(value)
                if value is not None:
                    body["figures"][name] = value
            elif name == "区划代码":
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    value = str(int(value))
                body["region_code"] = str(value).strip() if value is not None else None
            elif name == "报告类型":
                text = str(value).strip() if value is not None else ""
                body["kind"] = KIND_BY_LABEL.get(text, text or None)
            elif name == "截至时间":
                body["as_of"] = _as_of(value)
            elif name == "说明":
                body["note"] = str(value).strip() if value is not None else None
        rows.append(body)
    return columns, rows
