"""The stock ledger (库存台账): an append-only list of movements, as Sahana's ``inv_stock_log``.

Balances are never stored apart from the movements: every figure is the sum of the movements
that reached it. A state is immutable; :func:`post` returns a new one, or raises and changes
nothing. A correction is a reversing entry (:func:`reverse`), never an edit.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Movement kinds: 入库 receipt, 出库 dispatch, 退回 return, 撤销 cancel (reversal of a dispatch),
#: 调入 transfer_in, 调出 transfer_out, 盘点调整 adjustment (signed, needs a reason), 过期核销
#: expiry_writeoff.
KINDS = ("receipt", "dispatch", "return", "cancel", "transfer_in", "transfer_out", "adjustment",
         "expiry_writeoff")
INCREASING = frozenset({"receipt", "return", "cancel", "transfer_in"})
DECREASING = frozenset({"dispatch", "transfer_out", "expiry_writeoff"})


class LedgerError(ValueError):
    """The ledger refused a movement; nothing was changed."""


class InsufficientStock(LedgerError):
    """A movement would drive a balance (the item's total or one lot) below zero.

    Attributes
    ----------
    item : str
    requested : int
        Units the movement asked for.
    available : int
        Units there were (in ``lot`` when given, else in total).
    lot : Lot or None
    """

    def __init__(self, item: str, requested: int, available: int, lot: Lot | None = None):
        self.item, self.requested, self.available, self.lot = item, requested, available, lot
        where = f" in lot {lot.code or '-'} (expiry {lot.expiry or '-'})" if lot is not None else ""
        super().__init__(f"insufficient stock (库存不足) of {item}{where}: "
                         f"requested {requested}, available {available}")


@dataclass(frozen=True)
class Lot:
    """A lot (批次): a batch code and an expiry date (有效期至), either may be ``None``.

    A named lot's expiry is fixed while the lot holds stock. Anonymous lots are told apart by
    expiry only.
    """

    code: str | None = None
    expiry: dt.date | None = None


def fefo_key(lot: Lot) -> tuple:
    """Sort key for first-expiry-first-out (FEFO): earliest expiry first, no expiry last."""
    return (lot.expiry is None, lot.expiry or dt.date.max, lot.code is not None, lot.code or "")


@dataclass(frozen=True)
class LotQuantity:
    """``quantity`` units (positive) of ``lot``."""

    lot: Lot
    quantity: int


def _check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LedgerError(f"{what} must be a whole number, got {value!r}")
    return value


@dataclass(frozen=True)
class Movement:
    """One stock movement (库存变动) of one item at one depot.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    item : str
        Item code.
    quantity : int
        Units; positive, except ``adjustment`` which is signed and non-zero.
    lot : str, optional
        Batch code. Incoming stock goes into it; outgoing stock is taken from it. Without it,
        outgoing stock is taken first-expiry-first-out.
    expiry : datetime.date, optional
        Expiry of incoming stock.
    document : str, optional
        The document that caused the movement (入库单, 调拨单 …).
    reason : str, optional
        Required for ``adjustment``.
    lots : tuple of LotQuantity, optional
        An explicit split over lots summing to ``abs(quantity)``; used by reversing entries.
    reverses : int, optional
        Sequence number of the entry this movement reverses; required for ``cancel``.

    Raises
    ------
    LedgerError
        The movement is malformed.
    """

    kind: str
    item: str
    quantity: int
    lot: str | None = None
    expiry: dt.date | None = None
    document: str | None = None
    reason: str | None = None
    lots: tuple[LotQuantity, ...] = ()
    reverses: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "lots", tuple(self.lots))
        if self.kind not in KINDS:
            raise LedgerError(f"unknown movement kind {self.kind!r}")
        if not isinstance(self.item, str) or not self.item:
            raise LedgerError(f"item must be an item code, got {self.item!r}")
        quantity = _check_int(self.quantity, "quantity")
        if self.kind == "adjustment":
            if quantity == 0:
                raise LedgerError("an adjustment must not be zero")
            if not isinstance(self.reason, str) or not self.reason.strip():
                raise LedgerError("an adjustment (盘点调整) needs a reason")
        elif quantity <= 0:
            raise LedgerError(f"quantity of a {self.kind} must be positive, got {quantity}")
        if self.kind == "cancel" and self.reverses is None:
            raise LedgerError("a cancel must name the dispatch entry it reverses; use reverse(entry)")
        if self.reverses is not None and _check_int(self.reverses, "reverses") < 0:
            raise LedgerError("reverses must be an entry sequence number")
        if self.lot is not None and (not isinstance(self.lot, str) or not self.lot):
            raise LedgerError(f"lot must be a non-empty batch code, got {self.lot!r}")
        if self.expiry is not None:
            if not isinstance(self.expiry, dt.date) or isinstance(self.expiry, dt.datetime):
                raise LedgerError(f"expiry must be a date, got {self.expiry!r}")
            if self.delta < 0:
                raise LedgerError("expiry only applies to incoming stock; name the lot instead")
        if self.lots:
            self._check_lots()

    def _check_lots(self) -> None:
        if self.lot is not None or self.expiry is not None:
            raise LedgerError("give either lot/expiry or lots, not both")
        seen: set[Lot] = set()
        for part in self.lots:
            if not isinstance(part, LotQuantity) or not isinstance(part.lot, Lot):
                raise LedgerError(f"lots must hold LotQuantity values, got {part!r}")
            if _check_int(part.quantity, "lot quantity") <= 0:
                raise LedgerError("every lot quantity must be positive")
            if part.lot in seen:
                raise LedgerError(f"lot {part.lot} appears twice")
            seen.add(part.lot)
        if sum(part.quantity for part in self.lots) != abs(self.quantity):
            raise LedgerError("lot quantities must add up to the movement's quantity")

    @property
    def delta(self) -> int:
        """Signed change of the item's balance."""
        return -self.quantity if self.kind in DECREASING else self.quantity


@dataclass(frozen=True)
class LedgerEntry:
    """A posted movement (台账记录).

    Attributes
    ----------
    seq : int
        Position in the ledger, from 0.
    movement : Movement
    balance_after : int
        The item's balance after the movement (结存).
    lots : tuple of LotQuantity
        Which lots the movement touched and by how many units (direction as ``delta``).
    """

    seq: int
    movement: Movement
    balance_after: int
    lots: tuple[LotQuantity, ...]

    @property
    def item(self) -> str:
        return self.movement.item

    @property
    def delta(self) -> int:
        return self.movement.delta


class StockState:
    """The immutable state of one depot's ledger: its entries and the lots they add up to.

    Build one with ``StockState()`` (empty) or :func:`replay`; advance it with :func:`post`.
    """

    __slots__ = ("_lots", "_log", "_size", "_reversed")

    def __init__(self) -> None:
        self._lots: dict[str, dict[Lot, int]] = {}
        self._log: list[LedgerEntry] = []
        self._size = 0
        self._reversed: frozenset[int] = frozenset()

    @property
    def seq(self) -> int:
        """Number of entries; the sequence number the next entry gets."""
        return self._size

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        """Every entry, oldest first."""
        return tuple(self._log[: self._size])

    def entry(self, seq: int) -> LedgerEntry:
        """The entry numbered ``seq``; ``LedgerError`` when there is none."""
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < self._size:
            raise LedgerError(f"there is no ledger entry #{seq}")
        return self._log[seq]

    def is_reversed(self, seq: int) -> bool:
        """Whether entry ``seq`` has been reversed already."""
        return seq in self._reversed

    def balance(self, item: str) -> int:
        """On-hand balance (结存) of ``item``."""
        return sum(self._lots.get(item, {}).values())

    def balances(self) -> dict[str, int]:
        """``{item: balance}`` for every item that ever moved, sorted by item."""
        return {item: sum(lots.values()) for item, lots in sorted(self._lots.items())}

    def lots(self, item: str) -> dict[Lot, int]:
        """``{lot: quantity}`` of ``item``'s lots holding stock, in FEFO order."""
        return dict(sorted(self._lots.get(item, {}).items(), key=lambda pair: fefo_key(pair[0])))

    def _advance(self, item: str, item_lots: dict[Lot, int], entry: LedgerEntry) -> StockState:
        new = StockState()
        new._lots = {**self._lots, item: item_lots}
        if len(self._log) == self._size:
            # Nobody has appended past this state: share the list (entries below _size never change).
            self._log.append(entry)
            new._log = self._log
        else:
            new._log = self._log[: self._size] + [entry]
        new._size = self._size + 1
        reversed_seq = entry.movement.reverses
        new._reversed = self._reversed if reversed_seq is None else self._reversed | {reversed_seq}
        return new


def post(state: StockState, movement: Movement) -> tuple[StockState, LedgerEntry]:
    """Post ``movement`` to ``state``.

    Incoming stock goes to the movement's lot. Outgoing stock (dispatch, transfer_out,
    expiry_writeoff, negative adjustment) comes from the named lot, else the explicit ``lots``,
    else first-expiry-first-out (FEFO): earliest expiry first, lots without expiry last.

    Parameters
    ----------
    state : StockState
    movement : Movement

    Returns
    -------
    (StockState, LedgerEntry)
        The new state and the entry, with the balance after and the lots touched.

    Raises
    ------
    InsufficientStock
        The movement would drive the item's balance or a lot below zero.
    LedgerError
        A reversal that does not mirror its entry, a second reversal, a lot expiry conflict.
        In every case ``state`` is unchanged and no entry is made.
    """
    if not isinstance(movement, Movement):
        raise TypeError(f"post() takes a Movement, got {type(movement).__name__}")
    if movement.reverses is not None:
        _check_reversal(state, movement)
    current = state._lots.get(movement.item, {})
    if movement.delta > 0:
        parts = _incoming(current, movement)
    else:
        parts = _outgoing(current, movement)
    sign = 1 if movement.delta > 0 else -1
    updated = dict(current)
    for part in parts:
        remaining = updated.get(part.lot, 0) + sign * part.quantity
        if remaining:
            updated[part.lot] = remaining
        else:
            del updated[part.lot]
    entry = LedgerEntry(state.seq, movement, sum(updated.values()), tuple(parts))
    return state._advance(movement.item, updated, entry), entry


def _incoming(current: Mapping[Lot, int], movement: Movement) -> list[LotQuantity]:
    if movement.lots:
        parts = list(movement.lots)
    else:
        lot = Lot(movement.lot, movement.expiry)
        if movement.lot is not None and movement.expiry is None:
            lot = _named(current, movement.lot) or lot
        parts = [LotQuantity(lot, movement.quantity)]
    for part in parts:
        held = _named(current, part.lot.code) if part.lot.code is not None else None
        if held is not None and held != part.lot:
            raise LedgerError(f"lot {part.lot.code} of {movement.item} expires {held.expiry}, "
                              f"not {part.lot.expiry}")
    return parts


def _outgoing(current: Mapping[Lot, int], movement: Movement) -> list[LotQuantity]:
    wanted = abs(movement.quantity)
    if movement.lots:
        for part in movement.lots:
            if current.get(part.lot, 0) < part.quantity:
                raise InsufficientStock(movement.item, part.quantity, current.get(part.lot, 0), part.lot)
        return list(movement.lots)
    if movement.lot is not None:
        lot = _named(current, movement.lot) or Lot(movement.lot)
        if current.get(lot, 0) < wanted:
            raise InsufficientStock(movement.item, wanted, current.get(lot, 0), lot)
        return [LotQuantity(lot, wanted)]
    total = sum(current.values())
    if total < wanted:
        raise InsufficientStock(movement.item, wanted, total)
    parts = []
    for lot in sorted(current, key=fefo_key):
        take = min(current[lot], wanted)
        parts.append(LotQuantity(lot, take))
        wanted -= take
        if wanted == 0:
            break
    return parts


def _named(current: Mapping[Lot, int], code: str) -> Lot | None:
    for lot in current:
        if lot.code == code:
            return lot
    return None


def _lot_counts(parts: Iterable[LotQuantity]) -> dict[Lot, int]:
    return {part.lot: part.quantity for part in parts}


def _check_reversal(state: StockState, movement: Movement) -> None:
    target = state.entry(movement.reverses)
    if state.is_reversed(target.seq):
        raise LedgerError(f"entry #{target.seq} has already been reversed")
    mirror = reverse(target)
    if (movement.kind, movement.item, movement.quantity, _lot_counts(movement.lots)) != (
            mirror.kind, mirror.item, mirror.quantity, _lot_counts(mirror.lots)):
        raise LedgerError(f"a reversal of entry #{target.seq} must be {mirror.kind} of "
                          f"{mirror.quantity} {mirror.item} over the same lots; use reverse(entry)")


def reverse(entry: LedgerEntry, *, document: str | None = None, reason: str | None = None) -> Movement:
    """The movement that undoes ``entry`` (冲销), lot by lot.

    A dispatch is undone by a ``cancel`` that returns the very lots it took. Any other entry is
    undone by an ``adjustment`` of the opposite sign, with ``reason`` defaulting to
    ``"reversal of entry #<seq> (<kind>)"``. Post the result to record the correction.
    """
    original = entry.movement
    if original.kind == "dispatch":
        return Movement("cancel", original.item, original.quantity,
                        document=document if document is not None else original.document,
                        reason=reason, lots=entry.lots, reverses=entry.seq)
    return Movement("adjustment", original.item, -entry.delta,
                    document=document if document is not None else original.document,
                    reason=reason or f"reversal of entry #{entry.seq} ({original.kind})",
                    lots=entry.lots, reverses=entry.seq)


def replay(movements: Iterable[Movement], state: StockState | None = None) -> StockState:
    """Post ``movements`` in order to ``state`` (default empty) and return the final state.

    Raises whatever :func:`post` raises, at the first movement refused.
    """
    current = StockState() if state is None else state
    for movement in movements:
        current, _ = post(current, movement)
    return current


def balances(entries: Iterable[LedgerEntry | Movement]) -> dict[str, int]:
    """``{item: balance}`` derived purely from movements (entries or bare movements), sorted."""
    totals: dict[str, int] = {}
    for record in entries:
        movement = record.movement if isinstance(record, LedgerEntry) else record
        totals[movement.item] = totals.get(movement.item, 0) + movement.delta
    return dict(sorted(totals.items()))


def lot_balances(entries: Iterable[LedgerEntry]) -> dict[str, dict[Lot, int]]:
    """``{item: {lot: quantity}}`` derived from the entries' lot allocations (zero lots left out)."""
    result: dict[str, dict[Lot, int]] = {}
    for entry in entries:
        sign = 1 if entry.delta > 0 else -1
        lots = result.setdefault(entry.item, {})
        for part in entry.lots:
            lots[part.lot] = lots.get(part.lot, 0) + sign * part.quantity
    return {item: dict(sorted(((lot, qty) for lot, qty in lots.items() if qty),
                              key=lambda pair: fefo_key(pair[0])))
            for item, lots in sorted(result.items())}


def expiring(lots: Mapping[Lot, int], on_date: dt.date, *, within_days: int = 0) -> list[LotQuantity]:
    """Write-off candidates (过期核销): lots holding stock whose expiry is on or before
    ``on_date + within_days``, in FEFO order.
    """
    if isinstance(within_days, bool) or not isinstance(within_days, int) or within_days < 0:
        raise ValueError(f"within_days must be a whole number ≥ 0, got {within_days!r}")
    limit = on_date + dt.timedelta(days=within_days)
    due = [LotQuantity(lot, quantity) for lot, quantity in lots.items()
           if quantity > 0 and lot.expiry is not None and lot.expiry <= limit]
    return sorted(due, key=lambda part: fefo_key(part.lot))


def available(on_hand: int | Mapping[str, int], reserved: int | Mapping[str, int] = 0):
    """Units free to allocate (可用): ``on_hand − reserved``, never below zero.

    Given two mappings ``{item: units}`` it answers per item, for every item in either.
    """
    if isinstance(on_hand, Mapping) or isinstance(reserved, Mapping):
        if not (isinstance(on_hand, Mapping) and isinstance(reserved, Mapping)):
            raise TypeError("available() takes two numbers or two mappings")
        return {item: available(on_hand.get(item, 0), reserved.get(item, 0))
                for item in sorted({*on_hand, *reserved})}
    for name, value in (("on_hand", on_hand), ("reserved", reserved)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a whole number ≥ 0, got {value!r}")
    return max(on_hand - reserved, 0)


class Ledger:
    """A mutable handle on a :class:`StockState`, for one depot.

    >>> ledger = Ledger()
    >>> ledger.post(Movement("receipt", "tent", 10)).balance_after
    10
    """

    def __init__(self, movements: Iterable[Movement] = ()) -> None:
        self._state = replay(movements)

    @property
    def state(self) -> StockState:
        return self._state

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        return self._state.entries

    def post(self, movement: Movement) -> LedgerEntry:
        """Post ``movement``; on any error the ledger is unchanged."""
        self._state, entry = post(self._state, movement)
        return entry

    def reverse(self, seq: int, *, document: str | None = None, reason: str | None = None) -> LedgerEntry:
        """Post the reversal of entry ``seq``."""
        return self.post(reverse(self._state.entry(seq), document=document, reason=reason))

    def balance(self, item: str) -> int:
        return self._state.balance(item)

    def balances(self) -> dict[str, int]:
        return self._state.balances()

    def lots(self, item: str) -> dict[Lot, int]:
        return self._state.lots(item)

    def expiring(self, on_date: dt.date, *, within_days: int = 0) -> dict[str, list[LotQuantity]]:
        """``{item: lots}`` due for write-off, items without any left out."""
        due = {item: expiring(self._state.lots(item), on_date, within_days=within_days)
               for item in self._state.balances()}
        return {item: lots for item, lots in due.items() if lots}
