"""The pure rules of keeping the reserve whole (issue 15 point 4): replenishment obligations,
rotation proposals and the 建标121-2009 area bands, with hypothesis properties."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stockpile
from stockpile import StockLot, Want

TODAY = date(2024, 7, 1)
ITEMS = ("tent", "quilt", "water")


# --- obligations ---------------------------------------------------------------------------------

@pytest.mark.parametrize("depot, drawer, destination, owed", [
    ("140105", "140000", "140106", True),       # the province takes a county's stock elsewhere
    ("140105", "140100", "140106", True),       # so does the prefecture
    ("140105", "000000", "650100", True),       # and the nation, across provinces
    ("140105", "140105", "140106", False),      # the county using its own stock
    ("140105", "140000", "140105001", False),   # inside the depot's own area
    ("140105", "140200", "140106", False),      # not above the depot: not a draw on it
    ("140105", None, "140106", False),          # the system
    ("140000", "140100", "140106", False),      # a lower level never owes a higher one
])
def test_which_draws_create_an_obligation(depot, drawer, destination, owed):
    assert stockpile.creates_obligation(depot, drawer, destination) is owed


owed_maps = st.dictionaries(st.sampled_from(ITEMS), st.integers(1, 10_000), min_size=1)
moves = st.lists(st.tuples(st.sampled_from(ITEMS + ("blanket",)), st.integers(0, 12_000)), max_size=6)


@given(owed_maps, moves, moves)
def test_settlement_never_negative_and_settled_iff_everything_received(owed, received, in_transit):
    result = stockpile.settle(owed, received, in_transit)
    got = defaultdict(int)
    for item, quantity in received:
        got[item] += quantity
    for item, quantity in owed.items():
        assert 0 <= result.outstanding[item] <= quantity
        assert result.received[item] == got[item]
    assert set(result.outstanding) == set(owed)  # items never owed are ignored
    assert (result.status == "settled") == all(got[item] >= q for item, q in owed.items())
    if not any(got[item] for item in owed):
        assert result.status == "open"


def test_settlement_counts_what_is_on_its_way():
    result = stockpile.settle({"tent": 10, "quilt": 5}, [("tent", 4)], [("tent", 3), ("quilt", 5)])
    assert result.outstanding == {"tent": 3, "quilt": 0}
    assert result.status == "partial"


# --- rotation --------------------------------------------------------------------------------------

lots_strategy = st.lists(st.builds(
    StockLot, depot_code=st.sampled_from(("A", "B", "C")), item=st.sampled_from(ITEMS),
    quantity=st.integers(1, 500), expiry=st.one_of(st.none(), st.integers(-30, 400).map(
        lambda d: TODAY + timedelta(days=d))), lot=st.sampled_from((None, "L1", "L2"))), max_size=12)
wants_strategy = st.lists(st.builds(
    Want, key=st.sampled_from(("r1", "r2", "r3")), region_code=st.sampled_from(("140105", "140106", "140211")),
    item=st.sampled_from(ITEMS), quantity=st.integers(0, 600)), max_size=6)


@settings(max_examples=200)
@given(lots_strategy, wants_strategy, st.integers(0, 365))
def test_every_unit_due_is_proposed_once_and_no_want_is_oversent(lots, wants, horizon):
    proposals = stockpile.rotation_proposals(lots, wants, TODAY, horizon)
    due = defaultdict(int)
    for lot in lots:
        if lot.expiry is not None and (lot.expiry - TODAY).days <= horizon:
            due[(lot.depot_code, lot.item, lot.lot, lot.expiry)] += lot.quantity
    proposed = defaultdict(int)
    sent = defaultdict(int)
    for p in proposals:
        assert p.quantity > 0
        proposed[(p.depot_code, p.item, p.lot, p.expiry)] += p.quantity
        if p.action == "transfer":
            assert p.days_left >= 0  # an expired lot is never sent out
            sent[(p.want, p.item)] += p.quantity
        if p.action == "write_off":
            assert p.days_left < 0
    assert dict(proposed) == dict(due)
    asked = defaultdict(int)
    for want in wants:
        asked[(want.key, want.item)] += want.quantity
    for key, quantity in sent.items():
        assert quantity <= asked[key]


def test_earliest_expiry_goes_first_to_the_nearest_want_and_the_rest_rotates():
    lots = [StockLot("A", "quilt", 100, TODAY + timedelta(days=60), "late"),
            StockLot("A", "quilt", 100, TODAY + timedelta(days=10), "early"),
            StockLot("A", "quilt", 100, TODAY + timedelta(days=200), "fresh"),
            StockLot("A", "quilt", 5, TODAY - timedelta(days=1), "old")]
    wants = [Want("far", "650100", "quilt", 50), Want("near", "140106", "quilt", 120)]
    distance = {"650100": 900.0, "140106": 10.0}
    out = stockpile.rotation_proposals(lots, wants, TODAY, 90, lambda depot, region: distance[region])
    rows = [(p.lot, p.action, p.want, p.quantity) for p in out]
    assert rows == [("old", "write_off", None, 5), ("early", "transfer", "near", 100),
                    ("late", "transfer", "near", 20), ("late", "transfer", "far", 50), ("late", "rotate", None, 30)]


def test_an_unreachable_want_is_skipped_and_a_negative_horizon_is_an_error():
    lots = [StockLot("A", "tent", 10, TODAY + timedelta(days=5))]
    out = stockpile.rotation_proposals(lots, [Want("x", "650100", "tent", 10)], TODAY, 30, lambda d, r: None)
    assert [(p.action, p.quantity) for p in out] == [("rotate", 10)]
    with pytest.raises(ValueError):
        stockpile.rotation_proposals(lots, [], TODAY, -1)


# --- 建标121-2009 --------------------------------------------------------------------------------

@pytest.mark.parametrize("tier, area, verdict", [
    ("county", 700, "within"), ("county", 630, "within"), ("county", 629.9, "below"), ("county", 900, "above"),
    ("prefecture", 3000, "within"), ("prefecture", 2000, "below"), ("provincial", 8000, "within"),
    ("central", 15_000, "between"), ("central", 12_000, "within"), ("central", 30_000, "above"),
    ("township", 200, "no_standard"), ("county", None, "unknown"),
])
def test_area_against_the_band_of_the_tier(tier, area, verdict):
    assert stockpile.area_standard(tier, area).verdict == verdict


@given(st.sampled_from(("county", "prefecture", "provincial", "central")), st.floats(0, 40_000))
def test_more_area_never_serves_fewer_people(tier, area):
    small, large = stockpile.area_standard(tier, area), stockpile.area_standard(tier, area + 100)
    assert small.people is not None and large.people is not None
    within = small.band
    if within is not None:
        assert within.area_min <= area <= within.area_max
    if tier != "central":  # one band: one ratio
        assert large.people >= small.people
