"""Statutory deadlines (domain.md §3) with frozen clocks: the pure schedule, the API, rates,
the scheduled overdue check and the direct-report alert."""
from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.notifications import Notification
from app.reports import deadlines as dl

SH = ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0):
    return datetime(2026, 7, day, hour, minute, tzinfo=SH)


START = at(6, 6)  # Monday 2026-07-06 06:00


def sub(code, kind, moment):
    return dl.Submission(code, kind, moment)


def by_key(items):
    return {(d.region_code, d.kind, d.due_at): d for d in items}


# --- The pure schedule ---------------------------------------------------------------------

def test_initial_and_daily_updates_until_now():
    submissions = {
        "140105": [sub("140105001200", "initial", at(6, 7, 30)), sub("140105001200", "update", at(7, 8)),
                   sub("140105001201", "update", at(8, 9, 30))],
        "140106": [sub("140106", "initial", at(6, 9))],
    }
    items = dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140106", "140105"],
                       submissions=submissions, schedule=dl.Schedule(), now=at(8, 10))
    assert [(d.region_code, d.kind, d.due_at) for d in items] == [
        ("140105", "initial", at(6, 8)), ("140105", "update", at(7, 9)), ("140105", "update", at(8, 9)),
        ("140105", "update", at(9, 9)),
        ("140106", "initial", at(6, 8)), ("140106", "update", at(7, 9)), ("140106", "update", at(8, 9)),
        ("140106", "update", at(9, 9)),
    ]
    got = by_key(items)
    assert got[("140105", "initial", at(6, 8))].status == "met"
    assert got[("140105", "initial", at(6, 8))].met_at == at(6, 7, 30)
    assert not got[("140105", "initial", at(6, 8))].late
    assert got[("140105", "update", at(7, 9))].met_at == at(7, 8)
    late = got[("140105", "update", at(8, 9))]
    assert late.status == "met" and late.late and late.met_at == at(8, 9, 30)
    assert got[("140105", "update", at(9, 9))].status == "due"
    assert got[("140106", "initial", at(6, 8))].late
    assert got[("140106", "update", at(7, 9))].status == "overdue"
    assert got[("140106", "update", at(8, 9))].status == "overdue"
    assert got[("140106", "update", at(9, 9))].status == "due"
    assert got[("140106", "update", at(9, 9))].to_dict() == {
        "region_code": "140106", "level": "county", "kind": "update", "due_at": "2026-07-09T01:00:00+00:00",
        "status": "due", "met_at": None, "late": False}


def test_initial_due_is_overdue_until_filed():
    items = dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140105"],
                       submissions={}, schedule=dl.Schedule(), now=at(6, 7, 59))
    assert [(d.kind, d.status) for d in items] == [("initial", "due"), ("update", "due")]
    items = dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140105"],
                       submissions={}, schedule=dl.Schedule(), now=at(6, 8, 1))
    assert items[0].status == "overdue" and items[0].met_at is None


def test_report_of_the_evening_before_belongs_to_that_day():
    """The report due at 09:00 on day D covers up to 24:00 of D−1 and may be filed from 00:00 of D."""
    submissions = {"140105": [sub("140105", "initial", at(6, 7)), sub("140105", "update", at(7, 23))]}
    items = by_key(dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140105"],
                              submissions=submissions, schedule=dl.Schedule(), now=at(8, 12)))
    day7 = items[("140105", "update", at(7, 9))]
    assert day7.status == "met" and day7.late and day7.met_at == at(7, 23)
    assert items[("140105", "update", at(8, 9))].status == "overdue"


def test_stabilisation_stops_updates_and_starts_verified():
    submissions = {"140105": [sub("140105001200", "initial", at(6, 7)), sub("140105001200", "final", at(13, 10))]}
    items = dl.compute(started_at=START, stabilised_at=at(8, 12), ended_at=None, counties=["140105"],
                       submissions=submissions, schedule=dl.Schedule(), now=at(20, 12))
    assert [(d.kind, d.due_at) for d in items] == [("initial", at(6, 8)), ("update", at(7, 9)),
                                                   ("update", at(8, 9)), ("final", at(15, 12))]
    final = items[-1]
    # the only reporting region filed its verified report: the county's is met
    assert final.status == "met" and final.met_at == at(13, 10)


