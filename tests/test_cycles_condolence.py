"""Condolence lines from the roster of the dead (抚慰金): who may be put forward (the event's dead
in the county, each person once ever), the next of kin's household and its count of deaths, all
lines or none, who may generate them, and a person recorded dead found alive (cancelled while
unpaid, held once the notice stands, kept and flagged once paid)."""
from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import select

from app import idcard
from tests.test_cycles_support import approve_cycle, at, make_event, make_fund, post, run_due, walk_to_notice

COUNTY, TOWN, VILLAGE = "140105", "140105001", "140105001200"
_numbers = iter(range(1, 999))


def number(born="19600101") -> str:
    return idcard.with_check_character(f"140105{born}{next(_numbers):03d}")


@pytest.fixture
def world(app, client, auth):
    event = make_event(app, stabilised=at("2025-07-31 18:00"))
    county = auth.token("coordinator", COUNTY)
    people = {}
    for key, status, region in (("a", "dead", VILLAGE), ("b", "dead", VILLAGE), ("c", "missing", VILLAGE),
                                ("d", "dead", TOWN)):
        response = client.post(f"/api/v1/events/{event}/casualties", headers=auth.token("admin", "000000"), json={
            "region_code": region, "name": f"遇难{key}", "sex": "male", "id_number": number(), "address": "示例一村",
            "occurred_on": "2025-07-10", "place": "河道", "cause": "洪水", "status": status})
        assert response.status_code == 201, response.get_json()
        people[key] = response.get_json()["id"]
    cycle = post(client, county, "/cycles", {"kind": "condolence", "region_code": COUNTY, "event_id": event},
                 201).get_json()["id"]
    return {"event": event, "county": county, "cycle": cycle, "people": people, "kin": number("19850101")}


def line(world, key, **extra):
    return {"casualty_id": world["people"][key], "kin_name": "张家属", "kin_id_number": world["kin"],
            "relation": "配偶", **extra}


def generate(client, world, *items, who="county", cycle=None):
    return client.post(f"/api/v1/cycles/{cycle or world['cycle']}/condolence", headers=world[who] if isinstance(who, str) else who,
                       json={"items": list(items)})


def state(client, world, cycle=None):
    return client.get(f"/api/v1/cycles/{cycle or world['cycle']}/condolence", headers=world["county"]).get_json()


def beneficiaries(client, world):
    return client.get(f"/api/v1/cycles/{world['cycle']}/beneficiaries", headers=world["county"]).get_json()["items"]


def disprove(client, world, key):
    return client.post(f"/api/v1/events/{world['event']}/casualties/{world['people'][key]}/status",
                       headers=world["county"], json={"action": "death_disproved", "reason": "经核实本人在外地务工，登记有误"})


def test_the_dead_of_the_county_are_offered_and_one_household_counts_each_death(client, world):
    offered = {p["casualty_id"] for p in state(client, world)["eligible"]}
    assert offered == {world["people"][k] for k in ("a", "b", "d")}  # the missing person is not
    made = generate(client, world, line(world, "a", village_code=VILLAGE), line(world, "b"))
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert [c["status"] for c in body["claims"]] == ["pending", "pending"]
    assert {p["casualty_id"] for p in body["eligible"]} == {world["people"]["d"]}
    rows = beneficiaries(client, world)
    assert len(rows) == 1 and rows[0]["deceased"] == 2 and rows[0]["eligible"] is True
    assert rows[0]["head_name"] == "张家属" and rows[0]["village_code"] == VILLAGE


def test_each_person_once_ever_and_all_lines_or_none(client, world):
    assert generate(client, world, line(world, "a")).status_code == 201
    again = generate(client, world, line(world, "a"))
    assert again.status_code == 422 and again.get_json()["errors"][0]["field"] == "items[0].casualty_id"
    twice = generate(client, world, line(world, "b"), line(world, "b"))
    assert twice.status_code == 422 and twice.get_json()["errors"][0]["field"] == "items[1].casualty_id"
    mixed = generate(client, world, line(world, "b"), line(world, "c"))  # c is missing, not dead
    assert mixed.status_code == 422 and [e["field"] for e in mixed.get_json()["errors"]] == ["items[1].casualty_id"]
    assert len(state(client, world)["claims"]) == 1  # nothing of the refused requests was made


def test_a_cancelled_cycle_releases_its_lines(client, world):
    assert generate(client, world, line(world, "a")).status_code == 201
    post(client, world["county"], f"/cycles/{world['cycle']}/transitions", {"action": "cancel", "reason": "重复立项"}, 200)
    fresh = post(client, world["county"], "/cycles", {"kind": "condolence", "region_code": COUNTY,
                                                       "event_id": world["event"]}, 201).get_json()["id"]
    assert world["people"]["a"] in {p["casualty_id"] for p in state(client, world, fresh)["eligible"]}
    assert generate(client, world, line(world, "a"), cycle=fresh).status_code == 201


@pytest.mark.parametrize("change, field", [
    ({"kin_id_number": "140105198501010000"}, "kin_id_number"),
    ({"kin_name": ""}, "kin_name"),
    ({"village_code": "140105001"}, "village_code"),
    ({"casualty_id": 99999}, "casualty_id"),
])
def test_each_bad_line_is_named(client, world, change, field):
    response = generate(client, world, {**line(world, "d"), **change})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == f"items[0].{field}"


