"""The files exchanged with the bank: the 一卡通 payment file of a batch (发放文件), the bank's return
file (回盘) and the reconciliation workbooks (对账表).

**The payment file** carries the full identity number (the bank matches accounts by it), so it is
written only for the finance role and every copy is watermarked with who took it and when (the
second row, and the printed page's header and footer).

**The return file (回盘)** is an ``.xlsx`` workbook (first sheet) or a ``.csv`` file (UTF-8, with
or without BOM, or GB18030), one line per payment, under a header row found in the first 15 rows:

========== =========================================================================
列          内容
========== =========================================================================
款项编号     the payment number printed in the payment file's last column (required)
身份证号码   the full identity number, as in the payment file (required, must match)
金额（元）   the amount, as in the payment file (required, must match)
结果        成功 / 失败 / 退回 (also 已入账, 入账成功, 代发失败, 已退回, 退票) (required)
失败原因     the bank's reason (required for 失败 and 退回)
========== =========================================================================

Other columns (姓名, 一卡通账号, 序号 …) are ignored; a line whose first cell is 合计 is skipped.
A payment absent from the file stays *issued* (the bank has not answered yet).
"""
from __future__ import annotations

import codecs
import csv
import io
import math
from datetime import datetime
from typing import BinaryIO, Iterable

from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .. import spreadsheets
from ..errors import Invalid

HEADER_SEARCH_ROWS = 15
#: field → accepted headers of the return file
RETURN_COLUMNS = {
    "payment_id": ("款项编号", "流水号", "业务编号"),
    "id_number": ("身份证号码", "身份证号", "公民身份号码"),
    "amount": ("金额（元）", "金额(元)", "金额", "发放金额"),
    "result": ("结果", "处理结果", "代发结果", "状态"),
    "reason": ("失败原因", "原因", "备注"),
}
RETURN_LABELS = {field: accepted[0] for field, accepted in RETURN_COLUMNS.items()}
RESULT_WORDS = {"成功": "paid", "已入账": "paid", "入账成功": "paid", "代发成功": "paid",
                "失败": "failed", "代发失败": "failed", "入账失败": "failed",
                "退回": "returned", "已退回": "returned", "退票": "returned"}
BANK_HEADERS = ["序号", "姓名", "身份证号码", "一卡通账号", "开户银行", "金额（元）", "救助项目", "款项", "款项编号"]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _sheet(title: str, subtitle: str, headers: list[str], widths: list[int]):
    book = spreadsheets.new_workbook(title)
    sheet = book.active
    spreadsheets.put(sheet, 1, 1, title).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    spreadsheets.put(sheet, 2, 1, subtitle)
    for col, header in enumerate(headers, start=1):
        spreadsheets.put(sheet, 3, col, header).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(col)].width = widths[col - 1]
    return book, sheet


def _rows(sheet, rows: Iterable[list], first: int = 4) -> None:
    for r, row in enumerate(rows, start=first):
        for c, value in enumerate(row, start=1):
            cell = spreadsheets.put(sheet, r, c, value)
            if isinstance(value, str):
                cell.number_format = "@"


def write_bank_file(cycle_name: str, period: str, payments, *, who: str, when: datetime) -> bytes:
    """The bank's 一卡通 payment file of a batch, full identity numbers, watermarked with ``who``
    and ``when`` (local time)."""
    mark = f"{who} 于 {when:%Y-%m-%d %H:%M}（北京时间）导出 · 含完整身份证号码，仅供银行代发，不得外传"
    book, sheet = _sheet("救灾资金一卡通发放名册", f"{cycle_name}    发放批次：{period}    {mark}", BANK_HEADERS,
                         [6, 12, 22, 24, 16, 12, 30, 24, 10])
    rows, total = [], 0
    for index, p in enumerate(payments, start=1):
        rows.append([index, p.head_name, p.id_number, p.bank_account, p.bank_name, p.amount_fen / 100,
                     cycle_name, p.label, p.id])
        total += p.amount_fen
    rows.append(["合计", "", "", "", "", total / 100, "", f"{len(rows)} 笔", ""])
    _rows(sheet, rows)
    sheet.oddHeader.center.text = mark
    sheet.oddFooter.center.text = f"{who} {when:%Y-%m-%d %H:%M} · 第 &P 页，共 &N 页"
    book.properties.creator = who
    return spreadsheets.workbook_bytes(book)


