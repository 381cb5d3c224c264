"""The second host (issue 19 point 4): two application instances over one PostgreSQL, each with
its scheduler. Instance A's scheduler is killed (SIGKILL) in the middle of a payment roll; instance
B's scheduler stands back while A's claim is fresh, takes the roll over once it is stale, and no
job runs twice. Every photo uploaded through one instance is readable from the other (and neither
wrote a file on its own disk). Waits are events with deadlines, never sleeps."""
from __future__ import annotations

import io
import multiprocessing
import os
import threading
from datetime import datetime, timedelta
from multiprocessing.connection import wait

import pytest
import time_machine
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from tests.conftest import PASSWORD
from tests.test_cycles_scheduler import _setup_disbursing
from tests.test_cycles_support import at
from tests.test_reports_photos import png

ROLLS = "cycles.rolls"
FIRE = at("2025-08-09 06:00")
STOP_AFTER = 5  # payments instance A makes before it dies
B = "instance-b-scheduler"


def _instance(url, tmp_path, name):
    """One host's application: its own instance folder and (unused) photo folder, the shared
    database."""
    return create_app({"TESTING": True, "SECRET_KEY": "second-host", "SQLALCHEMY_DATABASE_URI": url,
                       "RATELIMIT_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                       "REPORT_PHOTO_DIR": str(tmp_path / name / "photos")},
                      instance_path=str(tmp_path / name / "instance"))


def _scheduler_a(url: str, fire: datetime, stop_after: int, said) -> None:
    """Instance A's scheduler, in a process of its own (forked, so it starts at once): what the
    scheduler runs when ``cycles.rolls`` fires, over the shared database, with its clock frozen
    just after the fire time. After its ``stop_after``-th payment it stops dead, as a host losing
    power would: it says so through ``said`` and waits for the SIGKILL."""
    from app.cycles.service import disbursement
    from app.scheduler import run_due

    def freeze(count: int) -> None:
        if count == stop_after:
            said.send(f"PAID {count}")
            threading.Event().wait()  # the power is out: nothing more happens here

    disbursement.after_payment = freeze
    app = create_app({"TESTING": True, "SECRET_KEY": "second-host", "SQLALCHEMY_DATABASE_URI": url,
                      "RATELIMIT_ENABLED": False})
    with time_machine.travel(fire + timedelta(seconds=30), tick=False), app.app_context():
        outcomes = run_due(fire, job_ids=[ROLLS], holder="instance-a-scheduler")
    said.send("FINISHED " + " ".join(f"{o.period_key}:{o.status}" for o in outcomes))


def _token(app, client, role, region):
    from tests.factories import make_user

    with app.app_context():
        name = make_user(role, region).username
    response = client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def _report(client, headers, event_id):
    response = client.post(f"/api/v1/events/{event_id}/reports", headers=headers, json={
        "region_code": "140105", "kind": "initial", "as_of": "2025-08-09T08:00:00",
        "figures": {"affected_population": 5}})
    assert response.status_code == 201, response.get_json()
    return f"/api/v1/events/{event_id}/reports/{response.get_json()['id']}/photos"


def _upload(client, headers, url, content):
    response = client.post(url, headers=headers, data={"file": (io.BytesIO(content), "p.png", "image/png")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return response.get_json()["url"]


def _photos_cross_over(host_a, host_b, tmp_path):
    """Photos uploaded through each instance, every one read back through the other."""
    from app.reports.models import Event

    client_a, client_b = host_a.test_client(), host_b.test_client()
    with host_a.app_context():
        event_id = db.session.scalar(select(Event.id))
    with time_machine.travel(at("2025-08-09 10:00"), tick=False):
        headers = _token(host_a, client_a, "officer", "140105")  # a token issued by A works on B
        url = _report(client_a, headers, event_id)
        sent = {_upload(client_a, headers, url, png(40 + i)): png(40 + i) for i in range(3)}
        sent |= {_upload(client_b, headers, url, png(50 + i)): png(50 + i) for i in range(2)}
        for photo_url, content in sent.items():
            for client in (client_a, client_b):
                fetched = client.get(photo_url, headers=headers)
                assert fetched.status_code == 200 and fetched.data == content
    for name in ("a", "b"):
        assert not os.path.exists(tmp_path / name / "photos")  # nothing on either host's disk
    return len(sent)


def _runs(app):
    from app.scheduler import JobRun

    with app.app_context():
        rows = db.session.execute(select(JobRun.period_key, JobRun.status, JobRun.attempts, JobRun.claimed_by)
                                  .where(JobRun.job_id == ROLLS).order_by(JobRun.period_key)).all()
        db.session.remove()
    return {key: (status, attempts, holder) for key, status, attempts, holder in rows}


def _scheduler_in(host, holder, now):
    """What ``host``'s scheduler does when ``cycles.rolls`` fires (or it catches up), at ``now``."""
    from app.scheduler import run_due

    with time_machine.travel(now, tick=False), host.app_context():
        outcomes = {o.period_key: o.status for o in run_due(FIRE, job_ids=[ROLLS], holder=holder)}
        db.session.remove()
    return outcomes


def _check_paid_once(app, persons, households):
    from app.cycles.models import FundEntry, FundLine, Payment, PaymentRoll

    with app.app_context():
        rolls = db.session.execute(select(PaymentRoll.period, PaymentRoll.status, PaymentRoll.payment_count)).all()
        assert rolls == [("2025-08-09", "complete", households)]
        keys = db.session.execute(select(Payment.household_id, Payment.period)).all()
        assert len(keys) == len(set(keys)) == households
        expected = persons * 2000 * 31  # 20 CNY per person per day, 31 days of August
        assert db.session.scalar(select(func.sum(Payment.amount_fen))) == expected
        line = db.session.scalar(select(FundLine))
        assert line.spent_fen == expected and line.balance_fen == line.budget_fen - expected
        assert db.session.scalar(select(func.count(FundEntry.id)).where(FundEntry.kind == "payment")) == households
        db.session.remove()


@pytest.mark.postgres
def test_two_instances_one_scheduler_killed_mid_roll(pg_url, tmp_path):
    host_a, host_b = _instance(pg_url, tmp_path, "a"), _instance(pg_url, tmp_path, "b")
    with host_a.app_context():
        db.create_all()
        from tests.factories import seed_geography

        seed_geography()
        db.session.remove()
    cycle_id, persons = _setup_disbursing(host_a)
    households = 12

    for host in (host_a, host_b):  # the forked child inherits no connection of ours
        with host.app_context():
            db.engine.dispose()
    context = multiprocessing.get_context("fork")
    heard, said = context.Pipe(duplex=False)
    scheduler_a = context.Process(target=_scheduler_a, args=(pg_url, FIRE, STOP_AFTER, said), daemon=True)
    scheduler_a.start()
    try:
        # an event with a deadline: A's word, or its death
        assert wait([heard, scheduler_a.sentinel], timeout=60), "instance A's scheduler said nothing in time"
        assert heard.poll() and heard.recv() == f"PAID {STOP_AFTER}", f"A exited with {scheduler_a.exitcode}"
        # A is in the middle of the roll: its claim is running and fresh, part of the payments made
        runs = _runs(host_b)
        assert runs["2025-08-09T06:00"] == ("running", 1, "instance-a-scheduler")
        # B's scheduler fires meanwhile: it stands back from A's claim (and the periods A finished)
        assert _scheduler_in(host_b, B, FIRE + timedelta(minutes=5)) == {key: "skipped" for key in runs}
        # the web side of both instances goes on: photos cross from one host to the other
        assert _photos_cross_over(host_a, host_b, tmp_path) == 5
        scheduler_a.kill()  # SIGKILL: no cleanup, no "failed" mark, its claim left running
        scheduler_a.join(30)
        assert scheduler_a.exitcode == -9
    finally:
        if scheduler_a.is_alive():
            scheduler_a.kill()
            scheduler_a.join(30)
        heard.close()
        said.close()

    from app.cycles.models import Payment

    with host_b.app_context():
        assert db.session.scalar(select(func.count(Payment.id))) == STOP_AFTER
        db.session.remove()
    stale = host_b.config["SCHEDULER_STALE_SECONDS"]
    # once A's heartbeat is stale, B takes the roll over and resumes it
    after = FIRE + timedelta(seconds=30 + stale + 1)
    outcomes = _scheduler_in(host_b, B, after)
    assert outcomes["2025-08-09T06:00"] == "done"
    assert {status for key, status in outcomes.items() if key != "2025-08-09T06:00"} == {"skipped"}
    # a duplicate fire on either instance changes nothing
    assert set(_scheduler_in(host_b, B, after).values()) == {"skipped"}
    assert set(_scheduler_in(host_a, "instance-a-scheduler-restarted", after + timedelta(minutes=1)).values()) \
        == {"skipped"}
    runs = _runs(host_a)
    assert runs.pop("2025-08-09T06:00") == ("done", 2, B)
    assert {(status, attempts) for status, attempts, _holder in runs.values()} <= {("done", 1)}
    _check_paid_once(host_a, persons, households)
    for host in (host_a, host_b):
        with host.app_context():
            db.engine.dispose()