def test_verified_needs_every_reporting_region_or_the_county_itself():
    base = [sub("140105001200", "initial", at(6, 7)), sub("140105001201", "initial", at(6, 7)),
            sub("140105001200", "final", at(9, 10))]
    kwargs = dict(started_at=START, stabilised_at=at(8, 12), ended_at=None, counties=["140105"],
                  schedule=dl.Schedule(), now=at(16, 12))
    final = dl.compute(submissions={"140105": base}, **kwargs)[-1]
    assert final.kind == "final" and final.status == "overdue"
    final = dl.compute(submissions={"140105": base + [sub("140105", "final", at(14, 8))]}, **kwargs)[-1]
    assert final.status == "met" and final.met_at == at(14, 8)


@pytest.mark.parametrize("holidays, extra, due_day", [
    ((), (), 15),                           # Thu 9, Fri 10, Mon 13, Tue 14, Wed 15
    (("2026-07-10",), (), 16),              # Friday is a holiday
    (("2026-07-10",), ("2026-07-11",), 15),  # … made up on Saturday (调休)
])
def test_working_days_with_holidays(holidays, extra, due_day):
    config = {"REPORT_INITIAL_HOURS": 2, "REPORT_DAILY_DUE": "09:00", "REPORT_DROUGHT_INTERVAL_DAYS": 10,
              "REPORT_VERIFIED_WORKING_DAYS": 5, "HOLIDAYS": list(holidays), "EXTRA_WORKDAYS": list(extra)}
    schedule = dl.Schedule.from_config(config, "flood")
    items = dl.compute(started_at=START, stabilised_at=at(8, 12), ended_at=None, counties=["140105"],
                       submissions={}, schedule=schedule, now=at(8, 12))
    assert items[-1].kind == "final" and items[-1].due_at == at(due_day, 12)


def test_stabilised_on_a_weekend_counts_from_monday():
    items = dl.compute(started_at=START, stabilised_at=at(11, 15), ended_at=None, counties=["140105"],
                       submissions={}, schedule=dl.Schedule(), now=at(11, 15))
    assert items[-1].due_at == at(17, 15)  # Mon 13 … Fri 17


def test_drought_every_ten_days():
    schedule = dl.Schedule.from_config({"REPORT_INITIAL_HOURS": 2, "REPORT_DAILY_DUE": "09:00",
                                        "REPORT_DROUGHT_INTERVAL_DAYS": 10,
                                        "REPORT_VERIFIED_WORKING_DAYS": 5}, "drought")
    assert schedule.periodic_days == 10
    submissions = {"140105": [sub("140105", "initial", at(6, 7)), sub("140105", "update", at(7, 0, 30))]}
    items = dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140105"],
                       submissions=submissions, schedule=schedule, now=at(27, 10))
    updates = [d for d in items if d.kind == "update"]
    assert [d.due_at for d in updates] == [at(16, 9), at(26, 9), datetime(2026, 8, 5, 9, tzinfo=SH)]
    # the report of day 7 falls in the first 10-day period; the second period has none
    assert updates[0].status == "met" and updates[0].met_at == at(7, 0, 30)
    assert updates[1].status == "overdue" and updates[2].status == "due"


def test_configurable_hours_and_due_time():
    config = {"REPORT_INITIAL_HOURS": 3, "REPORT_DAILY_DUE": "10:30", "REPORT_DROUGHT_INTERVAL_DAYS": 10,
              "REPORT_VERIFIED_WORKING_DAYS": 2}
    schedule = dl.Schedule.from_config(config, "earthquake")
    assert schedule.daily_due == time(10, 30) and schedule.periodic_days == 1
    items = dl.compute(started_at=START, stabilised_at=at(7, 12), ended_at=None, counties=["140105"],
                       submissions={}, schedule=schedule, now=at(7, 12))
    assert [(d.kind, d.due_at) for d in items] == [("initial", at(6, 9)), ("update", at(7, 10, 30)),
                                                   ("final", at(9, 12))]


def test_closed_without_stabilisation_stops_at_closing():
    items = dl.compute(started_at=START, stabilised_at=None, ended_at=at(7, 12), counties=["140105"],
                       submissions={}, schedule=dl.Schedule(), now=at(20, 0))
    assert [d.kind for d in items] == ["initial", "update"]


# --- Forwarding by the prefecture and the province (逐级上报) ------------------------------------

PARENTS = {"140105": "140100", "140106": "140100", "140100": "140000", "140000": None}


