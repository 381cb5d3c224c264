"""Time travel: a frozen clock plus ``flask scheduler run-due`` walk each kind of cycle through a
year; the totals paid match amounts computed by hand, nothing is paid twice, and a scheduler
killed in the middle of a roll completes to the same totals when it runs again."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from tests.test_cycles_support import (VILLAGE2, approve_cycle, at, make_event, make_fund, make_household,
                                       paid_total, post, run_due, village_review, walk_roll, walk_to_notice)

ROLLS = "cycles.rolls"


def _walk_days(runner, start, end, step_days=7, hour="06:30", jobs=(ROLLS,)):
    """run-due every ``step_days`` days (the roll job catches up the days in between)."""
    day = at(f"{start} {hour}")
    last = at(f"{end} {hour}")
    while day <= last:
        with time_machine.travel(day, tick=False):
            run_due(runner, day, *jobs)
        day += timedelta(days=step_days)


def _payments(app, cycle_id):
    from app.cycles.models import Payment
    from app.extensions import db

    with app.app_context():
        return [(p.household_id, p.period, p.amount_fen) for p in db.session.scalars(
            select(Payment).where(Payment.cycle_id == cycle_id).order_by(Payment.id)).all()]


def _status(client, headers, cycle_id):
    return client.get(f"/api/v1/cycles/{cycle_id}", headers=headers).get_json()["status"]


def test_transitional_year_with_extension_addition_and_adjustment(app, client, auth, runner):
    event = make_event(app, stabilised=at("2025-07-31 18:00"))
    a = make_household(app, head_name="甲", members=4, damage_class="collapsed", no_housing=True)
    b = make_household(app, head_name="乙", members=3, damage_class="severely_damaged", no_housing=True)
    make_household(app, head_name="丙", members=5, damage_class="generally_damaged")  # not eligible
    d = make_household(app, head_name="丁", members=2, cannot_return=True, village_code=VILLAGE2)
    e = make_household(app, head_name="戊", members=2, damage_class="collapsed", no_housing=True)
    line = make_fund(app, "transitional", 100_000)
    headers = auth.token("coordinator", "140105")

    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        created = post(client, headers, "/cycles", {"kind": "transitional", "region_code": "140105",
                                                    "event_id": event, "starts_on": "2025-08-16",
                                                    "fund_line_id": line}, 201).get_json()
        cycle = created["id"]
        assert created["months"] == 3 and created["status"] == "draft"
    with time_machine.travel(at("2025-08-05 10:00"), tick=False):
        # 戊 registers late (it is added later through a supplementary roll)
        noticed = walk_to_notice(client, headers, cycle, approve=[a, b, d])
        assert sorted(noticed) == sorted([a, b, d])
    with time_machine.travel(at("2025-08-12 09:59"), tick=False):
        early = approve_cycle(client, headers, cycle, 409)
        assert "公示期未满" in early.get_json()["detail"]
    with time_machine.travel(at("2025-08-12 10:00"), tick=False):
        approve_cycle(client, headers, cycle, 200, reject_township=[d])  # 乡审 after the notice
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "disburse"}, 200)

    _walk_days(runner, "2025-08-13", "2025-10-19")
    with time_machine.travel(at("2025-10-20 10:00"), tick=False):
        roll = post(client, headers, f"/cycles/{cycle}/rolls", {
            "purpose": "extend", "reason": "住房未修复", "approval_ref": "小应急〔2025〕12号",
            "months_total": 5, "household_ids": [a]}, 201).get_json()
        assert roll["status"] == "village" and roll["entry_count"] == 1  # 民主评议 first
        assert walk_roll(client, headers, roll["id"], until="notice")["status"] == "notice"
        walk_roll(client, headers, roll["id"], status=409)  # the notice has not ended
    with time_machine.travel(at("2025-10-27 10:00"), tick=False):
        walk_roll(client, headers, roll["id"])
    with time_machine.travel(at("2025-10-28 10:00"), tick=False):
        added = post(client, headers, f"/cycles/{cycle}/rolls", {
            "purpose": "add", "reason": "漏报户增补", "entries": [{"household_id": e}]}, 201).get_json()
        walk_roll(client, headers, added["id"], until="notice")
    with time_machine.travel(at("2025-11-04 10:00"), tick=False):
        walk_roll(client, headers, added["id"])
    with time_machine.travel(at("2025-11-05 10:00"), tick=False):
        adjust = post(client, headers, f"/cycles/{cycle}/rolls", {
            "purpose": "adjust", "reason": "少发补发", "entries": [{"household_id": b, "amount": 100}]}, 201).get_json()
        walk_roll(client, headers, adjust["id"], until="notice")
    with time_machine.travel(at("2025-11-12 10:00"), tick=False):
        walk_roll(client, headers, adjust["id"])
    _walk_days(runner, "2025-10-20", "2026-07-31")

    # by hand: 2025-08-16 + 3 months = 16 + 30 + 31 + 15 = 92 days at 20 CNY per person per day;
    # 甲's extension to 5 months adds 2025-11-16 .. 2026-01-15 = 15 + 31 + 15 = 61 days.
    first = {a: 4 * 20 * 92, b: 3 * 20 * 92}
    expected = first[a] + first[b] + 4 * 20 * 61 + 2 * 20 * 92 + 100
    assert expected == 21_540
    assert paid_total(app, cycle) == expected
    payments = _payments(app, cycle)
    assert len(payments) == len({(h, p) for h, p, _ in payments})  # nothing paid twice
    by_household = {}
    for household, _period, amount in payments:
        by_household[household] = by_household.get(household, 0) + amount
    assert by_household == {a: (first[a] + 4 * 20 * 61) * 100, b: (first[b] + 100) * 100, e: 2 * 20 * 92 * 100}
    assert d not in by_household
    assert _status(client, headers, cycle) == "closed"
    # the fund line paid exactly that, and its ledger agrees line by line
    ledger = client.get(f"/api/v1/fund-lines/{line}/ledger", headers=headers).get_json()["items"]
    assert ledger[0]["kind"] == "allocation" and ledger[-1]["balance_after"] == 100_000 - expected
    assert sum(-x["amount"] for x in ledger if x["kind"] == "payment") == expected
    # the first monthly batch fell due on the start day
    batches = client.get(f"/api/v1/cycles/{cycle}/payment-rolls", headers=headers).get_json()["items"]
    assert batches[0]["period"] == "2025-08-16" and batches[0]["total"] == (4 + 3) * 20 * 16


def test_winter_spring_year_from_survey_to_spring(app, client, auth, runner):
    app.config["CYCLE_WINTER_SPRING_REGIONS"] = ["140105"]
    f = make_household(app, head_name="冬一", members=3, damage_class="collapsed")
    g = make_household(app, head_name="冬二", members=2, damage_class="generally_damaged", dibao=True)
    make_household(app, head_name="冬三", members=4)  # not affected: not eligible
    headers = auth.token("coordinator", "140105")

    with time_machine.travel(at("2025-09-20 08:00"), tick=False):
        run_due(runner, at("2025-09-20 08:00"), "cycles.winter_spring.open_survey")
    cycles = client.get("/api/v1/cycles?kind=winter_spring", headers=headers).get_json()["items"]
    assert len(cycles) == 1 and cycles[0]["status"] == "survey" and cycles[0]["year"] == 2025
    cycle = cycles[0]["id"]
    assert cycles[0]["pay_to_month"] == 5
    line = make_fund(app, "winter_spring", 10_000)
    with time_machine.travel(at("2025-10-10 09:00"), tick=False):
        post(client, headers, f"/cycles/{cycle}/beneficiaries/propose", {}, 201)
        table = client.get("/api/v1/winter-spring/2025/needs?region_code=140105", headers=headers).get_json()
        assert table["total"]["households"] == 2 and table["total"]["persons"] == 5
        assert table["total"]["priority"] == 2 and table["total"]["funds"] == 5 * 130
        post(client, headers, "/winter-spring/2025/submissions", {"region_code": "140105"}, 201)
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "submit_review"}, 200)
        decisions = [{"household_id": h, "decision": "approve"} for h in (f, g)]
        village_review(client, headers, cycle, decisions)
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "start_notice"}, 200)
    with time_machine.travel(at("2025-10-31 09:00"), tick=False):
        approve_cycle(client, headers, cycle, 200)
        client.put(f"/api/v1/cycles/{cycle}/fund-line", json={"fund_line_id": line}, headers=headers)
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "disburse"}, 200)
    _walk_days(runner, "2025-11-01", "2026-07-31")

    # by hand: 130 CNY per person for the season, paid December to May (6 months)
    assert paid_total(app, cycle) == (3 + 2) * 130
    payments = _payments(app, cycle)
    assert sorted({p for _h, p, _a in payments}) == ["2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
    # the winter half (December–February, all before Spring Festival 2026-02-17) and the spring
    # half (March–May) each split evenly: 2 × 130 = 260 CNY
    assert [a for h, _p, a in payments if h == g] == [4334, 4333, 4333, 4334, 4333, 4333]
    assert _status(client, headers, cycle) == "closed"
    # the first payment was made before Spring Festival (2026-02-17)
    batches = client.get(f"/api/v1/cycles/{cycle}/payment-rolls", headers=headers).get_json()["items"]
    assert batches[0]["period"] == "2025-12-01"


def test_reconstruction_year_paid_by_stage(app, client, auth, runner):
    event = make_event(app, stabilised=at("2025-07-25 12:00"))
    i = make_household(app, head_name="建一", members=4, damage_class="collapsed")
    j = make_household(app, head_name="建二", members=3, damage_class="severely_damaged")
    k = make_household(app, head_name="建三", members=2, damage_class="generally_damaged")
    make_household(app, head_name="建四", members=2)  # not damaged
    line = make_fund(app, "reconstruction", 100_000)
    headers = auth.token("coordinator", "140105")
    officer = auth.token("officer", "140105001")
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = post(client, headers, "/cycles", {"kind": "reconstruction", "region_code": "140105",
                                                  "event_id": event, "fund_line_id": line}, 201).get_json()["id"]
        walk_to_notice(client, headers, cycle)
    with time_machine.travel(at("2025-08-20 09:00"), tick=False):
        approve_cycle(client, headers, cycle, 200)
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "disburse"}, 200)
    projects = {p["household_id"]: p["id"] for p in
                client.get(f"/api/v1/cycles/{cycle}/projects", headers=headers).get_json()["items"]}
    assert set(projects) == {i, j, k}
    plan = [("2025-09-10 10:00", i, "started"), ("2025-09-15 10:00", j, "started"),
            ("2025-10-01 10:00", k, "completed"), ("2025-10-02 10:00", k, "moved_in"),
            ("2025-11-01 10:00", i, "main_structure"), ("2025-12-01 10:00", j, "main_structure"),
            ("2026-03-01 10:00", i, "completed"), ("2026-04-01 10:00", i, "moved_in"),
            ("2026-05-01 10:00", j, "completed"), ("2026-05-10 10:00", j, "moved_in")]
    day = at("2025-08-21 09:30")
    for when, household, stage in plan + [("2026-07-31 10:00", None, None)]:
        while day < at(when):
            with time_machine.travel(day, tick=False):
                run_due(runner, day, ROLLS, "cycles.reconstruction.progress")
            day += timedelta(days=7)
        if household is not None:
            with time_machine.travel(at(when), tick=False):
                post(client, officer, f"/projects/{projects[household]}/progress", {"stage": stage}, 201)
    with time_machine.travel(at("2026-07-31 10:00"), tick=False):
        run_due(runner, at("2026-07-31 10:00"), ROLLS)
    # by hand: 20,000 (40 % started, 30 % main structure, 30 % completed) twice, and 2,000 on completion
    assert paid_total(app, cycle) == 20_000 + 20_000 + 2_000
    by_stage = {(h, p): a for h, p, a in _payments(app, cycle)}
    assert by_stage[(i, "stage:started")] == 800_000 and by_stage[(k, "stage:completed")] == 200_000
    assert _status(client, headers, cycle) == "closed"
    # reports are due every 20 days: after approval on 08-20 (建二, 建三 late by 09-11); after
    # 建一's report of 09-10 (late by 10-02); after 建二's report of 09-15 (late by 10-09)
    from app.notifications import Notification
    from app.extensions import db

    with app.app_context():
        alerts = db.session.scalars(select(Notification).where(Notification.kind == "reconstruction.overdue")).all()
        by_day = {a.created_at.astimezone(at("2025-01-01 00:00").tzinfo).date().isoformat(): a.body for a in alerts}
    assert by_day["2025-09-11"].endswith("建二、建三。")
    assert "建一" in by_day["2025-10-02"] and "建二" not in by_day["2025-10-02"]
    assert "建二" in by_day["2025-10-09"]
    assert "2025-09-04" not in by_day


@pytest.mark.parametrize("kind, hazard, households, expected", [
    ("condolence", "flood", [dict(members=4, damage_class="collapsed", deceased=2),
                             dict(members=3, deceased=1)], 30_000),
    ("drought", "drought", [dict(members=4, no_livelihood=True), dict(members=2, tekun=True),
                            dict(members=5)], 4 * 60 + 2 * 60),
])
def test_one_off_cycles_pay_once(app, client, auth, runner, kind, hazard, households, expected):
    event = make_event(app, hazard=hazard)
    line = make_fund(app, kind, 50_000)
    headers = auth.token("coordinator", "140105")
    items = []
    for spec in households:
        deceased = spec.pop("deceased", 0)
        items.append({"household_id": make_household(app, **spec), "deceased": deceased})
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = post(client, headers, "/cycles", {"kind": kind, "region_code": "140105", "event_id": event,
                                                  "fund_line_id": line}, 201).get_json()["id"]
        walk_to_notice(client, headers, cycle, items=items, propose=False)
    with time_machine.travel(at("2025-08-08 09:00"), tick=False):
        approve_cycle(client, headers, cycle, 200)
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "disburse"}, 200)
    _walk_days(runner, "2025-08-09", "2026-08-01", step_days=30)
    assert paid_total(app, cycle) == expected
    assert {p for _h, p, _a in _payments(app, cycle)} == {"once"}
    assert _status(client, headers, cycle) == "closed"


# --- a scheduler killed in the middle of a roll ---------------------------------------------------

def _disbursing_transitional(app, client, auth, n=5):
    event = make_event(app, stabilised=at("2025-07-31 18:00"))
    for index in range(n):
        make_household(app, head_name=f"户{index}", members=index + 1, damage_class="collapsed", no_housing=True)
    line = make_fund(app, "transitional", 100_000)
    headers = auth.token("coordinator", "140105")
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = post(client, headers, "/cycles", {"kind": "transitional", "region_code": "140105", "event_id": event,
                                                  "starts_on": "2025-08-01", "fund_line_id": line}, 201).get_json()["id"]
        walk_to_notice(client, headers, cycle)
    with time_machine.travel(at("2025-08-08 09:00"), tick=False):
        approve_cycle(client, headers, cycle, 200)
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "disburse"}, 200)
    return cycle, line


def _kill_after(monkeypatch, n, exc=RuntimeError):
    from app.cycles.service import disbursement as payments

    def hook(count):
        if count >= n:
            raise exc(f"killed after {count} payments")

    monkeypatch.setattr(payments, "after_payment", hook)


def test_killed_mid_roll_resumes_to_the_same_totals(app, client, auth, runner, monkeypatch):
    from app.cycles.models import PaymentRoll
    from app.extensions import db
    from app.scheduler import JobRun

    cycle, _line = _disbursing_transitional(app, client, auth)
    instant = at("2025-08-09 06:00")
    # August is 31 days for 1+2+3+4+5 = 15 persons at 20 CNY
    expected_august = 15 * 20 * 31
    _kill_after(monkeypatch, 2)
    with time_machine.travel(instant, tick=False):
        result = runner.invoke(args=["scheduler", "run-due", "--now", instant.isoformat(), "--job", ROLLS])
    assert result.exit_code == 1 and "killed after 2 payments" in result.output
    with app.app_context():
        roll = db.session.scalar(select(PaymentRoll).filter_by(cycle_id=cycle))
        assert roll.status == "generating"
        run = db.session.scalar(select(JobRun).filter_by(job_id=ROLLS, period_key="2025-08-09T06:00"))
        assert run.status == "failed"
    assert len(_payments(app, cycle)) == 2
    monkeypatch.setattr("app.cycles.service.disbursement.after_payment", None)
    with time_machine.travel(instant + timedelta(minutes=1), tick=False):
        run_due(runner, instant, ROLLS)
        run_due(runner, instant, ROLLS)  # a duplicate trigger changes nothing
    assert paid_total(app, cycle) == expected_august
    with app.app_context():
        rolls = db.session.scalars(select(PaymentRoll).filter_by(cycle_id=cycle)).all()
        assert len(rolls) == 1 and rolls[0].status == "complete" and rolls[0].payment_count == 5
        assert rolls[0].total_fen == expected_august * 100
        run = db.session.scalar(select(JobRun).filter_by(job_id=ROLLS, period_key="2025-08-09T06:00"))
        assert run.status == "done" and run.attempts == 2


def test_hard_kill_leaves_a_stale_claim_that_is_taken_over(app, client, auth, runner, monkeypatch):
    """A process killed outright never marks its run failed: the claim stays ``running`` and a
    second scheduler stands back until the heartbeat is stale, then resumes the roll."""
    from app.scheduler import JobRun, run_due as run_due_now
    from app.extensions import db

    cycle, _line = _disbursing_transitional(app, client, auth)
    instant = at("2025-08-09 06:00")
    _kill_after(monkeypatch, 3, exc=KeyboardInterrupt)
    with time_machine.travel(instant, tick=False):
        with app.app_context():
            with pytest.raises(KeyboardInterrupt):
                run_due_now(instant, job_ids=[ROLLS])
            db.session.remove()
    monkeypatch.setattr("app.cycles.service.disbursement.after_payment", None)
    with time_machine.travel(instant + timedelta(minutes=5), tick=False):
        with app.app_context():
            outcomes = run_due_now(instant, job_ids=[ROLLS])
            assert {o.status for o in outcomes} == {"skipped"}  # still fresh: someone may be on it
    assert len(_payments(app, cycle)) == 3
    stale = app.config["SCHEDULER_STALE_SECONDS"]
    with time_machine.travel(instant + timedelta(seconds=stale + 1), tick=False):
        with app.app_context():
            outcomes = run_due_now(instant, job_ids=[ROLLS])
            assert [o.status for o in outcomes if o.period_key == "2025-08-09T06:00"] == ["done"]
            assert db.session.scalar(select(JobRun.attempts).filter_by(period_key="2025-08-09T06:00")) == 2
    assert paid_total(app, cycle) == 15 * 20 * 31


def test_catch_up_after_downtime_pays_each_month_once(app, client, auth, runner):
    from app.scheduler import JobRun
    from app.extensions import db

    cycle, _line = _disbursing_transitional(app, client, auth, n=2)
    # the scheduler was down from 2025-08-09 until 2025-09-03: the catch-up runs 7 days back
    with time_machine.travel(at("2025-09-03 12:00"), tick=False):
        run_due(runner, at("2025-09-03 12:00"), ROLLS)
    with app.app_context():
        keys = db.session.scalars(select(JobRun.period_key).filter_by(job_id=ROLLS).order_by(JobRun.period_key)).all()
    assert keys == [f"2025-{d}T06:00" for d in ("08-28", "08-29", "08-30", "08-31", "09-01", "09-02", "09-03")]
    # August (31 days) and September (30 days) for 1 + 2 persons, each once
    assert paid_total(app, cycle) == 3 * 20 * (31 + 30)
    assert len(_payments(app, cycle)) == 4


def test_short_funds_pay_nothing_beyond_the_balance_and_resume_after_top_up(app, client, auth, runner):
    from app.cycles.models import FundLine, PaymentRoll
    from app.extensions import db

    cycle, line = _disbursing_transitional(app, client, auth, n=2)
    headers = auth.token("coordinator", "140105")
    with app.app_context():
        fund = db.session.get(FundLine, line)
        # take the balance down to 700 CNY: enough for 1 person's August (620) but not 2 persons' (1,240)
        from app.cycles.service.funds import post_allocation

        post_allocation(None, fund, -(fund.balance_fen - 70_000), "调减")
        db.session.commit()
    with time_machine.travel(at("2025-08-09 06:30"), tick=False):
        run_due(runner, at("2025-08-09 06:30"), ROLLS)
    assert paid_total(app, cycle) == 620
    with app.app_context():
        assert db.session.get(FundLine, line).balance_fen == 8_000
        roll = db.session.scalar(select(PaymentRoll).filter_by(cycle_id=cycle))
        assert roll.shortfall_fen == 124_000
    with time_machine.travel(at("2025-08-10 09:00"), tick=False):
        post(client, headers, f"/fund-lines/{line}/allocations", {"amount": 5_000, "note": "追加"}, 201)
    with time_machine.travel(at("2025-08-11 06:30"), tick=False):
        run_due(runner, at("2025-08-11 06:30"), ROLLS)
    assert paid_total(app, cycle) == 3 * 20 * 31
    with app.app_context():
        assert db.session.scalar(select(func.count(PaymentRoll.id)).filter_by(cycle_id=cycle)) == 2
