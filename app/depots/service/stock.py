"""Stock movements at a depot (入库、盘点调整、过期核销): receipts into a lot, signed stocktake
adjustments with a reason, and the write-off of expired lots, each one locked transaction
through :class:`~app.depots.service.book.Book` with its audit record.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import stockpile

from ... import audit
from ...errors import Invalid
from ...extensions import db
from ...validation import Field, validate
from ..models import StockBalance
from .book import Book, insufficient, stock_document_id
from .common import allow, depot_target, get_depot, raise_if, today
from .inputs import ITEM, LOT, MAX_QUANTITY, NOTE, QUANTITY, known_item

RECEIPT_FIELDS = {
    "item": ITEM, "quantity": QUANTITY, "note": NOTE, "lot": LOT,
    "expiry": Field("date", required=False, description="有效期至；不填时按物资保质期从今天起算"),
}
ADJUSTMENT_FIELDS = {
    "item": ITEM, "quantity": Field("int", min=-MAX_QUANTITY, max=MAX_QUANTITY,
                                    description="正数盘盈，负数盘亏（不能为 0）"),
    "reason": Field("str", max_length=500, multiline=True, description="调整原因（必填）",
                    extra={"required_message": "请填写调整原因"}),
    "lot": LOT, "expiry": Field("date", required=False),
}
WRITEOFF_FIELDS = {"on": Field("date", required=False, description="核销此日期之前到期的批次，默认今天"),
                   "reason": NOTE}


def _open_depot(user, action: str, depot_code: str):
    """The depot (404), once the user may take ``action`` there (403)."""
    depot = get_depot(depot_code)
    allow(user, action, depot_target(depot))
    return depot


def post_receipt(user, depot_code: str, data) -> list[dict]:
    """Receipt (入库) of goods into a depot: ``data`` ``{item, quantity, note, lot, expiry}``.
    Without ``expiry``, an item with a shelf life expires ``shelf_life_days`` after today."""
    depot = _open_depot(user, "stock.receive", depot_code)
    values, errors = validate(RECEIPT_FIELDS, data)
    item = known_item(values["item"], "item", errors)
    if not depot.active:
        errors.append({"field": "depot", "message": "物资库已停用"})
    raise_if(errors)
    quantity, note, lot, expiry = values["quantity"], values["note"] or None, values["lot"] or None, values["expiry"]
    if expiry is None and item.shelf_life_days:
        expiry = today() + timedelta(days=item.shelf_life_days)
    depot = get_depot(depot.code, lock=True)
    book = Book(depot, user, "receipt", stock_document_id("receipt", depot.code), [item.code])
    try:
        made = book.post(stockpile.Movement("receipt", item.code, quantity, lot=lot, expiry=expiry, reason=note))
    except stockpile.LedgerError as exc:
        raise Invalid(f"批次 {lot} 已有不同的有效期。", [{"field": "expiry", "message": str(exc)}]) from exc
    db.session.flush()
    audit.record(user, "stock.receipt", "depot", depot.code, region_code=depot.region_code, note=note,
                 after={"item": item.code, "quantity": quantity, "lot": lot, "expiry": expiry,
                        "document_id": book.document_id})
    db.session.commit()
    return [m.to_dict() for m in made]


def receive_stock(user, depot_code: str, item_code, quantity, note=None, lot=None, expiry=None) -> list[dict]:
    """:func:`post_receipt` with its values as arguments (the demo, benchmarks and tests)."""
    return post_receipt(user, depot_code, {"item": item_code, "quantity": quantity, "note": note, "lot": lot,
                                           "expiry": expiry})


def post_adjustment(user, depot_code: str, data) -> list[dict]:
    """Stocktake adjustment (盘点调整): ``data`` ``{item, quantity, reason, lot, expiry}``, a
    signed, non-zero quantity with a reason. A decrease comes from the named lot, else
    first-expiry-first-out."""
    depot = _open_depot(user, "stock.adjust", depot_code)
    values, errors = validate(ADJUSTMENT_FIELDS, data)
    item = known_item(values["item"], "item", errors)
    quantity, expiry = values["quantity"], values["expiry"]
    if quantity == 0:
        errors.append({"field": "quantity", "message": "不能为 0"})
    if expiry is not None and quantity is not None and quantity < 0:
        errors.append({"field": "expiry", "message": "盘亏请用批次号指定批次，不填有效期"})
    raise_if(errors)
    reason, lot = values["reason"], values["lot"] or None
    depot = get_depot(depot.code, lock=True)
    book = Book(depot, user, "adjustment", stock_document_id("adjustment", depot.code), [item.code])
    try:
        made = book.post(stockpile.Movement("adjustment", item.code, quantity, lot=lot,
                                            expiry=expiry if quantity > 0 else None, reason=reason))
    except stockpile.InsufficientStock as exc:
        raise insufficient(exc, "quantity") from exc
    except stockpile.LedgerError as exc:
        raise Invalid("调整有误。", [{"field": "lot", "message": str(exc)}]) from exc
    db.session.flush()
    audit.record(user, "stock.adjust", "depot", depot.code, region_code=depot.region_code, note=reason,
                 after={"item": item.code, "quantity": quantity, "lot": lot, "document_id": book.document_id})
    db.session.commit()
    return [m.to_dict() for m in made]


def post_writeoff(user, depot_code: str, data) -> list[dict]:
    """Expiry write-off (过期核销): every lot whose expiry date is before ``data["on"]``
    (default today), with an optional ``reason``. Nothing expired: nothing written, ``[]``."""
    depot = _open_depot(user, "stock.adjust", depot_code)
    values, errors = validate(WRITEOFF_FIELDS, data)
    raise_if(errors)
    on, reason = values["on"] or today(), values["reason"] or None
    depot = get_depot(depot.code, lock=True)
    items = db.session.scalars(select(StockBalance.item_code).distinct()
                               .where(StockBalance.depot_code == depot.code)).all()
    book = Book(depot, user, "writeoff", stock_document_id("writeoff", depot.code), items)
    made = []
    for item in sorted(items):
        lots = {lot: row.on_hand for lot, row in book.rows[item].items()}
        due = stockpile.expiring(lots, on - timedelta(days=1))
        if due:
            movement = stockpile.Movement("expiry_writeoff", item, sum(p.quantity for p in due),
                                          lots=tuple(due), reason=reason or f"过期核销（{on.isoformat()} 前到期）")
            made.extend(book.post(movement))
    if not made:
        db.session.rollback()
        return []
    db.session.flush()
    audit.record(user, "stock.writeoff", "depot", depot.code, region_code=depot.region_code,
                 after={"document_id": book.document_id, "lines": [m.to_dict() for m in made]})
    db.session.commit()
    return [m.to_dict() for m in made]
