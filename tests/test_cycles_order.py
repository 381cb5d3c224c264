"""The official order of a roll (domain.md §4, issue 16 points 3 and 5): 申请 → 民主评议 (village) →
公示 (at least 7 days) → 乡审 (township) → 县批 (county), each step by a user of its level, for the
main roll and the supplementary rolls; reconstruction's house-by-house check within 15 days of
stabilisation, with exclusions; the migration of cycles already running."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pytest
import time_machine
from sqlalchemy import inspect, select

from tests.test_cycles_support import (PNG, VILLAGE, VILLAGE2, approve_cycle, at, level_token, make_event, make_fund,
                                       make_household, post, walk_roll, walk_to_notice)

COUNTY, TOWNSHIP = "140105", "140105001"


@pytest.fixture
def event(app):
    return make_event(app, stabilised=at("2025-07-31 18:00"))


def _cycle(client, headers, event, kind="transitional", **extra):
    body = {"kind": kind, "region_code": COUNTY, "event_id": event, **extra}
    if kind == "transitional":
        body.setdefault("starts_on", "2025-08-01")
    return post(client, headers, "/cycles", body, 201).get_json()["id"]


def _status(client, headers, cycle):
    return client.get(f"/api/v1/cycles/{cycle}", headers=headers).get_json()["status"]


# --- the order of the main roll ---------------------------------------------------------------------

def test_the_order_is_apply_village_notice_township_county(app, client, auth, event):
    a = make_household(app, members=4, damage_class="collapsed", no_housing=True)
    b = make_household(app, members=3, village_code=VILLAGE2, no_livelihood=True)
    county = auth.token("coordinator", COUNTY)
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = _cycle(client, county, event)
        assert walk_to_notice(client, county, cycle) == [a, b]
        assert _status(client, county, cycle) == "notice"
        notice = client.get(f"/api/v1/cycles/{cycle}/notices", headers=county).get_json()["items"][0]
        assert notice["household_count"] == 2  # the notice lists who passed 民主评议; 乡审 follows it
        # the county cannot approve before the township's review, nor the township before the notice ends
        assert "可执行" in post(client, county, f"/cycles/{cycle}/transitions", {"action": "approve"}, 409).get_json()["detail"]
    with time_machine.travel(at("2025-08-08 08:59:59"), tick=False):
        early = post(client, level_token(client, "officer", TOWNSHIP), f"/cycles/{cycle}/transitions",
                     {"action": "end_notice"}, 409)
        assert "公示期未满" in early.get_json()["detail"]
    with time_machine.travel(at("2025-08-08 09:00"), tick=False):
        township = level_token(client, "officer", TOWNSHIP)
        post(client, township, f"/cycles/{cycle}/transitions", {"action": "end_notice"}, 200)
        assert _status(client, county, cycle) == "township_review"
        pending = post(client, county, f"/cycles/{cycle}/transitions", {"action": "approve"}, 409)
        assert "未完成乡镇审核" in pending.get_json()["detail"]
        post(client, township, f"/cycles/{cycle}/reviews", {"stage": "township", "decisions": [
            {"household_id": a, "decision": "approve"}, {"household_id": b, "decision": "reject", "note": "有收入"}]}, 200)
        post(client, county, f"/cycles/{cycle}/transitions", {"action": "approve"}, 200)
    rolls = client.get(f"/api/v1/cycles/{cycle}/rolls", headers=county).get_json()["items"]
    entries = client.get(f"/api/v1/rolls/{rolls[0]['id']}", headers=county).get_json()["entries"]
    assert [e["household_id"] for e in entries] == [a]  # the township's rejection after the notice counts


@pytest.mark.parametrize("days, status", [(6, 409), (7, 200)])
def test_a_notice_under_seven_days_is_refused(app, client, auth, event, days, status):
    """公示 at least 7 days: the township's review cannot open a second before."""
    make_household(app, members=2, damage_class="collapsed", no_housing=True)
    county = auth.token("coordinator", COUNTY)
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = _cycle(client, county, event)
        walk_to_notice(client, county, cycle)
    with time_machine.travel(at(f"2025-08-{1 + days:02d} 09:00"), tick=False):
        response = post(client, level_token(client, "officer", TOWNSHIP), f"/cycles/{cycle}/transitions",
                        {"action": "end_notice"}, status)
    if status == 409:
        assert "公示期未满" in response.get_json()["detail"]
    else:
        assert response.get_json()["status"] == "township_review"


