"""The scheduler process and exactly-once job runs.

- :class:`JobRun`: one row per (job id, period key) under a unique constraint, claimed in its
  own committed transaction *before* the work runs. Two processes racing for one period: one
  inserts, the other sees the row and stands back. A run that failed or whose heartbeat went
  stale (the process was killed) is taken over by the next attempt, which resumes: the jobs
  themselves are idempotent (unique payment lines), so a resumed run completes to the same
  totals.
- :class:`SchedulerLease`: a lease row in the database; only the holder runs APScheduler, any
  other ``scheduler run`` process (on another host, say) waits on standby and takes over when
  the lease expires. The holder also sweeps for due runs not done at start-up and every
  ``SCHEDULER_STALE_SECONDS``, which resumes a run left behind by a killed process.
- :func:`run_due`: run every job due at an instant (catching up missed fire times within each
  job's ``catchup`` window). ``flask --app wsgi scheduler run-due --now ISO`` (also
  ``flask --app wsgi jobs run-due --at ISO``) is the time machine the tests use.
- :func:`reconcile`: make an APScheduler instance's jobs match :data:`app.jobs.JOBS` exactly.
"""
from __future__ import annotations

import importlib
import logging
import os
import signal
import socket
import threading
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .models_common import utcnow
from .types import JSONType, UTCDateTime, jsonable

log = logging.getLogger("jiuzai.scheduler")
LEASE_NAME = "scheduler"


class JobRun(db.Model):
    """One run of one job for one period (its scheduled fire time)."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job_id", "period_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(80), index=True)
    period_key: Mapped[str] = mapped_column(String(40))
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10))  # running | done | failed
    claimed_by: Mapped[str] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict | list | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)

    def to_dict(self) -> dict:
        return {"id": self.id, "job_id": self.job_id, "period_key": self.period_key,
                "scheduled_for": self.scheduled_for.isoformat(), "status": self.status,
                "claimed_by": self.claimed_by, "attempts": self.attempts,
                "started_at": self.started_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                "result": self.result, "error": self.error}


class SchedulerLease(db.Model):
    """Who runs the scheduler now, until when."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- triggers and periods ------------------------------------------------------------------------

def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("SCHEDULER_TIMEZONE") or current_app.config["TIMEZONE"])


def trigger_fields(spec, config) -> dict:
    fields = dict(spec.trigger)
    if spec.trigger_key and config.get(spec.trigger_key):
        fields = dict(config[spec.trigger_key])
    fields.update(config.get("SCHEDULER_TRIGGERS", {}).get(spec.id, {}))
    return fields


def make_trigger(spec, config, tz: ZoneInfo):
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(timezone=tz, **trigger_fields(spec, config))


def period_key(fire_time: datetime, tz: ZoneInfo) -> str:
    """The period a fire time stands for: its local minute (``2025-08-01T06:00``)."""
    return fire_time.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def fire_times(spec, now: datetime, config, tz: ZoneInfo) -> list[datetime]:
    """Fire times of ``spec`` in ``(now - catchup, now]``, oldest first."""
    trigger = make_trigger(spec, config, tz)
    cursor = (now - spec.catchup).astimezone(tz) + timedelta(microseconds=1)
    out, previous = [], None
    while True:
        fire = trigger.get_next_fire_time(previous, cursor)
        if fire is None or fire > now:
            return out
        out.append(fire)
        previous, cursor = fire, fire + timedelta(microseconds=1)


# --- claiming a run -------------------------------------------------------------------------------

