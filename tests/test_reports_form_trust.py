"""Loss reports a county clerk can trust (issue 13, points 2 and 3 on the server): own figures
lower than the sum from below need a note, totals say their basis, figures are checked against
the region's population and households (hard limits refuse, soft limits need a note), and one bad
value gives one error."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 7, 6, 10, 0, tzinfo=SH)
STARTED = "2026-07-06T06:00:00+08:00"


@pytest.fixture(autouse=True)
def limits_as_configured(app):
    """The limits as shipped (the shared test configuration turns them off, see conftest)."""
    from app.config import Defaults as Config

    app.config.update(REPORT_POPULATION_HARD_SHARE=Config.REPORT_POPULATION_HARD_SHARE,
                      REPORT_POPULATION_SOFT_SHARES=dict(Config.REPORT_POPULATION_SOFT_SHARES))


@pytest.fixture
def clock(app):
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def new_event(client, headers):
    body = {"name": "小店区暴雨洪涝", "hazard": "flood", "started_at": STARTED, "region_codes": ["140105"]}
    response = client.post("/api/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def post(client, headers, eid, code, figures, kind="initial", as_of="2026-07-06T08:00:00+08:00", note=None):
    body = {"region_code": code, "kind": kind, "as_of": as_of, "figures": figures}
    if note:
        body["note"] = note
    return client.post(f"/api/v1/events/{eid}/reports", json=body, headers=headers)


def totals(client, headers, eid, code):
    return client.get(f"/api/v1/events/{eid}/totals?region_code={code}", headers=headers).get_json()


VILLAGE_A = {"affected_population": 200, "deaths": 8, "missing": 2, "relocated_population": 200}
VILLAGE_B = {"affected_population": 150, "deaths": 5, "missing": 1, "relocated_population": 140}


def _villages(client, headers, eid):
    assert post(client, headers, eid, "140105001200", VILLAGE_A).status_code == 201
    assert post(client, headers, eid, "140105001201", VILLAGE_B).status_code == 201


def test_totals_say_their_basis(client, auth, clock):
    headers = auth.token("officer", "140105")
    eid = new_event(client, headers)
    assert totals(client, headers, eid, "140105")["basis"] == "none"
    _villages(client, headers, eid)
    county = totals(client, headers, eid, "140105")
    assert county["basis"] == "sum" and county["reporting_units"] == 2
    assert county["figures"]["deaths"] == 13 and county["as_of"] == "2026-07-06T00:00:00+00:00"
    assert totals(client, headers, eid, "140105001200")["basis"] == "own"
    own = {"affected_population": 400, "deaths": 13, "missing": 3, "relocated_population": 340}
    assert post(client, headers, eid, "140105", own).status_code == 201
    county = totals(client, headers, eid, "140105")
    assert county["basis"] == "own" and county["reporting_units"] == 1


def test_own_figures_lower_than_the_sum_from_below_need_a_note(client, auth, clock):
    headers = auth.token("officer", "140105")
    eid = new_event(client, headers)
    _villages(client, headers, eid)
    lower = post(client, headers, eid, "140105", {"affected_population": 2000, "deaths": 2})
    assert lower.status_code == 422
    errors = {e["field"]: e for e in lower.get_json()["errors"]}
    assert errors["figures.deaths"]["rule"] == "below_sum"
    assert errors["figures.deaths"]["message"] == "因灾死亡人口 2 低于下级汇总 13（2 个单位的报告），须在说明（note）中解释原因"
    assert {"figures.missing", "figures.relocated_population", "note"} <= set(errors)
    assert "figures.affected_population" not in errors  # 2000 is not lower than 350
    assert "因灾死亡人口" in errors["note"]["message"] and "因灾失踪人口" in errors["note"]["message"]
    # nothing was filed: the county still shows the sum from below
    assert totals(client, headers, eid, "140105")["figures"]["deaths"] == 13
    # with a note, the clerk's own figures are filed, and the totals say so
    noted = post(client, headers, eid, "140105", {"affected_population": 2000, "deaths": 2},
                 note="村报死亡含外县务工人员，经公安核实本县死亡 2 人")
    assert noted.status_code == 201, noted.get_json()
    county = totals(client, headers, eid, "140105")
    assert (county["basis"], county["figures"]["deaths"]) == ("own", 2)
    # adopting the sum (equal figures) needs no note
    eid2 = new_event(client, headers)
    _villages(client, headers, eid2)
    summed = {k: VILLAGE_A[k] + VILLAGE_B[k] for k in VILLAGE_A}
    assert post(client, headers, eid2, "140105", summed).status_code == 201


def test_people_counts_are_bounded_by_the_region(client, auth, clock):
    headers = auth.token("officer", "140105")
    eid = new_event(client, headers)
    huge = post(client, headers, eid, "140105001200", {"affected_population": 999_999_999, "deaths": 1,
                                                        "collapsed_rooms": 500, "collapsed_households": 401})
    assert huge.status_code == 422
    errors = {e["field"]: e for e in huge.get_json()["errors"]}
    assert errors["figures.affected_population"]["message"] == \
        "受灾人口 999999999 超过区划人口 1200（上限 1 倍，REPORT_POPULATION_HARD_SHARE），不予接受"
    assert errors["figures.collapsed_households"]["rule"] == "region_hard_limit"
    assert "区划户数 400" in errors["figures.collapsed_households"]["message"]
    # a note does not lift a hard limit
    assert post(client, headers, eid, "140105001200", {"affected_population": 1201}, note="确认").status_code == 422
    assert post(client, headers, eid, "140105001200", {"affected_population": 1200}, note="全村受灾").status_code == 201


def test_soft_limits_need_a_note_and_name_the_limit(app, client, auth, clock):
    headers = auth.token("officer", "140105")
    eid = new_event(client, headers)
    soft = post(client, headers, eid, "140105001200", {"affected_population": 1100, "deaths": 30})
    assert soft.status_code == 422
    errors = {e["field"]: e for e in soft.get_json()["errors"]}
    assert errors["figures.deaths"]["rule"] == "region_soft_limit"
    assert errors["figures.deaths"]["message"] == (
        "因灾死亡人口 30 超过区划人口 1200 的 2%（24，REPORT_POPULATION_SOFT_SHARES），须在说明（note）中解释原因")
    assert errors["figures.affected_population"]["rule"] == "region_soft_limit"
    assert "note" in errors
    app.config["REPORT_POPULATION_SOFT_SHARES"] = {"deaths": 0.5}
    assert post(client, headers, eid, "140105001200", {"affected_population": 1100, "deaths": 30}).status_code == 201


def test_the_hard_limit_can_be_turned_off(app, client, auth, clock):
    app.config["REPORT_POPULATION_HARD_SHARE"] = None
    headers = auth.token("officer", "140105")
    eid = new_event(client, headers)
    response = post(client, headers, eid, "140105001200", {"affected_population": 5000}, note="测试")
    assert response.status_code == 201, response.get_json()


def test_a_region_without_population_uses_its_nearest_ancestor(app, client, auth, clock):
    from app.extensions import db
    from app.regions import Region

    with app.app_context():
        db.session.get(Region, "140105001201").population = 0
        db.session.commit()
    headers = auth.token("officer", "140105")
    eid = new_event(client, headers)
    # the township (30,000) bounds the village now
    assert post(client, headers, eid, "140105001201", {"affected_population": 30_001}).status_code == 422
    response = post(client, headers, eid, "140105001201", {"affected_population": 5000})
    assert response.status_code == 201, response.get_json()


def test_one_error_per_bad_field_no_cascades(client, auth, clock):
    headers = auth.token("officer", "140105")
    eid = new_event(client, headers)
    figures = {"affected_population": 150, "deaths": 2, "missing": 1, "injured": 10, "relocated_population": 40,
               "collapsed_rooms": 6}
    assert post(client, headers, eid, "140105001200", figures).status_code == 201
    bad = dict(figures, deaths=-1)
    response = post(client, headers, eid, "140105001200", bad, kind="update", as_of="2026-07-06T09:00:00+08:00")
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [e["field"] for e in errors] == ["figures.deaths"]
    # a field that breaks its limit and jumps at once: one error for it
    jumped = dict(figures, affected_population=5000)
    response = post(client, headers, eid, "140105001200", jumped, kind="update", as_of="2026-07-06T09:00:00+08:00")
    fields = [e["field"] for e in response.get_json()["errors"]]
    assert fields.count("figures.affected_population") == 1 and len(fields) == len(set(fields))


def test_the_form_carries_the_sum_from_below_and_reads_in_english(client, auth, clock):
    import json
    import re

    headers = auth.token("officer", "140105")
    eid = new_event(client, headers)
    _villages(client, headers, eid)
    auth.login("officer", "140105")
    page = client.get(f"/events/{eid}/report?region=140105").get_data(as_text=True)
    config = json.loads(re.search(r'id="form-config">(.*?)</script>', page, re.S).group(1))
    assert config["below"]["140105"]["units"] == 2 and config["below"]["140105"]["figures"]["deaths"] == 13
    assert config["below"]["140105001"]["units"] == 2  # the township too
    assert "140105001200" not in config["below"] and config["previous"]["140105001200"]["figures"]["deaths"] == 8
    assert "汇总下级" in page and "本级填报" in page
    english = client.get(f"/events/{eid}/report?region=140105&lang=en").get_data(as_text=True)
    assert "Adopt the sum from below" in english and "File this unit's own figures" in english
    text = json.loads(re.search(r'id="form-text">(.*?)</script>', english, re.S).group(1))
    assert text["sumBasis"] == "Current total: the sum of {n} reports from units below (as of {time})."