def test_a_shorter_notice_cannot_be_configured(client, auth, event):
    county = auth.token("coordinator", COUNTY)
    refused = post(client, county, "/cycles", {"kind": "transitional", "region_code": COUNTY, "event_id": event,
                                               "notice_days": 6}, 422)
    assert refused.get_json()["errors"][0]["field"] == "notice_days"


#: (role, region) of each kind of user, and the steps each may take
USERS = {
    "village officer": ("officer", VILLAGE),
    "village of another county": ("officer", "140106001200"),
    "township officer": ("officer", TOWNSHIP),
    "township coordinator": ("coordinator", TOWNSHIP),
    "county coordinator": ("coordinator", COUNTY),
    "county officer": ("officer", COUNTY),
    "prefecture coordinator": ("coordinator", "140100"),
    "provincial coordinator": ("coordinator", "140000"),
    "national admin": ("admin", "000000"),
    "county auditor": ("auditor", COUNTY),
}
ALLOWED = {
    "village_review": {"village officer"},
    "end_notice": {"township officer", "township coordinator"},
    "township_review": {"township officer", "township coordinator"},
    "approve": {"county coordinator"},
}


def _at_step(app, client, auth, event, step):
    """A cycle waiting for ``step``, and its household."""
    household = make_household(app, members=2, damage_class="collapsed", no_housing=True)
    county = auth.token("coordinator", COUNTY)
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = _cycle(client, county, event)
        post(client, county, f"/cycles/{cycle}/transitions", {"action": "open_survey"}, 200)
        post(client, county, f"/cycles/{cycle}/beneficiaries/propose", {}, 201)
        post(client, county, f"/cycles/{cycle}/transitions", {"action": "submit_review"}, 200)
        if step == "village_review":
            return cycle, household
        post(client, level_token(client, "officer", VILLAGE), f"/cycles/{cycle}/reviews",
             {"stage": "village", "decisions": [{"household_id": household, "decision": "approve"}]}, 200)
        post(client, county, f"/cycles/{cycle}/transitions", {"action": "start_notice"}, 200)
    if step == "end_notice":
        return cycle, household
    with time_machine.travel(at("2025-08-08 09:00"), tick=False):
        post(client, level_token(client, "officer", TOWNSHIP), f"/cycles/{cycle}/transitions", {"action": "end_notice"}, 200)
        if step == "township_review":
            return cycle, household
        post(client, level_token(client, "officer", TOWNSHIP), f"/cycles/{cycle}/reviews",
             {"stage": "township", "decisions": [{"household_id": household, "decision": "approve"}]}, 200)
    return cycle, household


@pytest.mark.parametrize("step", list(ALLOWED))
@pytest.mark.parametrize("who", list(USERS))
def test_each_step_only_by_a_user_of_its_level(app, client, auth, event, step, who):
    """role × step: 民主评议 by the village, 乡审 (and the end of the notice) by the township, 县批
    by the county; a coordinator of a higher level is refused like anyone outside."""
    cycle, household = _at_step(app, client, auth, event, step)
    headers = level_token(client, *USERS[who])
    with time_machine.travel(at("2025-08-08 09:00"), tick=False):
        if step in ("village_review", "township_review"):
            stage = step.split("_")[0]
            response = post(client, headers, f"/cycles/{cycle}/reviews",
                             {"stage": stage, "decisions": [{"household_id": household, "decision": "approve"}]})
        else:
            response = post(client, headers, f"/cycles/{cycle}/transitions", {"action": step})
    expected = 200 if who in ALLOWED[step] else 403
    assert response.status_code == expected, (who, step, response.get_json())


def test_a_village_reviews_only_its_own_households(app, client, auth, event):
    mine = make_household(app, members=2, damage_class="collapsed", no_housing=True)
    other = make_household(app, members=2, village_code=VILLAGE2, damage_class="collapsed", no_housing=True)
    county = auth.token("coordinator", COUNTY)
    cycle = _cycle(client, county, event)
    post(client, county, f"/cycles/{cycle}/transitions", {"action": "open_survey"}, 200)
    post(client, county, f"/cycles/{cycle}/beneficiaries/propose", {}, 201)
    post(client, county, f"/cycles/{cycle}/transitions", {"action": "submit_review"}, 200)
    village = level_token(client, "officer", VILLAGE)
    assert post(client, village, f"/cycles/{cycle}/reviews", {"stage": "village", "decisions": [
        {"household_id": other, "decision": "approve"}]}).status_code == 403
    post(client, village, f"/cycles/{cycle}/reviews", {"stage": "village", "decisions": [
        {"household_id": mine, "decision": "approve"}]}, 200)
    waiting = post(client, county, f"/cycles/{cycle}/transitions", {"action": "start_notice"}, 409)
    assert "还有 1 户未完成民主评议" in waiting.get_json()["detail"]


