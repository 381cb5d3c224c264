"""Who may do what to depots, stock and dispatches: role × jurisdiction × depot assignment.

Each action is tried by every actor on a target of its own; an allowed request succeeds, a refused
one is 403 and changes nothing (ledger, stock, dispatches, requests, depots and norms as before).
"""
from __future__ import annotations

import pytest

from tests.test_depots_api import API, fast_user, make_depot, make_event

ACTORS = {
    "admin": ("admin", "000000"),
    "coordinator_inside": ("coordinator", "140000"),
    "coordinator_outside": ("coordinator", "650000"),
    "officer_inside": ("officer", "140105"),
    "officer_outside": ("officer", "650000"),
    "manager_assigned": ("depot_manager", "140105"),
    "manager_unassigned": ("depot_manager", "140105"),
    "manager_outside": ("depot_manager", "650000"),
    "auditor": ("auditor", "140000"),
}

STAFF_INSIDE = {"admin", "coordinator_inside"}
DEPOT_SIDE = STAFF_INSIDE | {"manager_assigned"}


def _dispatch(client, admin, status: str) -> int:
    body = {"from_depot": "PERM", "to_region_code": "140105", "lines": [{"item": "tent", "quantity": 5}]}
    dispatch_id = client.post(f"{API}/dispatches", json=body, headers=admin).get_json()["id"]
    for action in {"requested": [], "approved": ["approve"], "shipped": ["approve", "ship"]}[status]:
        assert client.post(f"{API}/dispatches/{dispatch_id}/{action}", headers=admin).status_code == 200
    return dispatch_id


def _request(client, admin) -> int:
    body = {"from_region_code": "140105", "to_region_code": "140000", "reason": "急需",
            "lines": [{"item": "tent", "quantity": 5}]}
    return client.post(f"{API}/supply-requests", json=body, headers=admin).get_json()["id"]


# action: (allowed actors, prepare(client, admin) -> target or None, call(client, headers, target) -> response)
CASES = {
    "create_depot": (STAFF_INSIDE, None, lambda c, h, t: c.post(f"{API}/depots", headers=h, json={
        "code": f"NEW-{h.get('Authorization', 'anonymous')[-6:]}", "name": "新库", "tier": "county", "region_code": "140105",
        "lon": 112.5, "lat": 37.7})),
    "update_depot": (STAFF_INSIDE, None, lambda c, h, t: c.patch(f"{API}/depots/PERM", headers=h,
                                                                 json={"capacity_m2": 650})),
    "receipt": ({"admin", "manager_assigned"}, None, lambda c, h, t: c.post(
        f"{API}/depots/PERM/receipts", headers=h, json={"item": "tent", "quantity": 1})),
    "adjustment": ({"admin", "manager_assigned"}, None, lambda c, h, t: c.post(
        f"{API}/depots/PERM/adjustments", headers=h, json={"item": "tent", "quantity": -1, "reason": "盘亏"})),
    "writeoff": ({"admin", "manager_assigned"}, None, lambda c, h, t: c.post(
        f"{API}/depots/PERM/expiry-writeoff", headers=h, json={})),
    "reserve": (STAFF_INSIDE, None, lambda c, h, t: c.put(f"{API}/depots/PERM/reserves/tent", headers=h,
                                                          json={"floor": 3})),
    "assign": (STAFF_INSIDE, None, lambda c, h, t: c.post(f"{API}/depots/PERM/managers", headers=h,
                                                          json={"username": "perm-unassigned"})),
    "request_dispatch": ({"admin", "coordinator_inside", "officer_inside", "manager_assigned", "manager_unassigned"},
                         None, lambda c, h, t: c.post(f"{API}/dispatches", headers=h, json={
                             "from_depot": "PERM", "to_region_code": "140105",
                             "lines": [{"item": "tent", "quantity": 1}]})),
    "approve": (DEPOT_SIDE, lambda c, a: _dispatch(c, a, "requested"),
                lambda c, h, t: c.post(f"{API}/dispatches/{t}/approve", headers=h)),
    "ship": (DEPOT_SIDE, lambda c, a: _dispatch(c, a, "approved"),
             lambda c, h, t: c.post(f"{API}/dispatches/{t}/ship", headers=h)),
    "cancel": (DEPOT_SIDE, lambda c, a: _dispatch(c, a, "approved"),
               lambda c, h, t: c.post(f"{API}/dispatches/{t}/cancel", headers=h)),
    "receive": ({"admin", "coordinator_inside", "officer_inside", "manager_assigned", "manager_unassigned"},
                lambda c, a: _dispatch(c, a, "shipped"),
                lambda c, h, t: c.post(f"{API}/dispatches/{t}/receive", headers=h, json={})),
    "raise_request": (DEPOT_SIDE, None, lambda c, h, t: c.post(f"{API}/supply-requests", headers=h, json={
        "from_region_code": "140105", "reason": "急需", "lines": [{"item": "tent", "quantity": 1}]})),
    "fill_request": (STAFF_INSIDE, _request, lambda c, h, t: c.post(
        f"{API}/supply-requests/{t}/fill", headers=h,
        json={"lines": [{"from_depot": "PROV", "item": "tent", "quantity": 5}]})),
    "reject_request": (STAFF_INSIDE, _request, lambda c, h, t: c.post(
        f"{API}/supply-requests/{t}/reject", headers=h, json={"reason": "不予调拨"})),
    "set_norms": (STAFF_INSIDE, None, lambda c, h, t: c.put(f"{API}/demand-norms/140105", headers=h, json={
        "norms": [{"item": "quilt", "indicator": "relocated_population", "per_person": 1}]})),
    "demand": (set(ACTORS) - {"coordinator_outside", "officer_outside", "manager_outside"}, None,
               lambda c, h, t: c.get(f"{API}/events/{t}/demand", headers=h)),
    "allocation_plan": (set(ACTORS) - {"coordinator_outside", "officer_outside", "manager_outside"}, None,
                        lambda c, h, t: c.post(f"{API}/events/{t}/allocation-plan", headers=h, json={})),
    # reference data: every signed-in user, wherever
    "view_stock": (set(ACTORS), None, lambda c, h, t: c.get(f"{API}/depots/PERM/stock", headers=h)),
    "view_ledger": (set(ACTORS), None, lambda c, h, t: c.get(f"{API}/depots/PERM/ledger", headers=h)),
    "list_depots": (set(ACTORS), None, lambda c, h, t: c.get(f"{API}/depots", headers=h)),
    "items": (set(ACTORS), None, lambda c, h, t: c.get(f"{API}/items", headers=h)),
}


