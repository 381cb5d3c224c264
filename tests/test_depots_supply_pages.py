"""The pages of supply requests up the tiers, replenishment and rotation (issue 15 points 4, 5):
forward and replenish from the page (pickers, no typed codes), a refusal flashed with the field
named, every new page readable in English."""
from __future__ import annotations

import re
from datetime import date

import time_machine

from tests.test_depots_api import API
from tests.test_depots_supply import NOW, _draw, _ok, _tiers


def _csrf(client, url) -> str:
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    return match.group(1) if match else ""


def _raise(client, auth) -> int:
    county = auth.token("coordinator", "140105", username="county")
    return _ok(client.post(f"{API}/supply-requests", headers=county, json={
        "from_region_code": "140105", "reason": "缺", "lines": [{"item": "tent", "quantity": 500}]}), 201)["id"]


def test_forward_from_the_page_and_the_trail_on_the_requesters_page(app, client, auth):
    _tiers(app, auth)
    rid = _raise(client, auth)
    auth.login("coordinator", "140100", username="pref")
    url = f"/depots/supply-requests/{rid}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="forward-form"' in page and "太原市" in page
    response = client.post(f"{url}/forward", data={"csrf_token": _csrf(client, url), "note": "市级不足"},
                           follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "已转报山西省" in text
    assert 'id="forward-form"' not in text  # the prefecture no longer acts on it
    auth.logout()
    auth.login("coordinator", "140105", username="county")
    mine = client.get(url).get_data(as_text=True)
    assert "转报上级" in mine and "市级不足" in mine and 'id="current-level">山西省<' in mine
    english = client.get(url + "?lang=en").get_data(as_text=True)
    assert "Forwarded to the level above" in english and "Acting level" in english


def test_forward_beyond_central_is_refused_on_the_page(app, client, auth):
    _tiers(app, auth)
    rid = _raise(client, auth)
    for region in ("140100", "140000"):
        _ok(client.post(f"{API}/supply-requests/{rid}/forward", json={}, headers=auth.token("coordinator", region)))
    auth.login("coordinator", "000000", username="nation")
    url = f"/depots/supply-requests/{rid}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="forward-form"' not in page and 'id="current-level">中央<' in page
    assert 'name="fill-CENTRAL--tent"' in page and 'name="fill-PROV--tent"' not in page
    response = client.post(f"{url}/forward", data={"csrf_token": _csrf(client, url)}, follow_redirects=True)
    assert "已在中央级，无法再转报" in response.get_data(as_text=True)


@time_machine.travel(NOW, tick=False)
def test_replenish_from_the_page_with_a_depot_picked(app, client, auth):
    from tests.test_depots_api import make_depot

    keeper = _tiers(app, auth)
    make_depot(app, "PROV2", region="140000", tier="provincial", lon=112.55, lat=37.87, stock={"tent": 100})
    _draw(app, client, auth, keeper)
    auth.login("coordinator", "140000", username="prov")
    page = client.get("/depots/replenishments").get_data(as_text=True)
    assert '<option value="PROV2">' in page and 'name="qty-tent"' in page and 'value="40"' in page
    assert '<option value="CENTRAL">' not in page  # the central depots are not the province's own
    token = _csrf(client, "/depots/replenishments")
    too_many = client.post("/depots/replenishments/1/replenish",
                           data={"csrf_token": token, "from_depot": "PROV2", "qty-tent": "41"}, follow_redirects=True)
    assert "超过尚欠数量 40" in too_many.get_data(as_text=True)
    done = client.post("/depots/replenishments/1/replenish",
                       data={"csrf_token": token, "from_depot": "PROV2", "qty-tent": "40"}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "已生成回补调拨单" in text and 'name="qty-tent"' not in text  # all of it on its way
    english = client.get("/depots/replenishments?lang=en").get_data(as_text=True)
    assert "Replenishment" in english and "In transit" in english
    # the depot's page shows what is owed to it and its area against the standard
    depot = client.get("/depots/CTY").get_data(as_text=True)
    assert 'id="area-standard"' in depot and "Replenishment #1" in depot and "Within the standard" not in depot


@time_machine.travel(NOW, tick=False)
def test_rotation_page_in_both_languages(app, client, auth):
    from app.depots import service

    _tiers(app, auth)
    with app.app_context():
        service.receive_stock(None, "PREF", "water", 50, "入库", lot="W1", expiry=date(2024, 7, 20))
    auth.login("coordinator", "140000", username="prov")
    page = client.get("/depots/rotation?horizon_days=30").get_data(as_text=True)
    assert 'data-action="rotate"' in page and "W1" in page
    english = client.get("/depots/rotation?horizon_days=30&lang=en").get_data(as_text=True)
    assert "Rotation proposals" in english and "Rotate (use and restock)" in english


def test_a_double_submit_never_forwards_twice_nor_replenishes_twice(app, client, auth):
    from tests.test_depots_api import make_depot

    keeper = _tiers(app, auth)
    rid = _raise(client, auth)
    auth.login("coordinator", "140000", username="prov")  # covers the prefecture the request is addressed to
    url = f"/depots/supply-requests/{rid}"
    form = {"csrf_token": _csrf(client, url), "level": "140100"}
    client.post(f"{url}/forward", data=form)
    again = client.post(f"{url}/forward", data=form, follow_redirects=True).get_data(as_text=True)
    assert "未再转报" in again
    assert _ok(client.get(f"{API}/supply-requests/{rid}", headers=auth.token("coordinator", "140000",
                                                                              username="prov")))["to_central"] is False

    make_depot(app, "PROV2", region="140000", tier="provincial", lon=112.55, lat=37.87, stock={"tent": 100})
    _draw(app, client, auth, keeper)
    token = _csrf(client, "/depots/replenishments")
    body = {"csrf_token": token, "from_depot": "PROV2", "qty-tent": "10", "seen": "0"}
    client.post("/depots/replenishments/1/replenish", data=body)
    twice = client.post("/depots/replenishments/1/replenish", data=body, follow_redirects=True).get_data(as_text=True)
    assert "未再生成" in twice
    owed = _ok(client.get(f"{API}/replenishments/1", headers=auth.token("coordinator", "140000", username="prov")))
    assert len(owed["dispatch_ids"]) == 1 and owed["lines"][0]["in_transit"] == 10