def claim(job_id: str, key: str, scheduled_for: datetime, holder: str) -> JobRun | None:
    """Claim (job, period) in its own transaction; ``None`` when done or running elsewhere."""
    now = utcnow()
    db.session.rollback()
    try:
        db.session.add(JobRun(job_id=job_id, period_key=key, scheduled_for=scheduled_for,
                              status="running", claimed_by=holder, attempts=1, started_at=now,
                              heartbeat_at=now))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
    else:
        return db.session.scalar(select(JobRun).filter_by(job_id=job_id, period_key=key))
    row = db.session.scalar(select(JobRun).filter_by(job_id=job_id, period_key=key))
    if row is None or row.status == "done":
        return None
    stale_before = now - timedelta(seconds=current_app.config["SCHEDULER_STALE_SECONDS"])
    if row.status == "running" and row.heartbeat_at > stale_before:
        return None
    # Take over a failed or abandoned run: compare-and-set on the attempt counter, so that of
    # two processes taking over at once only one wins.
    seen = row.attempts
    result = db.session.execute(
        update(JobRun).where(JobRun.id == row.id, JobRun.attempts == seen, JobRun.status != "done")
        .values(status="running", claimed_by=holder, attempts=seen + 1, heartbeat_at=now, error=None))
    db.session.commit()
    if result.rowcount != 1:
        return None
    db.session.expire_all()
    return db.session.get(JobRun, row.id)


@dataclass
class RunContext:
    """Handed to a job: ``heartbeat()`` keeps the claim fresh during long work."""

    run_id: int
    job_id: str
    period_key: str

    def heartbeat(self) -> None:
        db.session.execute(update(JobRun).where(JobRun.id == self.run_id).values(heartbeat_at=utcnow()))
        db.session.commit()


@dataclass
class Outcome:
    job_id: str
    period_key: str
    status: str  # done | failed | skipped
    result: object = None
    error: str | None = None

    def to_dict(self) -> dict:
        return {"job_id": self.job_id, "period_key": self.period_key, "status": self.status,
                "result": self.result, "error": self.error}


def _load(func: str):
    module_name, name = func.split(":")
    return getattr(importlib.import_module(module_name), name)


def execute(spec, fire: datetime, holder: str, tz: ZoneInfo) -> Outcome:
    key = period_key(fire, tz)
    run = claim(spec.id, key, fire, holder)
    if run is None:
        return Outcome(spec.id, key, "skipped")
    context = RunContext(run.id, spec.id, key)
    try:
        result = _load(spec.func)(fire, context)
    except Exception as exc:  # a failing job is recorded and retried; it must not stop the others
        db.session.rollback()
        log.exception("job %s for %s failed", spec.id, key)
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        db.session.execute(update(JobRun).where(JobRun.id == run.id).values(
            status="failed", error=text[:4000], finished_at=utcnow()))
        db.session.commit()
        return Outcome(spec.id, key, "failed", error=text)
    db.session.execute(update(JobRun).where(JobRun.id == run.id).values(
        status="done", result=jsonable(result), finished_at=utcnow()))
    db.session.commit()
    return Outcome(spec.id, key, "done", result=result)


def run_due(now: datetime, *, job_ids: Iterable[str] | None = None, holder: str | None = None) -> list[Outcome]:
    """Run every job due at ``now`` (aware), each (job, fire time) exactly once."""
    from .jobs import JOBS

    if now.tzinfo is None:
        raise ValueError("run_due needs an aware datetime")
    wanted = set(job_ids) if job_ids else None
    unknown = (wanted or set()) - {spec.id for spec in JOBS}
    if unknown:
        raise KeyError(f"unknown job ids: {', '.join(sorted(unknown))}")
    holder = holder or default_holder()
    tz = _tz()
    outcomes = []
    for spec in JOBS:
        if wanted is not None and spec.id not in wanted:
            continue
        times = fire_times(spec, now, current_app.config, tz)
        if not times:
            continue
        keys = [period_key(t, tz) for t in times]
        done = set(db.session.scalars(select(JobRun.period_key).where(
            JobRun.job_id == spec.id, JobRun.period_key.in_(keys), JobRun.status == "done")).all())
        for fire, key in zip(times, keys):
            if key in done:
                outcomes.append(Outcome(spec.id, key, "skipped"))
                continue
            outcomes.append(execute(spec, fire, holder, tz))
    return outcomes


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


