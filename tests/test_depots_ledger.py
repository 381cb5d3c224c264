"""The stock ledger through the service: a hypothesis property over random receipts, dispatch
approvals, shipments, cancels and adjustments, plus the ledger check and append-only rule."""
from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.depots import service
from app.depots.models import StockBalance, StockMovement
from app.errors import Conflict, Invalid
from app.extensions import db
from app.models_common import AppendOnlyError
from tests.test_depots_api import catalogue

ITEMS = ("tent", "water")
LOTS = (None, "L1", "L2")
EXPIRIES = (None, date(2000, 1, 1), date(2098, 1, 1), date(2099, 6, 1))
_depots = itertools.count(1)

receipt = st.tuples(st.just("receipt"), st.sampled_from(ITEMS), st.integers(1, 60), st.sampled_from(LOTS),
                    st.sampled_from(EXPIRIES))
dispatch = st.tuples(st.just("dispatch"), st.sampled_from(ITEMS), st.integers(1, 90))
ship = st.tuples(st.just("ship"), st.integers(0, 20))
cancel = st.tuples(st.just("cancel"), st.integers(0, 20))
adjust = st.tuples(st.just("adjust"), st.sampled_from(ITEMS), st.integers(-40, 40).filter(bool))
operations = st.lists(st.one_of(receipt, dispatch, ship, cancel, adjust), min_size=1, max_size=25)


def _usable(code: str, item: str) -> tuple[int, int]:
    line = next((s for s in service.stock_levels(None, code) if s["item"] == item), None)
    return (0, 0) if line is None else (line["on_hand"], line["on_hand"] - line["expired"])


def _check_invariants(code: str) -> None:
    assert service.check_ledger(code) == []
    rows = db.session.scalars(select(StockMovement).where(StockMovement.depot_code == code)
                              .order_by(StockMovement.id)).all()
    totals: dict[str, int] = defaultdict(int)
    lots: dict[tuple, int] = defaultdict(int)
    for row in rows:
        totals[row.item_code] += row.quantity
        lots[(row.item_code, row.lot, row.expiry)] += row.quantity
        assert row.balance_after == totals[row.item_code] >= 0
        assert row.lot_balance_after == lots[(row.item_code, row.lot, row.expiry)] >= 0
    for balance in db.session.scalars(select(StockBalance).where(StockBalance.depot_code == code)):
        assert balance.on_hand == lots[(balance.item_code, balance.lot, balance.expiry)] >= 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_every_balance_is_the_sum_of_its_movements_and_never_negative(app, ops):
    catalogue(app)
    with app.app_context():
        code = f"H{next(_depots)}"
        service.create_depot(None, {"code": code, "name": code, "tier": "county", "region_code": "140105",
                                    "lon": 112.5, "lat": 37.7})
        dispatches: list[int] = []
        for op in ops:
            kind = op[0]
            if kind == "receipt":
                _, item, quantity, lot, expiry = op
                before, _ = _usable(code, item)
                try:
                    service.receive_stock(None, code, item, quantity, None, lot, expiry)
                    assert _usable(code, item)[0] == before + quantity
                except Invalid:  # a named lot with another expiry: refused, nothing changed
                    db.session.rollback()
                    assert _usable(code, item)[0] == before
            elif kind == "dispatch":
                _, item, quantity = op
                made = service.create_dispatch(None, {"from_depot": code, "to_region_code": "140105",
                                                      "lines": [{"item": item, "quantity": quantity}]})
                dispatches.append(made.id)
                on_hand, usable = _usable(code, item)
                try:
                    service.approve_dispatch(None, made.id)
                    assert quantity <= usable
                    assert _usable(code, item) == (on_hand - quantity, usable - quantity)
                except Conflict:  # 409: short, and nothing taken
                    db.session.rollback()
                    assert quantity > usable
                    assert _usable(code, item) == (on_hand, usable)
            elif kind in ("ship", "cancel") and dispatches:
                dispatch_id = dispatches[op[1] % len(dispatches)]
                current = service.get_dispatch(dispatch_id)
                line = current.lines[0]
                on_hand, _ = _usable(code, line.item_code)
                status = current.status
                try:
                    if kind == "ship":
                        service.ship_dispatch(None, dispatch_id, {})
                    else:
                        service.cancel_dispatch(None, dispatch_id, {"reason": "测试撤销"})
                        returned = line.quantity if status in ("approved", "shipped") else 0
                        assert _usable(code, line.item_code)[0] == on_hand + returned
                except Conflict:  # not allowed in this state: nothing changed
                    db.session.rollback()
                    assert _usable(code, line.item_code)[0] == on_hand
            elif kind == "adjust":
                _, item, quantity = op
                before, _ = _usable(code, item)
                try:
                    service.post_adjustment(None, code, {"item": item, "quantity": quantity, "reason": "盘点"})
                    assert _usable(code, item)[0] == before + quantity
                except Conflict:
                    db.session.rollback()
                    assert before + quantity < 0
                    assert _usable(code, item)[0] == before
            _check_invariants(code)
        db.session.remove()


def test_check_ledger_finds_a_balance_that_disagrees(app):
    catalogue(app)
    with app.app_context():
        service.create_depot(None, {"code": "CHK", "name": "核对库", "tier": "county", "region_code": "140105",
                                    "lon": 112.5, "lat": 37.7})
        service.receive_stock(None, "CHK", "tent", 10)
        assert service.check_ledger() == []
        row = db.session.scalar(select(StockBalance).filter_by(depot_code="CHK"))
        row.on_hand = 11  # what a bypass of the service would do
        db.session.commit()
        found = service.check_ledger("CHK")
        assert [(m.item_code, m.balance, m.ledger_sum) for m in found] == [("tent", 11, 10)]


def test_cli_check_reports_agreement_and_mismatch(app, runner):
    catalogue(app)
    with app.app_context():
        service.create_depot(None, {"code": "CLI", "name": "命令行库", "tier": "county", "region_code": "140105",
                                    "lon": 112.5, "lat": 37.7})
        service.receive_stock(None, "CLI", "quilt", 4)
    ok = runner.invoke(args=["depots", "check"])
    assert ok.exit_code == 0 and "一致" in ok.output
    with app.app_context():
        db.session.scalar(select(StockBalance).filter_by(depot_code="CLI")).on_hand = 3
        db.session.commit()
    bad = runner.invoke(args=["depots", "check", "--depot", "CLI"])
    assert bad.exit_code != 0 and "结存 3，台账合计 4" in bad.output


def test_ledger_lines_cannot_be_edited_or_deleted(app):
    catalogue(app)
    with app.app_context():
        service.create_depot(None, {"code": "AO", "name": "只增库", "tier": "county", "region_code": "140105",
                                    "lon": 112.5, "lat": 37.7})
        service.receive_stock(None, "AO", "tent", 3)
        row = db.session.scalar(select(StockMovement).filter_by(depot_code="AO"))
        row.quantity = 300
        with pytest.raises(AppendOnlyError):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalar(select(StockMovement).filter_by(depot_code="AO")))
        with pytest.raises(AppendOnlyError):
            db.session.flush()
        db.session.rollback()


def test_cli_catalogue_is_idempotent(app, runner):
    first = runner.invoke(args=["depots", "catalogue"])
    assert first.exit_code == 0 and "新增 10 项" in first.output and "默认需求定额" in first.output
    again = runner.invoke(args=["depots", "catalogue"])
    assert again.exit_code == 0 and "新增 0 项" in again.output
