"""Each unit's clocks (domain.md §3, issue 13 point 5) with frozen clocks: a county added later
owes its initial report 2 h after it was added (or after the first impact given), a county
declared stable owes its verified report while the others still owe updates, the direct report
is a tracked deadline to the province and the nation, and a drought has no 2 h clock."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from app.models_common import AuditEntry
from app.extensions import db
from app.reports import deadlines as dl
from app.reports import direct

SH = ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0):
    return datetime(2026, 7, day, hour, minute, tzinfo=SH)


START = at(6, 6)  # Monday 2026-07-06 06:00
UTC = "+00:00"


def utc(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).isoformat()


# --- The pure schedule ---------------------------------------------------------------------

def test_a_county_added_30_hours_later_is_due_2_hours_after_it_was_added():
    added = START + timedelta(hours=30)  # Tue 7th 12:00
    items = dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140105", "140106"],
                       submissions={}, schedule=dl.Schedule(), now=added + timedelta(minutes=1),
                       unit_started={"140106": added})
    late = [(d.kind, d.due_at, d.status) for d in items if d.region_code == "140106"]
    # its initial is due at 14:00 on the 7th, not overdue since 08:00 on the 6th; its first
    # daily update is the next morning's, none before it was added
    assert late == [("initial", at(7, 14), "due"), ("update", at(8, 9), "due")]
    first = [(d.kind, d.due_at, d.status) for d in items if d.region_code == "140105"]
    assert first == [("initial", at(6, 8), "overdue"), ("update", at(7, 9), "overdue"),
                     ("update", at(8, 9), "due")]


def test_a_county_declared_stable_owes_its_verified_report_while_others_still_update():
    stable = at(8, 15)  # Wednesday
    items = dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140105", "140106"],
                       submissions={}, schedule=dl.Schedule(), now=at(10, 10), parents=_PARENTS,
                       unit_stabilised={"140105": stable})
    stable_county = [(d.kind, d.due_at) for d in items if d.region_code == "140105"]
    # updates up to the stabilisation (the 8th's), then the verified report 5 working days on:
    # Thu 9, Fri 10, Mon 13, Tue 14, Wed 15 at 15:00
    assert stable_county == [("initial", at(6, 8)), ("update", at(7, 9)), ("update", at(8, 9)),
                             ("final", at(15, 15))]
    other = [(d.kind, d.due_at) for d in items if d.region_code == "140106"]
    assert ("final" not in [k for k, _ in other]) and other[-1] == ("update", at(11, 9))
    # the prefecture keeps forwarding daily until every county below it is stable
    city = [(d.kind, d.due_at) for d in items if d.region_code == "140100"]
    assert city[-1] == ("update", at(11, 10)) and "final" not in [k for k, _ in city]

    both = dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140105", "140106"],
                      submissions={}, schedule=dl.Schedule(), now=at(10, 10), parents=_PARENTS,
                      unit_stabilised={"140105": stable, "140106": at(9, 11)})
    finals = {d.region_code: d.due_at for d in both if d.kind == "final"}
    # Taiyuan counts from the later of its counties' verified deadlines (Thu 16 11:00)
    assert finals["140105"] == at(15, 15) and finals["140106"] == at(16, 11)
    assert finals["140100"] == at(23, 11)


_PARENTS = {"140105": "140100", "140106": "140100", "140100": "140000", "140000": None}


def test_the_event_declared_stable_first_wins_over_a_later_county():
    items = dl.compute(started_at=START, stabilised_at=at(7, 12), ended_at=None, counties=["140105"],
                       submissions={}, schedule=dl.Schedule(), now=at(9, 12),
                       unit_stabilised={"140105": at(8, 12)})
    assert items[-1].kind == "final" and items[-1].due_at == at(14, 12)


def test_drought_has_no_two_hour_clock():
    config = {"REPORT_INITIAL_HOURS": 2, "REPORT_DAILY_DUE": "09:00", "REPORT_DROUGHT_INTERVAL_DAYS": 10,
              "REPORT_DROUGHT_INITIAL_DAYS": 10, "REPORT_VERIFIED_WORKING_DAYS": 5}
    drought = dl.Schedule.from_config(config, "drought")
    flood = dl.Schedule.from_config(config, "flood")
    assert flood.drought_initial_days is None and drought.drought_initial_days == 10
    items = dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140105"],
                       submissions={}, schedule=drought, now=at(6, 12))
    # 6 h after the start nothing is overdue: the initial report is owed within the first
    # 10-day period, the 续报 every 10 days
    assert [(d.kind, d.due_at, d.status) for d in items] == [("initial", at(16, 9), "due"),
                                                             ("update", at(16, 9), "due")]
    later = dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140105"],
                       submissions={"140105": [dl.Submission("140105", "initial", at(9, 10))]},
                       schedule=drought, now=at(27, 10), unit_started={"140105": at(8, 14)})
    assert [(d.kind, d.due_at, d.status) for d in later] == [
        ("initial", at(18, 9), "met"), ("update", at(18, 9), "met"), ("update", at(28, 9), "due")]
    config["REPORT_DROUGHT_INITIAL_DAYS"] = 3
    assert dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140105"],
                      submissions={}, schedule=dl.Schedule.from_config(config, "drought"),
                      now=at(6, 12))[0].due_at == at(9, 9)


def test_direct_report_crossing_and_deadlines():
    parents = {"140105001200": "140105001", "140105001201": "140105001", "140105001": "140105",
               "140105": "140100"}
    thresholds = direct.Thresholds(deaths_missing=10, collapsed_rooms=1000, collapsed_households=300)
    filed = [direct.Filed("140105001200", at(6, 7), {"deaths": 6}, at(6, 7)),
             direct.Filed("140105001201", at(6, 8), {"missing": 3}, at(6, 8)),
             direct.Filed("140105001201", at(6, 9), {"missing": 4}, at(6, 9)),
             direct.Filed("140105001200", at(6, 10), {"deaths": 7}, at(6, 10))]
    assert direct.crossed_at("140105", filed, parents.get, thresholds) == at(6, 9)
    assert direct.crossed_at("140105", filed[:2], parents.get, thresholds) is None
    houses = [direct.Filed("140105", at(6, 11), {"collapsed_rooms": 1000}, at(6, 11))]
    assert direct.crossed_at("140105", houses, parents.get, thresholds) == at(6, 11)
    households = [direct.Filed("140105", at(6, 11), {"collapsed_households": 299}, at(6, 11))]
    assert direct.crossed_at("140105", households, parents.get, thresholds) is None

    submissions = {"140105": [dl.Submission("140105001201", "update", at(6, 9)),
                              dl.Submission("140105", "update", at(6, 10, 30))]}
    items = direct.direct_deadlines({"140105": at(6, 9)}, submissions, {"140105": "140000"}, dl.Schedule(),
                                    now=at(6, 12))
    assert [(d.kind, d.to_level, d.reports_to, d.due_at, d.status, d.met_at) for d in items] == [
        ("direct", "province", "140000", at(6, 11), "met", at(6, 10, 30)),
        ("direct", "nation", "000000", at(6, 11), "met", at(6, 10, 30))]
    unmet = direct.direct_deadlines({"140105": at(6, 9)}, {"140105": submissions["140105"][:1]},
                                    {"140105": "140000"}, dl.Schedule(), now=at(6, 12))
    assert {d.status for d in unmet} == {"overdue"}
    assert unmet[0].to_dict()["to_level"] == "province" and unmet[0].to_dict()["reports_to"] == "140000"


# --- Through the API, with a frozen clock ------------------------------------------------------

@pytest.fixture
def clock(app):
    app.config["API_TOKEN_HOURS"] = 24 * 60
    with time_machine.travel(at(6, 6, 30), tick=False) as traveller:
        yield traveller


def _event(client, headers, regions=("140105",), hazard="flood"):
    response = client.post("/api/v1/events", headers=headers, json={
        "name": "太原暴雨", "hazard": hazard, "started_at": START.isoformat(), "region_codes": list(regions)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _report(client, headers, eid, code, kind, moment, **figures):
    response = client.post(f"/api/v1/events/{eid}/reports", headers=headers, json={
        "region_code": code, "kind": kind, "as_of": moment.isoformat(), "figures": figures})
    assert response.status_code == 201, response.get_json()


def _deadlines(client, headers, eid, **query):
    response = client.get(f"/api/v1/events/{eid}/deadlines", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_api_county_added_30_hours_after_the_start(app, client, auth, clock):
    coordinator = auth.token("coordinator", "140000")
    eid = _event(client, coordinator)
    clock.move_to(START + timedelta(hours=30))
    response = client.post(f"/api/v1/events/{eid}/regions", headers=coordinator, json={"region_code": "140106"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["added_at"] is not None and response.get_json()["impact_at"] is None
    assert "140106" in client.get(f"/api/v1/events/{eid}", headers=coordinator).get_json()["region_codes"]
    items = _deadlines(client, coordinator, eid, region_code="140106")
    county = [(d["kind"], d["due_at"], d["status"]) for d in items if d["region_code"] == "140106"]
    assert county == [("initial", utc(at(7, 14)), "due"), ("update", utc(at(8, 9)), "due")]

    # a region whose first impact the clerk gives: due 2 h after that moment
    response = client.post(f"/api/v1/events/{eid}/regions", headers=coordinator,
                           json={"region_code": "140212", "impact_at": at(7, 9).isoformat()})
    assert response.status_code == 201, response.get_json()
    items = _deadlines(client, coordinator, eid, region_code="140212")
    assert [(d["kind"], d["due_at"], d["status"]) for d in items if d["region_code"] == "140212"] == [
        ("initial", utc(at(7, 11)), "overdue"), ("update", utc(at(8, 9)), "due")]
    regions = client.get(f"/api/v1/events/{eid}/regions", headers=coordinator).get_json()["items"]
    assert {r["region_code"]: r["impact_at"] is not None for r in regions} == {
        "140105": False, "140106": False, "140212": True}
    with app.app_context():
        lines = db.session.scalars(select(AuditEntry).filter_by(action="event.add_region")).all()
        assert sorted(line.region_code for line in lines) == ["140106", "140212"]


def test_api_county_declared_stable_while_the_other_still_owes_updates(app, client, auth, clock):
    coordinator = auth.token("coordinator", "140000")
    eid = _event(client, coordinator, regions=("140105", "140106"))
    clock.move_to(at(8, 15))  # Wednesday
    response = client.post(f"/api/v1/events/{eid}/regions/140105/stabilise", headers=coordinator, json={})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["stabilised_at"] is not None
    assert client.get(f"/api/v1/events/{eid}", headers=coordinator).get_json()["status"] == "active"
    clock.move_to(at(9, 10))
    items = _deadlines(client, coordinator, eid)
    stable = [(d["kind"], d["due_at"]) for d in items if d["region_code"] == "140105"]
    assert stable[-1] == ("final", utc(at(15, 15)))  # 5 working days later
    assert ("update", utc(at(9, 9))) not in stable
    other = [(d["kind"], d["due_at"], d["status"]) for d in items if d["region_code"] == "140106"]
    assert ("update", utc(at(9, 9)), "overdue") in other and ("update", utc(at(10, 9)), "due") in other
    assert "final" not in [k for k, _, _ in other]

    again = client.post(f"/api/v1/events/{eid}/regions/140105/stabilise", headers=coordinator, json={})
    assert again.status_code == 409
    assert client.post(f"/api/v1/events/{eid}/regions/140100/stabilise", headers=coordinator,
                       json={}).status_code == 404  # a prefecture: the whole event is declared instead
    future = client.post(f"/api/v1/events/{eid}/regions/140106/stabilise", headers=coordinator,
                         json={"at": at(10, 9).isoformat()})
    assert future.status_code == 422 and future.get_json()["errors"][0]["field"] == "at"
    officer = auth.token("officer", "140106")
    assert client.post(f"/api/v1/events/{eid}/regions/140106/stabilise", headers=officer,
                       json={}).status_code == 403  # coordinators declare stabilisation
    county_coordinator = auth.token("coordinator", "140106", username="co106")
    assert client.post(f"/api/v1/events/{eid}/regions/140106/stabilise", headers=county_coordinator,
                       json={"at": at(9, 8).isoformat()}).status_code == 200
    # every county stable: Taiyuan's own verified report falls due
    finals = {d["region_code"] for d in _deadlines(client, coordinator, eid) if d["kind"] == "final"}
    assert finals == {"140105", "140106", "140100", "140000"}


def test_api_direct_report_is_a_tracked_deadline(app, client, auth, clock):
    coordinator = auth.token("coordinator", "140000")
    eid = _event(client, coordinator, regions=("140105", "140106"))
    clock.move_to(at(6, 7))
    _report(client, coordinator, eid, "140105001200", "initial", at(6, 7), affected_population=50, deaths=6)
    assert not [d for d in _deadlines(client, coordinator, eid) if d["kind"] == "direct"]
    clock.move_to(at(6, 7, 30))
    _report(client, coordinator, eid, "140105001201", "initial", at(6, 7, 20), affected_population=50, missing=4)
    clock.move_to(at(6, 10))
    direct_items = [d for d in _deadlines(client, coordinator, eid) if d["kind"] == "direct"]
    assert [(d["region_code"], d["level"], d["to_level"], d["reports_to"], d["due_at"], d["status"])
            for d in direct_items] == [
        ("140105", "county", "province", "140000", utc(at(6, 9, 30)), "overdue"),
        ("140105", "county", "nation", "000000", utc(at(6, 9, 30)), "overdue")]
    # the county files its own report: both are met (late)
    _report(client, coordinator, eid, "140105", "initial", at(6, 10), affected_population=100, deaths=6, missing=4)
    direct_items = [d for d in _deadlines(client, coordinator, eid) if d["kind"] == "direct"]
    assert {(d["status"], d["late"]) for d in direct_items} == {("met", True)}
    # mass house collapse, with a configured threshold
    app.config["REPORT_DIRECT_COLLAPSED_ROOMS"] = 200
    _report(client, coordinator, eid, "140106", "initial", at(6, 10), affected_population=900,
            collapsed_rooms=250, collapsed_households=80)
    houses = [d for d in _deadlines(client, coordinator, eid, region_code="140106") if d["kind"] == "direct"]
    assert [(d["to_level"], d["status"]) for d in houses] == [("province", "met"), ("nation", "met")]
    # the county's officer sees them, and the overdue list names them
    officer = auth.token("officer", "140105")
    assert {d["to_level"] for d in _deadlines(client, officer, eid) if d["kind"] == "direct"} == {
        "province", "nation"}


def test_api_drought_initial_has_no_two_hour_clock(app, client, auth, clock):
    coordinator = auth.token("coordinator", "140000")
    eid = _event(client, coordinator, hazard="drought")
    clock.move_to(at(6, 12))
    county = [d for d in _deadlines(client, coordinator, eid) if d["region_code"] == "140105"]
    assert [(d["kind"], d["due_at"], d["status"]) for d in county] == [
        ("initial", utc(at(16, 9)), "due"), ("update", utc(at(16, 9)), "due")]


def test_api_adding_and_withdrawing_regions_refusals(app, client, auth, clock):
    coordinator = auth.token("coordinator", "140000")
    eid = _event(client, coordinator, regions=("140100",))
    url = f"/api/v1/events/{eid}/regions"
    covered = client.post(url, headers=coordinator, json={"region_code": "140105"})
    assert covered.status_code == 409 and covered.get_json()["errors"][0]["field"] == "region_code"
    unknown = client.post(url, headers=coordinator, json={"region_code": "140199", "impact_at": "x"})
    assert unknown.status_code == 422
    assert {e["field"] for e in unknown.get_json()["errors"]} == {"region_code", "impact_at"}
    before = client.post(url, headers=coordinator, json={"region_code": "140212",
                                                         "impact_at": at(5, 12).isoformat()})
    assert before.status_code == 422 and before.get_json()["errors"][0]["field"] == "impact_at"
    assert client.post(url, headers=coordinator, json={"region_code": "650100"}).status_code == 403
    assert client.post(url, headers=coordinator, json={}).status_code == 422

    assert client.post(url, headers=coordinator, json={"region_code": "140212"}).status_code == 201
    withdraw = f"/api/v1/events/{eid}/regions/140212/withdraw"
    nameless = client.post(withdraw, headers=coordinator, json={})
    assert nameless.status_code == 422 and nameless.get_json()["errors"][0]["field"] == "reason"
    assert client.post(f"/api/v1/events/{eid}/regions/140106/withdraw", headers=coordinator,
                       json={"reason": "误加"}).status_code == 404  # not one of the event's regions
    done = client.post(withdraw, headers=coordinator, json={"reason": "误加：大同未受灾"})
    assert done.status_code == 200 and done.get_json()["withdraw_reason"] == "误加：大同未受灾"
    assert client.get(f"/api/v1/events/{eid}", headers=coordinator).get_json()["region_codes"] == ["140100"]
    assert "140212" not in {d["region_code"] for d in _deadlines(client, coordinator, eid)}
    listed = {r["region_code"]: r for r in client.get(url, headers=coordinator).get_json()["items"]}
    assert listed["140212"]["affected"] is False and listed["140212"]["withdrawn_at"] is not None
    with app.app_context():
        line = db.session.scalar(select(AuditEntry).filter_by(action="event.withdraw_region"))
        assert line.region_code == "140212" and line.note == "误加：大同未受灾"

    last = client.post(f"/api/v1/events/{eid}/regions/140100/withdraw", headers=coordinator,
                       json={"reason": "误加"})
    assert last.status_code == 409  # the only region
    # a region with reports beneath it stays
    assert client.post(url, headers=coordinator, json={"region_code": "140212"}).status_code == 201
    _report(client, coordinator, eid, "140212", "initial", at(6, 6, 20), affected_population=5)
    assert client.post(withdraw, headers=coordinator, json={"reason": "误加"}).status_code == 409

    officer = auth.token("officer", "140106")
    assert client.post(url, headers=officer, json={"region_code": "140212"}).status_code in (403, 409)
    assert client.post(f"/api/v1/events/{eid}/stabilise", headers=coordinator, json={}).status_code == 200
    stable = client.post(url, headers=coordinator, json={"region_code": "140106"})
    assert stable.status_code == 409  # a stable event takes no new region
    assert client.post(f"/api/v1/events/{eid}/close", headers=coordinator, json={}).status_code == 200
    assert client.post(url, headers=coordinator, json={"region_code": "650100"}).status_code == 409
    assert client.post(f"/api/v1/events/{eid}/regions/140212/withdraw", headers=coordinator,
                       json={"reason": "误加"}).status_code == 409


# --- The event page ----------------------------------------------------------------------------

def test_event_page_adds_a_county_and_declares_it_stable(app, client, auth, clock):
    auth.user("coordinator", "140000", username="co_prov")
    with app.app_context():
        from app.auth.models import User
        from app.reports.service import create_event

        user = db.session.scalar(select(User).filter_by(username="co_prov"))
        eid = create_event(user, {"name": "太原暴雨", "hazard": "flood", "started_at": START.isoformat(),
                                  "region_codes": ["140105"]}).id
    clock.move_to(START + timedelta(hours=30))
    auth.login("coordinator", "140000", username="co_prov")
    page = client.get(f"/events/{eid}").get_data(as_text=True)
    assert 'id="units"' in page and 'id="add-region-code"' in page
    assert '<option value="140106">迎泽区</option>' in page and '<option value="140212">新荣区</option>' in page
    assert '<option value="140105">' not in page.split('id="add-region-code"')[1].split("</select>")[0]
    response = client.post(f"/events/{eid}/regions", data={"region_code": "140106", "impact_at": ""},
                           follow_redirects=True)
    assert response.status_code == 200 and "已新增受灾区划" in response.get_data(as_text=True)
    refused = client.post(f"/events/{eid}/regions", data={"region_code": "140106"}, follow_redirects=True)
    assert "已在受灾范围内" in refused.get_data(as_text=True)
    response = client.post(f"/events/{eid}/regions/stabilise", data={"region_code": "140105", "at": ""},
                           follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "已宣布该县灾情稳定" in text and "续报中" in text and "后加入" in text


def test_mass_house_collapse_alerts_and_an_overdue_direct_report_is_notified(app, client, auth, clock):
    from app.notifications import Notification
    from app.reports.jobs import check_deadlines

    coordinator = auth.token("coordinator", "140000", username="co_prov")
    auth.user("coordinator", "000000", username="co_nation")
    auth.user("officer", "140105", username="off105")
    eid = _event(client, coordinator)
    _report(client, coordinator, eid, "140105001200", "initial", at(6, 6, 20), affected_population=1000,
            collapsed_rooms=1200, collapsed_households=350)
    with app.app_context():
        check_deadlines(at(6, 6, 40))
        rows = db.session.scalars(select(Notification).filter_by(kind="direct_report")).all()
        assert len(rows) == 2 and "房屋大量倒塌" in rows[0].title
        # crossed by a village's report at 06:30: the county's own direct report was due 08:30
        check_deadlines(at(6, 8, 31))
        overdue = db.session.scalars(select(Notification).filter(
            Notification.dedupe_key.like(f"overdue:{eid}:140105:direct:%"))).all()
        assert overdue and all("直报" in n.title for n in overdue)


def test_event_page_states_the_drought_and_direct_rules(app, client, auth, clock):
    coordinator = auth.token("coordinator", "140000", username="co_prov")
    drought = _event(client, coordinator, hazard="drought")
    flood = _event(client, coordinator)
    auth.login("coordinator", "140000", username="co_prov")
    text = client.get(f"/events/{drought}").get_data(as_text=True)
    assert "旱灾不适用 2 小时时限：初报于旱情初显后 10 日内" in text
    assert "县因灾死亡失踪达 10 人，或倒塌房屋达 1000 间或 300 户时" in text
    assert 'id="drought-rule"' not in client.get(f"/events/{flood}").get_data(as_text=True)