@pytest.fixture
def world(app, client, auth):
    users = {name: f"perm-{name.split('_')[-1] if name.startswith('manager') else name}" for name in ACTORS}
    tokens = {name: auth.token(role, region, username=fast_user(app, role, region, users[name]))
              for name, (role, region) in ACTORS.items()}
    make_depot(app, "PERM", region="140105", managers=[users["manager_assigned"]], stock={"tent": 100})
    make_depot(app, "PROV", region="140000", tier="provincial", lon=112.55, lat=37.87, stock={"tent": 100})
    event = make_event(app, ("140105",), [("140105", {"affected_population": 10, "relocated_population": 3})])
    return {"tokens": tokens, "admin": tokens["admin"], "event": event}


def _snapshot(client, admin, target) -> tuple:
    ledger = client.get(f"{API}/depots/PERM/ledger", headers=admin).get_json()["total"]
    depot = client.get(f"{API}/depots/PERM", headers=admin).get_json()
    stock = client.get(f"{API}/depots/PERM/stock", headers=admin).get_json()
    dispatches = client.get(f"{API}/dispatches?limit=1000", headers=admin).get_json()
    requests = client.get(f"{API}/supply-requests?limit=1000", headers=admin).get_json()
    depots = client.get(f"{API}/depots", headers=admin).get_json()["total"]
    norms = client.get(f"{API}/demand-norms?region_code=140105", headers=admin).get_json()
    return ledger, depot, stock, dispatches, requests, depots, norms


@pytest.mark.parametrize("action", sorted(CASES))
def test_permission_matrix(client, world, action):
    """Every actor tries the action on a target of its own; allowed ones succeed, the others
    get 403 and change nothing."""
    allowed, prepare, call = CASES[action]
    wrong = []
    for actor in sorted(ACTORS):
        target = prepare(client, world["admin"]) if prepare else world["event"]
        before = _snapshot(client, world["admin"], target)
        response = call(client, world["tokens"][actor], target)
        if actor in allowed:
            if response.status_code not in (200, 201):
                wrong.append((actor, "should be allowed", response.status_code, response.get_json()))
        elif response.status_code != 403 or response.content_type != "application/problem+json":
            wrong.append((actor, "should be 403", response.status_code, response.get_json()))
        elif _snapshot(client, world["admin"], target) != before:
            wrong.append((actor, "a refused request changed something"))
    assert wrong == []


@pytest.mark.parametrize("action", sorted(CASES))
def test_every_depot_endpoint_needs_a_token(client, world, action):
    _, prepare, call = CASES[action]
    target = prepare(client, world["admin"]) if prepare else world["event"]
    response = call(client, {}, target)
    assert response.status_code == 401 and response.content_type == "application/problem+json"
