"""Supply requests up the tiers (issue 15 point 5) and keeping the reserve whole (point 4):
a county's request forwarded prefecture → province → central and filled, visible to the
requester at each step; replenishment obligations (回补) from a higher level's draw until
received; rotation proposals on a frozen clock; the 建标121-2009 area check; who may do what."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from tests.test_depots_api import API, make_depot

NOW = datetime(2024, 7, 1, 4, tzinfo=timezone.utc)


def _tiers(app, auth):
    """A county depot (小店区), a prefecture one (太原市), a provincial one and a central one."""
    keeper = auth.user("depot_manager", "140105", username="cty-keeper")
    make_depot(app, "CTY", region="140105", tier="county", managers=[keeper], stock={"tent": 100, "quilt": 100})
    make_depot(app, "PREF", region="140100", tier="prefecture", lon=112.55, lat=37.87, stock={"tent": 30})
    make_depot(app, "PROV", region="140000", tier="provincial", lon=112.55, lat=37.87, stock={"quilt": 50})
    make_depot(app, "CENTRAL", region="140000", tier="central", lon=112.4, lat=37.9, stock={"tent": 1000})
    return keeper


def _ok(response, status=200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _walk(client, headers, dispatch_id):
    for step in ("approve", "ship", "receive"):
        _ok(client.post(f"{API}/dispatches/{dispatch_id}/{step}", json={}, headers=headers))


# --- up the tiers ---------------------------------------------------------------------------------

@time_machine.travel(NOW, tick=False)
def test_request_forwarded_up_two_levels_and_filled_with_the_trail_visible_to_the_requester(app, client, auth):
    _tiers(app, auth)
    county = auth.token("coordinator", "140105", username="county")
    prefecture = auth.token("coordinator", "140100", username="pref")
    province = auth.token("coordinator", "140000", username="prov")
    nation = auth.token("coordinator", "000000", username="nation")
    raised = _ok(client.post(f"{API}/supply-requests", headers=county, json={
        "from_region_code": "140105", "reason": "本级帐篷已用完",
        "lines": [{"item": "tent", "quantity": 500}]}), 201)
    assert raised["to_region_code"] == "140100" and raised["addressee_code"] == "140100"
    rid = raised["id"]

    # the province cannot act on it while the prefecture has it... (it may: it covers the prefecture);
    # the county cannot forward its own request
    assert client.post(f"{API}/supply-requests/{rid}/forward", json={}, headers=county).status_code == 403

    filled = _ok(client.post(f"{API}/supply-requests/{rid}/fill", headers=prefecture, json={
        "lines": [{"from_depot": "PREF", "item": "tent", "quantity": 30}]}), 201)
    assert filled["lines"][0]["outstanding"] == 470
    up = _ok(client.post(f"{API}/supply-requests/{rid}/forward", headers=prefecture, json={"note": "市级库存不足"}))
    assert up["to_region_code"] == "140000" and up["status"] == "in_progress"
    # the prefecture no longer acts on it
    assert client.post(f"{API}/supply-requests/{rid}/forward", json={}, headers=prefecture).status_code == 403
    up = _ok(client.post(f"{API}/supply-requests/{rid}/forward", headers=province, json={}))
    assert up["to_central"] is True and up["addressee_code"] == "000000"
    # the province's coordinator cannot fill from the central depots, nor forward beyond central
    refused = client.post(f"{API}/supply-requests/{rid}/fill", headers=province, json={
        "lines": [{"from_depot": "CENTRAL", "item": "tent", "quantity": 470}]})
    assert refused.status_code == 403
    # central fills from a central depot only
    wrong = client.post(f"{API}/supply-requests/{rid}/fill", headers=nation, json={
        "lines": [{"from_depot": "PROV", "item": "tent", "quantity": 1}]})
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "lines[0].from_depot"
    done = _ok(client.post(f"{API}/supply-requests/{rid}/fill", headers=nation, json={
        "lines": [{"from_depot": "CENTRAL", "item": "tent", "quantity": 470}]}), 201)
    assert done["status"] == "filled"
    assert client.post(f"{API}/supply-requests/{rid}/forward", json={}, headers=nation).status_code == 409

    seen = _ok(client.get(f"{API}/supply-requests/{rid}", headers=county))
    trail = [(s["action"], s["level_code"], s["to_level_code"], s["user"]) for s in seen["steps"]]
    assert trail == [("raise", "140105", "140100", "county"), ("fill", "140100", None, "pref"),
                     ("forward", "140100", "140000", "pref"), ("forward", "140000", "000000", "prov"),
                     ("fill", "000000", None, "nation"), ("complete", "000000", None, "nation")]
    assert seen["steps"][2]["lines"] == [{"item": "tent", "quantity": 470}]
    assert all(s["at"].startswith("2024-07-01T04:00:00") for s in seen["steps"])

    from app.auth.models import User
    from app.models_common import AuditEntry
    from app.notifications.models import Notification
    with app.app_context():
        def told(username):
            return db.session.scalars(select(Notification).join(User, User.id == Notification.user_id).where(
                User.username == username).order_by(Notification.id)).all()

        assert [n.kind for n in told("county")] == ["supply_request.filled", "supply_request.forwarded",
                                                    "supply_request.forwarded", "supply_request.filled"]
        central_told = [n.title for n in told("nation")]
        assert any("转报" in title for title in central_told)
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "supply_request")
                                     .order_by(AuditEntry.id)).all()
        assert actions.count("supply_request.forward") == 2


def test_a_refusal_at_any_level_reaches_the_requester_with_its_reason(app, client, auth):
    _tiers(app, auth)
    county = auth.token("coordinator", "140105", username="county")
    rid = _ok(client.post(f"{API}/supply-requests", headers=county, json={
        "from_region_code": "140105", "reason": "缺", "lines": [{"item": "quilt", "quantity": 10}]}), 201)["id"]
    _ok(client.post(f"{API}/supply-requests/{rid}/forward", headers=auth.token("coordinator", "140100"), json={}))
    province = auth.token("coordinator", "140000", username="prov")
    assert client.post(f"{API}/supply-requests/{rid}/reject", headers=province, json={}).status_code == 422
    _ok(client.post(f"{API}/supply-requests/{rid}/reject", headers=province, json={"reason": "请先动用县级储备"}))
    seen = _ok(client.get(f"{API}/supply-requests/{rid}", headers=county))
    assert seen["status"] == "rejected" and seen["steps"][-1]["note"] == "请先动用县级储备"
    assert client.post(f"{API}/supply-requests/{rid}/forward", headers=province, json={}).status_code == 409


def test_forward_is_idempotent_with_a_key(app, client, auth):
    _tiers(app, auth)
    county = auth.token("coordinator", "140105", username="county")
    rid = _ok(client.post(f"{API}/supply-requests", headers=county, json={
        "from_region_code": "140105", "reason": "缺", "lines": [{"item": "quilt", "quantity": 10}]}), 201)["id"]
    headers = {**auth.token("coordinator", "140100", username="pref"), "Idempotency-Key": "fwd-1"}
    first = _ok(client.post(f"{API}/supply-requests/{rid}/forward", headers=headers, json={}))
    again = _ok(client.post(f"{API}/supply-requests/{rid}/forward", headers=headers, json={}))
    assert first["to_region_code"] == again["to_region_code"] == "140000"
    assert [s["action"] for s in again["steps"]].count("forward") == 1


# --- replenishment (回补) ----------------------------------------------------------------------------

def _draw(app, client, auth, keeper):
    """The province draws 40 tents of the county depot CTY for 迎泽区 (another county)."""
    province = auth.token("coordinator", "140000", username="prov")
    made = _ok(client.post(f"{API}/dispatches", headers=province, json={
        "from_depot": "CTY", "to_region_code": "140106", "lines": [{"item": "tent", "quantity": 40}],
        "note": "省级统筹调用"}), 201)
    _ok(client.post(f"{API}/dispatches/{made['id']}/approve", json={}, headers=auth.token(
        "depot_manager", "140105", username=keeper)))
    return province, made["id"]


@time_machine.travel(NOW, tick=False)
def test_a_higher_levels_draw_is_owed_back_until_received(app, client, auth):
    keeper = _tiers(app, auth)
    make_depot(app, "PROV2", region="140000", tier="provincial", lon=112.55, lat=37.87, stock={"tent": 100})
    province, draw = _draw(app, client, auth, keeper)
    listed = _ok(client.get(f"{API}/replenishments", headers=province))
    assert listed["total"] == 1
    owed = listed["items"][0]
    assert owed["depot_code"] == "CTY" and owed["owed_by"] == "140000" and owed["draw_dispatch_id"] == draw
    assert owed["lines"] == [{"item": "tent", "owed": 40, "received": 0, "in_transit": 0, "outstanding": 40}]
    # the county's keeper sees it too (owed to a depot in the jurisdiction); another province does not
    assert _ok(client.get(f"{API}/replenishments", headers=auth.token("depot_manager", "140105",
                                                                       username=keeper)))["total"] == 1
    assert _ok(client.get(f"{API}/replenishments", headers=auth.token("coordinator", "650000")))["total"] == 0
    oid = owed["id"]
    # only the owing level's own depots, never more than outstanding
    bad = client.post(f"{API}/replenishments/{oid}/replenish", headers=province,
                      json={"from_depot": "PREF", "lines": [{"item": "tent", "quantity": 41}]})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"from_depot", "lines[0].quantity"}
    part = _ok(client.post(f"{API}/replenishments/{oid}/replenish", headers=province,
                           json={"from_depot": "PROV2", "lines": [{"item": "tent", "quantity": 15}]}), 201)
    assert part["to_depot"] == "CTY" and part["status"] == "requested"
    rest = _ok(client.post(f"{API}/replenishments/{oid}/replenish", headers=province, json={"from_depot": "PROV2"}),
               201)
    assert rest["lines"] == [{"item": "tent", "quantity": 25, "received_quantity": None, "discrepancy": None,
                              "discrepancy_note": None}]
    # everything owed is on its way: nothing more to send
    assert client.post(f"{API}/replenishments/{oid}/replenish", headers=province,
                       json={"from_depot": "PROV2"}).status_code == 422
    _walk(client, province, part["id"])
    mid = _ok(client.get(f"{API}/replenishments/{oid}", headers=province))
    assert mid["status"] == "open" and mid["lines"][0]["received"] == 15 and mid["lines"][0]["in_transit"] == 25
    _walk(client, province, rest["id"])
    done = _ok(client.get(f"{API}/replenishments/{oid}", headers=province))
    assert done["status"] == "settled" and done["settled_at"].startswith("2024-07-01T04:00")
    assert done["lines"][0]["outstanding"] == 0
    stock = {r["item"]: r for r in _ok(client.get(f"{API}/depots/CTY/stock", headers=province))}
    assert stock["tent"]["on_hand"] == 100  # the county's reserve is whole again
    assert client.post(f"{API}/replenishments/{oid}/replenish", headers=province,
                       json={"from_depot": "PROV2"}).status_code == 409


def test_own_use_and_the_system_owe_nothing_and_a_cancelled_draw_is_forgotten(app, client, auth):
    keeper = _tiers(app, auth)
    headers = auth.token("depot_manager", "140105", username=keeper)
    own = _ok(client.post(f"{API}/dispatches", headers=headers, json={
        "from_depot": "CTY", "to_region_code": "140106", "lines": [{"item": "tent", "quantity": 5}]}), 201)
    _ok(client.post(f"{API}/dispatches/{own['id']}/approve", json={}, headers=headers))
    assert _ok(client.get(f"{API}/replenishments", headers=headers))["total"] == 0
    province, draw = _draw(app, client, auth, keeper)
    _ok(client.post(f"{API}/dispatches/{draw}/cancel", json={"reason": "改由省库调拨"}, headers=province))
    listed = _ok(client.get(f"{API}/replenishments", headers=province))
    assert [o["status"] for o in listed["items"]] == ["cancelled"]


# --- rotation (轮换) and the area standard ---------------------------------------------------------

@time_machine.travel(NOW, tick=False)
def test_rotation_proposes_near_expiry_lots_for_open_requests_first(app, client, auth):
    from app.depots import service

    _tiers(app, auth)
    with app.app_context():
        service.receive_stock(None, "PREF", "water", 300, "入库", lot="W1", expiry=date(2024, 7, 20))
        service.receive_stock(None, "PREF", "water", 100, "入库", lot="W2", expiry=date(2025, 7, 20))
    county = auth.token("coordinator", "140105", username="county")
    rid = _ok(client.post(f"{API}/supply-requests", headers=county, json={
        "from_region_code": "140105", "reason": "缺水", "lines": [{"item": "water", "quantity": 120}]}), 201)["id"]
    headers = auth.token("coordinator", "140000")
    rows = _ok(client.get(f"{API}/rotation-proposals?horizon_days=30", headers=headers))
    assert [(r["lot"], r["action"], r["quantity"], r["supply_request_id"]) for r in rows] == [
        ("W1", "transfer", 120, rid), ("W1", "rotate", 180, None)]
    assert rows[0]["days_left"] == 19 and rows[0]["to_region_code"] == "140105" and rows[0]["distance_km"] > 0
    # a year ahead the later lot is due too; past its expiry a lot is for write-off
    assert len(_ok(client.get(f"{API}/rotation-proposals?horizon_days=400", headers=headers))) == 3
    with time_machine.travel(datetime(2024, 8, 1, 4, tzinfo=timezone.utc), tick=False):
        later = _ok(client.get(f"{API}/rotation-proposals?depot=PREF",
                               headers=auth.token("coordinator", "140000", username="later")))
    assert [(r["lot"], r["action"]) for r in later] == [("W1", "write_off")]
    assert client.get(f"{API}/rotation-proposals?horizon_days=-1", headers=headers).status_code == 422


def test_area_standard_per_depot(app, client, auth):
    from app.depots import service

    _tiers(app, auth)
    headers = auth.token("coordinator", "140000")
    with app.app_context():
        service.update_depot(None, "CTY", {"capacity_m2": 700})
    body = _ok(client.get(f"{API}/depots/CTY/area-standard", headers=headers))
    assert body["verdict"] == "within" and body["band"] == {"size": "", "area_min": 630, "area_max": 800}
    assert 5000 <= body["people_served"] <= 7000
    assert _ok(client.get(f"{API}/depots/PREF/area-standard", headers=headers))["verdict"] == "unknown"
    assert client.get(f"{API}/depots/NOPE/area-standard", headers=headers).status_code == 404


# --- who may do what: role × action ------------------------------------------------------------------

ROLES = {"admin": ("admin", "000000"), "coordinator_province": ("coordinator", "140000"),
         "coordinator_prefecture": ("coordinator", "140100"), "coordinator_county": ("coordinator", "140105"),
         "coordinator_outside": ("coordinator", "650000"), "depot_manager": ("depot_manager", "140105"),
         "officer": ("officer", "140105"), "auditor": ("auditor", "140000")}
#: forward a request addressed to the prefecture 太原市
MAY_FORWARD = {"admin", "coordinator_province", "coordinator_prefecture"}
#: replenish what the province owes
MAY_REPLENISH = {"admin", "coordinator_province"}
#: read the obligations (owed by the province to a depot in 小店区)
MAY_READ = {"admin", "coordinator_province", "coordinator_prefecture", "coordinator_county", "depot_manager",
            "officer", "auditor"}


@pytest.mark.parametrize("actor", sorted(ROLES))
@pytest.mark.parametrize("action", ["forward", "replenish", "read_obligation", "rotation"])
def test_permission_matrix(app, client, auth, monkeypatch, actor, action):
    keeper = _tiers(app, auth)
    make_depot(app, "PROV2", region="140000", tier="provincial", lon=112.55, lat=37.87, stock={"tent": 100})
    role, region = ROLES[actor]
    headers = auth.token(role, region, username=f"m-{actor}")
    if action == "forward":
        rid = _ok(client.post(f"{API}/supply-requests", headers=auth.token("coordinator", "140105"), json={
            "from_region_code": "140105", "reason": "缺", "lines": [{"item": "quilt", "quantity": 10}]}), 201)["id"]
        response = client.post(f"{API}/supply-requests/{rid}/forward", json={}, headers=headers)
        assert response.status_code == (200 if actor in MAY_FORWARD else 403), response.get_json()
    elif action == "replenish":
        _draw(app, client, auth, keeper)
        from app.depots.service import common

        locks, lock = [], common.lock_for_update
        monkeypatch.setattr(common, "lock_for_update", lambda stmt: locks.append(stmt) or lock(stmt))
        response = client.post(f"{API}/replenishments/1/replenish", json={"from_depot": "PROV2"}, headers=headers)
        assert response.status_code == (201 if actor in MAY_REPLENISH else 403), response.get_json()
        assert bool(locks) == (actor in MAY_REPLENISH)  # permission first: a refused user locks no row
    elif action == "read_obligation":
        _draw(app, client, auth, keeper)
        response = client.get(f"{API}/replenishments/1", headers=headers)
        assert response.status_code == (200 if actor in MAY_READ else 403), response.get_json()
    else:
        assert client.get(f"{API}/rotation-proposals", headers=headers).status_code == 200