def test_what_awaits_each_level(app, client, auth, event):
    """我的待办: the village sees its 民主评议, the township the notice's end and its 乡审, the county 县批."""
    make_household(app, members=2, damage_class="collapsed", no_housing=True)
    county = auth.token("coordinator", COUNTY)
    village, township = level_token(client, "officer", VILLAGE), level_token(client, "officer", TOWNSHIP)

    def steps(headers):
        return [(s["step"], s["count"]) for s in client.get("/api/v1/cycles/steps", headers=headers).get_json()["items"]]

    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = _cycle(client, county, event)
        post(client, county, f"/cycles/{cycle}/transitions", {"action": "open_survey"}, 200)
        post(client, county, f"/cycles/{cycle}/beneficiaries/propose", {}, 201)
        post(client, county, f"/cycles/{cycle}/transitions", {"action": "submit_review"}, 200)
        assert steps(village) == [("village_review", 1)] and steps(township) == [] and steps(county) == []
        assert steps(level_token(client, "officer", VILLAGE2)) == []
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        rows = client.get(f"/api/v1/cycles/{cycle}/beneficiaries", headers=county).get_json()["items"]
        post(client, village, f"/cycles/{cycle}/reviews", {"stage": "village", "decisions": [
            {"household_id": rows[0]["household_id"], "decision": "approve"}]}, 200)
        post(client, county, f"/cycles/{cycle}/transitions", {"action": "start_notice"}, 200)
        assert steps(village) == [] and steps(township) == []
    with time_machine.travel(at("2025-08-08 09:00"), tick=False):
        assert steps(township) == [("end_notice", 0)]
        post(client, township, f"/cycles/{cycle}/transitions", {"action": "end_notice"}, 200)
        assert steps(township) == [("township_review", 1)] and steps(county) == []
        post(client, township, f"/cycles/{cycle}/reviews", {"stage": "township", "decisions": [
            {"household_id": rows[0]["household_id"], "decision": "approve"}]}, 200)
        assert steps(county) == [("approve", 1)]


def _waiting_everywhere(app, event) -> None:
    """One of each thing waiting for the village, the township and the county: cycles in
    民主评议, in the house-by-house check, at the end of their notice, in 乡审 and ready for 县批,
    and supplementary rolls at each level's step."""
    from app.cycles.models import Beneficiary, Cycle, Roll, RollEntry
    from app.extensions import db

    households = [make_household(app, members=2, damage_class="collapsed") for _ in range(5)]
    with app.app_context():
        def cycle(kind, status, **extra):
            row = Cycle(kind=kind, name=f"{kind}-{status}", region_code=COUNTY, event_id=event, status=status,
                        standards={}, notice_days=7, **extra)
            db.session.add(row)
            db.session.flush()
            return row

        def put_forward(row, household, **decisions):
            db.session.add(Beneficiary(cycle_id=row.id, household_id=household, persons=2, eligible=True,
                                       **decisions))

        put_forward(cycle("transitional", "village_review"), households[0])
        put_forward(cycle("reconstruction", "survey"), households[1])
        cycle("transitional", "notice", notice_ends_at=at("2025-08-01 09:00"))
        put_forward(cycle("transitional", "township_review"), households[2], village_decision="approve")
        put_forward(cycle("transitional", "township_review"), households[3], village_decision="approve",
                    township_decision="approve")
        approved = cycle("transitional", "approved")
        for seq, status in enumerate(("village", "township", "county"), start=1):
            roll = Roll(cycle_id=approved.id, seq=seq, kind="supplementary", purpose="add", status=status,
                        notice_ends_at=at("2025-08-01 09:00") if status != "village" else None, entry_count=1)
            db.session.add(roll)
            db.session.flush()
            db.session.add(RollEntry(roll_id=roll.id, cycle_id=approved.id, household_id=households[4],
                                     head_name="王某", id_number="140105197001010000", village_code=VILLAGE,
                                     persons=2, damage_class="collapsed", basis={}, instalments=[], total_fen=0))
        db.session.commit()


