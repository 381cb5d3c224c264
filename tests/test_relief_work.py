"""The relief-work table (救灾工作情况统计快报表): what it computes from the reports, the cycles and
the depots, what units type in (validated, blank never 0, rolled up, filed once), who may read
and file it, and its Excel export read back."""
from __future__ import annotations

import io

import pytest
import time_machine
from openpyxl import load_workbook

from tests.test_responses_support import Reporter, create_event

COUNTY, TOWN, VILLAGE = "140105", "140105001", "140105001200"


@pytest.fixture
def world(app, client, auth):
    admin = auth.token("admin", "000000")
    event_id = create_event(client, admin, [COUNTY])
    return {"admin": admin, "event": event_id, "clerk": auth.token("officer", TOWN),
            "county": auth.token("officer", COUNTY), "coordinator": auth.token("coordinator", "140100")}


def table(client, world, region=COUNTY, who="county"):
    response = client.get(f"/api/v1/events/{world['event']}/relief-work?region_code={region}", headers=world[who])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def row(result, code):
    return next(r for r in result["rows"] if r["region_code"] == code)


def file(client, world, body, who="county", **headers):
    return client.post(f"/api/v1/events/{world['event']}/relief-work", headers={**world[who], **headers}, json=body)


# --- typed-in figures -------------------------------------------------------------------------

def test_blank_stays_blank_and_a_unit_without_a_filing_sums_the_units_below(client, world):
    result = table(client, world)
    assert [r["region_code"] for r in result["rows"]] == [COUNTY, TOWN]
    assert row(result, COUNTY)["typed"]["rescuers"] is None  # nothing filed: blank, not 0
    assert row(result, COUNTY)["typed_source"] == "none"
    assert file(client, world, {"region_code": TOWN, "rescuers": 120, "boats": 3}, who="clerk").status_code == 201
    county = row(table(client, world), COUNTY)
    assert county["typed"]["rescuers"] == 120 and county["typed"]["boats"] == 3
    assert county["typed"]["aircraft"] is None and county["typed_source"] == "below"
    # the county files its own rescuers: they stand for it; boats it left blank still come from below
    assert file(client, world, {"region_code": COUNTY, "rescuers": 300}).status_code == 201
    county = row(table(client, world), COUNTY)
    assert county["typed"]["rescuers"] == 300 and county["typed"]["boats"] == 3
    assert county["typed_source"] == "own"
    assert row(table(client, world), TOWN)["typed"]["rescuers"] == 120


def test_the_latest_filing_stands_and_the_same_filing_twice_files_once(app, client, world):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.relief import ReliefWorkEntry

    first = file(client, world, {"region_code": COUNTY, "rescuers": 10, "note": "首报"}).get_json()
    again = file(client, world, {"region_code": COUNTY, "rescuers": 10, "note": "首报"})
    assert again.status_code == 201 and again.get_json()["id"] == first["id"]
    keyed = file(client, world, {"region_code": COUNTY, "rescuers": 12}, **{"Idempotency-Key": "k-1"})
    replay = file(client, world, {"region_code": COUNTY, "rescuers": 12}, **{"Idempotency-Key": "k-1"})
    assert replay.get_json()["id"] == keyed.get_json()["id"]
    assert file(client, world, {"region_code": COUNTY, "rescuers": 13}, **{"Idempotency-Key": "k-1"}).status_code == 409
    assert row(table(client, world), COUNTY)["typed"]["rescuers"] == 12
    with app.app_context():
        assert db.session.scalar(select(func.count(ReliefWorkEntry.id))) == 2


def test_every_bad_field_is_named_and_nothing_is_filed(client, world):
    bad = file(client, world, {"region_code": COUNTY, "rescuers": -1, "boats": "many", "aircraft": 2.5})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"rescuers", "boats", "aircraft"}
    empty = file(client, world, {"region_code": COUNTY, "rescuers": None, "boats": None})
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["field"] == "rescuers"
    outside_event = file(client, world, {"region_code": "140106", "rescuers": 1}, who="admin")
    assert outside_event.status_code == 422 and outside_event.get_json()["errors"][0]["field"] == "region_code"
    assert file(client, world, {"rescuers": 1}).get_json()["errors"][0]["field"] == "region_code"
    assert row(table(client, world), COUNTY)["typed_source"] == "none"


