"""Excel in and out: the damaged-house ledger (因灾倒塌损坏住房户台账) and the winter-spring needs
table (受灾人员冬春生活需救助情况统计表); the bank's files are in :mod:`app.cycles.bankfile`.

Reading finds the header row (the one with 户主姓名) under any title rows, maps columns by
their Chinese headers (common variants accepted) and returns ``(records, errors)``: every
problem names its row and column, and nothing is imported unless the whole file is clean.
Workbooks are read and written through :mod:`app.spreadsheets` (caps on size and shape; text
that would be a formula is escaped).
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import BinaryIO, Iterable

from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .. import spreadsheets
from ..errors import Invalid
from .. import idcard
from .rules import DAMAGE_CLASSES, FLAGS

#: field → (header written, accepted headers)
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "township_name": ("乡镇", ("乡镇", "乡（镇）", "乡镇（街道）", "乡镇名称")),
    "village_name": ("村", ("村", "村（社区）", "行政村", "村名称", "村组")),
    "village_code": ("村代码", ("村代码", "村级区划代码", "区划代码", "统计用区划代码")),
    "head_name": ("户主姓名", ("户主姓名", "户主", "姓名")),
    "id_number": ("身份证号码", ("身份证号码", "身份证号", "公民身份号码", "户主身份证号码")),
    "members": ("家庭人口", ("家庭人口", "家庭人口数", "人口", "家庭人数", "户籍人口")),
    "contact": ("联系电话", ("联系电话", "电话", "联系方式")),
    "address": ("住址", ("住址", "家庭住址", "地址")),
    "damage_class": ("倒损类型", ("倒损类型", "倒损情况", "房屋倒损情况", "房屋损坏程度", "倒损程度")),
    "no_housing": ("无房可住", ("无房可住", "是否无房可住")),
    "no_livelihood": ("无生活来源", ("无生活来源", "是否无生活来源")),
    "no_self_rescue": ("无自救能力", ("无自救能力", "是否无自救能力")),
    "dibao": ("低保户", ("低保户", "低保", "是否低保户")),
    "tekun": ("特困户", ("特困户", "特困", "特困供养", "是否特困户")),
    "cannot_return": ("不能返家", ("不能返家", "因次生灾害不能返家")),
    "bank_account": ("一卡通账号", ("一卡通账号", "银行账号", "账号", "社保卡号")),
    "bank_name": ("开户银行", ("开户银行", "开户行")),
    "note": ("备注", ("备注",)),
}
LABELS = {field: header for field, (header, _accepted) in COLUMNS.items()}
DAMAGE_WORDS = {"倒塌": "collapsed", "全倒": "collapsed", "倒房": "collapsed",
                "严重损坏": "severely_damaged", "严损": "severely_damaged",
                "一般损坏": "generally_damaged", "一损": "generally_damaged",
                "未损坏": "none", "无": "none", "": "none"}
DAMAGE_WORDS.update({k: k for k in DAMAGE_CLASSES})
YES = {"是", "√", "✓", "Y", "YES", "TRUE", "1"}
NO = {"否", "", "×", "N", "NO", "FALSE", "0"}
TITLE = "因灾倒塌损坏住房户台账"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    return str(value).strip()


HEADER_SEARCH_ROWS = 15


def read_ledger(stream: BinaryIO | bytes) -> tuple[list[dict], list[dict]]:
    """Rows of the first sheet as household records (``_row`` = the Excel row number).

    A file that cannot be read as a workbook within the limits of :mod:`app.spreadsheets` is
    one error on the field ``file``; a file over ``SPREADSHEET_MAX_BYTES`` raises
    :class:`app.uploads.TooLarge` (413).
    """
    try:
        with spreadsheets.open_sheet(stream, field="file") as sheet:
            return _read_rows(sheet.rows())
    except Invalid as exc:
        return [], [{"field": "file", "message": exc.detail}]


def _read_rows(numbered_rows) -> tuple[list[dict], list[dict]]:
    header = None
    for number, row in numbered_rows:
        if any(_text(c) in COLUMNS["head_name"][1] for c in row):
            header = (number, row)
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if header is None:
        return [], [{"field": "file", "message": "找不到表头行（应有“户主姓名”一列）"}]
    mapping: dict[int, str] = {}
    for index, cell in enumerate(header[1]):
        text = _text(cell).replace("\n", "").replace(" ", "")
        for field, (_header, accepted) in COLUMNS.items():
            if text in accepted and field not in mapping.values():
                mapping[index] = field
                break
    errors: list[dict] = []
    present = set(mapping.values())
    for needed in ("head_name", "id_number", "members"):
        if needed not in present:
            errors.append({"field": "file", "message": f"缺少“{LABELS[needed]}”列"})
    if "village_code" not in present and "village_name" not in present:
        errors.append({"field": "file", "message": "缺少“村代码”或“村”列"})
    if errors:
        return [], errors
    records = []
    for offset, row in numbered_rows:
        values = {field: row[index] if index < len(row) else None for index, field in mapping.items()}
        if all(_text(v) == "" for v in values.values()):
            continue
        first = _text(row[0]) if row else ""
        if first in ("合计", "总计"):
            continue
        record: dict = {"_row": offset, "_unreadable": set()}
        for field, value in values.items():
            problem = _read_cell(field, value, record)
            if problem:
                errors.append({"field": f"第 {offset} 行 {LABELS[field]}", "message": problem})
                record["_unreadable"].add(field)
        records.append(record)
    return records, errors


def _read_cell(field: str, value, record: dict) -> str | None:
    """Put one cell into ``record``; return what is wrong with it, if anything."""
    if field == "id_number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return "身份证号码须以文本格式填写（数字格式会丢失末几位）"
        record[field] = _text(value)
    elif field == "members":
        text = _text(value)
        if not text.isdigit():
            return "家庭人口必须是正整数"
        record[field] = int(text)
    elif field == "damage_class":
        text = _text(value)
        if text not in DAMAGE_WORDS:
            return "倒损类型应为 倒塌、严重损坏、一般损坏 或 未损坏"
        record[field] = DAMAGE_WORDS[text]
    elif field in FLAGS:
        text = _text(value).upper()
        if text not in YES and text not in NO:
            return "应填“是”或“否”"
        record[field] = text in YES
    elif field == "village_code":
        if _text(value):
            record[field] = _text(value)
    else:
        record[field] = _text(value)
    return None


def _book(title: str, subtitle: str, headers: list[str], rows: Iterable[list], widths: list[int]) -> bytes:
    book = spreadsheets.new_workbook(title)
    sheet = book.active
    put = spreadsheets.put
    put(sheet, 1, 1, title).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    put(sheet, 2, 1, subtitle)
    for col, header in enumerate(headers, start=1):
        cell = put(sheet, 3, col, header)
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(col)].width = widths[col - 1]
    for r, row in enumerate(rows, start=4):
        for c, value in enumerate(row, start=1):
            cell = put(sheet, r, c, value)
            if isinstance(value, str):
                cell.number_format = "@"
    return spreadsheets.workbook_bytes(book)


def write_ledger(households, *, show_id: bool, village_names: dict[str, str], unit: str) -> bytes:
    """The registry in the ledger layout; identity numbers and accounts masked unless ``show_id``."""
    fields = ["village_code", "village_name", "head_name", "id_number", "members", "contact", "address",
              "damage_class", *FLAGS, "bank_account", "bank_name", "note"]
    headers = ["序号"] + [LABELS[f] for f in fields]
    rows = []
    for index, h in enumerate(households, start=1):
        row = [index]
        for field in fields:
            if field == "village_name":
                row.append(village_names.get(h.village_code, ""))
            elif field == "id_number":
                row.append(h.id_number if show_id else idcard.mask_id(h.id_number))
            elif field == "bank_account":
                row.append(h.bank_account if show_id else idcard.mask_account(h.bank_account))
            elif field == "damage_class":
                row.append(DAMAGE_CLASSES[h.damage_class])
            elif field in FLAGS:
                row.append("是" if getattr(h, field) else "否")
            else:
                row.append(getattr(h, field))
        rows.append(row)
    subtitle = f"填报单位：{unit}    导出时间：{datetime.now():%Y-%m-%d %H:%M}"
    return _book(TITLE, subtitle, headers, rows, [6] + [14] * len(fields))


def write_needs_table(table: dict) -> bytes:
    columns = table["columns"]
    headers = ["区划代码", "区划名称"] + list(columns.values())
    rows = [[r["region_code"], r["name"]] + [r[k] for k in columns] for r in table["rows"]]
    total = table["total"]
    rows.append([total["region_code"], "合计"] + [total[k] for k in columns])
    return _book("受灾人员冬春生活需救助情况统计表",
                 f"{table['year']}—{table['year'] + 1}年度    单位：{total['name']}", headers, rows,
                 [14, 16] + [14] * len(columns))
