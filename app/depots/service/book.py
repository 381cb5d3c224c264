"""The book (账): the stock of some items at one locked depot while one transaction posts to it,
the only writer of stock balances and ledger lines (库存台账).

Concurrency: every function that moves stock locks the depot row and then, through
:class:`Book`, its stock-balance rows (``SELECT … FOR UPDATE`` on PostgreSQL through
:func:`app.database.lock_for_update`; on SQLite every transaction already starts as
``BEGIN IMMEDIATE``, which serialises writers). A dispatch is locked before its depot, a depot
before its balances, and a supply request last (or alone), so two approvals can never both
take the same units and never deadlock.
"""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

import stockpile

from ...database import lock_for_update
from ...errors import Conflict
from ...extensions import db
from ...models_common import utcnow
from ..models import Depot, StockBalance, StockMovement
from .common import lot_key, who


class Book:
    """The stock of some items at one locked depot while one transaction posts to it.

    Lots, FEFO and the refusal to go below zero come from :mod:`stockpile`; each lot touched
    becomes one :class:`StockMovement` with the item's and the lot's balance after it.
    """

    def __init__(self, depot: Depot, user, document_type: str, document_id, items):
        self.depot, self.user = depot, user
        self.document_type, self.document_id = document_type, str(document_id)
        self.at = utcnow()
        items = sorted(set(items))
        rows = db.session.scalars(
            lock_for_update(select(StockBalance)
                            .where(StockBalance.depot_code == depot.code, StockBalance.item_code.in_(items))
                            .order_by(StockBalance.id))
            .execution_options(populate_existing=True)).all()
        self.rows: dict[str, dict[stockpile.Lot, StockBalance]] = {item: {} for item in items}
        for row in rows:
            self.rows[row.item_code][stockpile.Lot(row.lot, row.expiry)] = row
        self.made: list[StockMovement] = []

    def total(self, item: str) -> int:
        return sum(row.on_hand for row in self.rows[item].values())

    def usable(self, item: str, on: date) -> int:
        """Units not past their expiry date on ``on`` (an item may be used on its expiry day)."""
        return sum(row.on_hand for lot, row in self.rows[item].items()
                   if lot.expiry is None or lot.expiry >= on)

    def _state(self, item: str, usable_on: date | None) -> stockpile.StockState:
        held = [stockpile.Movement("receipt", item, row.on_hand, lot=lot.code, expiry=lot.expiry)
                for lot, row in self.rows[item].items()
                if row.on_hand > 0 and (usable_on is None or lot.expiry is None or lot.expiry >= usable_on)]
        return stockpile.replay(held)

    def post(self, movement: stockpile.Movement, *, usable_on: date | None = None) -> list[StockMovement]:
        """Post through :func:`stockpile.post` (FEFO for outgoing stock without a lot); raises
        ``stockpile.InsufficientStock`` or ``stockpile.LedgerError`` and then changes nothing."""
        state = self._state(movement.item, usable_on if movement.delta < 0 else None)
        _, entry = stockpile.post(state, movement)
        sign = 1 if movement.delta > 0 else -1
        return self.apply(movement.item, movement.kind, [(p.lot, sign * p.quantity) for p in entry.lots],
                          reason=movement.reason)

    def apply(self, item: str, kind: str, parts, *, reason: str | None = None,
              reverses: list[int | None] | None = None) -> list[StockMovement]:
        """Write ``parts`` (``[(Lot, signed quantity)]``) to the balances and the ledger."""
        total = self.total(item)
        made = []
        for index, (lot, quantity) in enumerate(parts):
            row = self._balance(item, lot)
            if row.on_hand + quantity < 0:
                raise stockpile.InsufficientStock(item, -quantity, row.on_hand, lot)
            row.on_hand += quantity
            total += quantity
            movement = StockMovement(
                depot_code=self.depot.code, item_code=item, lot=lot.code, expiry=lot.expiry, kind=kind,
                quantity=quantity, balance_after=total, lot_balance_after=row.on_hand,
                document_type=self.document_type, document_id=self.document_id, reason=reason,
                reverses_id=reverses[index] if reverses else None,
                user_id=getattr(self.user, "id", None), username=who(self.user), at=self.at)
            db.session.add(movement)
            made.append(movement)
        self.made.extend(made)
        return made

    def _balance(self, item: str, lot: stockpile.Lot) -> StockBalance:
        """The balance row of one lot, made (at zero) the first time the lot is posted."""
        row = self.rows[item].get(lot)
        if row is None:
            row = StockBalance(depot_code=self.depot.code, item_code=item, lot_key=lot_key(lot.code, lot.expiry),
                               lot=lot.code, expiry=lot.expiry, on_hand=0)
            db.session.add(row)
            self.rows[item][lot] = row
        return row


def insufficient(exc: stockpile.InsufficientStock, field: str) -> Conflict:
    return Conflict(f"库存不足：{exc.item} 需要 {exc.requested}，可用 {exc.available}。",
                    [{"field": field, "message": f"需要 {exc.requested}，可用 {exc.available}"}])


def stock_document_id(kind: str, depot_code: str) -> str:
    """The next number of a depot's receipts, adjustments or write-offs (入库单号 …): the date
    and a counter. Called with the depot locked, so two documents never share a number."""
    stamp = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y%m%d")
    count = db.session.scalar(select(func.count(func.distinct(StockMovement.document_id)))
                              .where(StockMovement.depot_code == depot_code, StockMovement.document_type == kind,
                                     StockMovement.document_id.like(f"{stamp}-%")))
    return f"{stamp}-{count + 1:04d}"


def taken_by(dispatch) -> list[StockMovement]:
    """The ledger lines by which a dispatch's approval took its stock (lot by lot)."""
    return db.session.scalars(select(StockMovement).where(
        StockMovement.document_type == "dispatch", StockMovement.document_id == str(dispatch.id),
        StockMovement.depot_code == dispatch.from_depot_code, StockMovement.kind == "dispatch")
        .order_by(StockMovement.id)).all()
