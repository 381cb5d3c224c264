"""The steps of a dispatch order after its request: approval (审批, the stock leaves the depot,
first expiry first), shipment (发运), receipt (签收, counted quantities and discrepancies, and
the goods into a receiving depot) and cancellation (撤销, the stock back to its lots by
reversing entries).

Lock order (see :mod:`.book`): the dispatch, then its depot, then the depot's balances, then a
supply request; never another order, so two approvals never take the same units and never
deadlock.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

import stockpile
from gis import codes

from ... import audit
from ...errors import Conflict
from ...extensions import db
from ...models_common import utcnow
from ...validation import Field, validate
from ..models import DISPATCH_MACHINE, SUPPLY_REQUEST_MACHINE, Depot, Dispatch, StockMovement
from .book import Book, insufficient, taken_by
from .common import allow, depot_target, get_depot, get_dispatch, get_supply_request, raise_if, today, who
from .inputs import ITEM, MAX_QUANTITY, NOTE, checked_lines, line_field
from . import replenishment
from .levels import reserves
from .supply_requests import add_step

RECEIVED_LINE = {"item": ITEM, "quantity": Field("int", min=0, max=MAX_QUANTITY), "note": NOTE}
SHIP_FIELDS = {"note": NOTE}
RECEIVE_FIELDS = {"lines": Field("list", required=False, items=line_field(RECEIVED_LINE),
                                 description="[{item, quantity, note}]；未列出的物资视为足量签收"),
                  "note": NOTE}
CANCEL_FIELDS = {"reason": NOTE}


def _line_limit(depot: Depot, book: Book, item: str, to_region: str, on: date, floors: dict) -> int:
    """What a dispatch may take of ``item``: the usable units, less the reserve floor when the
    goods leave the depot's own area (a central depot serves everywhere)."""
    usable = book.usable(item, on)
    reserve = floors.get((depot.code, item))
    inside = depot.tier == "central" or codes.is_within(to_region, depot.region_code)
    if inside or reserve is None or reserve.released:
        return usable
    return max(usable - reserve.floor, 0)


def _permitted(user, dispatch_id: int, action: str, target) -> Dispatch:
    """The dispatch, locked for its step, once the user may take ``action`` on ``target(dispatch)``
    (read without a lock first: a refused user never holds, nor waits for, the row's lock)."""
    allow(user, action, target(get_dispatch(dispatch_id)))
    return get_dispatch(dispatch_id, lock=True)


def approve_dispatch(user, dispatch_id: int) -> Dispatch:
    """Approve (审批): take every line's stock from the source depot, first expiry first, in one
    transaction. Units past their expiry never go out; outside its own area a depot keeps its
    reserve floor. ``409`` names every short line, and then nothing is taken."""
    dispatch = _permitted(user, dispatch_id, "dispatch.approve", lambda d: depot_target(d.from_depot))
    DISPATCH_MACHINE.next_state(dispatch.status, "approve")
    depot = get_depot(dispatch.from_depot.code, lock=True)
    book = Book(depot, user, "dispatch", dispatch.id, [line.item_code for line in dispatch.lines])
    on = today()
    _take(dispatch, depot, book, on)
    before, after = DISPATCH_MACHINE.fire(dispatch, "approve")
    dispatch.approved_by, dispatch.approved_at = who(user), utcnow()
    db.session.flush()
    replenishment.record_draw(dispatch, depot)
    audit.record(user, "dispatch.approve", "dispatch", dispatch.id, before={"status": before},
                 after={"status": after, "movements": [m.id for m in book.made]}, region_code=depot.region_code)
    db.session.commit()
    return dispatch