def test_people_sheltered_may_not_exceed_the_reported_relocated(client, world):
    Reporter(client, world["admin"], world["event"])(COUNTY, affected_population=5000, relocated_population=800,
                                                     evacuated_population=1200)
    over = file(client, world, {"region_code": COUNTY, "centralised_relocated": 600, "dispersed_relocated": 300})
    assert over.status_code == 422
    assert {e["field"] for e in over.get_json()["errors"]} == {"centralised_relocated", "dispersed_relocated"}
    assert file(client, world, {"region_code": COUNTY, "centralised_relocated": 500,
                                "dispersed_relocated": 300}).status_code == 201
    county = row(table(client, world), COUNTY)
    assert county["people"] == {"evacuated_population": 1200, "relocated_population": 800}
    assert county["checks"] == []
    assert row(table(client, world), TOWN)["people"]["relocated_population"] is None  # nothing reported there


def test_a_closed_event_takes_no_filing(app, client, world):
    from app.extensions import db
    from app.reports import Event

    with app.app_context():
        db.session.get(Event, world["event"]).status = "closed"
        db.session.commit()
    assert file(client, world, {"region_code": COUNTY, "rescuers": 1}).status_code == 409


# --- who may read and file --------------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "coordinator", "officer", "depot_manager", "auditor", "finance",
                                  "dept_police", "dept_finance"])
@pytest.mark.parametrize("where", ["inside", "outside"])
def test_role_by_action_matrix(client, auth, world, role, where):
    region = COUNTY if where == "inside" else "140200"
    headers = auth.token(role, region)
    may_view = role not in ("dept_police", "dept_finance") and where == "inside"
    may_file = role in ("admin", "coordinator", "officer") and where == "inside"
    got = client.get(f"/api/v1/events/{world['event']}/relief-work?region_code={COUNTY}", headers=headers)
    assert got.status_code == (200 if may_view else 403)
    posted = client.post(f"/api/v1/events/{world['event']}/relief-work", headers=headers,
                         json={"region_code": COUNTY, "rescuers": 5})
    assert posted.status_code == (201 if may_file else 403), posted.get_json()


def test_a_township_files_only_for_itself(client, world):
    assert file(client, world, {"region_code": COUNTY, "rescuers": 5}, who="clerk").status_code == 403
    assert client.get(f"/api/v1/events/{world['event']}/relief-work?region_code={COUNTY}",
                      headers=world["clerk"]).status_code == 403
    assert table(client, world, region=TOWN, who="clerk")["rows"][0]["region_code"] == TOWN


# --- computed from the depots -----------------------------------------------------------------

def test_goods_dispatched_signed_for_and_handed_out_by_item(app, client, auth, world):
    from tests.test_depots_api import make_depot, new_dispatch

    make_depot(app, "XD-140105", region=COUNTY, stock={"tent": 50, "quilt": 200})
    coordinator = auth.token("coordinator", "140000")
    sent = new_dispatch(client, coordinator, "XD-140105", TOWN, [{"item": "tent", "quantity": 10},
                                                                   {"item": "quilt", "quantity": 40}],
                        event_id=world["event"], note="县级先行调拨")
    client.post(f"/api/v1/dispatches/{sent['id']}/approve", headers=coordinator)
    pending = new_dispatch(client, coordinator, "XD-140105", TOWN, [{"item": "tent", "quantity": 5}],
                           event_id=world["event"], note="补充")  # requested only: nothing has left the depot
    assert pending["status"] == "requested"
    goods = {g["item"]: g for g in row(table(client, world), COUNTY)["goods"]}
    assert (goods["tent"]["dispatched"], goods["tent"]["received"]) == (10, 0)
    received = client.post(f"/api/v1/dispatches/{sent['id']}/receive", headers=world["clerk"],
                           json={"lines": [{"item": "quilt", "quantity": 38, "note": "两床受潮"}]})
    assert received.status_code == 200, received.get_json()
    result = table(client, world)
    goods = {g["item"]: g for g in row(result, TOWN)["goods"]}
    assert (goods["quilt"]["dispatched"], goods["quilt"]["received"]) == (40, 38)
    assert goods["tent"]["received"] == 10
    # hand-outs come from the distribution points: the event has none here, so nothing is
    # recorded and the table shows blank (未记录), never 0
    assert goods["quilt"]["handed_out"] is None and result["handed_out_recorded"] is False
    point = client.post("/api/v1/distribution/points", headers=world["clerk"],
                        json={"event_id": world["event"], "region_code": VILLAGE, "name": "一村发放点"})
    assert point.status_code == 201, point.get_json()
    # a point exists and nothing was handed out there yet: a true 0
    result = table(client, world)
    goods = {g["item"]: g for g in row(result, TOWN)["goods"]}
    assert goods["quilt"]["handed_out"] == 0 and result["handed_out_recorded"] is True