def test_prefecture_and_province_forward_initial_and_daily_updates():
    submissions = {
        "140105": [sub("140105", "initial", at(6, 7, 30))],
        "140106": [sub("140106", "initial", at(6, 9))],
        # the prefecture forwards its reviewed figures on time; the province late
        "140100": [sub("140100", "initial", at(6, 9)), sub("140100", "update", at(7, 9, 50))],
        "140000": [sub("140000", "initial", at(6, 12))],
    }
    items = dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140105", "140106"],
                       submissions=submissions, schedule=dl.Schedule(), now=at(7, 13), parents=PARENTS)
    upper = [(d.region_code, d.level, d.kind, d.due_at, d.status) for d in items if d.level != "county"]
    assert upper == [
        # 2 h after the first county report reached it (07:30), not after the county deadline
        ("140100", "prefecture", "initial", at(6, 9, 30), "met"),
        ("140100", "prefecture", "update", at(7, 10), "met"),
        ("140100", "prefecture", "update", at(8, 10), "due"),
        # 2 h after the prefecture's report (09:00)
        ("140000", "province", "initial", at(6, 11), "met"),
        ("140000", "province", "update", at(7, 12), "overdue"),
        ("140000", "province", "update", at(8, 12), "due"),
    ]
    got = by_key(items)
    assert got[("140000", "initial", at(6, 11))].late and not got[("140100", "initial", at(6, 9, 30))].late
    assert got[("140100", "update", at(7, 10))].to_dict()["level"] == "prefecture"
    # the counties come first and are unchanged by the units above
    assert [d.level for d in items[:6]] == ["county"] * 6


def test_a_silent_county_does_not_hold_the_forwarding_deadline_open():
    items = dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140105", "140106"],
                       submissions={}, schedule=dl.Schedule(), now=at(6, 13), parents=PARENTS)
    initial = {d.region_code: d for d in items if d.kind == "initial"}
    assert initial["140100"].due_at == at(6, 10) and initial["140100"].status == "overdue"
    assert initial["140000"].due_at == at(6, 12) and initial["140000"].status == "overdue"


def test_a_report_beneath_the_prefecture_is_not_its_forwarding():
    """Only a report for the prefecture's own region code meets its deadline."""
    submissions = {"140105": [sub("140105", "initial", at(6, 7))],
                   "140100": [sub("140105", "initial", at(6, 7))]}  # misfiled: not the prefecture's own
    items = dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140105"],
                       submissions=submissions, schedule=dl.Schedule(), now=at(6, 10),
                       parents={"140105": "140100", "140100": "140000"})
    prefecture = next(d for d in items if d.region_code == "140100" and d.kind == "initial")
    assert prefecture.status == "overdue" and prefecture.met_at is None


def test_verified_forwarding_counts_from_the_level_below():
    submissions = {
        "140105": [sub("140105", "initial", at(6, 7)), sub("140105", "final", at(9, 10))],
        "140106": [sub("140106", "initial", at(6, 7)), sub("140106", "final", at(10, 15))],
        "140100": [sub("140100", "initial", at(6, 8)), sub("140100", "final", at(16, 9))],
    }
    items = dl.compute(started_at=START, stabilised_at=at(8, 12), ended_at=None, counties=["140105", "140106"],
                       submissions=submissions, schedule=dl.Schedule(), now=at(20, 12), parents=PARENTS)
    finals = {d.region_code: d for d in items if d.kind == "final"}
    assert finals["140105"].due_at == finals["140106"].due_at == at(15, 12)  # Wed 8 + 5 working days
    # every county was in on Fri 10 15:00 → 5 working days: Fri 17 15:00
    assert finals["140100"].due_at == at(17, 15) and finals["140100"].status == "met"
    # the province counts from the prefecture's filing (Thu 16 09:00): Thu 23 09:00
    assert finals["140000"].due_at == at(23, 9) and finals["140000"].status == "due"


def test_county_directly_under_the_province():
    """A county directly under the province (省直辖县) reports to the province."""
    parents = {"140105": "140100", "140100": "140000", "149001": "140000"}
    submissions = {"149001": [sub("149001", "initial", at(6, 6, 30))]}
    items = dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140105", "149001"],
                       submissions=submissions, schedule=dl.Schedule(), now=at(6, 7), parents=parents)
    initial = {d.region_code: d for d in items if d.kind == "initial"}
    assert set(initial) == {"140105", "149001", "140100", "140000"}
    assert initial["140000"].due_at == at(6, 8, 30)  # from the direct county's 06:30 report


