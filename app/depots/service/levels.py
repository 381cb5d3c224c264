"""Reading stock (库存) and the ledger (台账): each depot's stock by item with what is expired,
reserved and available, the ledger lines of a depot, the check that every balance is the sum of
its ledger lines, and the usable stock of every depot for the map and for allocation.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

import stockpile

from ...extensions import db
from ..models import DepotReserve, StockBalance, StockMovement
from .catalogue import list_items
from .common import allow, get_depot, lot_key, today
from .depots import depots_query


def reserves(depot_codes=None) -> dict[tuple[str, str], DepotReserve]:
    """``{(depot, item): reserve floor row}``, of some depots or of all."""
    stmt = select(DepotReserve)
    if depot_codes is not None:
        stmt = stmt.where(DepotReserve.depot_code.in_(list(depot_codes)))
    return {(r.depot_code, r.item_code): r for r in db.session.scalars(stmt)}


def stock_levels(user, depot_code: str, on: date | None = None) -> list[dict]:
    """Stock of each item at a depot, for a user who may see depots (:func:`levels`)."""
    allow(user, "depot.view")
    get_depot(depot_code)
    return levels(depot_code, on)


def levels(depot_code: str, on: date | None = None) -> list[dict]:
    """Stock of each item at a depot: ``on_hand`` (账面), ``expired``, ``reserved`` (the reserve
    floor unless released), ``available`` = on hand − expired − reserved (never below 0), the
    floor warning and the lots in FEFO order."""
    on = on or today()
    rows = db.session.scalars(select(StockBalance).where(StockBalance.depot_code == depot_code)).all()
    floors = reserves([depot_code])
    items = {i.code: i for i in list_items()}
    by_item: dict[str, list[StockBalance]] = defaultdict(list)
    for row in rows:
        by_item[row.item_code].append(row)
    for _, item_code in floors:
        by_item.setdefault(item_code, [])
    return [_level(code, items.get(code), by_item[code], floors.get((depot_code, code)), on)
            for code in sorted(by_item)]


def _level(code: str, item, rows: list[StockBalance], reserve: DepotReserve | None, on: date) -> dict:
    lots = sorted((r for r in rows if r.on_hand > 0),
                  key=lambda r: stockpile.fefo_key(stockpile.Lot(r.lot, r.expiry)))
    on_hand = sum(r.on_hand for r in lots)
    expired = sum(r.on_hand for r in lots if r.expiry is not None and r.expiry < on)
    floor = reserve.floor if reserve else 0
    reserved = 0 if reserve is None or reserve.released else reserve.floor
    return {
        "item": code, "name": item.name if item else code, "unit": item.unit if item else "",
        "on_hand": on_hand, "reserved": reserved,
        "available": stockpile.available(on_hand - expired, reserved),
        "expired": expired, "floor": floor, "released": bool(reserve and reserve.released),
        "below_floor": floor > 0 and on_hand - expired < floor,
        "lots": [{"lot": r.lot, "expiry": r.expiry.isoformat() if r.expiry else None,
                  "on_hand": r.on_hand, "expired": r.expiry is not None and r.expiry < on} for r in lots],
    }


def ledger_query(depot_code: str, item: str | None = None):
    """A ``select`` of a depot's ledger lines, oldest first (404 for an unknown depot)."""
    get_depot(depot_code)
    stmt = select(StockMovement).where(StockMovement.depot_code == depot_code).order_by(StockMovement.id)
    if item:
        stmt = stmt.where(StockMovement.item_code == item)
    return stmt


def ledger_for(user, depot_code: str, item: str | None = None):
    """A depot's ledger lines for a user who may see depots, as a ``select`` to page."""
    allow(user, "depot.view")
    return ledger_query(depot_code, item)


@dataclass(frozen=True)
class LedgerMismatch:
    depot_code: str
    item_code: str
    lot: str | None
    expiry: date | None
    balance: int
    ledger_sum: int


def check_ledger(depot_code: str | None = None) -> list[LedgerMismatch]:
    """Every stock balance row against the sum of its ledger lines; an empty list means they
    agree (and that no balance is negative)."""
    sums = select(StockMovement.depot_code, StockMovement.item_code, StockMovement.lot, StockMovement.expiry,
                  func.sum(StockMovement.quantity)).group_by(
        StockMovement.depot_code, StockMovement.item_code, StockMovement.lot, StockMovement.expiry)
    balances = select(StockBalance)
    if depot_code:
        sums = sums.where(StockMovement.depot_code == depot_code)
        balances = balances.where(StockBalance.depot_code == depot_code)
    ledger = {(d, i, lot_key(lot, expiry)): (lot, expiry, int(total))
              for d, i, lot, expiry, total in db.session.execute(sums)}
    found = []
    for row in db.session.scalars(balances):
        key = (row.depot_code, row.item_code, row.lot_key)
        _, _, total = ledger.pop(key, (row.lot, row.expiry, 0))
        if total != row.on_hand or row.on_hand < 0:
            found.append(LedgerMismatch(row.depot_code, row.item_code, row.lot, row.expiry, row.on_hand, total))
    for (depot, item, _), (lot, expiry, total) in ledger.items():
        found.append(LedgerMismatch(depot, item, lot, expiry, 0, total))
    return found


def usable_stock(depot_codes=None, on: date | None = None) -> dict[tuple[str, str], int]:
    """``{(depot, item): units on hand and not expired}``."""
    on = on or today()
    stmt = (select(StockBalance.depot_code, StockBalance.item_code, func.sum(StockBalance.on_hand))
            .where((StockBalance.expiry.is_(None)) | (StockBalance.expiry >= on), StockBalance.on_hand > 0)
            .group_by(StockBalance.depot_code, StockBalance.item_code))
    if depot_codes is not None:
        stmt = stmt.where(StockBalance.depot_code.in_(list(depot_codes)))
    return {(d, i): int(q) for d, i, q in db.session.execute(stmt)}


def depot_stock_table(item: str | None = None, region_code: str | None = None) -> list[dict]:
    """Plain data for the map: every active depot (inside ``region_code`` when given) with its
    location and ``stock: {item_code: available}`` (only ``item`` when given). No permission
    check: the caller (the dashboard's service, a page of this area) checked ``depot.view``."""
    depots = db.session.scalars(depots_query(region_code, active_only=True)).all()
    by_depot: dict[str, dict[str, float]] = {}
    for (code, item_code), units in usable_stock().items():
        if not item or item_code == item:
            by_depot.setdefault(code, {})[item_code] = units
    floors = reserves()
    out = []
    for depot in depots:
        stock = {}
        for item_code, units in by_depot.get(depot.code, {}).items():
            reserve = floors.get((depot.code, item_code))
            held = 0 if reserve is None or reserve.released else reserve.floor
            stock[item_code] = stockpile.available(units, held)
        if item and item not in stock:
            stock[item] = 0
        out.append({"code": depot.code, "name": depot.name, "tier": depot.tier,
                    "region_code": depot.region_code, "lon": depot.lon, "lat": depot.lat,
                    "stock": dict(sorted(stock.items()))})
    return out
