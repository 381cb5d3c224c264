"""Depots and stock, demand, allocation and dispatch: the API.md endpoints as written."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import time_machine

from app.extensions import db

API = "/api/v1"


# --- helpers (also used by the other test_depots_* modules) ----------------------------------

def catalogue(app) -> None:
    from app.depots import service

    with app.app_context():
        service.ensure_catalogue()
        db.session.commit()


def fast_user(app, role: str, region: str, username: str) -> str:
    """A user whose password hash is cheap to check (one PBKDF2 round), for tests that sign in
    many users; ``auth.token(role, region, username=...)`` then finds it."""
    from werkzeug.security import generate_password_hash

    from app.auth.models import User
    from tests.conftest import PASSWORD

    with app.app_context():
        if db.session.query(User).filter_by(username=username).one_or_none() is None:
            db.session.add(User(username=username, role=role, region_code=region, full_name=f"测试{role}",
                                password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")))
            db.session.commit()
    return username


def make_depot(app, code="XD-140105", region="140105", tier="county", managers=(), lon=112.56, lat=37.74,
               stock: dict | None = None) -> str:
    """A depot made by the system, with optional receipts ``{item: quantity}``."""
    from app.depots import service

    catalogue(app)
    with app.app_context():
        service.create_depot(None, {"code": code, "name": f"{code}库", "tier": tier, "region_code": region,
                                    "lon": lon, "lat": lat, "managers": list(managers)})
        for item, quantity in (stock or {}).items():
            service.receive_stock(None, code, item, quantity, "初始库存")
    return code


def stock_of(client, headers, code) -> dict:
    response = client.get(f"{API}/depots/{code}/stock", headers=headers)
    assert response.status_code == 200
    return {row["item"]: row for row in response.get_json()}


def make_event(app, regions=("140105",), reports=()) -> int:
    """An event with loss reports ``[(region_code, figures)]`` (each region's first is initial)."""
    from app.regions.models import Region
    from app.reports.models import Event, LossReport

    with app.app_context():
        event = Event(name="测试洪涝", hazard="flood", started_at=datetime(2024, 7, 1, tzinfo=timezone.utc),
                      status="active")
        event.regions = [db.session.get(Region, code) for code in regions]
        db.session.add(event)
        db.session.flush()
        sequence: dict[str, int] = {}
        for region_code, figures in reports:
            sequence[region_code] = sequence.get(region_code, 0) + 1
            db.session.add(LossReport(event_id=event.id, region_code=region_code,
                                      kind="initial" if sequence[region_code] == 1 else "update",
                                      sequence=sequence[region_code],
                                      as_of=datetime(2024, 7, 1, sequence[region_code], tzinfo=timezone.utc),
                                      figures=figures, submitted_by="test"))
        db.session.commit()
        return event.id


def new_dispatch(client, headers, depot="XD-140105", region="140105", lines=None, **extra) -> dict:
    body = {"from_depot": depot, "to_region_code": region,
            "lines": lines or [{"item": "tent", "quantity": 10}], **extra}
    response = client.post(f"{API}/dispatches", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- catalogue -------------------------------------------------------------------------------

def test_items_is_a_plain_array_with_the_demo_catalogue(app, client, auth):
    catalogue(app)
    response = client.get(f"{API}/items", headers=auth.token("officer", "140105"))
    assert response.status_code == 200
    items = {row["code"]: row for row in response.get_json()}
    assert {"tent", "quilt", "cotton_coat", "folding_bed", "blanket", "water", "instant_food"} <= set(items)
    assert items["tent"]["name"] == "帐篷" and items["tent"]["unit"] == "顶"
    assert items["water"]["shelf_life_days"] == 365


def test_items_needs_a_token(client):
    assert client.get(f"{API}/items").status_code == 401


# --- depots ----------------------------------------------------------------------------------

def test_create_get_and_list_depots(app, client, auth):
    manager = auth.user("depot_manager", "140100", username="keeper")
    headers = auth.token("coordinator", "140000")
    body = {"code": "TY-01", "name": "太原市救灾物资储备库", "tier": "prefecture", "region_code": "140100",
            "lon": 112.55, "lat": 37.87, "capacity_m2": 3000, "managers": [manager]}
    response = client.post(f"{API}/depots", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["code"] == "TY-01" and created["tier"] == "prefecture" and created["managers"] == ["keeper"]
    assert created["region_code"] == "140100" and created["lon"] == 112.55 and created["active"] is True
    make_depot(app, "DT-01", region="140200", tier="prefecture", lon=113.3, lat=40.08)

    got = client.get(f"{API}/depots/TY-01", headers=headers).get_json()
    assert got["name"] == "太原市救灾物资储备库" and got["capacity_m2"] == 3000
    listed = client.get(f"{API}/depots?region_code=140100", headers=headers).get_json()
    assert listed["total"] == 1 and [d["code"] for d in listed["items"]] == ["TY-01"]
    everything = client.get(f"{API}/depots", headers=headers).get_json()
    assert [d["code"] for d in everything["items"]] == ["DT-01", "TY-01"]
    assert client.get(f"{API}/depots/NOPE", headers=headers).status_code == 404


def test_create_depot_names_every_bad_field(app, client, auth):
    catalogue(app)
    officer = auth.user("officer", "140105", username="notkeeper")
    body = {"code": "bad code!", "name": "", "tier": "village", "region_code": "149999", "lon": 200,
            "lat": "north", "capacity_m2": -1, "managers": [officer, "ghost"]}
    response = client.post(f"{API}/depots", json=body, headers=auth.token("admin", "000000"))
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"code", "name", "tier", "region_code", "lon", "lat", "capacity_m2", "managers[0]",
                      "managers[1]"}
    with app.app_context():
        from app.depots.models import Depot

        assert db.session.query(Depot).count() == 0


def test_duplicate_depot_code_is_409(app, client, auth):
    make_depot(app, "DUP")
    body = {"code": "DUP", "name": "重复", "tier": "county", "region_code": "140105", "lon": 112.5, "lat": 37.7}
    response = client.post(f"{API}/depots", json=body, headers=auth.token("admin", "000000"))
    assert response.status_code == 409


def test_create_depot_is_idempotent(app, client, auth):
    catalogue(app)
    headers = {**auth.token("admin", "000000"), "Idempotency-Key": "depot-1"}
    body = {"code": "IDEM", "name": "幂等库", "tier": "county", "region_code": "140105", "lon": 112.5, "lat": 37.7}
    first = client.post(f"{API}/depots", json=body, headers=headers)
    again = client.post(f"{API}/depots", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    other = client.post(f"{API}/depots", json={**body, "name": "别的"}, headers=headers)
    assert other.status_code == 409


def test_manager_assignment(app, client, auth):
    make_depot(app, "M1")
    keeper = auth.user("depot_manager", "140105", username="keeper2")
    outsider = auth.user("depot_manager", "650000", username="xj-keeper")
    headers = auth.token("coordinator", "140000")
    response = client.post(f"{API}/depots/M1/managers", json={"username": keeper}, headers=headers)
    assert response.status_code == 200 and response.get_json()["managers"] == ["keeper2"]
    bad = client.post(f"{API}/depots/M1/managers", json={"username": outsider}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "username"
    removed = client.delete(f"{API}/depots/M1/managers/keeper2", headers=headers)
    assert removed.status_code == 200 and removed.get_json()["managers"] == []


# --- receipts, stock and ledger ----------------------------------------------------------------

def test_receipt_stock_and_ledger(app, client, auth):
    keeper = auth.user("depot_manager", "140105", username="k1")
    make_depot(app, managers=[keeper])
    headers = auth.token(username=keeper, role="depot_manager", region="140105")
    first = client.post(f"{API}/depots/XD-140105/receipts", json={"item": "tent", "quantity": 120, "note": "省厅下拨"},
                        headers=headers)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["balance_after"] == 120 and first.get_json()["quantity"] == 120
    second = client.post(f"{API}/depots/XD-140105/receipts",
                         json={"item": "tent", "quantity": 30, "note": "采购", "lot": "T-2024", "expiry": "2030-01-01"},
                         headers=headers)
    assert second.status_code == 201
    stock = stock_of(client, headers, "XD-140105")
    assert stock["tent"]["on_hand"] == 150 and stock["tent"]["reserved"] == 0 and stock["tent"]["available"] == 150
    assert set(stock["tent"]) >= {"item", "on_hand", "reserved", "available"}

    ledger = client.get(f"{API}/depots/XD-140105/ledger", headers=headers).get_json()
    assert ledger["total"] == 2
    rows = ledger["items"]
    assert [(r["kind"], r["quantity"], r["balance_after"]) for r in rows] == [("receipt", 120, 120), ("receipt", 30, 150)]
    assert rows[1]["lot"] == "T-2024" and rows[1]["expiry"] == "2030-01-01" and rows[1]["user"] == "k1"
    assert rows[0]["reason"] == "省厅下拨" and rows[0]["document_type"] == "receipt"


def test_receipt_names_every_bad_field_and_changes_nothing(app, client, auth):
    make_depot(app)
    headers = auth.token("admin", "000000")
    response = client.post(f"{API}/depots/XD-140105/receipts",
                           json={"item": "spaceship", "quantity": -3, "expiry": "soon", "note": 5}, headers=headers)
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {"item", "quantity", "expiry", "note"}
    assert stock_of(client, headers, "XD-140105") == {}
    assert client.post(f"{API}/depots/NOPE/receipts", json={"item": "tent", "quantity": 1},
                       headers=headers).status_code == 404


def test_receipt_into_a_named_lot_with_another_expiry_is_refused(app, client, auth):
    make_depot(app)
    headers = auth.token("admin", "000000")
    ok = client.post(f"{API}/depots/XD-140105/receipts",
                     json={"item": "water", "quantity": 10, "lot": "W1", "expiry": "2030-01-01"}, headers=headers)
    assert ok.status_code == 201
    bad = client.post(f"{API}/depots/XD-140105/receipts",
                      json={"item": "water", "quantity": 10, "lot": "W1", "expiry": "2031-01-01"}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "expiry"
    assert stock_of(client, headers, "XD-140105")["water"]["on_hand"] == 10


@time_machine.travel(datetime(2024, 7, 1, 4, tzinfo=timezone.utc), tick=False)
def test_receipt_without_expiry_uses_the_items_shelf_life(app, client, auth):
    make_depot(app)
    headers = auth.token("admin", "000000")
    client.post(f"{API}/depots/XD-140105/receipts", json={"item": "instant_food", "quantity": 5}, headers=headers)
    client.post(f"{API}/depots/XD-140105/receipts", json={"item": "tent", "quantity": 5}, headers=headers)
    stock = stock_of(client, headers, "XD-140105")
    assert stock["instant_food"]["lots"][0]["expiry"] == "2024-12-28"  # 180 days after 2024-07-01
    assert stock["tent"]["lots"][0]["expiry"] is None


def test_adjustment_needs_a_reason_and_cannot_overdraw(app, client, auth):
    make_depot(app, stock={"quilt": 50})
    headers = auth.token("admin", "000000")
    missing = client.post(f"{API}/depots/XD-140105/adjustments", json={"item": "quilt", "quantity": 0},
                          headers=headers)
    assert missing.status_code == 422
    assert {e["field"] for e in missing.get_json()["errors"]} == {"quantity", "reason"}
    over = client.post(f"{API}/depots/XD-140105/adjustments", json={"item": "quilt", "quantity": -51, "reason": "盘亏"},
                       headers=headers)
    assert over.status_code == 409
    loss = client.post(f"{API}/depots/XD-140105/adjustments", json={"item": "quilt", "quantity": -5, "reason": "鼠咬"},
                       headers=headers)
    assert loss.status_code == 201 and loss.get_json()["balance_after"] == 45
    gain = client.post(f"{API}/depots/XD-140105/adjustments", json={"item": "quilt", "quantity": 2, "reason": "盘盈"},
                       headers=headers)
    assert gain.status_code == 201 and gain.get_json()["balance_after"] == 47
    kinds = [(r["kind"], r["quantity"], r["reason"]) for r in
             client.get(f"{API}/depots/XD-140105/ledger", headers=headers).get_json()["items"]]
    assert kinds[1:] == [("adjustment", -5, "鼠咬"), ("adjustment", 2, "盘盈")]


def test_expiry_writeoff_takes_only_expired_lots(app, client, auth):
    make_depot(app)
    headers = auth.token("admin", "000000")
    with time_machine.travel(datetime(2024, 1, 1, 4, tzinfo=timezone.utc), tick=False):
        for lot, expiry, quantity in (("OLD", "2024-03-01", 40), ("NEW", "2025-03-01", 60)):
            client.post(f"{API}/depots/XD-140105/receipts",
                        json={"item": "water", "quantity": quantity, "lot": lot, "expiry": expiry}, headers=headers)
        nothing = client.post(f"{API}/depots/XD-140105/expiry-writeoff", json={}, headers=headers)
        assert nothing.status_code == 200 and nothing.get_json()["movements"] == []
    with time_machine.travel(datetime(2024, 3, 2, 4, tzinfo=timezone.utc), tick=False):
        before = stock_of(client, headers, "XD-140105")["water"]
        assert before["on_hand"] == 100 and before["expired"] == 40 and before["available"] == 60
        done = client.post(f"{API}/depots/XD-140105/expiry-writeoff", json={}, headers=headers)
        assert done.status_code == 201
        rows = done.get_json()["movements"]
        assert [(r["kind"], r["lot"], r["quantity"], r["balance_after"]) for r in rows] == [
            ("expiry_writeoff", "OLD", -40, 60)]
        after = stock_of(client, headers, "XD-140105")["water"]
        assert after["on_hand"] == 60 and after["expired"] == 0


# --- dispatch lifecycle -------------------------------------------------------------------------

def test_dispatch_lifecycle_takes_stock_fefo_and_records_discrepancies(app, client, auth):
    keeper = auth.user("depot_manager", "140000", username="prov-keeper")
    make_depot(app, "PROV", region="140000", tier="provincial", managers=[keeper], lon=112.55, lat=37.87)
    admin = auth.token("admin", "000000")
    with time_machine.travel(datetime(2024, 7, 1, 4, tzinfo=timezone.utc), tick=False):
        for lot, expiry, quantity in (("LATE", "2025-06-01", 100), ("SOON", "2024-09-01", 30), ("GONE", "2024-06-01", 50)):
            client.post(f"{API}/depots/PROV/receipts",
                        json={"item": "water", "quantity": quantity, "lot": lot, "expiry": expiry}, headers=admin)
        client.post(f"{API}/depots/PROV/receipts", json={"item": "tent", "quantity": 20}, headers=admin)

        officer = auth.token("officer", "140105")
        created = new_dispatch(client, officer, "PROV", "140105",
                               [{"item": "water", "quantity": 50}, {"item": "tent", "quantity": 5}])
        assert created["status"] == "requested" and created["from_depot"] == "PROV"
        assert stock_of(client, admin, "PROV")["water"]["on_hand"] == 180  # a request takes nothing

        manager = auth.token(username=keeper, role="depot_manager", region="140000")
        approved = client.post(f"{API}/dispatches/{created['id']}/approve", headers=manager)
        assert approved.status_code == 200, approved.get_json()
        body = approved.get_json()
        assert body["status"] == "approved" and body["approved_by"] == "prov-keeper"
        # first expiry first out, never the expired lot
        assert [(m["item"], m["lot"], m["quantity"]) for m in body["movements"]] == [
            ("water", "SOON", -30), ("water", "LATE", -20), ("tent", None, -5)]
        water = stock_of(client, admin, "PROV")["water"]
        assert water["on_hand"] == 130 and water["expired"] == 50 and water["available"] == 80

        shipped = client.post(f"{API}/dispatches/{created['id']}/ship", json={"note": "晋A12345"}, headers=manager)
        assert shipped.status_code == 200 and shipped.get_json()["status"] == "shipped"
        received = client.post(f"{API}/dispatches/{created['id']}/receive",
                               json={"lines": [{"item": "water", "quantity": 48, "note": "两箱破损"}]}, headers=officer)
        assert received.status_code == 200, received.get_json()
        lines = {l["item"]: l for l in received.get_json()["lines"]}
        assert received.get_json()["status"] == "received"
        assert lines["water"]["received_quantity"] == 48 and lines["water"]["discrepancy"] == -2
        assert lines["water"]["discrepancy_note"] == "两箱破损"
        assert lines["tent"]["received_quantity"] == 5 and lines["tent"]["discrepancy"] == 0
        late = client.post(f"{API}/dispatches/{created['id']}/cancel", json={}, headers=manager)
        assert late.status_code == 409  # received: too late to cancel
        got = client.get(f"{API}/dispatches/{created['id']}", headers=officer).get_json()
        assert got["status"] == "received" and got["received_by"].startswith("officer")


def test_approve_409_names_each_short_line_and_takes_nothing(app, client, auth):
    make_depot(app, stock={"tent": 10, "quilt": 100, "water": 5})
    # stock elsewhere, so that the request itself is not beyond what all depots hold
    make_depot(app, "ELSEWHERE", region="140200", stock={"tent": 100, "water": 100})
    headers = auth.token("coordinator", "140000")
    created = new_dispatch(client, headers, lines=[{"item": "tent", "quantity": 11}, {"item": "quilt", "quantity": 50},
                                                   {"item": "water", "quantity": 6}])
    before = client.get(f"{API}/depots/XD-140105/ledger", headers=headers).get_json()["total"]
    response = client.post(f"{API}/dispatches/{created['id']}/approve", headers=headers)
    assert response.status_code == 409
    body = response.get_json()
    assert response.content_type == "application/problem+json"
    assert [e["field"] for e in body["errors"]] == ["lines[0].quantity", "lines[2].quantity"]
    # the message names the item by its name; its code stays in the machine field's path
    assert "帐篷" in body["errors"][0]["message"] and "可用 10" in body["errors"][0]["message"]
    stock = stock_of(client, headers, "XD-140105")
    assert (stock["tent"]["on_hand"], stock["quilt"]["on_hand"], stock["water"]["on_hand"]) == (10, 100, 5)
    assert client.get(f"{API}/depots/XD-140105/ledger", headers=headers).get_json()["total"] == before
    assert client.get(f"{API}/dispatches/{created['id']}", headers=headers).get_json()["status"] == "requested"


def test_reserve_floor_holds_stock_for_the_depots_own_area(app, client, auth):
    make_depot(app, "CTY", region="140105", stock={"tent": 100})
    coordinator = auth.token("coordinator", "140000")
    assert client.put(f"{API}/depots/CTY/reserves/tent", json={"floor": 40}, headers=coordinator).status_code == 200
    stock = stock_of(client, coordinator, "CTY")["tent"]
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (100, 40, 60)
    outside = new_dispatch(client, coordinator, "CTY", "140106", [{"item": "tent", "quantity": 70}])
    refused = client.post(f"{API}/dispatches/{outside['id']}/approve", headers=coordinator)
    assert refused.status_code == 409 and "可用 60" in refused.get_json()["errors"][0]["message"]
    inside = new_dispatch(client, coordinator, "CTY", "140105001", [{"item": "tent", "quantity": 70}])
    assert client.post(f"{API}/dispatches/{inside['id']}/approve", headers=coordinator).status_code == 200
    client.put(f"{API}/depots/CTY/reserves/tent", json={"floor": 40, "released": True}, headers=coordinator)
    assert stock_of(client, coordinator, "CTY")["tent"]["available"] == 30


def test_cancel_returns_the_stock_to_its_lots_by_reversing_entries(app, client, auth):
    make_depot(app)
    headers = auth.token("admin", "000000")
    for lot, quantity in (("A", 10), ("B", 10)):
        client.post(f"{API}/depots/XD-140105/receipts",
                    json={"item": "quilt", "quantity": quantity, "lot": lot, "expiry": f"203{1 if lot == 'A' else 2}-01-01"},
                    headers=headers)
    created = new_dispatch(client, headers, lines=[{"item": "quilt", "quantity": 15}])
    client.post(f"{API}/dispatches/{created['id']}/approve", headers=headers)
    client.post(f"{API}/dispatches/{created['id']}/ship", headers=headers)
    assert stock_of(client, headers, "XD-140105")["quilt"]["on_hand"] == 5
    cancelled = client.post(f"{API}/dispatches/{created['id']}/cancel", json={"reason": "道路中断"}, headers=headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["cancel_reason"] == "道路中断"
    stock = stock_of(client, headers, "XD-140105")["quilt"]
    assert stock["on_hand"] == 20
    assert {(l["lot"], l["on_hand"]) for l in stock["lots"]} == {("A", 10), ("B", 10)}
    rows = client.get(f"{API}/depots/XD-140105/ledger", headers=headers).get_json()["items"]
    dispatch_rows = [r for r in rows if r["kind"] == "dispatch"]
    cancels = [r for r in rows if r["kind"] == "cancel"]
    assert [(r["lot"], r["quantity"]) for r in cancels] == [("A", 10), ("B", 5)]
    assert [r["reverses_id"] for r in cancels] == [r["id"] for r in dispatch_rows]
    assert [r["balance_after"] for r in rows] == [10, 20, 10, 5, 15, 20]
    again = client.post(f"{API}/dispatches/{created['id']}/cancel", json={}, headers=headers)
    assert again.status_code == 409


def test_cancel_of_a_request_takes_no_ledger_entry(app, client, auth):
    make_depot(app, stock={"tent": 5})
    headers = auth.token("admin", "000000")
    created = new_dispatch(client, headers, lines=[{"item": "tent", "quantity": 5}])
    assert client.post(f"{API}/dispatches/{created['id']}/cancel", headers=headers).status_code == 200
    assert client.get(f"{API}/depots/XD-140105/ledger", headers=headers).get_json()["total"] == 1
    assert client.post(f"{API}/dispatches/{created['id']}/approve", headers=headers).status_code == 409


def test_state_machine_refuses_skipping_steps(app, client, auth):
    make_depot(app, stock={"tent": 50})
    headers = auth.token("admin", "000000")
    created = new_dispatch(client, headers)
    assert client.post(f"{API}/dispatches/{created['id']}/ship", headers=headers).status_code == 409
    assert client.post(f"{API}/dispatches/{created['id']}/receive", json={}, headers=headers).status_code == 409
    assert client.post(f"{API}/dispatches/{created['id']}/approve", headers=headers).status_code == 200
    assert client.post(f"{API}/dispatches/{created['id']}/approve", headers=headers).status_code == 409
    assert stock_of(client, headers, "XD-140105")["tent"]["on_hand"] == 40
    assert client.post(f"{API}/dispatches/999/approve", headers=headers).status_code == 404


def test_create_dispatch_names_every_bad_field(app, client, auth):
    make_depot(app)
    body = {"event_id": 999, "from_depot": "NOPE", "to_region_code": "14x",
            "lines": [{"item": "tent", "quantity": 0}, {"item": "ghost", "quantity": 1}, "x"]}
    response = client.post(f"{API}/dispatches", json=body, headers=auth.token("admin", "000000"))
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {
        "event_id", "from_depot", "to_region_code", "lines[0].quantity", "lines[1].item", "lines[2]"}
    empty = client.post(f"{API}/dispatches", json={"from_depot": "XD-140105", "to_region_code": "140105", "lines": []},
                        headers=auth.token("admin", "000000"))
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["field"] == "lines"


def test_receive_validates_lines(app, client, auth):
    make_depot(app, stock={"tent": 50})
    headers = auth.token("admin", "000000")
    created = new_dispatch(client, headers)
    for action in ("approve", "ship"):
        client.post(f"{API}/dispatches/{created['id']}/{action}", headers=headers)
    bad = client.post(f"{API}/dispatches/{created['id']}/receive",
                      json={"lines": [{"item": "quilt", "quantity": 1}, {"item": "tent", "quantity": -1}]},
                      headers=headers)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"lines[0].item", "lines[1].quantity"}
    assert client.get(f"{API}/dispatches/{created['id']}", headers=headers).get_json()["status"] == "shipped"


def test_transfer_into_a_destination_depot(app, client, auth):
    make_depot(app, "FROM", region="140100", tier="prefecture", lon=112.55, lat=37.87)
    make_depot(app, "INTO", region="140105")
    headers = auth.token("admin", "000000")
    client.post(f"{API}/depots/FROM/receipts",
                json={"item": "water", "quantity": 30, "lot": "W9", "expiry": "2030-05-01"}, headers=headers)
    created = new_dispatch(client, headers, "FROM", "140105", [{"item": "water", "quantity": 20}], to_depot="INTO")
    for action in ("approve", "ship"):
        client.post(f"{API}/dispatches/{created['id']}/{action}", headers=headers)
    client.post(f"{API}/dispatches/{created['id']}/receive", json={"lines": [{"item": "water", "quantity": 19}]},
                headers=headers)
    into = stock_of(client, headers, "INTO")["water"]
    assert into["on_hand"] == 19 and into["lots"] == [{"lot": "W9", "expiry": "2030-05-01", "on_hand": 19,
                                                       "expired": False}]
    rows = client.get(f"{API}/depots/INTO/ledger", headers=headers).get_json()["items"]
    assert [(r["kind"], r["quantity"], r["document_type"], r["document_id"]) for r in rows] == [
        ("transfer_in", 19, "dispatch", str(created["id"]))]


# --- demand and allocation -------------------------------------------------------------------

FIGURES = {"affected_population": 5000, "relocated_population": 900, "needing_aid_population": 1000}


def test_demand_from_latest_figures_times_norms_less_dispatched(app, client, auth):
    make_depot(app, "PROV", region="140000", tier="provincial", lon=112.55, lat=37.87,
               stock={"tent": 1000, "quilt": 5000})
    event_id = make_event(app, ("140105", "140106"), [
        ("140105", {"affected_population": 100, "relocated_population": 30}),
        ("140105", FIGURES),
        ("140105001", {"affected_population": 50, "relocated_population": 10}),
        ("140106", {"affected_population": 80, "relocated_population": 7}),
    ])
    headers = auth.token("coordinator", "140000")
    demand = client.get(f"{API}/events/{event_id}/demand", headers=headers)
    assert demand.status_code == 200
    lines = {(l["region_code"], l["item"]): l["quantity"] for l in demand.get_json()}
    # default norms: tent 1 per 3 relocated, quilt 1 per relocated, water 3 L × 3 days and food 0.5 kg ×
    # 3 days per person needing aid
    assert lines == {("140105", "tent"): 300, ("140105", "quilt"): 900, ("140105", "water"): 9000,
                     ("140105", "instant_food"): 1500, ("140106", "tent"): 3, ("140106", "quilt"): 7}
    sent = new_dispatch(client, headers, "PROV", "140105001", [{"item": "tent", "quantity": 120}], event_id=event_id)
    client.post(f"{API}/dispatches/{sent['id']}/approve", headers=headers)
    unsent = new_dispatch(client, headers, "PROV", "140105", [{"item": "quilt", "quantity": 100}], event_id=event_id)
    assert unsent["status"] == "requested"
    after = {(l["region_code"], l["item"]): l for l in
             client.get(f"{API}/events/{event_id}/demand", headers=headers).get_json()}
    assert after[("140105", "tent")]["quantity"] == 180 and after[("140105", "tent")]["dispatched"] == 120
    assert after[("140105", "quilt")]["quantity"] == 900  # a request not yet approved sends nothing
    assert client.get(f"{API}/events/999/demand", headers=headers).status_code == 404


def test_demand_uses_the_jurisdictions_configured_norms(app, client, auth):
    catalogue(app)
    event_id = make_event(app, ("140105", "140212"), [("140105", FIGURES), ("140212", FIGURES)])
    coordinator = auth.token("coordinator", "140000")
    norms = {"norms": [{"item": "quilt", "indicator": "relocated_population", "per_person": 2},
                       {"item": "tent", "indicator": "relocated_population", "per_household": 1, "household_size": 4}]}
    response = client.put(f"{API}/demand-norms/140100", json=norms, headers=coordinator)
    assert response.status_code == 200 and response.get_json()["source"] == "140100"
    lines = {(l["region_code"], l["item"]): l["quantity"] for l in
             client.get(f"{API}/events/{event_id}/demand", headers=coordinator).get_json()}
    assert lines[("140105", "quilt")] == 1800 and lines[("140105", "tent")] == 225
    assert ("140105", "water") not in lines  # Taiyuan's norms replace the defaults
    assert lines[("140212", "quilt")] == 900 and lines[("140212", "water")] == 9000  # Datong: defaults
    effective = client.get(f"{API}/demand-norms?region_code=140105", headers=coordinator).get_json()
    assert effective["source"] == "140100" and len(effective["norms"]) == 2
    bad = client.put(f"{API}/demand-norms/140100", json={"norms": [{"item": "ghost", "indicator": "x"}]},
                     headers=coordinator)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"norms[0].item", "norms[0].indicator",
                                                             "norms[0].per_person"}
    assert client.put(f"{API}/demand-norms/140100", json=norms,
                      headers=auth.token("depot_manager", "140000")).status_code == 403


def test_allocation_plan_prefers_local_stock_and_moves_nothing(app, client, auth):
    make_depot(app, "CTY", region="140105", tier="county", lon=112.56, lat=37.74, stock={"tent": 100, "quilt": 100})
    make_depot(app, "PROV", region="140000", tier="provincial", lon=112.55, lat=37.87,
               stock={"tent": 1000, "quilt": 2000})
    make_depot(app, "DT", region="140200", tier="prefecture", lon=113.30, lat=40.08, stock={"tent": 1000})
    event_id = make_event(app, ("140105",), [("140105", FIGURES)])
    headers = auth.token("coordinator", "140000")
    response = client.post(f"{API}/events/{event_id}/allocation-plan", json={"items": ["tent", "quilt"]},
                           headers=headers)
    assert response.status_code == 200, response.get_json()
    plan = response.get_json()
    lines = {(l["depot_code"], l["item"]): l for l in plan["lines"]}
    # local county stock first, then the province; Datong's prefecture depot is not needed
    assert lines[("CTY", "tent")]["quantity"] == 100 and lines[("PROV", "tent")]["quantity"] == 200
    assert lines[("CTY", "quilt")]["quantity"] == 100 and lines[("PROV", "quilt")]["quantity"] == 800
    assert ("DT", "tent") not in lines and plan["unmet"] == []
    assert lines[("PROV", "tent")]["distance_km"] == pytest.approx(14.5, abs=0.5)
    assert plan["total_distance_quantity"] == pytest.approx(
        sum(l["quantity"] * l["distance_km"] for l in plan["lines"]))
    assert stock_of(client, headers, "PROV")["tent"]["on_hand"] == 1000  # a plan moves no stock

    near = client.post(f"{API}/events/{event_id}/allocation-plan", json={"items": ["tent"], "max_distance_km": 5},
                       headers=headers).get_json()
    assert [(l["depot_code"], l["quantity"]) for l in near["lines"]] == [("CTY", 100)]
    assert [{k: u[k] for k in ("region_code", "item", "quantity")} for u in near["unmet"]] == \
        [{"region_code": "140105", "item": "tent", "quantity": 200}]
    assert near["unmet"][0]["region_name"] == "小店区" and near["unmet"][0]["item_name"] == "帐篷"
    bad = client.post(f"{API}/events/{event_id}/allocation-plan", json={"items": ["ghost"], "max_distance_km": -1},
                      headers=headers)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"items[0]", "max_distance_km"}


# --- supply requests (申请) -----------------------------------------------------------------

def test_supply_request_raised_to_the_level_above_and_filled_by_its_coordinator(app, client, auth):
    keeper = auth.user("depot_manager", "140105", username="county-keeper")
    make_depot(app, "CTY", region="140105", managers=[keeper], stock={"tent": 5})
    make_depot(app, "TYC", region="140100", tier="prefecture", lon=112.55, lat=37.87, stock={"tent": 500})
    make_depot(app, "DTC", region="140200", tier="prefecture", lon=113.3, lat=40.08, stock={"tent": 500})
    city = auth.user("coordinator", "140100", username="taiyuan-coord")
    county_keeper = auth.token(username=keeper, role="depot_manager", region="140105")
    raised = client.post(f"{API}/supply-requests", json={
        "from_region_code": "140105", "to_depot": "CTY", "reason": "本县帐篷仅余 5 顶，安置点急需",
        "lines": [{"item": "tent", "quantity": 200}]}, headers=county_keeper)
    assert raised.status_code == 201, raised.get_json()
    request_ = raised.get_json()
    assert request_["to_region_code"] == "140100" and request_["status"] == "open"
    with app.app_context():
        from app.auth.models import User
        from app.notifications import Notification

        coordinator_id = db.session.query(User).filter_by(username=city).one().id
        assert db.session.query(Notification).filter_by(user_id=coordinator_id).count() == 1

    coordinator = auth.token(username=city, role="coordinator", region="140100")
    wrong_depot = client.post(f"{API}/supply-requests/{request_['id']}/fill",
                              json={"lines": [{"from_depot": "DTC", "item": "tent", "quantity": 50}]}, headers=coordinator)
    assert wrong_depot.status_code == 422 and wrong_depot.get_json()["errors"][0]["field"] == "lines[0].from_depot"
    too_much = client.post(f"{API}/supply-requests/{request_['id']}/fill",
                           json={"lines": [{"from_depot": "TYC", "item": "tent", "quantity": 201}]}, headers=coordinator)
    assert too_much.status_code == 422
    partial = client.post(f"{API}/supply-requests/{request_['id']}/fill",
                          json={"lines": [{"from_depot": "TYC", "item": "tent", "quantity": 150}]}, headers=coordinator)
    assert partial.status_code == 201, partial.get_json()
    assert partial.get_json()["status"] == "in_progress" and partial.get_json()["lines"][0]["outstanding"] == 50
    dispatch_id = partial.get_json()["dispatch_ids"][0]
    dispatch = client.get(f"{API}/dispatches/{dispatch_id}", headers=coordinator).get_json()
    assert (dispatch["from_depot"], dispatch["to_region_code"], dispatch["to_depot"], dispatch["status"]) == (
        "TYC", "140105", "CTY", "requested")
    full = client.post(f"{API}/supply-requests/{request_['id']}/fill",
                       json={"lines": [{"from_depot": "TYC", "item": "tent", "quantity": 50}]}, headers=coordinator)
    assert full.get_json()["status"] == "filled"
    assert client.post(f"{API}/supply-requests/{request_['id']}/fill",
                       json={"lines": [{"from_depot": "TYC", "item": "tent", "quantity": 1}]},
                       headers=coordinator).status_code == 409
    # the county may not fill its own request; cancelling a dispatch reopens a filled request
    assert client.post(f"{API}/supply-requests/{request_['id']}/reject", json={"reason": "x"},
                       headers=county_keeper).status_code == 403
    client.post(f"{API}/dispatches/{dispatch_id}/cancel", json={"reason": "改由省库调拨"}, headers=coordinator)
    reopened = client.get(f"{API}/supply-requests/{request_['id']}", headers=coordinator).get_json()
    assert reopened["status"] == "in_progress" and reopened["lines"][0]["outstanding"] == 150


def test_supply_request_validation_and_reject(app, client, auth):
    make_depot(app, "CTY", region="140105", stock={"quilt": 50})
    coordinator = auth.token("coordinator", "140105")
    bad = client.post(f"{API}/supply-requests", json={"from_region_code": "140105", "to_region_code": "140106",
                                                      "event_id": 999,
                                                      "lines": [{"item": "tent", "quantity": 0}]}, headers=coordinator)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"to_region_code", "event_id", "lines[0].quantity",
                                                             "reason"}
    raised = client.post(f"{API}/supply-requests", json={"from_region_code": "140105", "reason": "急需",
                                                         "lines": [{"item": "quilt", "quantity": 10}]},
                         headers=coordinator).get_json()
    city = auth.token("coordinator", "140100")
    no_reason = client.post(f"{API}/supply-requests/{raised['id']}/reject", json={}, headers=city)
    assert no_reason.status_code == 422
    rejected = client.post(f"{API}/supply-requests/{raised['id']}/reject", json={"reason": "市库同样短缺，请向省里申请"},
                           headers=city)
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    assert client.get(f"{API}/supply-requests/999", headers=city).status_code == 404


def test_openapi_documents_the_depot_api(client):
    paths = client.get(f"{API}/openapi.json").get_json()["paths"]
    for path in ("/items", "/depots", "/depots/{code}", "/depots/{code}/receipts", "/depots/{code}/stock",
                 "/depots/{code}/ledger", "/events/{event_id}/demand", "/events/{event_id}/allocation-plan",
                 "/dispatches", "/dispatches/{dispatch_id}/approve", "/dispatches/{dispatch_id}/receive",
                 "/dispatches/{dispatch_id}/cancel", "/supply-requests"):
        assert path in paths, path
    receipt = paths["/depots/{code}/receipts"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(receipt["required"]) == {"item", "quantity"}


def test_update_and_deactivate_a_depot(app, client, auth):
    make_depot(app, "UPD", stock={"tent": 5})
    headers = auth.token("coordinator", "140000")
    bad = client.patch(f"{API}/depots/UPD", json={"tier": "central", "lat": 95, "active": "no"}, headers=headers)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"tier", "lat", "active"}
    response = client.patch(f"{API}/depots/UPD", json={"name": "新名称", "capacity_m2": 700, "active": False},
                            headers=headers)
    assert response.status_code == 200
    assert (response.get_json()["name"], response.get_json()["capacity_m2"], response.get_json()["active"]) == (
        "新名称", 700, False)
    refused = client.post(f"{API}/dispatches", json={"from_depot": "UPD", "to_region_code": "140105",
                                                     "lines": [{"item": "tent", "quantity": 1}]}, headers=headers)
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "from_depot"
    assert client.patch(f"{API}/depots/UPD", json={"active": True},
                        headers=auth.token("coordinator", "650000")).status_code == 403


def test_receive_straight_after_approval_as_api_md_writes_it(app, client, auth):
    make_depot(app, stock={"tent": 50})
    headers = auth.token("admin", "000000")
    created = new_dispatch(client, headers)
    assert client.post(f"{API}/dispatches/{created['id']}/approve", headers=headers).status_code == 200
    line = created["lines"][0]
    response = client.post(f"{API}/dispatches/{created['id']}/receive",
                           json={"lines": [{"item": line["item"], "quantity": line["quantity"]}]},
                           headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "received" and body["shipped_at"] == body["received_at"]
    assert client.post(f"{API}/dispatches/{created['id']}/cancel", headers=headers).status_code == 409


@pytest.mark.parametrize("role", ["officer", "coordinator", "depot_manager", "auditor"])
def test_dispatch_and_request_details_stay_inside_the_jurisdiction(app, client, auth, role):
    make_depot(app, stock={"tent": 50})
    admin = auth.token("admin", "000000")
    created = new_dispatch(client, admin)
    outsider = auth.token(role, "650000")
    assert client.get(f"{API}/dispatches/{created['id']}", headers=outsider).status_code == 403
    assert client.get(f"{API}/dispatches/{created['id']}", headers=auth.token(role, "140000")).status_code == 200
    assert client.get(f"{API}/dispatches/99999", headers=outsider).status_code == 404


# --- lookups: one helper for every get and lock (404, 403, a fresh locked read) --------------

def test_unknown_rows_are_404_by_name(app, client, auth):
    headers = auth.token("admin", "000000")
    for path, detail in ((f"{API}/depots/NOPE", "物资库 NOPE 不存在。"),
                         (f"{API}/dispatches/9999", "调拨单 9999 不存在。"),
                         (f"{API}/supply-requests/9999", "物资申请 9999 不存在。"),
                         (f"{API}/dispatches/9999/approve", "调拨单 9999 不存在。"),
                         (f"{API}/supply-requests/9999/reject", "物资申请 9999 不存在。")):
        method = client.post if path.endswith(("approve", "reject")) else client.get
        response = method(path, headers=headers, json={"reason": "无"})
        assert response.status_code == 404 and response.get_json()["detail"] == detail, path


def test_locked_read_is_fresh(app):
    from sqlalchemy import update

    from app.depots import service
    from app.depots.models import Depot
    from app.errors import NotFound

    make_depot(app, "FRESH")
    with app.app_context():
        depot = service.get_depot("FRESH")
        db.session.execute(update(Depot).where(Depot.code == "FRESH").values(name="改名库"),
                           execution_options={"synchronize_session": False})
        assert service.get_depot("FRESH").name == "FRESH库"  # the identity map's copy
        assert service.get_depot("FRESH", lock=True) is depot and depot.name == "改名库"
        with pytest.raises(NotFound, match="物资库 NONE 不存在"):
            service.get_depot("NONE", lock=True)
        db.session.rollback()


def test_integer_query_argument_is_checked(client, auth):
    headers = auth.token("admin", "000000")
    bad = client.get(f"{API}/dispatches?event_id=abc", headers=headers)
    assert bad.status_code == 422
    assert bad.get_json()["errors"] == [{"field": "event_id", "message": "必须是整数"}]
    assert client.get(f"{API}/dispatches?event_id=", headers=headers).status_code == 200


# --- one validation path: the documented Field sets are the ones the service checks -----------

@pytest.mark.parametrize("path, method, name", [
    ("/depots", "post", "DEPOT_FIELDS"), ("/depots/{code}", "patch", "DEPOT_UPDATE_FIELDS"),
    ("/depots/{code}/managers", "post", "MANAGER_FIELDS"), ("/depots/{code}/reserves/{item}", "put", "RESERVE_FIELDS"),
    ("/depots/{code}/receipts", "post", "RECEIPT_FIELDS"), ("/depots/{code}/adjustments", "post", "ADJUSTMENT_FIELDS"),
    ("/depots/{code}/expiry-writeoff", "post", "WRITEOFF_FIELDS"), ("/demand-norms/{region_code}", "put", "NORMS_FIELDS"),
    ("/events/{event_id}/allocation-plan", "post", "PLAN_FIELDS"), ("/dispatches", "post", "DISPATCH_FIELDS"),
    ("/dispatches/{dispatch_id}/ship", "post", "SHIP_FIELDS"), ("/dispatches/{dispatch_id}/receive", "post", "RECEIVE_FIELDS"),
    ("/dispatches/{dispatch_id}/cancel", "post", "CANCEL_FIELDS"), ("/supply-requests", "post", "SUPPLY_FIELDS"),
    ("/supply-requests/{request_id}/fill", "post", "FILL_FIELDS"),
    ("/supply-requests/{request_id}/reject", "post", "REJECT_FIELDS"),
])
def test_the_api_documents_the_fields_the_service_validates_with(client, path, method, name):
    from app.depots import service

    fields = getattr(service, name)
    body = client.get(f"{API}/openapi.json").get_json()["paths"][path][method]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["properties"] == {n: f.openapi() for n, f in fields.items()}
    assert set(schema.get("required", [])) == {n for n, f in fields.items() if f.required}


def test_adjustment_without_a_reason_says_so(app, client, auth):
    make_depot(app, stock={"quilt": 5})
    headers = auth.token("admin", "000000")
    for body in ({"item": "quilt", "quantity": -1}, {"item": "quilt", "quantity": -1, "reason": "  "}):
        response = client.post(f"{API}/depots/XD-140105/adjustments", json=body, headers=headers)
        assert response.status_code == 422
        assert response.get_json()["errors"] == [{"field": "reason", "message": "请填写调整原因"}]