# --- the lease --------------------------------------------------------------------------------------

def acquire_lease(holder: str, seconds: int | None = None) -> bool:
    """Take or renew the scheduler lease; ``False`` while another holder's lease is live."""
    seconds = seconds or current_app.config["SCHEDULER_LEASE_SECONDS"]
    now = utcnow()
    expires = now + timedelta(seconds=seconds)
    db.session.rollback()
    try:
        db.session.add(SchedulerLease(name=LEASE_NAME, holder=holder, acquired_at=now, expires_at=expires))
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
    result = db.session.execute(
        update(SchedulerLease).where(SchedulerLease.name == LEASE_NAME,
                                     (SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now))
        .values(holder=holder, expires_at=expires))
    db.session.commit()
    return result.rowcount == 1


def release_lease(holder: str) -> None:
    db.session.rollback()
    db.session.execute(update(SchedulerLease).where(SchedulerLease.name == LEASE_NAME,
                                                    SchedulerLease.holder == holder)
                       .values(expires_at=utcnow()))
    db.session.commit()


def lease_holder() -> SchedulerLease | None:
    return db.session.get(SchedulerLease, LEASE_NAME)


# --- APScheduler ------------------------------------------------------------------------------------

def _fire(app: Flask, job_id: str, holder: str) -> None:
    with app.app_context():
        try:
            run_due(utcnow(), job_ids=[job_id], holder=holder)
        finally:
            db.session.remove()


def _catch_up(app: Flask, holder: str, echo, term: threading.Event) -> None:
    """Run what is due and not done: at once (runs missed while no scheduler ran), then every
    ``SCHEDULER_STALE_SECONDS`` while this process holds the lease (``term`` not set). The sweeps
    resume a run whose process died (killed in the middle of a roll) once its claim is stale:
    a claim is usually still fresh when the lease of its dead holder expires, and the job's own
    trigger may not fire again for a day."""
    every = max(1, int(app.config["SCHEDULER_STALE_SECONDS"]))
    while not term.is_set():
        with app.app_context():
            try:
                caught = [o for o in run_due(utcnow(), holder=holder) if o.status != "skipped"]
            finally:
                db.session.remove()
        if caught:
            echo(f"补跑错过的任务 {len(caught)} 次。")
        if term.wait(every):
            return


def reconcile(scheduler, app: Flask, holder: str) -> list[str]:
    """Make ``scheduler``'s jobs exactly :data:`app.jobs.JOBS`: stale ids are removed, every
    declared job is (re)added with ``replace_existing=True``. Returns the job ids. Call it on a
    started (paused) scheduler, so that a persistent job store would be reconciled too."""
    from .jobs import JOBS

    tz = ZoneInfo(app.config.get("SCHEDULER_TIMEZONE") or app.config["TIMEZONE"])
    wanted = {spec.id for spec in JOBS}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
    for spec in JOBS:
        scheduler.add_job(_fire, trigger=make_trigger(spec, app.config, tz), id=spec.id, name=spec.name,
                          args=[app, spec.id, holder], replace_existing=True, coalesce=True,
                          max_instances=1, misfire_grace_time=int(spec.catchup.total_seconds()))
    return sorted(wanted)


