"""Emergency relief (应急救助) and the fund request (资金申请): what an event needs by county and
relief kind (loss figures × configured norms) against the funds received, the request as a page
and a workbook, and the allocation received recorded as a fund line."""
from __future__ import annotations

import io
from datetime import datetime, timezone

from openpyxl import load_workbook

from app.cycles.rules import Standards, assess, instalments
from tests.test_cycles_support import make_event, make_fund, make_household, post

FIGURES = {"needing_aid_population": 100, "needing_transitional_aid": 20, "deaths": 2,
           "collapsed_households": 5, "severely_damaged_households": 3, "generally_damaged_households": 10}


def _event_with_reports(app) -> int:
    from app.extensions import db
    from app.reports.models import LossReport

    event = make_event(app, regions=("140105", "140106"))
    with app.app_context():
        for code, figures in (("140105", FIGURES), ("140106", {"needing_aid_population": 50})):
            db.session.add(LossReport(event_id=event, region_code=code, kind="initial", sequence=1,
                                      as_of=datetime(2025, 7, 11, tzinfo=timezone.utc), figures=figures,
                                      submitted_by="test"))
        db.session.commit()
    return event


def test_emergency_relief_is_a_kind_of_its_own():
    assert assess("emergency", {"damage_class": "collapsed"}).eligible
    assert assess("emergency", {"damage_class": "none", "no_livelihood": True}).eligible
    assert not assess("emergency", {"damage_class": "generally_damaged"}).eligible
    found = instalments("emergency", Standards(), persons=4, approved_on=datetime(2025, 7, 20).date())
    assert [(i.period, i.amount_fen) for i in found] == [("once", 4 * 300 * 100)]
    assert Standards.from_config({**_config(), "CYCLE_EMERGENCY_PER_PERSON_CNY": 500}).emergency_per_person_fen == 50_000


def _config() -> dict:
    from app.config import Defaults

    return {key: getattr(Defaults, key) for key in dir(Defaults) if key.startswith("CYCLE_")}


def test_an_emergency_cycle_pays_the_norm_per_person(app, client, auth):
    event = make_event(app)
    make_household(app, head_name="急一", members=4, damage_class="collapsed")
    make_household(app, head_name="急二", members=3)  # not in need
    headers = auth.token("coordinator", "140105")
    line = make_fund(app, "emergency", 10_000)
    cycle = post(client, headers, "/cycles", {"kind": "emergency", "region_code": "140105", "event_id": event,
                                              "fund_line_id": line}, 201).get_json()
    assert cycle["kind"] == "emergency"
    post(client, headers, f"/cycles/{cycle['id']}/transitions", {"action": "open_survey"}, 200)
    made = post(client, headers, f"/cycles/{cycle['id']}/beneficiaries/propose", {}, 201).get_json()
    items = made["items"] if isinstance(made, dict) else made
    assert len(items) == 1
    listed = client.get(f"/api/v1/cycles/{cycle['id']}/beneficiaries", headers=headers).get_json()["items"]
    assert [b["persons"] for b in listed] == [4]


def test_the_estimate_by_county_against_the_funds_received(app, client, auth):
    event = _event_with_reports(app)
    make_fund(app, "emergency", 10_000, county="140105")
    prefecture = auth.token("coordinator", "140100")
    found = client.get(f"/api/v1/events/{event}/fund-estimate", headers=prefecture).get_json()
    rows = {r["region_code"]: r["kinds"] for r in found["rows"]}
    assert set(rows) == {"140105", "140106"}
    xiaodian = rows["140105"]
    assert xiaodian["emergency"] == {"need": 30_000, "received": 10_000, "gap": 20_000}
    assert xiaodian["transitional"]["need"] == 20 * 20 * 90
    assert xiaodian["condolence"]["need"] == 2 * 10_000
    assert xiaodian["reconstruction"]["need"] == 8 * 20_000 + 10 * 2_000
    assert xiaodian["drought"]["need"] == 0
    assert rows["140106"]["emergency"] == {"need": 15_000, "received": 0, "gap": 15_000}
    assert found["total"]["emergency"] == {"need": 45_000, "received": 10_000, "gap": 35_000}
    assert found["gap"] == 35_000 + 36_000 + 20_000 + 180_000
    county = client.get(f"/api/v1/events/{event}/fund-estimate", headers=auth.token("coordinator", "140105")).get_json()
    assert [r["region_code"] for r in county["rows"]] == ["140105"]
    assert client.get(f"/api/v1/events/{event}/fund-estimate?region_code=140106",
                      headers=auth.token("coordinator", "140105")).status_code == 403
    app.config["CYCLE_EMERGENCY_PER_PERSON_CNY"] = 500  # the county's own norm
    again = client.get(f"/api/v1/events/{event}/fund-estimate", headers=prefecture).get_json()
    assert again["total"]["emergency"]["need"] == 150 * 500
    book = client.get(f"/api/v1/events/{event}/fund-request.xlsx", headers=prefecture)
    rows = list(load_workbook(io.BytesIO(book.data)).active.iter_rows(min_row=4, values_only=True))
    assert ("140105", "小店区", "应急救助", 50_000, 10_000, 40_000) in rows
    assert rows[-1][0] == "总计" and rows[-1][5] == again["gap"]


def test_the_request_page_and_the_allocation_received(app, client, auth):
    event = _event_with_reports(app)
    auth.login("coordinator", "140105")
    page = client.get(f"/cycles/events/{event}/fund-request")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "救灾资金申请表" in text and "30,000.00" in text and "登记到位资金" in text
    done = client.post(f"/cycles/events/{event}/fund-request", data={
        "code": "晋财社〔2025〕21号", "name": "中央自然灾害救灾资金", "level": "central", "region_code": "140105",
        "year": "2025", "relief_item": "emergency", "amount": "25000", "note": ""}, follow_redirects=True)
    assert "已登记到位资金" in done.get_data(as_text=True)
    found = client.get(f"/cycles/events/{event}/fund-request").get_data(as_text=True)
    assert "25,000.00" in found and "5,000.00" in found  # received, and what is still asked
    refused = client.post(f"/cycles/events/{event}/fund-request", data={
        "code": "", "name": "x", "level": "central", "region_code": "140105", "year": "2025",
        "relief_item": "emergency", "amount": "", "note": ""}, follow_redirects=True)
    assert "文号" in refused.get_data(as_text=True)
    funds = client.get("/cycles/funds").get_data(as_text=True)
    assert f"/cycles/events/{event}/fund-request" in funds