def test_what_awaits_costs_the_same_queries_for_one_cycle_or_many(app, client, auth, event):
    """The home page's 我的待办 reads a fixed number of queries, not some per cycle or roll."""
    from app.auth.models import User
    from app.cycles.service import my_steps
    from app.extensions import db
    from tests.factories import make_user
    from tests.queries import statements

    with app.app_context():
        users = [make_user("officer", VILLAGE).id, make_user("officer", TOWNSHIP).id,
                 make_user("coordinator", COUNTY).id]

    def read(user_id):
        with app.app_context():
            user = db.session.get(User, user_id)
            with statements(app) as found:
                steps = my_steps(user)
            return len(found), sorted((s.step, s.count, s.roll is not None) for s in steps)

    with time_machine.travel(at("2025-08-10 09:00"), tick=False):
        _waiting_everywhere(app, event)
        one = [read(user) for user in users]
        assert [steps for _n, steps in one] == [
            [("village_review", 0, True), ("village_review", 1, False)],
            [("check", 1, False), ("end_notice", 0, False), ("township_review", 0, True),
             ("township_review", 1, False)],
            [("approve", 1, False), ("approve", 1, True)]]
        _waiting_everywhere(app, event)
        _waiting_everywhere(app, event)
        many = [read(user) for user in users]
    assert [len(steps) for _n, steps in many] == [3 * len(steps) for _n, steps in one]
    assert [n for n, _steps in many] == [n for n, _steps in one]


# --- supplementary rolls follow the same order ------------------------------------------------------

def _approved_cycle(app, client, auth, event):
    make_household(app, members=4, damage_class="collapsed", no_housing=True)
    county = auth.token("coordinator", COUNTY)
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = _cycle(client, county, event, fund_line_id=make_fund(app, "transitional", 50_000))
        walk_to_notice(client, county, cycle)
    with time_machine.travel(at("2025-08-08 09:00"), tick=False):
        approve_cycle(client, county, cycle)
    return cycle, county


def test_a_supplementary_roll_follows_the_same_order(app, client, auth, event):
    cycle, county = _approved_cycle(app, client, auth, event)
    late = make_household(app, members=2, village_code=VILLAGE2, damage_class="collapsed", no_housing=True)
    village2, village = level_token(client, "officer", VILLAGE2), level_token(client, "officer", VILLAGE)
    township = level_token(client, "officer", TOWNSHIP)
    with time_machine.travel(at("2025-08-10 09:00"), tick=False):
        roll = post(client, county, f"/cycles/{cycle}/rolls", {"purpose": "add", "reason": "增补",
                                                               "entries": [{"household_id": late}]}, 201).get_json()
        assert roll["status"] == "village" and roll["notice_started_at"] is None
        premature = post(client, county, f"/rolls/{roll['id']}/approve", {}, 409)  # 县批 comes last
        assert "须经民主评议、公示和乡镇审核" in premature.get_json()["detail"]
        assert post(client, level_token(client, "coordinator", "140000"), f"/rolls/{roll['id']}/steps",
                    {"stage": "village", "decision": "approve"}).status_code == 403
        not_on_roll = post(client, village, f"/rolls/{roll['id']}/steps",  # a village acts on its own households
                           {"stage": "village", "decision": "approve"}, 403).get_json()["detail"]
        assert not_on_roll == f"名册中没有本村的户（{VILLAGE}）：民主评议由名册所列各村办理。"
        english = client.post(f"/api/v1/rolls/{roll['id']}/steps?lang=en", headers=village,
                              json={"stage": "village", "decision": "approve"})
        assert english.status_code == 403 and english.get_json()["detail"].startswith(
            f"The roll has no household of your village ({VILLAGE})")
        early = post(client, township, f"/rolls/{roll['id']}/steps", {"stage": "township", "decision": "approve"}, 409)
        assert "不在乡镇审核阶段" in early.get_json()["detail"]
        noticed = post(client, village2, f"/rolls/{roll['id']}/steps",
                       {"stage": "village", "decision": "approve", "location": "二村公开栏"}, 200).get_json()
        assert noticed["status"] == "notice" and noticed["notice_ends_at"].startswith("2025-08-17")
        post(client, village2, f"/rolls/{roll['id']}/steps", {"stage": "village", "decision": "approve"}, 409)
    with time_machine.travel(at("2025-08-17 08:59"), tick=False):
        short = post(client, township, f"/rolls/{roll['id']}/steps", {"stage": "township", "decision": "approve"}, 409)
        assert "公示期未满" in short.get_json()["detail"]
    with time_machine.travel(at("2025-08-17 09:00"), tick=False):
        county_step = post(client, county, f"/rolls/{roll['id']}/steps", {"stage": "township", "decision": "approve"})
        assert county_step.status_code == 403
        assert post(client, county, f"/rolls/{roll['id']}/approve", {}, 409).get_json()["detail"].startswith("名册处于")
        done = post(client, township, f"/rolls/{roll['id']}/steps", {"stage": "township", "decision": "approve"}, 200)
        assert done.get_json()["status"] == "county"
        assert post(client, level_token(client, "coordinator", "140100"), f"/rolls/{roll['id']}/approve",
                    {}).status_code == 403
        frozen = post(client, county, f"/rolls/{roll['id']}/approve", {}, 200).get_json()
        assert frozen["status"] == "frozen"
    notice = client.get(f"/api/v1/cycles/{cycle}/notices", headers=county).get_json()["items"][-1]
    assert notice["roll_id"] == roll["id"] and notice["location"] == "二村公开栏"


