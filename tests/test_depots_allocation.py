"""Allocation in pages and accepting a plan (issue 15 point 1), and the forms' pickers and
quantity checks (point 2): who may accept, what is refused, a double submit makes one set."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from tests.test_depots_api import API, FIGURES, make_depot, make_event


def _world(app, auth, keeper="alloc-keeper"):
    """A county depot and a provincial one, an event in 小店区 (demand: tent 300, quilt 900)."""
    name = auth.user("depot_manager", "140105", username=keeper)
    make_depot(app, "CTY", region="140105", tier="county", managers=[name], lon=112.56, lat=37.74,
               stock={"tent": 100, "quilt": 100})
    make_depot(app, "PROV", region="140000", tier="provincial", lon=112.55, lat=37.87,
               stock={"tent": 1000, "quilt": 2000})
    return make_event(app, ("140105",), [("140105", FIGURES)]), name


def _dispatch_count(app) -> int:
    from app.depots.models import Dispatch

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Dispatch))


def _plan(client, headers, event_id, **options) -> dict:
    response = client.post(f"{API}/events/{event_id}/allocation-plan", json=options, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _lines(plan) -> list[dict]:
    return [{"from_depot": l["depot_code"], "to_region_code": l["region_code"], "item": l["item"],
             "quantity": l["quantity"]} for l in plan["lines"]]


# --- permission matrix: role × action ------------------------------------------------------------

ROLES = {"admin": ("admin", "000000"), "coordinator": ("coordinator", "140000"),
         "depot_manager": ("depot_manager", "140105"), "officer": ("officer", "140105"),
         "auditor": ("auditor", "140000"), "coordinator_outside": ("coordinator", "650000")}
MAY_ACCEPT = {"admin", "coordinator", "depot_manager"}


@pytest.mark.parametrize("actor", sorted(ROLES))
@pytest.mark.parametrize("action", ["accept", "page", "search"])
def test_permission_matrix(app, client, auth, actor, action):
    event_id, _ = _world(app, auth)
    role, region = ROLES[actor]
    headers = auth.token(role, region, username=f"m-{actor}")
    if action == "accept":
        body = {"lines": [{"from_depot": "CTY", "to_region_code": "140105", "item": "tent", "quantity": 10}]}
        response = client.post(f"{API}/events/{event_id}/allocation-plan/accept", json=body, headers=headers)
        expected = 201 if actor in MAY_ACCEPT else 403
        assert response.status_code == expected, response.get_json()
        assert _dispatch_count(app) == (1 if expected == 201 else 0)
        return
    auth.login(role, region, username=f"m-{actor}")
    if action == "page":
        response = client.get(f"/depots/allocation?event_id={event_id}")
        if actor == "coordinator_outside":  # the event lies outside the jurisdiction
            assert response.status_code == 403
            return
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and 'id="plan"' in page
        assert ('name="line"' in page) == (actor in MAY_ACCEPT)
    else:
        response = client.get("/depots/destinations?q=小店")
        assert response.status_code == 200
        assert "140105" in [row["code"] for row in response.get_json()]


# --- accepting ---------------------------------------------------------------------------------

def test_accept_creates_the_chosen_dispatches_once(app, client, auth):
    event_id, _ = _world(app, auth)
    headers = auth.token("coordinator", "140000")
    plan = _plan(client, headers, event_id)
    chosen = [l for l in _lines(plan) if l["item"] == "tent"]  # line by line: tents only
    assert {(l["from_depot"], l["quantity"]) for l in chosen} == {("CTY", 100), ("PROV", 200)}
    body = {"lines": chosen, "submission": "sub-1", "note": "首批帐篷"}
    first = client.post(f"{API}/events/{event_id}/allocation-plan/accept", json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    ids = first.get_json()["dispatch_ids"]
    assert len(ids) == 2 and first.get_json()["replayed"] is False
    again = client.post(f"{API}/events/{event_id}/allocation-plan/accept", json=body, headers=headers)
    assert again.status_code == 201 and again.get_json() == {"event_id": event_id, "dispatch_ids": ids,
                                                               "replayed": True}
    assert _dispatch_count(app) == 2
    for dispatch_id in ids:
        made = client.get(f"{API}/dispatches/{dispatch_id}", headers=headers).get_json()
        assert made["status"] == "requested" and made["event_id"] == event_id and made["note"] == "首批帐篷"
    # another submission of the same lines: the demand is taken by the pending dispatches
    other = client.post(f"{API}/events/{event_id}/allocation-plan/accept",
                        json={**body, "submission": "sub-2"}, headers=headers)
    assert other.status_code == 422
    assert {e["field"] for e in other.get_json()["errors"]} == {"lines[0].quantity", "lines[1].quantity"}
    assert _dispatch_count(app) == 2
    with app.app_context():
        from app.models_common import AuditEntry

        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "allocation.accept")) == 1


def test_accept_with_an_idempotency_key_replays(app, client, auth):
    event_id, _ = _world(app, auth)
    headers = {**auth.token("coordinator", "140000"), "Idempotency-Key": "accept-1"}
    body = {"lines": [{"from_depot": "PROV", "to_region_code": "140105", "item": "quilt", "quantity": 50}]}
    first = client.post(f"{API}/events/{event_id}/allocation-plan/accept", json=body, headers=headers)
    second = client.post(f"{API}/events/{event_id}/allocation-plan/accept", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json() and _dispatch_count(app) == 1


def test_accept_refusals_name_the_field(app, client, auth):
    event_id, _ = _world(app, auth)
    headers = auth.token("coordinator", "140000")
    url = f"{API}/events/{event_id}/allocation-plan/accept"
    bad = client.post(url, json={"lines": [
        {"from_depot": "GHOST", "to_region_code": "140105", "item": "tent", "quantity": 1},
        {"from_depot": "CTY", "to_region_code": "140106", "item": "tent", "quantity": 1},
        {"from_depot": "CTY", "to_region_code": "140105", "item": "tent", "quantity": 101},
        {"from_depot": "PROV", "to_region_code": "140105", "item": "ghost", "quantity": 1},
        {"from_depot": "PROV", "to_region_code": "140105", "item": "quilt", "quantity": 0},
    ]}, headers=headers)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {
        "lines[0].from_depot", "lines[1].to_region_code", "lines[2].quantity", "lines[3].item", "lines[4].quantity"}
    assert client.post(url, json={"lines": []}, headers=headers).get_json()["errors"][0]["field"] == "lines"
    over = client.post(url, json={"lines": [{"from_depot": "PROV", "to_region_code": "140105", "item": "tent",
                                             "quantity": 301}]}, headers=headers)
    assert over.status_code == 422 and "需求" in over.get_json()["errors"][0]["message"]
    assert client.post(f"{API}/events/99999/allocation-plan/accept", json={"lines": []},
                       headers=headers).status_code == 404
    assert _dispatch_count(app) == 0


# --- the page ------------------------------------------------------------------------------------

def test_allocation_page_picks_the_event_and_accepts_line_by_line(app, client, auth):
    event_id, keeper = _world(app, auth)
    auth.login("coordinator", "140000")
    empty = client.get("/depots/allocation").get_data(as_text=True)
    assert f'<option value="{event_id}"' in empty and 'id="plan"' not in empty
    page = client.get(f"/depots/allocation?event_id={event_id}&max_distance_km=5").get_data(as_text=True)
    values = [json.loads(v.replace("&#34;", '"')) for v in re.findall(r'name="line" id="line-\d+" checked\s+value="([^"]+)"', page)]
    assert values and {v["from_depot"] for v in values} == {"CTY"}  # 5 km: only the county depot
    assert "无法满足" in page
    submission = re.search(r'name="submission" value="(\w+)"', page).group(1)
    form = {"line": [json.dumps(values[0])], "submission": submission}
    done = client.post(f"/depots/allocation/{event_id}/accept", data=form, follow_redirects=True)
    assert "已生成调拨单" in done.get_data(as_text=True)
    twice = client.post(f"/depots/allocation/{event_id}/accept", data=form, follow_redirects=True)
    assert "未重复生成" in twice.get_data(as_text=True) and _dispatch_count(app) == 1
    bad = client.get(f"/depots/allocation?event_id={event_id}&max_distance_km=-3", follow_redirects=True)
    assert bad.status_code == 200 and "最大调运距离" in bad.get_data(as_text=True)


def test_plan_marks_a_released_reserve(app, client, auth):
    make_depot(app, "CTY", region="140105", tier="county", stock={"tent": 100})
    make_depot(app, "NB", region="140200", tier="prefecture", lon=112.60, lat=37.80, stock={"tent": 300})
    event_id = make_event(app, ("140105",), [("140105", FIGURES)])  # 300 tents needed
    client.put(f"{API}/depots/NB/reserves/tent", json={"floor": 250}, headers=auth.token("coordinator", "140000"))
    auth.login("coordinator", "140000")
    plain = client.get(f"/depots/allocation?event_id={event_id}").get_data(as_text=True)
    row = re.search(r'<tr data-depot="NB" data-item="tent">(.*?)</tr>', plain, re.S)
    assert row and "动用保底" not in row.group(1) and ">50<" in row.group(1)  # Datong keeps its floor
    assert "小店区 帐篷 150" in plain  # unmet
    released = client.get(f"/depots/allocation?event_id={event_id}&released=NB").get_data(as_text=True)
    row = re.search(r'<tr data-depot="NB" data-item="tent">(.*?)</tr>', released, re.S)
    assert row and "动用保底" in row.group(1) and ">200<" in row.group(1)
    assert "小店区 帐篷" not in released and '<option value="NB" selected>' in released


# --- the forms: pickers and quantities --------------------------------------------------------------

def test_absurd_quantities_are_refused_naming_the_field(app, client, auth):
    event_id, keeper = _world(app, auth)
    headers = auth.token("coordinator", "140000")
    huge = client.post(f"{API}/supply-requests", json={
        "from_region_code": "140105", "reason": "急需", "lines": [{"item": "tent", "quantity": 99_999_999}]},
        headers=headers)
    assert huge.status_code == 422
    assert huge.get_json()["errors"] == [{"field": "lines[0].quantity",
                                          "message": "超过全部物资库可用库存合计（帐篷 1100顶），无法供应"}]
    far = client.post(f"{API}/dispatches", json={"event_id": event_id, "from_depot": "PROV", "to_region_code": "140105",
                                                 "lines": [{"item": "tent", "quantity": 700}]}, headers=headers)
    assert far.status_code == 422 and far.get_json()["errors"][0]["field"] == "note"
    with_reason = client.post(f"{API}/dispatches", json={
        "event_id": event_id, "from_depot": "PROV", "to_region_code": "140105", "note": "另有安置点未报",
        "lines": [{"item": "tent", "quantity": 700}]}, headers=headers)
    assert with_reason.status_code == 201
    auth.login("depot_manager", "140105", username=keeper)
    page = client.post("/depots/supply-requests", data={"from_region_code": "140105", "reason": "急需",
                                                        "qty-tent": "99999999"}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "帐篷 数量：超过全部物资库可用库存合计" in text


def test_forms_offer_events_pickers_and_stock(app, client, auth):
    event_id, keeper = _world(app, auth)
    auth.login("coordinator", "140000")
    page = client.get("/depots/dispatches").get_data(as_text=True)
    assert f'<option value="{event_id}">' in page and 'data-picker-kind="region"' in page
    assert "各库合计可用 1100" in page and "depots/depots.js" in page and "<script>" not in page
    requests = client.get("/depots/supply-requests").get_data(as_text=True)
    assert 'data-picker-kind="depot"' in requests and 'value="山西省（140000）"' in requests
    depots = client.get("/depots/destinations?kind=depot&q=PRO").get_json()
    assert [d["code"] for d in depots] == ["PROV"]
    by_code = client.get("/depots/destinations?q=140105").get_json()
    assert by_code[0]["code"] == "140105" and "小店区" in by_code[0]["label"]
    assert client.get("/depots/destinations?q=").get_json() == []
    assert client.get("/depots/destinations?q=%25_").get_json() == []
