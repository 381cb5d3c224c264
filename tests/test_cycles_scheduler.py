"""The scheduler: jobs declared as data, fire times and periods, exactly-once claims, the lease
that keeps a second scheduler on standby, reconciliation with APScheduler, the CLI, and two
schedulers racing for the same instant (SQLite and PostgreSQL) producing one roll per period."""
from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import create_engine, func, select, text

from app import create_app
from app.extensions import db
from tests.waiting import wait_until
from tests.test_cycles_support import at, make_event, make_fund, make_household, run_due


def _spec(job_id):
    from app.jobs import by_id

    return by_id()[job_id]


# --- declarations, fire times and periods -----------------------------------------------------------

def test_jobs_are_declared_once_with_stable_ids():
    from app.jobs import JOBS

    ids = [spec.id for spec in JOBS]
    assert len(ids) == len(set(ids))
    assert {"reports.deadlines", "responses.refresh", "cycles.rolls", "cycles.winter_spring.open_survey",
            "cycles.winter_spring.deadlines", "cycles.reconstruction.progress", "cycles.notices",
            "complaints.escalate", "notifications.deliver"} == set(ids)
    assert _spec("reports.deadlines").trigger == {"minute": "*/15"}


def test_fire_times_within_the_catch_up_window(app):
    from zoneinfo import ZoneInfo

    from app.scheduler import fire_times, period_key

    tz = ZoneInfo("Asia/Shanghai")
    with app.app_context():
        quarter = fire_times(_spec("reports.deadlines"), at("2025-08-01 10:07"), app.config, tz)
        assert [period_key(t, tz) for t in quarter] == ["2025-08-01T09:15", "2025-08-01T09:30",
                                                        "2025-08-01T09:45", "2025-08-01T10:00"]
        exact = fire_times(_spec("cycles.rolls"), at("2025-08-01 06:00"), app.config, tz)
        assert period_key(exact[-1], tz) == "2025-08-01T06:00" and len(exact) == 7
        assert fire_times(_spec("cycles.winter_spring.open_survey"), at("2025-08-01 06:00"), app.config, tz) == []
        app.config["SCHEDULER_TRIGGERS"] = {"cycles.rolls": {"hour": 5, "minute": 30}}
        moved = fire_times(_spec("cycles.rolls"), at("2025-08-01 06:00"), app.config, tz)
        assert period_key(moved[-1], tz) == "2025-08-01T05:30"


def test_claims_are_exclusive_and_failed_runs_are_retried(app):
    from app.scheduler import JobRun, claim

    with app.app_context():
        first = claim("cycles.rolls", "2025-08-01T06:00", at("2025-08-01 06:00"), "host-a")
        assert first is not None and first.status == "running"
        assert claim("cycles.rolls", "2025-08-01T06:00", at("2025-08-01 06:00"), "host-b") is None
        run = db.session.get(JobRun, first.id)
        run.status = "failed"
        db.session.commit()
        again = claim("cycles.rolls", "2025-08-01T06:00", at("2025-08-01 06:00"), "host-b")
        assert again.claimed_by == "host-b" and again.attempts == 2
        again.status = "done"
        db.session.commit()
        assert claim("cycles.rolls", "2025-08-01T06:00", at("2025-08-01 06:00"), "host-c") is None
        assert db.session.scalar(select(func.count(JobRun.id))) == 1


def test_run_due_needs_an_aware_instant_and_known_jobs(app):
    from datetime import datetime

    from app.scheduler import run_due as run

    with app.app_context():
        with pytest.raises(ValueError):
            run(datetime(2025, 8, 1, 6, 0))
        with pytest.raises(KeyError):
            run(at("2025-08-01 06:00"), job_ids=["no.such.job"])


# --- the command line -------------------------------------------------------------------------------

def test_run_due_runs_every_due_job_once(app, runner):
    with time_machine.travel(at("2025-09-20 08:40"), tick=False):
        output = run_due(runner, at("2025-09-20 08:40"))
        assert "reports.deadlines 2025-09-20T08:30 done" in output
        assert "cycles.rolls 2025-09-20T06:00 done" in output
        assert "cycles.winter_spring.open_survey 2025-09-20T08:00 done" in output
        assert "cycles.winter_spring.deadlines 2025-09-20T08:30 done" in output
        assert "失败 0 次" in output
        again = run_due(runner, at("2025-09-20 08:40"))
        assert "运行 0 次" in again
        alias = runner.invoke(args=["jobs", "run-due", "--at", "2025-09-20T08:40:00"])  # naive: Shanghai
        assert alias.exit_code == 0 and "运行 0 次" in alias.output
    listed = runner.invoke(args=["scheduler", "list"])
    assert listed.exit_code == 0 and "cycles.rolls" in listed.output and "2025-09-20T06:00 done" in listed.output


