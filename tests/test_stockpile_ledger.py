"""The stock ledger: FEFO, refusals that change nothing, reversing entries, derived balances."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockpile import (
    InsufficientStock,
    Ledger,
    LedgerError,
    Lot,
    LotQuantity,
    Movement,
    StockState,
    available,
    balances,
    expiring,
    fefo_key,
    lot_balances,
    post,
    replay,
    reverse,
)

JAN, FEB, MAR = dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1)


def _ledger_with_lots() -> Ledger:
    return Ledger([
        Movement("receipt", "water", 10, lot="A", expiry=MAR, document="RK-1"),
        Movement("receipt", "water", 5, lot="B", expiry=JAN, document="RK-2"),
        Movement("receipt", "water", 7, lot="C", document="RK-3"),
        Movement("receipt", "water", 4, expiry=FEB, document="RK-4"),
    ])


def test_dispatch_takes_earliest_expiry_first_and_no_expiry_last():
    ledger = _ledger_with_lots()
    first = ledger.post(Movement("dispatch", "water", 12, document="DB-1"))
    assert first.lots == (
        LotQuantity(Lot("B", JAN), 5),
        LotQuantity(Lot(None, FEB), 4),
        LotQuantity(Lot("A", MAR), 3),
    )
    assert first.balance_after == 14
    second = ledger.post(Movement("dispatch", "water", 10))
    assert second.lots == (LotQuantity(Lot("A", MAR), 7), LotQuantity(Lot("C", None), 3))
    assert ledger.lots("water") == {Lot("C", None): 4}
    assert ledger.balance("water") == 4


def test_transfer_out_and_expiry_writeoff_are_fefo_too():
    ledger = _ledger_with_lots()
    assert ledger.post(Movement("transfer_out", "water", 5)).lots == (LotQuantity(Lot("B", JAN), 5),)
    assert ledger.post(Movement("expiry_writeoff", "water", 2)).lots == (LotQuantity(Lot(None, FEB), 2),)
    assert ledger.post(Movement("adjustment", "water", -3, reason="盘亏")).lots == (
        LotQuantity(Lot(None, FEB), 2), LotQuantity(Lot("A", MAR), 1))
    assert ledger.balance("water") == 26 - 10


def test_insufficient_stock_names_item_request_and_availability_and_changes_nothing():
    ledger = _ledger_with_lots()
    before = ledger.state
    with pytest.raises(InsufficientStock) as caught:
        ledger.post(Movement("dispatch", "water", 27))
    assert (caught.value.item, caught.value.requested, caught.value.available, caught.value.lot) == (
        "water", 27, 26, None)
    assert ledger.state is before
    assert ledger.balance("water") == 26 and len(ledger.entries) == 4


def test_named_lot_short_is_refused_even_when_the_total_suffices():
    ledger = _ledger_with_lots()
    with pytest.raises(InsufficientStock) as caught:
        ledger.post(Movement("dispatch", "water", 6, lot="B"))
    assert caught.value.lot == Lot("B", JAN)
    assert (caught.value.requested, caught.value.available) == (6, 5)
    with pytest.raises(InsufficientStock) as unknown:
        ledger.post(Movement("dispatch", "water", 1, lot="Z"))
    assert unknown.value.available == 0
    assert ledger.post(Movement("dispatch", "water", 5, lot="B")).lots == (LotQuantity(Lot("B", JAN), 5),)
    assert Lot("B", JAN) not in ledger.lots("water")


def test_named_lot_keeps_its_expiry():
    ledger = _ledger_with_lots()
    with pytest.raises(LedgerError, match="expires"):
        ledger.post(Movement("receipt", "water", 1, lot="A", expiry=JAN))
    entry = ledger.post(Movement("return", "water", 2, lot="A"))
    assert entry.lots == (LotQuantity(Lot("A", MAR), 2),)
    assert ledger.lots("water")[Lot("A", MAR)] == 12


def test_cancel_reverses_a_dispatch_lot_by_lot():
    ledger = _ledger_with_lots()
    dispatch = ledger.post(Movement("dispatch", "water", 12, document="DB-1"))
    ledger.post(Movement("receipt", "water", 3, lot="D", expiry=JAN))
    cancel = reverse(dispatch)
    assert (cancel.kind, cancel.quantity, cancel.reverses, cancel.document) == ("cancel", 12, 1 + 3, "DB-1")
    entry = ledger.post(cancel)
    assert entry.lots == dispatch.lots
    assert ledger.lots("water") == {
        Lot("D", JAN): 3, Lot("B", JAN): 5, Lot(None, FEB): 4, Lot("A", MAR): 10, Lot("C", None): 7}
    with pytest.raises(LedgerError, match="already been reversed"):
        ledger.post(reverse(dispatch))


def test_a_reversal_must_mirror_its_entry():
    ledger = _ledger_with_lots()
    dispatch = ledger.post(Movement("dispatch", "water", 6))
    forged = Movement("cancel", "water", 7, reverses=dispatch.seq)
    with pytest.raises(LedgerError, match="use reverse"):
        ledger.post(forged)
    with pytest.raises(LedgerError, match="no ledger entry"):
        ledger.post(Movement("cancel", "water", 6, reverses=99))
    with pytest.raises(LedgerError, match="must name the dispatch"):
        Movement("cancel", "water", 6)
    assert ledger.balance("water") == 20


def test_reversing_a_receipt_is_a_negative_adjustment_and_needs_the_stock():
    ledger = Ledger([Movement("receipt", "tent", 10, lot="L1", document="RK-9")])
    correction = reverse(ledger.entries[0])
    assert (correction.kind, correction.quantity, correction.reason) == (
        "adjustment", -10, "reversal of entry #0 (receipt)")
    ledger.post(Movement("dispatch", "tent", 4))
    with pytest.raises(InsufficientStock):
        ledger.post(correction)
    ledger.post(reverse(ledger.entries[1]))
    entry = ledger.reverse(0)
    assert entry.balance_after == 0 and ledger.balances() == {"tent": 0}
    # Reversing a reversal restores the receipt.
    assert ledger.reverse(entry.seq).balance_after == 10


def test_movement_validation():
    with pytest.raises(LedgerError, match="needs a reason"):
        Movement("adjustment", "tent", -1)
    with pytest.raises(LedgerError, match="must not be zero"):
        Movement("adjustment", "tent", 0, reason="x")
    with pytest.raises(LedgerError, match="positive"):
        Movement("dispatch", "tent", -1)
    with pytest.raises(LedgerError, match="whole number"):
        Movement("receipt", "tent", 1.5)
    with pytest.raises(LedgerError, match="unknown movement kind"):
        Movement("gift", "tent", 1)
    with pytest.raises(LedgerError, match="incoming"):
        Movement("dispatch", "tent", 1, expiry=JAN)
    with pytest.raises(LedgerError, match="must be a date"):
        Movement("receipt", "tent", 1, expiry=dt.datetime(2025, 1, 1))
    with pytest.raises(LedgerError, match="add up"):
        Movement("receipt", "tent", 3, lots=[LotQuantity(Lot("A"), 2)])
    with pytest.raises(LedgerError, match="not both"):
        Movement("receipt", "tent", 2, lot="A", lots=[LotQuantity(Lot("A"), 2)])
    with pytest.raises(TypeError):
        post(StockState(), ("receipt", "tent", 1))


def test_state_is_immutable_and_can_branch():
    base, _ = post(StockState(), Movement("receipt", "quilt", 10))
    left, _ = post(base, Movement("dispatch", "quilt", 3))
    right, entry = post(base, Movement("dispatch", "quilt", 8))
    assert (base.balance("quilt"), left.balance("quilt"), right.balance("quilt")) == (10, 7, 2)
    assert entry.seq == 1 and [e.movement.quantity for e in right.entries] == [10, 8]
    assert [e.movement.quantity for e in left.entries] == [10, 3]
    assert base.seq == 1


def test_replay_and_derived_balances_agree():
    movements = [
        Movement("receipt", "tent", 20, lot="T1", expiry=MAR),
        Movement("receipt", "quilt", 50),
        Movement("transfer_in", "tent", 5, lot="T2", expiry=JAN),
        Movement("dispatch", "tent", 8),
        Movement("transfer_out", "quilt", 15),
        Movement("adjustment", "quilt", 2, reason="盘盈"),
    ]
    state = replay(movements)
    assert state.balances() == {"quilt": 37, "tent": 17}
    assert balances(state.entries) == balances(movements) == {"quilt": 37, "tent": 17}
    assert lot_balances(state.entries) == {"quilt": {Lot(): 37}, "tent": {Lot("T1", MAR): 17}}
    assert [e.balance_after for e in state.entries] == [20, 50, 25, 17, 35, 37]


def test_expiring_lists_write_off_candidates_in_fefo_order():
    lots = {Lot("A", MAR): 10, Lot("B", JAN): 5, Lot("C"): 7, Lot(None, FEB): 0}
    assert expiring(lots, JAN) == [LotQuantity(Lot("B", JAN), 5)]
    assert expiring(lots, dt.date(2025, 2, 15), within_days=14) == [
        LotQuantity(Lot("B", JAN), 5), LotQuantity(Lot("A", MAR), 10)]
    assert expiring(lots, dt.date(2024, 12, 31)) == []
    assert _ledger_with_lots().expiring(FEB) == {
        "water": [LotQuantity(Lot("B", JAN), 5), LotQuantity(Lot(None, FEB), 4)]}
    with pytest.raises(ValueError):
        expiring(lots, JAN, within_days=-1)


def test_available_never_negative():
    assert available(10, 3) == 7
    assert available(3, 10) == 0
    assert available({"tent": 10, "quilt": 4}, {"tent": 12, "water": 1}) == {"quilt": 4, "tent": 0, "water": 0}
    with pytest.raises(ValueError):
        available(-1, 0)
    with pytest.raises(TypeError):
        available({"tent": 1}, 0)


# --- properties ---------------------------------------------------------------------------------

ITEMS = ("tent", "water")
#: Named lots always carry the same expiry, so receipts never conflict.
NAMED = {"A": MAR, "B": JAN, "C": None}

receipt = st.tuples(st.just("receipt"), st.sampled_from(ITEMS), st.integers(1, 20),
                    st.sampled_from([*NAMED, None]), st.sampled_from([JAN, FEB, MAR, None]))
dispatch = st.tuples(st.just("dispatch"), st.sampled_from(ITEMS), st.integers(1, 30),
                     st.sampled_from(["A", "B", None, None, None]), st.none())
cancel = st.tuples(st.just("cancel"), st.none(), st.integers(0, 40), st.none(), st.none())
operations = st.lists(st.one_of(receipt, dispatch, cancel), max_size=40)


def _movement(op, ledger: Ledger):
    kind, item, number, lot, expiry = op
    if kind == "receipt":
        return Movement("receipt", item, number, lot=lot, expiry=NAMED[lot] if lot else expiry)
    if kind == "dispatch":
        return Movement("dispatch", item, number, lot=lot)
    dispatches = [entry for entry in ledger.entries if entry.movement.kind == "dispatch"]
    return reverse(dispatches[number % len(dispatches)]) if dispatches else None


def _check_fefo(before: dict[Lot, int], entry) -> None:
    taken = [part.lot for part in entry.lots]
    assert taken == sorted(taken, key=fefo_key)
    for part in entry.lots[:-1]:
        assert part.quantity == before[part.lot]          # every lot but the last is emptied
    last = fefo_key(taken[-1])
    skipped = [lot for lot, qty in before.items() if qty and fefo_key(lot) < last and lot not in taken]
    assert skipped == []                                  # no earlier-expiring lot is passed over


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_random_receipts_dispatches_and_cancels(ops):
    ledger = Ledger()
    expected: dict[str, int] = {}
    for op in ops:
        movement = _movement(op, ledger)
        if movement is None:
            continue
        state = ledger.state
        lots_before = state.lots(movement.item)
        try:
            entry = ledger.post(movement)
        except LedgerError as refusal:
            assert ledger.state is state and ledger.state.seq == state.seq
            assert ledger.state.lots(movement.item) == lots_before
            if isinstance(refusal, InsufficientStock):
                assert movement.kind == "dispatch"
                pool = lots_before.get(next((l for l in lots_before if l.code == movement.lot), None), 0) \
                    if movement.lot else sum(lots_before.values())
                assert refusal.requested == movement.quantity > pool == refusal.available
            else:
                assert movement.kind == "cancel" and state.is_reversed(movement.reverses)
            continue
        expected[movement.item] = expected.get(movement.item, 0) + movement.delta
        assert entry.balance_after == expected[movement.item]
        if movement.kind == "dispatch" and movement.lot is None:
            _check_fefo(lots_before, entry)
        if movement.kind == "cancel":
            original = ledger.state.entry(movement.reverses)
            assert entry.lots == original.lots and entry.delta == -original.delta
        for item in ITEMS:
            assert all(qty > 0 for qty in ledger.lots(item).values())
        assert ledger.balances() == balances(ledger.entries) == {k: v for k, v in sorted(expected.items())}
        assert all(value >= 0 for value in ledger.balances().values())
    assert lot_balances(ledger.entries) == {item: ledger.lots(item) for item in ledger.balances()}
    assert replay(e.movement for e in ledger.entries).balances() == ledger.balances()
