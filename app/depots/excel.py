"""Excel exports (openpyxl): the dispatch note (调拨单) and the stock report (库存报表), written
through :mod:`app.spreadsheets` (text that would be a formula is escaped). They render what
the service read for them (:mod:`.service.exports`) and read nothing themselves."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from .. import spreadsheets
from ..regions import Region
from .models import TIERS, Depot, Dispatch, Item

XLSX = spreadsheets.XLSX_MIMETYPE
put = spreadsheets.put
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD = PatternFill("solid", fgColor="F2DCDB")
_WARN = PatternFill("solid", fgColor="FFE699")


def _local(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M")


def _table(ws, row: int, header: list[str], rows: list[list], fills: list | None = None) -> int:
    for col, text in enumerate(header, 1):
        cell = put(ws, row, col, text)
        cell.font, cell.fill, cell.border = Font(bold=True), _HEAD, _BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for offset, values in enumerate(rows, 1):
        for col, value in enumerate(values, 1):
            cell = put(ws, row + offset, col, value)
            cell.border = _BOX
            if fills and fills[offset - 1] is not None:
                cell.fill = fills[offset - 1]
    return row + len(rows) + 1


def _widths(ws, widths: list[int]) -> None:
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width


def dispatch_note(dispatch: Dispatch, detail: dict, items: dict[str, Item], region: Region | None) -> bytes:
    """调拨单: header, one row per item with the lots taken, receipt figures and signatures.
    ``detail``: the dispatch with the lots its approval took; ``items``: the catalogue by code;
    ``region``: the receiving region."""
    depot = dispatch.from_depot
    wb = spreadsheets.new_workbook("调拨单")
    ws = wb.active
    ws.merge_cells("A1:H1")
    put(ws, 1, 1, "救灾物资调拨单")
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    header = [
        ("调拨单号", f"DB-{dispatch.id:06d}", "状态", dispatch.status_label),
        ("调出物资库", f"{depot.name}（{depot.code}）", "接收区划", f"{region.name if region else ''}（{dispatch.to_region_code}）"),
        ("灾害过程", dispatch.event_id or "", "调入物资库", dispatch.to_depot_code or ""),
        ("申请人", dispatch.requested_by, "申请时间", _local(dispatch.requested_at)),
        ("审批人", dispatch.approved_by or "", "审批时间", _local(dispatch.approved_at)),
        ("发运人", dispatch.shipped_by or "", "发运时间", _local(dispatch.shipped_at)),
        ("签收人", dispatch.received_by or "", "签收时间", _local(dispatch.received_at)),
    ]
    row = 3
    for left, left_value, right, right_value in header:
        put(ws, row, 1, left).font = Font(bold=True)
        put(ws, row, 2, left_value)
        put(ws, row, 5, right).font = Font(bold=True)
        put(ws, row, 6, right_value)
        row += 1
    if dispatch.status == "cancelled":
        put(ws, row, 1, "撤销").font = Font(bold=True, color="C00000")
        put(ws, row, 2, f"{dispatch.cancelled_by} {_local(dispatch.cancelled_at)} "
                                         f"{dispatch.cancel_reason or ''}")
        row += 1
    lots: dict[str, list[str]] = {}
    for movement in detail["movements"]:
        if movement["kind"] != "dispatch":
            continue
        label = f"{movement['lot'] or '无批号'}/{movement['expiry'] or '无有效期'}×{-movement['quantity']}"
        lots.setdefault(movement["item"], []).append(label)
    rows, fills = [], []
    for number, line in enumerate(dispatch.lines, 1):
        item = items.get(line.item_code)
        rows.append([number, item.name if item else line.item_code, line.item_code, item.unit if item else "",
                     line.quantity, "；".join(lots.get(line.item_code, [])),
                     line.received_quantity, line.discrepancy_note or ""])
        fills.append(_WARN if line.discrepancy else None)
    row = _table(ws, row + 1, ["序号", "品名", "代码", "单位", "调拨数量", "出库批次/有效期×数量", "实收数量", "差异说明"],
                 rows, fills)
    put(ws, row + 1, 1, f"备注：{dispatch.note or ''}")
    put(ws, row + 3, 1, "调出单位（盖章）：")
    put(ws, row + 3, 4, "承运人签字：")
    put(ws, row + 3, 7, "接收单位（盖章）：")
    _widths(ws, [8, 16, 14, 8, 12, 36, 12, 24])
    return spreadsheets.workbook_bytes(wb)


def stock_report(stock: list[tuple[Depot, list[dict]]], on: date) -> bytes:
    """库存报表: one row per depot and item (warnings highlighted), and the lots on a second sheet.
    ``stock``: each depot with its stock levels on ``on``."""
    wb = spreadsheets.new_workbook("库存报表")
    ws = wb.active
    put(ws, 1, 1, "救灾物资库存报表").font = Font(bold=True, size=14)
    put(ws, 2, 1, f"统计日期：{on.isoformat()}（可用 = 账面 − 过期 − 保底储备）")
    rows, fills, lot_rows = [], [], []
    for depot, levels in stock:
        for line in levels:
            warning = "；".join(text for flag, text in ((line["below_floor"], "低于保底储备"),
                                                      (line["expired"] > 0, "有过期批次待核销")) if flag)
            rows.append([depot.code, depot.name, TIERS.get(depot.tier, depot.tier),
                         depot.region_code, line["item"], line["name"], line["unit"], line["on_hand"],
                         line["expired"], line["reserved"], line["available"], line["floor"], warning])
            fills.append(_WARN if warning else None)
            for lot in line["lots"]:
                lot_rows.append([depot.code, line["item"], line["name"], lot["lot"] or "", lot["expiry"] or "",
                                 lot["on_hand"], "已过期" if lot["expired"] else ""])
    _table(ws, 4, ["物资库代码", "物资库", "层级", "区划", "物资代码", "品名", "单位", "账面数量", "过期数量",
                   "保底储备", "可用数量", "保底线", "预警"], rows, fills)
    _widths(ws, [16, 22, 10, 10, 14, 12, 6, 10, 10, 10, 10, 10, 24])
    lots = wb.create_sheet("批次明细")
    _table(lots, 1, ["物资库代码", "物资代码", "品名", "批次号", "有效期至", "数量", "状态"], lot_rows)
    _widths(lots, [16, 14, 12, 14, 12, 10, 10])
    return spreadsheets.workbook_bytes(wb)