def test_run_due_rejects_bad_input(runner):
    bad = runner.invoke(args=["scheduler", "run-due", "--now", "next tuesday"])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output
    unknown = runner.invoke(args=["scheduler", "run-due", "--now", "2025-08-01T06:00", "--job", "nope"])
    assert unknown.exit_code == 1 and "nope" in unknown.output


def test_a_failing_job_is_recorded_and_retried_without_stopping_the_others(app, runner, monkeypatch):
    from app.scheduler import JobRun

    calls = []

    def broken(now):
        calls.append(now)
        raise RuntimeError("数据库暂不可用")

    monkeypatch.setattr("app.reports.jobs.check_deadlines", broken)
    with time_machine.travel(at("2025-08-01 06:05"), tick=False):
        result = runner.invoke(args=["scheduler", "run-due", "--now", "2025-08-01T06:05+08:00"])
    assert result.exit_code == 1
    assert "reports.deadlines 2025-08-01T06:00 failed：RuntimeError: 数据库暂不可用" in result.output
    assert "cycles.rolls 2025-08-01T06:00 done" in result.output
    monkeypatch.setattr("app.reports.jobs.check_deadlines", lambda now: 0)
    with time_machine.travel(at("2025-08-01 06:06"), tick=False):
        run_due(runner, at("2025-08-01 06:05"), "reports.deadlines")
    with app.app_context():
        run = db.session.scalar(select(JobRun).filter_by(job_id="reports.deadlines", period_key="2025-08-01T06:00"))
        assert run.status == "done" and run.attempts == 2 and run.error is None
    assert len(calls) == 4  # 05:15, 05:30, 05:45, 06:00 in the one-hour window


def test_jobs_api_lists_declarations_and_last_runs(app, client, auth, runner):
    with time_machine.travel(at("2025-08-01 06:01"), tick=False):
        run_due(runner, at("2025-08-01 06:01"), "cycles.rolls")
    body = client.get("/api/v1/jobs", headers=auth.token("auditor", "140000")).get_json()
    jobs = {j["id"]: j for j in body["items"]}
    assert jobs["cycles.rolls"]["last_run"]["period_key"] == "2025-08-01T06:00"
    assert jobs["cycles.rolls"]["trigger"] == {"hour": 6, "minute": 0}
    assert jobs["reports.deadlines"]["last_run"] is None
    assert client.get("/api/v1/jobs").status_code == 401


# --- the lease and the scheduler process ---------------------------------------------------------------

def test_lease_keeps_a_second_scheduler_on_standby(app):
    from app.scheduler import acquire_lease, lease_holder, release_lease

    with app.app_context():
        with time_machine.travel(at("2025-08-01 06:00"), tick=False):
            assert acquire_lease("host-a", 60)
            assert not acquire_lease("host-b", 60)
            assert acquire_lease("host-a", 60)  # renewal
        with time_machine.travel(at("2025-08-01 06:01:01"), tick=False):
            assert acquire_lease("host-b", 60)  # host-a stopped renewing: host-b takes over
            assert not acquire_lease("host-a", 60)
            assert lease_holder().holder == "host-b"
            release_lease("host-b")
        with time_machine.travel(at("2025-08-01 06:01:02"), tick=False):
            assert acquire_lease("host-a", 60)