def run_forever(app: Flask, stop: threading.Event, *, echo=print) -> None:
    """The scheduler process: hold the lease and run APScheduler, or wait on standby."""
    from apscheduler.schedulers.background import BackgroundScheduler

    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    interval = max(1, app.config["SCHEDULER_LEASE_SECONDS"] // 3)
    tz = ZoneInfo(app.config.get("SCHEDULER_TIMEZONE") or app.config["TIMEZONE"])
    standby_said = False
    while not stop.is_set():
        with app.app_context():
            held = acquire_lease(holder)
            db.session.remove()
        if not held:
            if not standby_said:
                echo(f"调度器待命：租约由其他进程持有（本进程 {holder}）。")
                standby_said = True
            stop.wait(interval)
            continue
        standby_said = False
        scheduler = BackgroundScheduler(timezone=tz)
        scheduler.start(paused=True)
        ids = reconcile(scheduler, app, holder)
        scheduler.resume()
        echo(f"调度器运行中（{holder}）：{', '.join(ids)}")
        # Catch up missed and abandoned runs off the main thread, which only keeps the lease alive.
        term = threading.Event()  # set when this process stops holding the lease
        catching_up = threading.Thread(target=_catch_up, args=(app, holder, echo, term), daemon=True)
        catching_up.start()
        while not stop.wait(interval):
            with app.app_context():
                still = acquire_lease(holder)
                db.session.remove()
            if not still:
                echo("租约已被其他进程取得，转为待命。")
                break
        term.set()
        scheduler.shutdown(wait=True)
        # as APScheduler's jobs above: a run the catch-up started finishes before this process
        # lets go of the lease or returns (a run outliving its process would write unseen)
        catching_up.join()
        if stop.is_set():
            with app.app_context():
                release_lease(holder)
                db.session.remove()
    echo("调度器已停止。")


# --- command line -----------------------------------------------------------------------------------

@click.group("scheduler", cls=AppGroup, help="定时任务调度器 (scheduler).")
def scheduler_cli():
    pass


@click.group("jobs", cls=AppGroup, help="定时任务 (jobs).")
def jobs_cli():
    pass


@scheduler_cli.command("run")
def run_command():
    """The blocking scheduler process (one active per database; others stand by)."""
    stop = threading.Event()

    def _stop(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    run_forever(current_app._get_current_object(), stop, echo=click.echo)


def _parse_instant(value: str) -> datetime:
    from .api import parse_datetime

    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise click.BadParameter(f"不是 ISO 8601 时间：{value}") from exc


@click.command("run-due")
@with_appcontext
@click.option("--now", "--at", "instant", required=True,
              help="ISO 8601 时间；不带时区视为北京时间 (Asia/Shanghai)")
@click.option("--job", "job_ids", multiple=True, help="只运行这些任务 id（可重复）")
def run_due_command(instant, job_ids):
    """Run every job due at an instant, each (job, period) exactly once."""
    now = _parse_instant(instant)
    try:
        outcomes = run_due(now, job_ids=job_ids or None)
    except KeyError as exc:
        raise click.ClickException(str(exc)) from exc
    failed = 0
    for outcome in outcomes:
        if outcome.status == "skipped":
            continue
        line = f"{outcome.job_id} {outcome.period_key} {outcome.status}"
        if outcome.error:
            line += f"：{outcome.error}"
            failed += 1
        click.echo(line)
    ran = sum(1 for o in outcomes if o.status != "skipped")
    click.echo(f"运行 {ran} 次，跳过（已运行或他处运行中）{len(outcomes) - ran} 次，失败 {failed} 次。")
    db.session.remove()
    if failed:
        raise SystemExit(1)


@click.command("list")
@with_appcontext
def list_command():
    """Declared jobs, their triggers and the last run of each."""
    from .jobs import JOBS

    tz = _tz()
    now = utcnow()
    for spec in JOBS:
        trigger = make_trigger(spec, current_app.config, tz)
        upcoming = trigger.get_next_fire_time(None, now.astimezone(tz))
        last = db.session.scalar(select(JobRun).filter_by(job_id=spec.id).order_by(JobRun.scheduled_for.desc()))
        click.echo(f"{spec.id:34} {spec.name}  下次 {upcoming:%Y-%m-%d %H:%M}  "
                   f"上次 {(last.period_key + ' ' + last.status) if last else '—'}")


scheduler_cli.add_command(run_due_command)
scheduler_cli.add_command(list_command)
jobs_cli.add_command(run_due_command)
jobs_cli.add_command(list_command)


def init_app(app: Flask) -> None:
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(jobs_cli)
