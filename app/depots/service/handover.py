"""What the distribution points (发放点, :mod:`app.distribution`) read and write here, once
that area has checked its own permission: received dispatch orders (the goods a point takes in),
and returns (退回) of what a point did not hand out, posted into the dispatch's source depot.

A return goes back into the very lots the dispatch took, newest first, so that a depot's ledger
reads: receipt → dispatch → return, each line pointing to its document.
"""
from __future__ import annotations

from sqlalchemy import select

import stockpile
from gis import codes

from ...extensions import db
from ..models import Dispatch, Item
from .book import Book, taken_by
from .common import get_depot, get_dispatch


def _item_names() -> dict[str, str]:
    return dict(db.session.execute(select(Item.code, Item.name)).all())


def _as_dict(dispatch: Dispatch, names: dict[str, str] | None = None) -> dict:
    names = _item_names() if names is None else names
    return {"id": dispatch.id, "event_id": dispatch.event_id, "status": dispatch.status,
            "from_depot": dispatch.from_depot_code, "to_region_code": dispatch.to_region_code,
            "to_depot": dispatch.to_depot_code,
            "received_at": dispatch.received_at.isoformat() if dispatch.received_at else None,
            "lines": {line.item_code: {"item": line.item_code, "name": names.get(line.item_code, line.item_code),
                                       "received": line.received_quantity or 0}
                      for line in dispatch.lines}}


def received_dispatch(dispatch_id: int, *, lock: bool = False) -> dict:
    """A dispatch as plain data (404 when there is none): status, event, destination, and each
    line's received quantity. ``lock=True`` locks the order for the calling transaction, so two
    points never take in more than it brought."""
    return _as_dict(get_dispatch(dispatch_id, lock=lock))


def received_dispatches(region_code: str, event_id: int | None = None, limit: int = 200) -> list[dict]:
    """Received dispatches whose destination contains ``region_code`` (a village's point takes
    from a dispatch to its township), newest first; not transfers into a depot."""
    stmt = select(Dispatch).where(Dispatch.status == "received", Dispatch.to_depot_code.is_(None))
    if event_id is not None:
        stmt = stmt.where(Dispatch.event_id == event_id)
    candidates = [region_code, *codes.ancestors(region_code)]
    stmt = stmt.where(Dispatch.to_region_code.in_(sorted(candidates))).order_by(Dispatch.id.desc()).limit(limit)
    names = _item_names()  # once, not once a dispatch
    return [_as_dict(d, names) for d in db.session.scalars(stmt) if codes.is_within(region_code, d.to_region_code)]


def return_to_depot(user, dispatch_id: int, item: str, quantity: int, document_id: str, reason: str) -> list[int]:
    """Post ``quantity`` units of ``item`` back into the source depot of ``dispatch_id`` (kind
    ``return``, document ``distribution_return`` ``document_id``), into the lots the dispatch
    took, newest first; beyond those, an anonymous lot. Returns the ledger line ids. The caller
    checked permission and that the units exist at its point; it commits."""
    dispatch = get_dispatch(dispatch_id)
    depot = get_depot(dispatch.from_depot_code, lock=True)
    book = Book(depot, user, "distribution_return", document_id, [item])
    taken = [m for m in taken_by(dispatch) if m.item_code == item]
    parts, left = [], quantity
    for movement in reversed(taken):
        share = min(left, -movement.quantity)
        if share > 0:
            parts.append((stockpile.Lot(movement.lot, movement.expiry), share))
            left -= share
    if left > 0:
        parts.append((stockpile.Lot(), left))
    made = book.apply(item, "return", parts, reason=reason)
    db.session.flush()
    return [m.id for m in made]