def test_levels_configurable_with_the_older_verified_rule():
    config = {"REPORT_INITIAL_HOURS": 2, "REPORT_DROUGHT_INTERVAL_DAYS": 10, "REPORT_FORWARD_HOURS": 1,
              "REPORT_DAILY_DUE": {"county": "08:00", "province": "11:00"},
              "REPORT_VERIFIED_WORKING_DAYS": {"county": 2, "prefecture": 3, "province": 5}}
    schedule = dl.Schedule.from_config(config, "flood")
    assert [schedule.due_time(level) for level in dl.LEVELS] == [time(8), time(10), time(11)]
    assert [schedule.verified_days(level) for level in dl.LEVELS] == [2, 3, 5]
    items = dl.compute(started_at=START, stabilised_at=at(8, 12), ended_at=None, counties=["140105"],
                       submissions={}, schedule=schedule, now=at(8, 12),
                       parents={"140105": "140100", "140100": "140000"})
    finals = [(d.region_code, d.due_at) for d in items if d.kind == "final"]
    # Wed 8 +2 → Fri 10; +3 → Wed 15; +5 → Wed 22
    assert finals == [("140105", at(10, 12)), ("140100", at(15, 12)), ("140000", at(22, 12))]
    initial = [(d.region_code, d.due_at) for d in items if d.kind == "initial"]
    assert initial == [("140105", at(6, 8)), ("140100", at(6, 9)), ("140000", at(6, 10))]
    with pytest.raises(ValueError, match="unknown levels"):
        dl.Schedule.from_config({**config, "REPORT_DAILY_DUE": {"town": "08:00"}}, "flood")


def test_municipalities_and_province_administered_groupings_are_not_a_level():
    """Beijing's districts sit under 110100 (市辖区), Hubei's 429004 under 429000 (省直辖县级行政区划):
    neither grouping forwards; the counties report to the province."""
    parents = {"110101": "110100", "110102": "110100", "110100": "110000",
               "429004": "429000", "429000": "420000", "420102": "420100", "420100": "420000"}
    submissions = {"110101": [sub("110101", "initial", at(6, 6, 30))]}
    items = dl.compute(started_at=START, stabilised_at=None, ended_at=None,
                       counties=["110101", "110102", "429004", "420102"], submissions=submissions,
                       schedule=dl.Schedule(), now=at(6, 7), parents=parents)
    units = {(d.region_code, d.level) for d in items if d.level != "county"}
    assert units == {("110000", "province"), ("420100", "prefecture"), ("420000", "province")}
    initial = {d.region_code: d for d in items if d.kind == "initial"}
    assert initial["110000"].due_at == at(6, 8, 30)  # 2 h after the district's own report
    reports_to = {d.region_code: d.reports_to for d in items if d.kind == "initial"}
    assert reports_to == {"110101": "110000", "110102": "110000", "429004": "420000", "420102": "420100",
                          "420100": "420000", "110000": None, "420000": None}
    assert dl.is_pass_through("110100") and dl.is_pass_through("429000")
    assert not dl.is_pass_through("140100") and not dl.is_pass_through("110000")


def test_stabilised_between_the_county_and_the_province_due_times():
    """Stable at 09:30: the counties' 09:00 update of that day is still forwarded at 10:00 and 12:00."""
    items = dl.compute(started_at=START, stabilised_at=at(8, 9, 30), ended_at=None, counties=["140105"],
                       submissions={}, schedule=dl.Schedule(), now=at(8, 13),
                       parents={"140105": "140100", "140100": "140000"})
    updates = [(d.region_code, d.due_at) for d in items if d.kind == "update"]
    assert updates == [("140105", at(7, 9)), ("140105", at(8, 9)), ("140100", at(7, 10)), ("140100", at(8, 10)),
                       ("140000", at(7, 12)), ("140000", at(8, 12))]


def test_upper_updates_count_only_the_units_own_filings():
    submissions = {"140105": [sub("140105", "initial", at(6, 7)), sub("140105", "update", at(7, 8))],
                   "140100": [sub("140100", "initial", at(6, 8)), sub("140105", "update", at(7, 8))]}
    items = dl.compute(started_at=START, stabilised_at=None, ended_at=None, counties=["140105"],
                       submissions=submissions, schedule=dl.Schedule(), now=at(7, 11),
                       parents={"140105": "140100", "140100": "140000"})
    update = next(d for d in items if d.region_code == "140100" and d.kind == "update")
    assert update.status == "overdue" and update.met_at is None


