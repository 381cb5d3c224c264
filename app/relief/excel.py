"""The relief-work table in Excel, in the layout of the national 救灾工作情况统计快报表: row 1 the
title, row 2 the event and who exported it, row 3 the headers, one unit a row from row 4 (the unit
first, then the units below it). A blank stays an empty cell, never 0. The title and headers are in
the reader's language (catalogue messages; Chinese outside a request). Every cell goes through
:func:`app.spreadsheets.put` (formula escaping); :func:`read_table` reads a written table back
(the round-trip test, and anyone checking a file against the API)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app
from openpyxl.styles import Font

from .. import spreadsheets
from ..i18n import translate
from ..models_common import utcnow
from ..cycles import FUND_LEVELS
from .models import PEOPLE, TYPED

TITLE = "救灾工作情况统计快报表"
HEADER_ROW = 3


def _header(what: str, unit: str, part: str | None = None) -> str:
    """A column's header in the reader's language: "投入救援人员（人次）", "Rescuers deployed
    (person-times)"; with ``part``, "帐篷·调拨（顶）", "Tent: Dispatched (tents)"."""
    if part is None:
        return translate("%(what)s（%(unit)s）", what=translate(what), unit=translate(unit))
    return translate("%(what)s·%(part)s（%(unit)s）", what=translate(what), part=translate(part),
                     unit=translate(unit))


def _columns(rows: list[dict]) -> list[tuple[str, object]]:
    """(header, getter) of every column, goods by the items any row has."""
    columns = [(translate("区划代码"), lambda r: r["region_code"]), (translate("区划名称"), lambda r: r["name"]),
               (translate("层级"), lambda r: translate(r["level_label"]))]
    columns += [(_header(label, "人"), lambda r, n=name: r["people"][n]) for name, label in PEOPLE]
    columns += [(_header(label, unit), lambda r, n=name: r["typed"][n]) for name, label, unit in TYPED]
    columns.append((_header("资金已下达合计", "元"), lambda r: r["money"]["received_total"]))
    columns += [(_header("已下达", "元", label), lambda r, lv=level: (None if r["money"]["received"] is None
                                                                  else r["money"]["received"].get(lv, 0)))
                for level, label in FUND_LEVELS.items()]
    columns.append((_header("资金已发放合计", "元"), lambda r: r["money"]["paid_total"]))
    columns += [(_header("已发放", "元", label), lambda r, lv=level: r["money"]["paid"].get(lv, 0))
                for level, label in FUND_LEVELS.items()]
    items: dict[str, tuple[str, str]] = {}
    for row in rows:
        for line in row["goods"]:
            items.setdefault(line["item"], (line["name"], line["unit"]))
    for code, (name, unit) in items.items():
        for key, label in (("dispatched", "调拨"), ("received", "签收"), ("handed_out", "发放到户")):
            columns.append((_header(name, unit, label), lambda r, c=code, k=key: _goods(r, c, k)))
    columns.append((translate("备注"), lambda r: r["note"]))
    return columns


def _goods(row: dict, item: str, key: str):
    for line in row["goods"]:
        if line["item"] == item:
            return line[key]
    return None if key == "handed_out" else 0


def write_table(event, rows: list[dict], *, exported_by: str) -> bytes:
    """``rows`` (as :func:`app.relief.service.relief_table` gives them) as the .xlsx table."""
    title = translate(TITLE)
    book = spreadsheets.new_workbook(title)
    sheet = book.active
    spreadsheets.put(sheet, 1, 1, title).font = Font(bold=True, size=14)
    now = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M")
    spreadsheets.put(sheet, 2, 1, translate("灾害过程：%(event)s（编号 %(id)s）  导出时间：%(time)s  导出人：%(user)s  "
                                            "空白表示未填报或无此项，不是 0",
                                            event=event.name, id=event.id, time=now, user=exported_by))
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