def test_a_village_rejecting_a_roll_cancels_it(app, client, auth, event):
    cycle, county = _approved_cycle(app, client, auth, event)
    late = make_household(app, members=2, damage_class="collapsed", no_housing=True)
    with time_machine.travel(at("2025-08-10 09:00"), tick=False):
        roll = post(client, county, f"/cycles/{cycle}/rolls", {"purpose": "add", "reason": "增补",
                                                               "entries": [{"household_id": late}]}, 201).get_json()
        village = level_token(client, "officer", VILLAGE)
        blank = post(client, village, f"/rolls/{roll['id']}/steps", {"stage": "village", "decision": "reject"}, 422)
        assert blank.get_json()["errors"][0]["field"] == "note"
        cancelled = post(client, village, f"/rolls/{roll['id']}/steps",
                         {"stage": "village", "decision": "reject", "note": "评议未通过"}, 200).get_json()
        assert cancelled["status"] == "cancelled"
        again = post(client, county, f"/cycles/{cycle}/rolls", {"purpose": "add", "reason": "再议",
                                                                "entries": [{"household_id": late}]}, 201).get_json()
        assert again["seq"] == 2
    with time_machine.travel(at("2025-08-10 10:00"), tick=False):
        assert walk_roll(client, county, again["id"], until="notice")["status"] == "notice"
    with time_machine.travel(at("2025-08-17 10:00"), tick=False):
        assert walk_roll(client, county, again["id"]).get_json()["status"] == "frozen"


# --- reconstruction: the house-by-house check, then the order ------------------------------------------

def _check(client, headers, cycle, household, status=None, photos=1, **fields):
    data = {"household_id": str(household), "found_class": "collapsed", "checkers": "张三、李四", **fields}
    data["photos"] = [(io.BytesIO(PNG), f"p{i}.png") for i in range(photos)]
    response = client.post(f"/api/v1/cycles/{cycle}/checks", data=data, headers=headers,
                           content_type="multipart/form-data")
    if status is not None:
        assert response.status_code == status, response.get_json()
    return response


def _reconstruction(app, client, auth, event):
    rebuilt = make_household(app, members=4, damage_class="collapsed")
    repaired = make_household(app, members=3, damage_class="severely_damaged")
    kitchen = make_household(app, members=2, damage_class="collapsed")
    county = auth.token("coordinator", COUNTY)
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = _cycle(client, county, event, kind="reconstruction")
        post(client, county, f"/cycles/{cycle}/transitions", {"action": "open_survey"}, 200)
        post(client, county, f"/cycles/{cycle}/beneficiaries/propose", {}, 201)
    return cycle, county, rebuilt, repaired, kitchen