def test_rates():
    items = [
        dl.Deadline("140105", "initial", at(6, 8), "met", at(6, 7)),
        dl.Deadline("140105", "update", at(7, 9), "met", at(7, 10)),
        dl.Deadline("140106", "initial", at(6, 8), "overdue"),
        dl.Deadline("140212", "initial", at(6, 8), "met", at(6, 8)),
        dl.Deadline("140212", "update", at(9, 9), "due"),  # not yet due: not counted
    ]
    units = {"140105": ["140100", "140000"], "140106": ["140100", "140000"], "140212": ["140200", "140000"]}
    rates = dl.rates(items, units, now=at(8, 0))
    taiyuan = rates["140100"].to_dict()
    assert (taiyuan["fallen_due"], taiyuan["met"], taiyuan["on_time"], taiyuan["overdue"]) == (3, 2, 1, 1)
    assert taiyuan["completeness"] == pytest.approx(0.6667) and taiyuan["timeliness"] == pytest.approx(0.3333)
    assert taiyuan["by_kind"]["initial"] == {"fallen_due": 2, "met": 1, "on_time": 1}
    province = rates["140000"]
    assert (province.fallen_due, province.met, province.on_time) == (4, 3, 2)
    assert rates["140200"].completeness == 1.0 and rates["140200"].timeliness == 1.0


# --- Through the API -------------------------------------------------------------------------

@pytest.fixture
def clock(app):
    app.config["API_TOKEN_HOURS"] = 24 * 60  # the clock moves on for days
    with time_machine.travel(at(6, 6, 30), tick=False) as traveller:
        yield traveller


def _report(client, headers, eid, code, kind, as_of, **figures):
    response = client.post(f"/api/v1/events/{eid}/reports", headers=headers, json={
        "region_code": code, "kind": kind, "as_of": as_of.isoformat(), "figures": figures})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _event(client, headers, **extra):
    body = {"name": "太原暴雨", "hazard": "flood", "started_at": START.isoformat(), "region_codes": ["140100"],
            **extra}
    response = client.post("/api/v1/events", json=body, headers=headers)
    assert response.status_code == 201
    return response.get_json()["id"]