def test_the_next_of_kin_is_neither_the_dead_nor_on_the_roster(app, client, world):
    from app.extensions import db
    from app.rosters import Casualty

    with app.app_context():
        own = db.session.get(Casualty, world["people"]["a"]).id_number
        missing = db.session.get(Casualty, world["people"]["c"]).id_number
    for kin in (own, missing):
        response = generate(client, world, line(world, "a", kin_id_number=kin, village_code=VILLAGE))
        assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "items[0].kin_id_number"


def test_only_a_condolence_cycle_before_review_takes_lines(client, world):
    other = post(client, world["county"], "/cycles", {"kind": "transitional", "region_code": COUNTY,
                                                       "event_id": world["event"], "starts_on": "2025-08-01"},
                 201).get_json()["id"]
    assert generate(client, world, line(world, "a", village_code=VILLAGE), cycle=other).status_code == 409
    generate(client, world, line(world, "a", village_code=VILLAGE))
    post(client, world["county"], f"/cycles/{world['cycle']}/transitions", {"action": "open_survey"}, 200)
    post(client, world["county"], f"/cycles/{world['cycle']}/transitions", {"action": "submit_review"}, 200)
    assert generate(client, world, line(world, "b")).status_code == 409


@pytest.mark.parametrize("role, region, status", [
    ("coordinator", COUNTY, 422), ("admin", "000000", 422), ("coordinator", "140000", 422),
    ("officer", COUNTY, 403), ("officer", TOWN, 403), ("finance", COUNTY, 403), ("auditor", COUNTY, 403),
    ("depot_manager", COUNTY, 403), ("coordinator", "140200", 403), ("dept_police", COUNTY, 403)])
def test_who_may_generate(client, auth, world, role, region, status):
    # permission comes first: an empty body is a 422 only for those who may generate
    response = generate(client, world, who=auth.token(role, region))
    assert response.status_code == status


def test_found_alive_before_the_notice_cancels_the_line_and_the_death(client, world):
    generate(client, world, line(world, "a", village_code=VILLAGE), line(world, "b"))
    assert disprove(client, world, "a").status_code == 200
    claims = {c["casualty_id"]: c for c in state(client, world)["claims"]}
    assert claims[world["people"]["a"]]["status"] == "cancelled"
    assert "生还" in claims[world["people"]["a"]]["cancel_reason"]
    assert claims[world["people"]["b"]]["status"] == "pending"
    assert beneficiaries(client, world)[0]["deceased"] == 1
    assert disprove(client, world, "b").status_code == 200
    row = beneficiaries(client, world)[0]
    assert row["deceased"] == 0 and row["eligible"] is False


def test_found_alive_after_the_notice_holds_the_household(client, world):
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        generate(client, world, line(world, "a", village_code=VILLAGE))
        walk_to_notice(client, world["county"], world["cycle"], propose=False)
        assert disprove(client, world, "a").status_code == 200
    with time_machine.travel(at("2025-08-20 09:00"), tick=False):
        refused = approve_cycle(client, world["county"], world['cycle'], 409)
    assert "投诉" in refused.get_json()["detail"]
    assert state(client, world)["claims"][0]["status"] == "cancelled"


def test_paid_once_and_a_paid_line_is_kept_and_flagged(app, client, world, runner):
    from app.models_common import AuditEntry
    from app.cycles.models import Payment
    from app.extensions import db

    line_id = make_fund(app, "condolence", 100_000)
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        client.put(f"/api/v1/cycles/{world['cycle']}/fund-line", headers=world["county"], json={"fund_line_id": line_id})
        generate(client, world, line(world, "a", village_code=VILLAGE), line(world, "b"))
        walk_to_notice(client, world["county"], world["cycle"], propose=False)
    with time_machine.travel(at("2025-08-09 09:00"), tick=False):
        approve_cycle(client, world["county"], world['cycle'], 200)
        post(client, world["county"], f"/cycles/{world['cycle']}/transitions", {"action": "disburse"}, 200)
    with time_machine.travel(at("2025-08-10 07:00"), tick=False):
        run_due(runner, at("2025-08-10 07:00"), "cycles.rolls")
    with app.app_context():
        amounts = db.session.scalars(select(Payment.amount_fen).where(Payment.cycle_id == world["cycle"])).all()
    assert amounts == [2 * 1_000_000]  # one household, two deaths, 10,000 yuan each
    assert disprove(client, world, "a").status_code == 200
    assert [c["status"] for c in state(client, world)["claims"]] == ["pending", "pending"]
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "condolence.paid_but_alive"))


def test_page_generates_and_reads_in_english(client, auth, world):
    auth.login("coordinator", COUNTY)
    page = client.get(f"/cycles/{world['cycle']}/condolence")
    assert page.status_code == 200 and "遇难a" in page.get_data(as_text=True)
    done = client.post(f"/cycles/{world['cycle']}/condolence", data={
        "casualty_id": world["people"]["a"], "kin_name": "王家属", "kin_id_number": world["kin"],
        "village_code": VILLAGE, "relation": ""}, follow_redirects=True)
    assert "王家属" in done.get_data(as_text=True) and len(state(client, world)["claims"]) == 1
    refused = client.post(f"/cycles/{world['cycle']}/condolence", data={
        "casualty_id": world["people"]["b"], "kin_name": "王家属", "kin_id_number": "123"}, follow_redirects=True)
    assert "18" in refused.get_data(as_text=True)
    english = client.get(f"/cycles/{world['cycle']}/condolence?lang=en").get_data(as_text=True)
    assert "Condolence" in english and "领款人" not in english