def test_reconstruction_checks_every_house_before_the_village_review(app, client, auth, event):
    cycle, county, rebuilt, repaired, kitchen = _reconstruction(app, client, auth, event)
    township = level_token(client, "officer", TOWNSHIP)
    with time_machine.travel(at("2025-08-05 09:00"), tick=False):
        blocked = post(client, county, f"/cycles/{cycle}/transitions", {"action": "submit_review"}, 409)
        assert "未经乡镇逐户核查" in blocked.get_json()["detail"]
        # who checks: the township, not the county nor the village
        assert _check(client, county, cycle, rebuilt).status_code == 403
        assert _check(client, level_token(client, "officer", VILLAGE), cycle, rebuilt).status_code == 403
        no_photo = _check(client, township, cycle, rebuilt, photos=0, status=422)
        assert no_photo.get_json()["errors"][0]["field"] == "photos"
        confirmed = _check(client, township, cycle, rebuilt, status=201).get_json()
        assert confirmed["outcome"] == "confirmed" and confirmed["checkers"] == "张三、李四"
        assert confirmed["photo_count"] == 1 and not confirmed["late"]
        no_reason = _check(client, township, cycle, repaired, found_class="generally_damaged", status=422)
        assert no_reason.get_json()["errors"][0]["field"] == "reason"
        changed = _check(client, township, cycle, repaired, found_class="generally_damaged",
                         reason="墙体裂缝可修复", status=201).get_json()
        assert changed["outcome"] == "changed"
        unexplained = _check(client, township, cycle, kitchen, exclusion="kitchen", status=422)
        assert unexplained.get_json()["errors"][0]["field"] == "reason"
        excluded = _check(client, township, cycle, kitchen, exclusion="kitchen", reason="倒塌的是厨房，主房完好",
                          status=201).get_json()
        assert excluded["outcome"] == "excluded" and excluded["exclusion_label"] == "厨房"
        rows = {r["household_id"]: r for r in
                client.get(f"/api/v1/cycles/{cycle}/beneficiaries", headers=county).get_json()["items"]}
        assert rows[rebuilt]["eligible"] and rows[rebuilt]["work_type"] == "rebuild"
        assert rows[repaired]["eligible"] and rows[repaired]["work_type"] == "repair"
        assert not rows[kitchen]["eligible"] and "厨房" in rows[kitchen]["reasons"][0]
        post(client, county, f"/cycles/{cycle}/transitions", {"action": "submit_review"}, 200)
        # once in 民主评议, checking is over; an excluded house cannot pass the village
        assert _check(client, township, cycle, kitchen).status_code == 409
        village = level_token(client, "officer", VILLAGE)
        refused = post(client, village, f"/cycles/{cycle}/reviews", {"stage": "village", "decisions": [
            {"household_id": kitchen, "decision": "approve"}]}, 422)
        assert "不符合救助条件" in refused.get_json()["errors"][0]["message"]
        post(client, village, f"/cycles/{cycle}/reviews", {"stage": "village", "decisions": [
            {"household_id": rebuilt, "decision": "approve"}, {"household_id": repaired, "decision": "approve"},
            {"household_id": kitchen, "decision": "reject"}]}, 200)
        post(client, county, f"/cycles/{cycle}/transitions", {"action": "start_notice"}, 200)
    with time_machine.travel(at("2025-08-12 09:00"), tick=False):
        approve_cycle(client, county, cycle)
    roll = client.get(f"/api/v1/cycles/{cycle}/rolls", headers=county).get_json()["items"][0]
    entries = {e["household_id"]: e for e in client.get(f"/api/v1/rolls/{roll['id']}", headers=county).get_json()["entries"]}
    assert set(entries) == {rebuilt, repaired}
    assert entries[repaired]["damage_class"] == "generally_damaged" and entries[repaired]["total"] == 2000
    assert entries[rebuilt]["total"] == 20000  # instalments by stage as before
    projects = client.get(f"/api/v1/cycles/{cycle}/projects", headers=county).get_json()["items"]
    assert {p["household_id"]: p["work_type"] for p in projects} == {rebuilt: "rebuild", repaired: "repair"}