def read_return(stream: BinaryIO, file_name: str) -> tuple[list[dict], list[dict]]:
    """The lines of a return file as ``{_row, payment_id, id_number, amount, result, reason}``
    and the errors (each naming its row and column)."""
    if file_name.lower().endswith(".csv"):
        rows = _csv_rows(stream)
        if rows is None:
            return [], [{"field": "file", "message": "CSV 文件须为 UTF-8 或 GB18030 编码"}]
        return _read_lines(iter(rows))
    try:
        with spreadsheets.open_sheet(stream, field="file") as sheet:
            return _read_lines(sheet.rows())
    except Invalid as exc:
        return [], [{"field": "file", "message": exc.detail}]


def _csv_rows(stream: BinaryIO) -> list[tuple[int, tuple]] | None:
    raw = stream.read(spreadsheets.setting("SPREADSHEET_MAX_BYTES") + 1)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = codecs.decode(raw, encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return None
    limit = spreadsheets.setting("SPREADSHEET_MAX_ROWS")
    reader = csv.reader(io.StringIO(text))
    return [(number, tuple(row)) for number, row in zip(range(1, limit + 1), reader)]


def _header(numbered_rows) -> dict[int, str] | None:
    for number, row in numbered_rows:
        cells = [_text(c).replace(" ", "") for c in row]
        if any(c in RETURN_COLUMNS["payment_id"] for c in cells):
            mapping: dict[int, str] = {}
            for index, text in enumerate(cells):
                for field, accepted in RETURN_COLUMNS.items():
                    if text in accepted and field not in mapping.values():
                        mapping[index] = field
                        break
            return mapping
        if number >= HEADER_SEARCH_ROWS:
            break
    return None


def _read_lines(numbered_rows) -> tuple[list[dict], list[dict]]:
    mapping = _header(numbered_rows)
    if mapping is None:
        return [], [{"field": "file", "message": "找不到表头行（应有“款项编号”一列）"}]
    missing = [RETURN_LABELS[f] for f in ("payment_id", "id_number", "amount", "result") if f not in mapping.values()]
    if missing:
        return [], [{"field": "file", "message": f"缺少“{name}”列"} for name in missing]
    lines, errors = [], []
    for number, row in numbered_rows:
        values = {field: _text(row[i]) if i < len(row) else "" for i, field in mapping.items()}
        if not any(values.values()) or (row and _text(row[0]) in ("合计", "总计")):
            continue
        line, problems = _read_line(values)
        errors += [{"field": f"第 {number} 行 {RETURN_LABELS[f]}", "message": m} for f, m in problems]
        lines.append({"_row": number, **line})
    return lines, errors


def _read_line(values: dict) -> tuple[dict, list[tuple[str, str]]]:
    problems = []
    pid = values["payment_id"]
    if not (pid.isascii() and pid.isdigit() and 0 < len(pid) <= 12):
        problems.append(("payment_id", "款项编号应为发放文件最后一列的数字"))
    try:
        amount = float(values["amount"].replace(",", ""))
        if not math.isfinite(amount):
            raise ValueError
        amount_fen = int(round(amount * 100))
    except ValueError:
        amount_fen = None
        problems.append(("amount", "金额应为数字"))
    result = RESULT_WORDS.get(values["result"].replace(" ", ""))
    if result is None:
        problems.append(("result", "结果应为 成功、失败 或 退回"))
    reason = values.get("reason", "")[:200]
    if result in ("failed", "returned") and not reason:
        problems.append(("reason", "失败或退回须写明原因"))
    readable = pid.isascii() and pid.isdigit() and len(pid) <= 12
    return {"payment_id": int(pid) if readable else None,
            "id_number": values["id_number"].upper(), "amount_fen": amount_fen, "result": result,
            "reason": reason}, problems


def write_reconciliation(title: str, subtitle: str, headers: list[str], rows: list[list],
                         widths: list[int]) -> bytes:
    """A reconciliation workbook (对账表) of a batch or of a fund line."""
    book, sheet = _sheet(title, subtitle, headers, widths)
    _rows(sheet, rows)
    return spreadsheets.workbook_bytes(book)