def test_deadlines_and_timeliness_api(app, client, auth, clock):
    coordinator = auth.token("coordinator", "140000")
    eid = _event(client, coordinator)
    clock.move_to(at(6, 7, 30))
    _report(client, coordinator, eid, "140105001200", "initial", at(6, 7), affected_population=10)
    clock.move_to(at(6, 9))
    _report(client, coordinator, eid, "140106", "initial", at(6, 8, 30), affected_population=5)
    clock.move_to(at(7, 8))
    _report(client, coordinator, eid, "140105001200", "update", at(7, 0), affected_population=12)
    clock.move_to(at(8, 9, 30))
    _report(client, coordinator, eid, "140105001201", "initial", at(8, 0), affected_population=3)
    clock.move_to(at(8, 10))

    response = client.get(f"/api/v1/events/{eid}/deadlines", headers=coordinator)
    assert response.status_code == 200
    everything = response.get_json()
    items = [d for d in everything if d["level"] == "county"]
    assert isinstance(everything, list) and len(items) == 8
    first = items[0]
    assert set(first) >= {"region_code", "kind", "due_at", "status", "met_at"}
    assert first == {"region_code": "140105", "level": "county", "kind": "initial",
                     "due_at": "2026-07-06T00:00:00+00:00", "status": "met",
                     "met_at": "2026-07-05T23:30:00+00:00", "late": False}
    statuses = [(d["region_code"], d["kind"], d["status"]) for d in items]
    assert statuses == [
        ("140105", "initial", "met"), ("140105", "update", "met"), ("140105", "update", "met"),
        ("140105", "update", "due"),
        ("140106", "initial", "met"), ("140106", "update", "overdue"), ("140106", "update", "overdue"),
        ("140106", "update", "due")]
    # Taiyuan and Shanxi forward: nothing filed for their own codes yet
    upper = [(d["region_code"], d["kind"], d["due_at"], d["status"]) for d in everything if d["level"] != "county"]
    assert upper == [
        ("140100", "initial", "2026-07-06T01:30:00+00:00", "overdue"),  # 07:30 + 2 h
        ("140100", "update", "2026-07-07T02:00:00+00:00", "overdue"),
        ("140100", "update", "2026-07-08T02:00:00+00:00", "due"),  # 10:00 sharp: not yet late
        ("140100", "update", "2026-07-09T02:00:00+00:00", "due"),
        ("140000", "initial", "2026-07-06T03:30:00+00:00", "overdue"),
        ("140000", "update", "2026-07-07T04:00:00+00:00", "overdue"),
        ("140000", "update", "2026-07-08T04:00:00+00:00", "due"),
    ]
    overdue = client.get(f"/api/v1/events/{eid}/deadlines?status=overdue", headers=coordinator).get_json()
    assert [d["due_at"] for d in overdue if d["level"] == "county"] == [
        "2026-07-07T01:00:00+00:00", "2026-07-08T01:00:00+00:00"]
    only = client.get(f"/api/v1/events/{eid}/deadlines?region_code=140105", headers=coordinator).get_json()
    assert {d["region_code"] for d in only} == {"140105"}
    city = client.get(f"/api/v1/events/{eid}/deadlines?region_code=140100", headers=coordinator).get_json()
    assert {d["region_code"] for d in city} == {"140100", "140105", "140106"}
    village = client.get(f"/api/v1/events/{eid}/deadlines?region_code=140105001200",
                         headers=coordinator).get_json()
    assert {d["region_code"] for d in village} == {"140105"}
    assert client.get(f"/api/v1/events/{eid}/deadlines?status=x", headers=coordinator).status_code == 422
    # an officer of 140106 sees only their county's deadlines
    officer = auth.token("officer", "140106")
    assert {d["region_code"] for d in client.get(f"/api/v1/events/{eid}/deadlines",
                                                 headers=officer).get_json()} == {"140106"}

    rates = client.get(f"/api/v1/events/{eid}/timeliness", headers=coordinator).get_json()
    units = {u["region_code"]: u for u in rates["units"]}
    assert set(units) == {"140000", "140100"}
    taiyuan = units["140100"]
    assert taiyuan["name"] == "太原市" and taiyuan["level"] == "prefecture"
    # fallen due: the counties' 2 initial + 4 updates, met 140105 ×3 (one late) and 140106's
    # initial (late); and Taiyuan's own initial + 2 updates, none met
    assert (taiyuan["fallen_due"], taiyuan["met"], taiyuan["on_time"], taiyuan["overdue"]) == (9, 4, 2, 5)
    assert taiyuan["completeness"] == pytest.approx(4 / 9, abs=1e-4)
    assert taiyuan["timeliness"] == pytest.approx(2 / 9, abs=1e-4)
    assert units["140000"]["fallen_due"] == 9 + 2

    # Taiyuan files figures for its own region (also a forwarding): its initial is met, late, and
    # so is its 10:00 update of the 8th (filed at 10:00, within the day's window)
    _report(client, coordinator, eid, "140100", "initial", at(8, 0), affected_population=25)  # ≥ the sum from below
    items = client.get(f"/api/v1/events/{eid}/deadlines?region_code=140100", headers=coordinator).get_json()
    own = [(d["kind"], d["status"], d["late"]) for d in items if d["region_code"] == "140100"]
    assert own == [("initial", "met", True), ("update", "overdue", False), ("update", "met", False),
                   ("update", "due", False)]

    # stabilise: the next update is no longer due; the verified reports are
    clock.move_to(at(8, 12))
    assert client.post(f"/api/v1/events/{eid}/stabilise", json={"at": at(8, 12).isoformat()},
                       headers=coordinator).status_code == 200
    items = client.get(f"/api/v1/events/{eid}/deadlines", headers=coordinator).get_json()
    assert [d["kind"] for d in items if d["region_code"] == "140106"] == ["initial", "update", "update", "final"]
    finals = {d["region_code"]: d["due_at"] for d in items if d["kind"] == "final"}
    assert finals == {"140105": "2026-07-15T04:00:00+00:00", "140106": "2026-07-15T04:00:00+00:00",
                      # 5 working days after each level below was due: Wed 15, Wed 22, Wed 29
                      "140100": "2026-07-22T04:00:00+00:00", "140000": "2026-07-29T04:00:00+00:00"}


def test_counties_of_the_event(app, client, auth, clock):
    coordinator = auth.token("coordinator", "140000")
    # a province: every county beneath; a village: its county
    eid = _event(client, coordinator, region_codes=["140200", "140105001200"])
    items = client.get(f"/api/v1/events/{eid}/deadlines", headers=coordinator).get_json()
    assert {d["region_code"] for d in items if d["level"] == "county"} == {"140212", "140105"}
    # and the prefectures and the province above them forward
    assert {(d["region_code"], d["level"]) for d in items if d["level"] != "county"} == {
        ("140100", "prefecture"), ("140200", "prefecture"), ("140000", "province")}