@pytest.mark.parametrize("when, late", [("2025-08-15 17:59", False), ("2025-08-15 18:00:01", True)])
def test_the_check_is_due_within_fifteen_days_of_stabilisation(app, client, auth, event, when, late):
    """Stabilised 31 July 18:00: the check is due by 15 August 18:00; later it needs a reason and is marked late."""
    cycle, county, rebuilt, _repaired, _kitchen = _reconstruction(app, client, auth, event)
    township = level_token(client, "officer", TOWNSHIP)
    with time_machine.travel(at(when), tick=False):
        if late:
            refused = _check(client, township, cycle, rebuilt, status=422)
            assert refused.get_json()["errors"][0]["field"] == "late_reason"
            check = _check(client, township, cycle, rebuilt, late_reason="道路中断", status=201).get_json()
        else:
            check = _check(client, township, cycle, rebuilt, status=201).get_json()
        assert check["late"] is late
        listing = client.get(f"/api/v1/cycles/{cycle}/checks", headers=county).get_json()
        assert listing["deadline"] == "2025-08-15T10:00:00+00:00" and listing["pending"] == 2
        waiting = client.get("/api/v1/cycles/steps", headers=township).get_json()["items"]
        assert [(s["step"], s["count"], s["overdue"]) for s in waiting] == [("check", 2, late)]


# --- pages --------------------------------------------------------------------------------------------

def test_check_page_and_steps_page_in_both_languages(app, client, auth, event):
    cycle, county, rebuilt, _repaired, _kitchen = _reconstruction(app, client, auth, event)
    with time_machine.travel(at("2025-08-05 09:00"), tick=False):
        auth.login("officer", TOWNSHIP, username="township")
        page = client.get(f"/cycles/{cycle}/checks").get_data(as_text=True)
        assert "逐户核查" in page and f'data-check="{rebuilt}"' in page and "2025-08-15 18:00" in page
        posted = client.post(f"/cycles/{cycle}/checks", data={
            "household_id": str(rebuilt), "found_class": "collapsed", "checkers": "王五",
            "photos": [(io.BytesIO(PNG), "a.png")]}, content_type="multipart/form-data", follow_redirects=True)
        assert "已记录核查结果" in posted.get_data(as_text=True)
        english = client.get(f"/cycles/{cycle}/checks?lang=en").get_data(as_text=True)
        assert "House-by-house check" in english and "Confirmed" in english
        steps = client.get("/cycles/steps?lang=en").get_data(as_text=True)
        assert "Awaiting me" in steps and "House-by-house check" in steps
        with app.app_context():
            from app.cycles.models import HouseCheckPhoto
            from app.extensions import db

            photo = db.session.scalar(select(HouseCheckPhoto.id))
        image = client.get(f"/cycles/check-photos/{photo}")
        assert image.status_code == 200 and image.mimetype == "image/png" and image.data == PNG
        auth.login("officer", "140106001", username="elsewhere")
        assert client.get(f"/cycles/check-photos/{photo}").status_code == 403


def test_a_check_photo_is_in_the_file_store_and_another_instance_serves_it(app, client, auth, event, tmp_path):
    """A house check's photos go to app.storage, not a column of their own: a user signed in on a
    second instance over the same database sees them."""
    from app import create_app
    from app.cycles.models import HouseCheckPhoto
    from app.extensions import db
    from app.storage import StoredFile
    from tests.conftest import AuthActions

    cycle, _county, rebuilt, _repaired, _kitchen = _reconstruction(app, client, auth, event)
    township = level_token(client, "officer", TOWNSHIP)
    with time_machine.travel(at("2025-08-05 09:00"), tick=False):
        _check(client, township, cycle, rebuilt, status=201)
        other = create_app(dict(app.config), instance_path=str(tmp_path / "other-host"))
        other_client = other.test_client()
        AuthActions(other, other_client).login("officer", TOWNSHIP, username="township-b")
        with other.app_context():
            photo = db.session.scalar(select(HouseCheckPhoto))
            assert photo.stored_key.startswith(f"cycles/checks/{photo.check_id}/")
            assert db.session.scalar(select(StoredFile.size).filter_by(key=photo.stored_key)) == len(PNG)
            db.session.remove()
        image = other_client.get(f"/cycles/check-photos/{photo.id}")
        assert image.status_code == 200 and image.mimetype == "image/png" and image.data == PNG


# --- the migration of cycles already running ------------------------------------------------------------