def test_reconcile_makes_apscheduler_match_the_declarations(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    from app.jobs import JOBS
    from app.scheduler import reconcile

    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    scheduler.start(paused=True)
    try:
        scheduler.add_job(print, "interval", minutes=5, id="retired.job")
        scheduler.add_job(print, "interval", minutes=5, id="cycles.rolls")
        ids = reconcile(scheduler, app, "host-a")
        ids_again = reconcile(scheduler, app, "host-a")
        listed = scheduler.get_jobs()
    finally:
        scheduler.shutdown(wait=False)
    jobs = {job.id: job for job in listed}
    assert ids == ids_again == sorted(spec.id for spec in JOBS)
    assert set(jobs) == set(ids) and len(listed) == len(JOBS)
    assert "hour='6'" in str(jobs["cycles.rolls"].trigger) and jobs["cycles.rolls"].args[1] == "cycles.rolls"
    assert "month='9'" in str(jobs["cycles.winter_spring.open_survey"].trigger)


def test_scheduler_process_leads_or_stands_by(app):
    from app.scheduler import lease_holder, run_forever

    app.config["SCHEDULER_LEASE_SECONDS"] = 3
    events = {"leader": threading.Event(), "standby": threading.Event()}
    said = {"leader": [], "standby": []}

    def echo_for(name):
        def echo(message):
            said[name].append(message)
            if "运行中" in message:
                events["leader"].set()
            if "待命" in message:
                events["standby"].set()
        return echo

    stop_a, stop_b = threading.Event(), threading.Event()
    leader = threading.Thread(target=run_forever, args=(app, stop_a), kwargs={"echo": echo_for("leader")})
    leader.start()
    try:
        assert events["leader"].wait(30), said
        standby = threading.Thread(target=run_forever, args=(app, stop_b), kwargs={"echo": echo_for("standby")})
        standby.start()
        assert events["standby"].wait(30), said
        assert not any("运行中" in m for m in said["standby"])
        with app.app_context():
            assert lease_holder().holder.split(":")[1].isdigit()
    finally:
        stop_a.set()
        stop_b.set()
        leader.join(30)
        standby.join(30)
    assert said["leader"][-1] == "调度器已停止。" and not leader.is_alive() and not standby.is_alive()


def test_the_lease_holder_resumes_a_run_left_by_a_dead_process_once_its_claim_is_stale(app):
    """A process died in the middle of a run; its claim is still fresh when the next scheduler
    takes the lease (the lease is shorter than the staleness), so the start-up catch-up stands
    back from it. A later sweep of the holder (every ``SCHEDULER_STALE_SECONDS``) resumes it, the
    same day: not at the job's next fire time, which for a roll is tomorrow."""
    from zoneinfo import ZoneInfo

    from app.models_common import utcnow
    from app.scheduler import JobRun, period_key, run_forever

    app.config.update(SCHEDULER_LEASE_SECONDS=3, SCHEDULER_STALE_SECONDS=2)
    tz = ZoneInfo(app.config["SCHEDULER_TIMEZONE"])
    now = utcnow()
    fire = now.astimezone(tz).replace(second=0, microsecond=0)
    fresh_until = now + timedelta(seconds=5)  # heartbeat 3 s ahead + 2 s of staleness
    with app.app_context():
        db.session.add(JobRun(job_id="notifications.deliver", period_key=period_key(fire, tz), scheduled_for=fire,
                              status="running", claimed_by="dead-host:1:0", attempts=1, started_at=now,
                              heartbeat_at=now + timedelta(seconds=3)))
        db.session.commit()
        db.session.remove()
    said, running = [], threading.Event()

    def echo(message):
        said.append(message)
        if "运行中" in message:
            running.set()

    def run():
        with app.app_context():
            row = db.session.scalar(select(JobRun).filter_by(job_id="notifications.deliver",
                                                             period_key=period_key(fire, tz)))
            db.session.remove()
        return row

    stop = threading.Event()
    holder = threading.Thread(target=run_forever, args=(app, stop), kwargs={"echo": echo})
    holder.start()
    try:
        assert running.wait(30), said
        wait_until(lambda: run().status == "done", within=30, seen=lambda: (said, run().to_dict()))
    finally:
        stop.set()
        holder.join(30)
    row = run()
    assert row.attempts == 2 and row.claimed_by != "dead-host:1:0" and row.finished_at >= fresh_until


# --- two schedulers racing for the same instant ------------------------------------------------------------

def _setup_disbursing(app, households=12, opened=at("2025-08-01 09:00")):
    """A transitional cycle with ``households`` households, opened at ``opened`` (starting that
    day) and disbursing seven days later (2025-08-08 09:00 by default)."""
    from app.cycles import service
    from tests.factories import make_user

    event = make_event(app, started=opened - timedelta(days=22), stabilised=opened - timedelta(hours=15))
    for index in range(households):
        make_household(app, head_name=f"户{index}", members=1 + index % 4, damage_class="collapsed", no_housing=True)
    line = make_fund(app, "transitional", 1_000_000)
    with app.app_context():
        admin = make_user("admin", "000000", username=f"admin-{uuid.uuid4().hex[:6]}")
        # each step of the official order by a user of its level (民主评议, 乡审, 县批)
        village = make_user("officer", "140105001200", username=f"village-{uuid.uuid4().hex[:6]}")
        township = make_user("officer", "140105001", username=f"township-{uuid.uuid4().hex[:6]}")
        county = make_user("coordinator", "140105", username=f"county-{uuid.uuid4().hex[:6]}")
        with time_machine.travel(opened, tick=False):
            cycle = service.create_cycle(admin, {"kind": "transitional", "region_code": "140105", "event_id": event,
                                                 "fund_line_id": line,
                                                 "starts_on": opened.date()})
            service.transition(admin, cycle.id, {"action": "open_survey"})
            proposed = service.propose(admin, cycle.id)
            service.transition(admin, cycle.id, {"action": "submit_review"})
            decisions = [{"household_id": b.household_id, "decision": "approve"} for b in proposed]
            service.record_reviews(village, cycle.id, {"stage": "village", "decisions": decisions})
            service.transition(admin, cycle.id, {"action": "start_notice"})
        with time_machine.travel(opened + timedelta(days=7), tick=False):
            service.transition(township, cycle.id, {"action": "end_notice"})
            service.record_reviews(township, cycle.id, {"stage": "township", "decisions": decisions})
            service.transition(county, cycle.id, {"action": "approve"})
            service.transition(admin, cycle.id, {"action": "disburse"})
        persons = sum(b.persons for b in proposed)
        cycle_id = cycle.id
        db.session.remove()
    return cycle_id, persons


def _race(apps, target):
    barrier = threading.Barrier(len(apps))
    results, errors = [None] * len(apps), []

    def work(index, worker_app):
        try:
            with worker_app.app_context():
                barrier.wait(30)
                results[index] = target(index)
                db.session.remove()
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, a)) for i, a in enumerate(apps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return results


def _check_one_roll_per_period(app, cycle_id, persons, periods_days):
    from app.cycles.models import FundEntry, FundLine, Payment, PaymentRoll
    from app.scheduler import JobRun

    with app.app_context():
        periods = db.session.execute(select(PaymentRoll.period, func.count()).where(PaymentRoll.cycle_id == cycle_id)
                                     .group_by(PaymentRoll.period)).all()
        assert sorted(periods) == [(period, 1) for period in sorted(periods_days)]
        expected = persons * 2000 * sum(periods_days.values())  # 20 CNY per person per day
        assert db.session.scalar(select(func.coalesce(func.sum(Payment.amount_fen), 0))) == expected
        keys = db.session.execute(select(Payment.household_id, Payment.period)).all()
        assert len(keys) == len(set(keys))
        line = db.session.scalar(select(FundLine))
        assert line.spent_fen == expected and line.balance_fen == line.budget_fen - line.spent_fen
        assert db.session.scalar(select(func.count(FundEntry.id)).where(FundEntry.kind == "payment")) == len(keys)
        runs = db.session.execute(select(JobRun.period_key, JobRun.status, JobRun.attempts)
                                  .where(JobRun.job_id == "cycles.rolls")).all()
        assert len(runs) == len({r[0] for r in runs}) and {(r[1], r[2]) for r in runs} == {("done", 1)}


def _household_ids(app):
    from app.cycles.models import Household

    with app.app_context():
        return db.session.scalars(select(Household.id)).all()


def _racing_schedulers(url, engine_options, create_schema):
    def make():
        return create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": url,
                           "SQLALCHEMY_ENGINE_OPTIONS": dict(engine_options), "RATELIMIT_ENABLED": False})

    setup = make()
    with setup.app_context():
        create_schema()
        from tests.factories import seed_geography

        seed_geography()
        db.session.remove()
    cycle_id, persons = _setup_disbursing(setup)
    workers = [make(), make()]
    instant = at("2025-08-09 06:00")
    from app.scheduler import run_due as run

    with time_machine.travel(instant + timedelta(seconds=30), tick=False):
        outcomes = _race(workers, lambda i: [o.to_dict() for o in run(instant, job_ids=["cycles.rolls"],
                                                                          holder=f"scheduler-{i}")])
    done = [o["period_key"] for result in outcomes for o in result if o["status"] == "done"]
    assert sorted(done) == sorted(set(done)) and "2025-08-09T06:00" in done
    # both workers reached the period; one ran it, the other stood back
    assert sorted(o["status"] for result in outcomes for o in result
                  if o["period_key"] == "2025-08-09T06:00") == ["done", "skipped"]
    _check_one_roll_per_period(setup, cycle_id, persons, {"2025-08-09": 31})
    # and the payment engine on its own, with no claim to protect it, still pays nothing twice
    from app.cycles.service import disbursement as payments

    september = at("2025-09-01 06:00")
    with time_machine.travel(september + timedelta(minutes=1), tick=False):
        summaries = _race(workers, lambda i: payments.generate_rolls(september, "2025-09-01"))
    assert sum(s["payments"] for s in summaries) == len(_household_ids(setup))
    _check_one_roll_per_period(setup, cycle_id, persons, {"2025-08-09": 31, "2025-09-01": 30})
    for worker in [setup, *workers]:
        with worker.app_context():
            db.engine.dispose()


def test_two_schedulers_on_sqlite_make_one_roll_per_period(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    _racing_schedulers(url, {}, db.create_all)


@pytest.mark.postgres
def test_two_schedulers_on_postgres_make_one_roll_per_period(pg_url):
    """Two scheduler workers with their own engines race ``run-due`` for the same instant
    against PostgreSQL. The schema is created with ``create_all`` in a schema of its own (the
    migrations for these tables are generated later)."""
    schema = f"cycles_race_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        _racing_schedulers(pg_url, {"connect_args": {"options": f"-csearch_path={schema},public"}}, db.create_all)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