# --- computed from the cycles -----------------------------------------------------------------

def test_money_received_and_paid_by_source(app, client, auth, runner):
    from tests.test_cycles_support import approve_cycle, at, make_event, make_fund, make_household, post, run_due, walk_to_notice

    event = make_event(app, stabilised=at("2025-07-31 18:00"))
    make_household(app, head_name="王小明", members=4, damage_class="collapsed", no_housing=True)
    make_household(app, head_name="李四", members=3, no_livelihood=True)
    headers = auth.token("coordinator", COUNTY)
    line = make_fund(app, "transitional", 50_000)
    make_fund(app, "transitional", 9_999)  # another county line the event's cycle does not use
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = post(client, headers, "/cycles", {"kind": "transitional", "region_code": COUNTY, "event_id": event,
                                                  "starts_on": "2025-08-01", "fund_line_id": line}, 201).get_json()["id"]
        walk_to_notice(client, headers, cycle)
    with time_machine.travel(at("2025-08-08 09:00"), tick=False):
        approve_cycle(client, headers, cycle, 200)
        before = client.get(f"/api/v1/events/{event}/relief-work?region_code={COUNTY}", headers=headers).get_json()
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "disburse"}, 200)
    assert row(before, COUNTY)["money"] == {"received": {"central": 50000.0}, "paid": {},
                                            "received_total": 50000.0, "paid_total": 0}
    with time_machine.travel(at("2025-08-09 07:00"), tick=False):
        run_due(runner, at("2025-08-09 07:00"), "cycles.rolls")
        result = client.get(f"/api/v1/events/{event}/relief-work?region_code={COUNTY}", headers=headers).get_json()
    paid = 7 * 20 * 31
    assert row(result, COUNTY)["money"]["paid"] == {"central": paid}
    assert row(result, COUNTY)["money"]["received_total"] == 50000
    town = row(result, TOWN)["money"]
    assert town["received"] is None and town["received_total"] is None  # funds go to counties
    assert town["paid"] == {"central": paid}


# --- Excel -----------------------------------------------------------------------------------

def test_excel_reads_back_as_the_api_with_blanks_blank_and_formulas_as_text(app, client, world):
    from app.relief.excel import read_table

    Reporter(client, world["admin"], world["event"])(COUNTY, affected_population=900, relocated_population=90)
    file(client, world, {"region_code": COUNTY, "rescuers": 40, "centralised_relocated": 60,
                         "note": "=HYPERLINK(\"http://x\",\"点我\")"})
    file(client, world, {"region_code": TOWN, "boats": 2}, who="clerk")
    response = client.get(f"/api/v1/events/{world['event']}/relief-work.xlsx?region_code={COUNTY}",
                          headers=world["county"])
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["A1"].value == "救灾工作情况统计快报表"
    assert all(cell.data_type != "f" for r in sheet.iter_rows() for cell in r)
    with app.app_context():
        rows = read_table(response.data)
    api = table(client, world)["rows"]
    assert [r["区划代码"] for r in rows] == [r["region_code"] for r in api]
    county, town = rows
    assert county["紧急转移安置人口（人）"] == 90 and county["投入救援人员（人次）"] == 40
    assert county["集中安置人口（人）"] == 60 and county["分散安置人口（人）"] is None  # blank, not 0
    assert county["出动舟艇（艘次）"] == 2  # from the township below
    assert county["备注"] == "=HYPERLINK(\"http://x\",\"点我\")"
    assert town["紧急转移安置人口（人）"] is None and town["资金已下达合计（元）"] is None
    assert town["资金已发放合计（元）"] == 0