def test_check_deadlines_notifies_overdue_once(app, client, auth, clock):
    from app.reports.jobs import check_deadlines

    coordinator = auth.token("coordinator", "140000")
    eid = _event(client, coordinator)
    officer_105 = auth.user("officer", "140105", username="off105")
    auth.user("officer", "140106", username="off106")
    auth.user("coordinator", "140100", username="co_city")
    clock.move_to(at(6, 7))
    _report(client, coordinator, eid, "140105", "initial", at(6, 7))
    with app.app_context():
        # 07:30: nothing overdue yet
        assert check_deadlines(at(6, 7, 30)) == 0
        # 08:30: 140106's initial is overdue → its officer and the city coordinator
        assert check_deadlines(at(6, 8, 30)) == 2
        assert check_deadlines(at(6, 8, 31)) == 0  # idempotent
        rows = db.session.scalars(select(Notification).filter_by(kind="report_overdue")).all()
        recipients = sorted(n.user_id for n in rows)
        from app.auth.models import User

        names = sorted(db.session.get(User, uid).username for uid in recipients)
        assert names == ["co_city", "off106"]
        assert "迎泽区" in rows[0].title and "初报" in rows[0].title
        assert officer_105 not in names
        # next morning: both counties miss the 09:00 update → 2 items × 2 recipients each;
        # Taiyuan has not forwarded its initial report (due 09:00 on the 6th: the city and the
        # province coordinators), nor Shanxi (due 11:00: the province coordinator)
        assert check_deadlines(at(7, 9, 1)) == 4 + 2 + 1
        assert check_deadlines(at(7, 9, 2)) == 0
        province_coordinator = db.session.scalars(select(User.username).filter_by(region_code="140000")).one()
        forwarding = db.session.scalars(select(Notification).filter(
            Notification.dedupe_key.like(f"overdue:{eid}:140100:%"))).all()
        assert sorted(db.session.get(User, n.user_id).username for n in forwarding) == ["co_city", province_coordinator]
        assert "太原市" in forwarding[0].title


def test_direct_report_alert_to_province_and_nation_once(app, client, auth, clock):
    coordinator = auth.token("coordinator", "140000", username="co_prov")
    auth.user("coordinator", "000000", username="co_nation")
    auth.user("coordinator", "140100", username="co_city")
    auth.user("coordinator", "650000", username="co_xj")
    eid = _event(client, coordinator)
    clock.move_to(at(6, 7))
    _report(client, coordinator, eid, "140105001200", "initial", at(6, 7), affected_population=100, deaths=6)
    _report(client, coordinator, eid, "140105001201", "initial", at(6, 7), affected_population=100, missing=3)

    def alerts():
        from app.auth.models import User

        with app.app_context():
            rows = db.session.scalars(select(Notification).filter_by(kind="direct_report")).all()
            return sorted(db.session.get(User, n.user_id).username for n in rows), rows

    assert alerts()[0] == []  # 9 < 10
    clock.move_to(at(6, 7, 30))
    _report(client, coordinator, eid, "140105001201", "update", at(6, 7, 20), affected_population=100,
            missing=4)  # the county now has 6 + 4 = 10
    names, rows = alerts()
    assert names == ["co_nation", "co_prov"]
    assert "小店区" in rows[0].title and "10" in rows[0].title
    _report(client, coordinator, eid, "140105001201", "update", at(6, 7, 25), affected_population=100,
            missing=5)
    assert alerts()[0] == ["co_nation", "co_prov"]  # once
    from app.reports.jobs import check_deadlines

    with app.app_context():
        check_deadlines(at(6, 7, 40))
    assert alerts()[0] == ["co_nation", "co_prov"]


def test_direct_alert_threshold_configurable(app, client, auth, clock):
    app.config["REPORT_DIRECT_ALERT_DEATHS_MISSING"] = 3
    coordinator = auth.token("coordinator", "140000")
    eid = _event(client, coordinator)
    _report(client, coordinator, eid, "140106", "initial", at(6, 6, 10), affected_population=10, deaths=3)
    with app.app_context():
        assert db.session.scalar(select(Notification).filter_by(kind="direct_report")) is not None


# --- Forwarding through the API (审核上报) ----------------------------------------------------

def _forward(client, headers, eid, code, kind, **extra):
    return client.post(f"/api/v1/events/{eid}/forwards", headers=headers,
                       json={"region_code": code, "kind": kind, **extra})