def _take(dispatch: Dispatch, depot: Depot, book: Book, on: date) -> None:
    """Every line out of the locked book, or a 409 naming each short line and nothing taken."""
    floors = reserves([depot.code])
    short = []
    for index, line in enumerate(dispatch.lines):
        limit = _line_limit(depot, book, line.item_code, dispatch.to_region_code, on, floors)
        if line.quantity > limit:
            short.append({"field": f"lines[{index}].quantity",
                          "message": f"{_item_name(line.item_code)}：申请 {line.quantity}，可用 {limit}，"
                                     f"缺 {line.quantity - limit}"})
    if short:
        raise Conflict(f"{depot.name}库存不足，调拨单 #{dispatch.id} 未审批，未扣减任何库存。", short,
                       title="库存不足")
    for index, line in enumerate(dispatch.lines):
        try:
            book.post(stockpile.Movement("dispatch", line.item_code, line.quantity,
                                         reason=f"调拨单 #{dispatch.id} → {dispatch.to_region_code}"),
                      usable_on=on)
        except stockpile.InsufficientStock as exc:  # the limit above makes this unreachable
            raise insufficient(exc, f"lines[{index}].quantity") from exc


def _item_name(code: str) -> str:
    """An item by its name where a person reads it (the code stays in the field path)."""
    from ..models import Item

    return db.session.scalar(select(Item.name).where(Item.code == code)) or code


def ship_dispatch(user, dispatch_id: int, data) -> Dispatch:
    """Shipment (发运), with an optional ``data["note"]`` (vehicle, carrier)."""
    dispatch = _permitted(user, dispatch_id, "dispatch.ship", lambda d: depot_target(d.from_depot))
    depot = dispatch.from_depot
    values, errors = validate(SHIP_FIELDS, data)
    raise_if(errors)
    note = values["note"] or None
    before, after = DISPATCH_MACHINE.fire(dispatch, "ship")
    dispatch.shipped_by, dispatch.shipped_at = who(user), utcnow()
    if note:
        dispatch.note = f"{dispatch.note}\n发运：{note}".strip()
    audit.record(user, "dispatch.ship", "dispatch", dispatch.id, before={"status": before},
                 after={"status": after}, region_code=depot.region_code, note=note)
    db.session.commit()
    return dispatch


def _counted(dispatch: Dispatch, data, errors: list[dict]) -> dict[str, tuple[int, str | None]]:
    """``{item: (counted quantity, note)}`` from the receipt's lines: items of this dispatch,
    each named once."""
    by_item = {line.item_code for line in dispatch.lines}
    counted: dict[str, tuple[int, str | None]] = {}
    for line in checked_lines(data, RECEIVED_LINE, errors):
        where, code = f"lines[{line['index']}]", line["item"]
        if code is None:
            pass
        elif code not in by_item:
            errors.append({"field": f"{where}.item", "message": f"调拨单中没有物资 {code}"})
        elif code in counted:
            errors.append({"field": f"{where}.item", "message": f"物资 {code} 重复"})
        if code in by_item and line["quantity"] is not None:
            counted[code] = (line["quantity"], line["note"] or None)
    return counted


def receive_dispatch(user, dispatch_id: int, data) -> Dispatch:
    """Receipt at the destination (签收): ``data["lines"]`` gives the counted quantity of each
    item (``[{"item", "quantity", "note"}]``); items left out arrived in full. A difference is a
    discrepancy, kept with its note. With a destination depot the received units are posted
    there (调入), lot by lot as they were taken."""
    dispatch = _permitted(user, dispatch_id, "dispatch.receive", lambda d: d.to_region_code)
    DISPATCH_MACHINE.next_state(dispatch.status, "receive")
    values, errors = validate(RECEIVE_FIELDS, data)
    counted = _counted(dispatch, data, errors)
    raise_if(errors)
    note = values["note"] or None
    _record_counts(dispatch, counted, note)
    made = _transfer_in(user, dispatch) if dispatch.to_depot_code else []
    before, after = DISPATCH_MACHINE.fire(dispatch, "receive")
    dispatch.received_by, dispatch.received_at = who(user), utcnow()
    if dispatch.shipped_at is None:  # received without a recorded shipment
        dispatch.shipped_by, dispatch.shipped_at = dispatch.received_by, dispatch.received_at
    if note:
        dispatch.note = f"{dispatch.note}\n签收：{note}".strip()
    db.session.flush()
    replenishment.on_received(dispatch)
    audit.record(user, "dispatch.receive", "dispatch", dispatch.id, before={"status": before},
                 after={"status": after, "lines": [l.to_dict() for l in dispatch.lines],
                        "transfer_in": [m.id for m in made]},
                 region_code=dispatch.to_region_code, note=note)
    db.session.commit()
    return dispatch