def _fill(inspector, table: str, values: dict) -> dict:
    """A row for ``table`` with every NOT NULL column without a default given a plain value."""
    row = dict(values)
    for column in inspector.get_columns(table):
        if column["name"] in row or column["nullable"] or column.get("default") is not None \
                or column.get("autoincrement") is True or column["name"] == "id":
            continue
        kind = str(column["type"]).upper()
        if "INT" in kind:
            row[column["name"]] = 0
        elif "BOOL" in kind:
            row[column["name"]] = False
        elif "DATETIME" in kind or "TIMESTAMP" in kind:
            row[column["name"]] = datetime(2025, 8, 1, tzinfo=timezone.utc)
        elif "DATE" in kind:
            row[column["name"]] = date(2025, 8, 1)
        elif "JSON" in kind:
            row[column["name"]] = {}
        else:
            row[column["name"]] = "x"
    return row


OLD_STATES = ("draft", "survey", "review", "notice", "approved", "disbursing", "closed", "cancelled")


def test_the_migration_moves_cycles_in_every_old_state(tmp_path):
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from app.extensions import db

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}"})
    with app.app_context():
        upgrade(revision="0011_outbox")
        meta = sa.MetaData()
        meta.reflect(db.engine)
        with db.engine.begin() as conn:
            inspector = inspect(conn)
            for code, level, parent in (("140000", "province", None), ("140100", "prefecture", "140000"),
                                        ("140105", "county", "140100"), ("140105001", "township", "140105"),
                                        ("140105001200", "village", "140105001")):
                conn.execute(meta.tables["region"].insert().values(**_fill(inspector, "region", {
                    "code": code, "level": level, "parent_code": parent, "name": code})))
            household = conn.execute(meta.tables["household"].insert().values(**_fill(inspector, "household", {
                "village_code": "140105001200", "id_number": "140105197001011011", "damage_class": "collapsed",
                "members": 3}))).inserted_primary_key[0]
            ids = {}
            for state in OLD_STATES:
                ids[state] = conn.execute(meta.tables["relief_cycle"].insert().values(**_fill(inspector, "relief_cycle", {
                    "kind": "transitional", "name": state, "region_code": "140105", "status": state,
                    "unique_key": f"k:{state}", "standards": {}, "notice_days": 7}))).inserted_primary_key[0]
                conn.execute(meta.tables["cycle_beneficiary"].insert().values(**_fill(inspector, "cycle_beneficiary", {
                    "cycle_id": ids[state], "household_id": household, "persons": 3, "eligible": True,
                    "village_decision": "approve", "township_decision": "approve" if state != "draft" else None,
                    "township_note": "核实无误"})))
            roll = conn.execute(meta.tables["relief_roll"].insert().values(**_fill(inspector, "relief_roll", {
                "cycle_id": ids["approved"], "seq": 1, "kind": "supplementary", "purpose": "add",
                "status": "notice"}))).inserted_primary_key[0]
        upgrade()
        with db.engine.connect() as conn:
            states = dict(conn.execute(sa.text("SELECT name, status FROM relief_cycle")).all())
            rows = {name: (decision, note) for name, decision, note in conn.execute(sa.text(
                "SELECT c.name, b.township_decision, b.township_note FROM cycle_beneficiary b "
                "JOIN relief_cycle c ON c.id = b.cycle_id")).all()}
            roll_status = conn.execute(sa.text(f"SELECT status FROM relief_roll WHERE id = {roll}")).scalar()
        assert states == {"draft": "draft", "survey": "survey", "review": "village_review", "notice": "notice",
                          "approved": "approved", "disbursing": "disbursing", "closed": "closed",
                          "cancelled": "cancelled"}
        # a township decision taken before the notice (old order) is kept in the note, to be taken again
        assert rows["review"] == (None, "公示前乡审（旧流程）：通过；核实无误")
        # a cycle in notice keeps them as provisional: the township confirms or changes them in 乡审
        assert rows["notice"] == ("approve", "核实无误") and rows["approved"] == ("approve", "核实无误")
        assert roll_status == "notice"  # its notice runs on, then 乡审 and 县批
        from app.cycles.models import CYCLE_MACHINE, STATUS_LABELS

        assert set(states.values()) <= set(STATUS_LABELS)
        assert CYCLE_MACHINE.allowed("notice") == ["return_to_review", "end_notice", "cancel"]
        downgrade(revision="0011_outbox")
        with db.engine.connect() as conn:
            back = dict(conn.execute(sa.text("SELECT name, status FROM relief_cycle")).all())
        assert back["review"] == "review"
        db.engine.dispose()