def test_excel_headers_follow_the_readers_language_and_still_escape_formulas(app, client, auth, world):
    """An English reader's export has an English title and headers (goods included); the Chinese
    reader's is unchanged; what units typed stays as typed, formulas as text."""
    import re

    from app.relief.excel import read_table
    from tests.test_depots_api import make_depot, new_dispatch

    make_depot(app, "XD-140105", region=COUNTY, stock={"tent": 50})
    coordinator = auth.token("coordinator", "140000")
    sent = new_dispatch(client, coordinator, "XD-140105", TOWN, [{"item": "tent", "quantity": 10}],
                        event_id=world["event"], note="县级先行调拨")
    client.post(f"/api/v1/dispatches/{sent['id']}/approve", headers=coordinator)
    file(client, world, {"region_code": COUNTY, "rescuers": 40, "note": "=1+1，已核实"})
    url = f"/api/v1/events/{world['event']}/relief-work.xlsx?region_code={COUNTY}"
    english = client.get(url + "&lang=en", headers=world["county"])
    assert english.status_code == 200
    sheet = load_workbook(io.BytesIO(english.data)).active
    assert sheet["A1"].value == "Relief work quick report" and sheet["A2"].value.startswith("Event: ")
    headers = [cell.value for cell in sheet[3] if cell.value]
    assert not [h for h in headers if re.search(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", h)], headers
    assert {"Region code", "Rescuers deployed (person-times)", "Tent: Dispatched (tents)",
            "Funds paid, total (yuan)", "Remarks"} <= set(headers), " | ".join(headers)
    assert all(cell.data_type != "f" for r in sheet.iter_rows() for cell in r)
    with app.app_context():
        county = read_table(english.data)[0]
    assert county["Rescuers deployed (person-times)"] == 40 and county["Remarks"] == "=1+1，已核实"
    assert county["Tent: Dispatched (tents)"] == 10
    chinese = client.get(url + "&lang=zh_CN", headers=world["county"])
    sheet = load_workbook(io.BytesIO(chinese.data)).active
    assert sheet["A1"].value == "救灾工作情况统计快报表"
    assert {"区划代码", "投入救援人员（人次）", "帐篷·调拨（顶）", "资金已发放合计（元）", "备注"} <= {c.value for c in sheet[3]}


# --- pages -----------------------------------------------------------------------------------

def test_page_in_both_languages_and_the_form_files(client, auth, world):
    auth.login("officer", COUNTY)
    page = client.get(f"/relief/events/{world['event']}")
    assert page.status_code == 200 and "救灾工作情况统计快报表" in page.get_data(as_text=True)
    posted = client.post(f"/relief/events/{world['event']}", data={"region_code": COUNTY, "rescuers": "25",
                                                                    "boats": ""}, follow_redirects=True)
    text = posted.get_data(as_text=True)
    assert "已保存" in text
    assert row(table(client, world), COUNTY)["typed"] == {**{k: None for k in row(table(client, world), COUNTY)["typed"]},
                                                          "rescuers": 25}
    refused = client.post(f"/relief/events/{world['event']}", data={"region_code": COUNTY, "rescuers": "-3"},
                          follow_redirects=True)
    assert "投入救援人员" in refused.get_data(as_text=True)
    english = client.get(f"/relief/events/{world['event']}?lang=en").get_data(as_text=True)
    assert "Relief work" in english and "救援人员" not in english
    assert "Relief work" in client.get("/relief/?lang=en").get_data(as_text=True)