def _record_counts(dispatch: Dispatch, counted: dict, note: str | None) -> None:
    for line in dispatch.lines:
        quantity, line_note = counted.get(line.item_code, (line.quantity, None))
        line.received_quantity = quantity
        if quantity != line.quantity:
            line.discrepancy_note = line_note or note or "未说明原因"
        elif line_note:
            line.discrepancy_note = line_note


def _transfer_in(user, dispatch: Dispatch) -> list[StockMovement]:
    """The received units into the receiving depot, lot by lot as the approval took them."""
    taken = taken_by(dispatch)
    depot = get_depot(dispatch.to_depot_code, lock=True)
    book = Book(depot, user, "dispatch", dispatch.id, [line.item_code for line in dispatch.lines])
    made = []
    for line in dispatch.lines:
        lots = [(stockpile.Lot(m.lot, m.expiry), -m.quantity) for m in taken if m.item_code == line.item_code]
        left = line.received_quantity or 0
        parts = []
        for index, (lot, quantity) in enumerate(lots):
            share = left if index == len(lots) - 1 else min(quantity, left)
            if share > 0:
                parts.append((lot, share))
            left -= share
        if not lots and left > 0:
            parts.append((stockpile.Lot(), left))
        made.extend(book.apply(line.item_code, "transfer_in", parts,
                               reason=f"调拨单 #{dispatch.id} 自 {dispatch.from_depot_code} 调入"))
    return made


def cancel_dispatch(user, dispatch_id: int, data) -> Dispatch:
    """Cancel (撤销) before receipt, with an optional ``data["reason"]``. Stock already taken
    returns to the very lots it came from, by reversing entries (冲销) that point to the lines
    they undo; a filled supply request the dispatch served reopens."""
    dispatch = _permitted(user, dispatch_id, "dispatch.cancel", lambda d: depot_target(d.from_depot))
    depot = dispatch.from_depot
    values, errors = validate(CANCEL_FIELDS, data)
    raise_if(errors)
    reason = values["reason"] or None
    DISPATCH_MACHINE.next_state(dispatch.status, "cancel")
    made = _return_stock(user, dispatch, reason) if dispatch.status in ("approved", "shipped") else []
    before, after = DISPATCH_MACHINE.fire(dispatch, "cancel")
    dispatch.cancelled_by, dispatch.cancelled_at, dispatch.cancel_reason = who(user), utcnow(), reason
    if dispatch.supply_request_id:
        request = get_supply_request(dispatch.supply_request_id, lock=True)
        if request.status == "filled":
            SUPPLY_REQUEST_MACHINE.fire(request, "reopen")
            add_step(request, user, "reopen", request.addressee_code, note=f"调拨单 #{dispatch.id} 已撤销")
    db.session.flush()
    replenishment.on_cancelled(dispatch)
    audit.record(user, "dispatch.cancel", "dispatch", dispatch.id, before={"status": before},
                 after={"status": after, "reversals": [m.id for m in made]},
                 region_code=depot.region_code, note=reason)
    db.session.commit()
    return dispatch


def _return_stock(user, dispatch: Dispatch, reason: str | None) -> list[StockMovement]:
    """Reverse what the approval took and nothing reversed yet, lot by lot."""
    depot = get_depot(dispatch.from_depot_code, lock=True)
    taken = taken_by(dispatch)
    undone = set(db.session.scalars(select(StockMovement.reverses_id).where(
        StockMovement.reverses_id.in_([m.id for m in taken]))).all())
    taken = [m for m in taken if m.id not in undone]
    book = Book(depot, user, "dispatch", dispatch.id, {m.item_code for m in taken})
    made = []
    for item in sorted({m.item_code for m in taken}):
        rows = [m for m in taken if m.item_code == item]
        made.extend(book.apply(item, "cancel", [(stockpile.Lot(m.lot, m.expiry), -m.quantity) for m in rows],
                               reason=reason or f"撤销调拨单 #{dispatch.id}", reverses=[m.id for m in rows]))
    return made
