"""The relief-work table in Excel, in the layout of the national 救灾工作情况统计快报表: row 1 the
title, row 2 the event and who exported it, row 3 the headers, one unit a row from row 4 (the unit
first, then the units below it). A blank stays an empty cell, never 0. Every cell goes through
:func:`app.spreadsheets.put` (formula escaping); :func:`read_table` reads a written table back
(the round-trip test, and anyone checking a file against the API)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app
from openpyxl.styles import Font

from .. import spreadsheets
from ..models_common import utcnow
from ..cycles import FUND_LEVELS
from .models import PEOPLE, TYPED

TITLE = "救灾工作情况统计快报表"
HEADER_ROW = 3


def _columns(rows: list[dict]) -> list[tuple[str, object]]:
    """(header, getter) of every column, goods by the items any row has."""
    columns = [("区划代码", lambda r: r["region_code"]), ("区划名称", lambda r: r["name"]),
               ("层级", lambda r: r["level_label"])]
    columns += [(f"{label}（人）", lambda r, n=name: r["people"][n]) for name, label in PEOPLE]
    columns += [(f"{label}（{unit}）", lambda r, n=name: r["typed"][n]) for name, label, unit in TYPED]
    columns.append(("资金已下达合计（元）", lambda r: r["money"]["received_total"]))
    columns += [(f"已下达·{label}（元）", lambda r, lv=level: (None if r["money"]["received"] is None
                                                         else r["money"]["received"].get(lv, 0)))
                for level, label in FUND_LEVELS.items()]
    columns.append(("资金已发放合计（元）", lambda r: r["money"]["paid_total"]))
    columns += [(f"已发放·{label}（元）", lambda r, lv=level: r["money"]["paid"].get(lv, 0))
                for level, label in FUND_LEVELS.items()]
    items: dict[str, tuple[str, str]] = {}
    for row in rows:
        for line in row["goods"]:
            items.setdefault(line["item"], (line["name"], line["unit"]))
    for code, (name, unit) in items.items():
        for key, label in (("dispatched", "调拨"), ("received", "签收"), ("handed_out", "发放到户")):
            columns.append((f"{name}·{label}（{unit}）", lambda r, c=code, k=key: _goods(r, c, k)))
    columns.append(("备注", lambda r: r["note"]))
    return columns


def _goods(row: dict, item: str, key: str):
    for line in row["goods"]:
        if line["item"] == item:
            return line[key]
    return None if key == "handed_out" else 0


def write_table(event, rows: list[dict], *, exported_by: str) -> bytes:
    """``rows`` (as :func:`app.relief.service.relief_table` gives them) as the .xlsx table."""
    book = spreadsheets.new_workbook(TITLE)
    sheet = book.active
    spreadsheets.put(sheet, 1, 1, TITLE).font = Font(bold=True, size=14)
    now = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M")
    spreadsheets.put(sheet, 2, 1, f"灾害过程：{event.name}（编号 {event.id}）  导出时间：{now}  导出人：{exported_by}  "
                                  "空白表示未填报或无此项，不是 0")
    columns = _columns(rows)
    for column, (header, _get) in enumerate(columns, start=1):
        spreadsheets.put(sheet, HEADER_ROW, column, header).font = Font(bold=True)
    for offset, row in enumerate(rows):
        for column, (_header, get) in enumerate(columns, start=1):
            spreadsheets.put(sheet, HEADER_ROW + 1 + offset, column, get(row))
    return spreadsheets.workbook_bytes(book)


def read_table(content) -> list[dict]:
    """A written table read back: one ``{header: value}`` per unit (an empty cell is ``None``;
    escaped text has its guard apostrophe removed)."""
    with spreadsheets.open_sheet(content, field="file") as sheet:
        headers, out = None, []
        for number, values in sheet.rows():
            if number < HEADER_ROW:
                continue
            if number == HEADER_ROW:
                headers = [str(v) if v is not None else "" for v in values]
                continue
            if not values or all(v is None for v in values):
                continue
            out.append({h: v for h, v in zip(headers, values) if h})
    return out