def test_county_event_prefecture_and_province_forward(app, client, auth, clock):
    """An event of one county: its prefecture and its province still owe forwarding, and can
    meet it; the totals above them keep following the county."""
    officer = auth.token("officer", "140105", username="county")
    eid = _event(client, officer, region_codes=["140105"])
    clock.move_to(at(6, 7))
    _report(client, officer, eid, "140105", "initial", at(6, 7), affected_population=100, deaths=5)
    city = auth.token("officer", "140100", username="city")
    province = auth.token("coordinator", "140000", username="province")
    clock.move_to(at(6, 8))
    first = _forward(client, city, eid, "140100", "initial", note="已审核")
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert (body["region_code"], body["kind"], body["sequence"], body["reporting_units"]) == ("140100", "initial", 1, 1)
    assert body["figures"]["deaths"] == 5 and body["forwarded_by"] == "city" and body["note"] == "已审核"
    clock.move_to(at(6, 9))
    assert _forward(client, province, eid, "140000", "initial").status_code == 201

    # the county reports more; the totals above follow at once (a forwarding is not a report)
    clock.move_to(at(6, 11))
    _report(client, officer, eid, "140105", "update", at(6, 11), affected_population=300, deaths=12)
    for code in ("140100", "140000"):
        total = client.get(f"/api/v1/events/{eid}/totals?region_code={code}", headers=province).get_json()
        assert total["figures"]["deaths"] == 12
    items = client.get(f"/api/v1/events/{eid}/deadlines", headers=province).get_json()
    initial = {d["region_code"]: d for d in items if d["kind"] == "initial"}
    assert initial["140100"]["status"] == "met" and not initial["140100"]["late"]
    assert initial["140000"]["status"] == "met" and not initial["140000"]["late"]

    # the sequence: initial once, then updates; a verified forwarding closes the unit
    assert _forward(client, city, eid, "140100", "initial").status_code == 422
    assert _forward(client, city, eid, "140100", "update").status_code == 201
    assert _forward(client, city, eid, "140100", "final").status_code == 201
    closed = _forward(client, city, eid, "140100", "update")
    assert closed.status_code == 409 and "已核报" in closed.get_json()["detail"]
    assert _forward(client, province, eid, "140000", "update").get_json()["figures"]["deaths"] == 12

    history = client.get(f"/api/v1/events/{eid}/forwards", headers=province).get_json()
    assert history["total"] == 5
    assert [(f["region_code"], f["kind"]) for f in history["items"]][:2] == [("140100", "initial"), ("140000", "initial")]
    # the city sees its own forwardings, not the province's
    mine = client.get(f"/api/v1/events/{eid}/forwards", headers=city).get_json()
    assert {f["region_code"] for f in mine["items"]} == {"140100"}
    with app.app_context():
        from app.models_common import AuditEntry

        actions = db.session.scalars(select(AuditEntry.action).filter_by(action="report.forward")).all()
        assert len(actions) == 5


@pytest.mark.parametrize("who, code, status", [
    (("officer", "140105"), "140100", 403),     # a county officer does not forward for the city
    (("officer", "140100"), "140000", 403),     # nor the city for the province
    (("coordinator", "140000"), "140200", 422),  # Datong has no county in this event
    (("coordinator", "140000"), "140105", 422),  # a county files reports, it does not forward
    (("auditor", "140000"), "140100", 403),     # read-only
    (("coordinator", "140000"), "140100", 201),
    (("officer", "140100"), "140100", 201),
])
def test_who_forwards_for_which_unit(app, client, auth, clock, who, code, status):
    eid = _event(client, auth.token("coordinator", "140000", username="setup"), region_codes=["140105"])
    headers = auth.token(*who, username="who")
    response = _forward(client, headers, eid, code, "initial")
    assert response.status_code == status, response.get_json()


def test_forwarding_input_errors_and_closed_event(app, client, auth, clock):
    coordinator = auth.token("coordinator", "140000")
    eid = _event(client, coordinator, region_codes=["140105"])
    bad = client.post(f"/api/v1/events/{eid}/forwards", headers=coordinator, json={"kind": "weekly"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"region_code", "kind"}
    first_update = _forward(client, coordinator, eid, "140100", "update")
    assert first_update.status_code == 422 and "首次上报必须是初报" in first_update.get_json()["detail"]
    keyed = {**coordinator, "Idempotency-Key": "fwd-1"}
    once = client.post(f"/api/v1/events/{eid}/forwards", headers=keyed, json={"region_code": "140100", "kind": "initial"})
    again = client.post(f"/api/v1/events/{eid}/forwards", headers=keyed, json={"kind": "initial", "region_code": "140100"})
    assert once.status_code == again.status_code == 201 and again.get_json()["id"] == once.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert client.post(f"/api/v1/events/{eid}/close", headers=coordinator, json={}).status_code == 200
    late = _forward(client, coordinator, eid, "140000", "initial")
    assert late.status_code == 409
    assert client.get(f"/api/v1/events/{eid}/forwards?region_code=x", headers=coordinator).status_code == 422
