"""The stored assessment (评估快照) of each event, recomputed on every loss report, and the
notifications of a new or higher tier.

Each report recomputes its event's assessment and notifies the coordinators covering each plan ×
unit whose recommended tier is new or higher than both the previous assessment and any response
in force. During a burst of reports the recompute is coalesced: a snapshot younger than
``ASSESSMENT_MIN_INTERVAL_SECONDS`` is only marked stale, and the ``responses.refresh`` job (the
sweep) recomputes it once that window has passed. Both paths are on the report submission's
critical path (``bench/reports.py``): their reads are kept to one narrow indexed query each.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.routing import BuildError

from ...database import commit_keeping_loaded, is_postgres, lock_for_update
from ...extensions import db
from ...models_common import utcnow
from ...notifications import Notification, coordinators_covering, listing, notify
from ...reports import Event, LossReport
from ..models import Assessment
from .decisions import active_responses
from .evaluation import evaluate_event
from .plans import level_name

NOTIFICATION_KIND = "response_tier"


# --- Recompute and notify ---------------------------------------------------------------------

def _snapshot(evaluations: list[dict]) -> list[dict]:
    return [{"plan_id": e["plan_id"], "plan_version": e["plan_version"],
             "region_code": e["region_code"], "level": e["level"], "rank": e["rank"],
             "triggers": [{k: t[k] for k in ("indicator", "value", "threshold", "level")}
                          for t in e["triggers"]]}
            for e in evaluations]


def event_link(event_id: int) -> str:
    """The path of the event page's response panel (the event page of loss reporting when it
    is there, else this area's own page), built without a request: signals run anywhere."""
    adapter = current_app.url_map.bind("localhost")
    try:
        return adapter.build("reports.event", {"event_id": event_id}) + "#responses"
    except BuildError:
        return adapter.build("responses.event_page", {"event_id": event_id})


def refresh_assessment(event_id: int) -> list[Notification]:
    """Recompute an event's assessment, store it, and notify the coordinators concerned of each
    plan × unit whose recommended tier is new or higher than both the previous assessment and
    any response in force. One notification per user, event, plan, unit and tier.

    Two reports of one event arriving together may both try to create its first snapshot; the
    loser's transaction is rolled back and run again against the winner's snapshot.
    """
    for _attempt in range(2):
        try:
            return _refresh(event_id)
        except IntegrityError:
            db.session.rollback()
    return _refresh(event_id)


def _tier_notifications(event: Event, evaluations: list[dict], previous: dict,
                        active: dict) -> list[Notification]:
    """Notify each plan × unit whose tier is new or higher than the previous assessment and
    than the response in force (a lower rank is a higher tier)."""
    made: list[Notification] = []
    for ev in evaluations:
        rank = ev["rank"]
        if rank is None:
            continue
        key = (ev["plan_id"], ev["region_code"])
        if previous.get(key) is not None and previous[key] <= rank:
            continue
        if key in active and active[key].rank <= rank:
            continue
        # The triggers are the plan's own words (plan data), each with its value, listed in the
        # reader's punctuation
        triggers = listing("%(description)s（%(value)s）", [
            {"description": t["description"], "value": _number(t["value"])} for t in ev["triggers"]], "；")
        made += notify(
            coordinators_covering(ev["region_code"]), NOTIFICATION_KIND,
            "%(region)s达到《%(plan)s》%(level)s启动条件",
            "灾害过程「%(event)s」：%(triggers)s。请会商研判是否启动或调整响应。",
            event_link(event.id),
            dedupe_key=f"response:{event.id}:{ev['plan_id']}:{ev['region_code']}:{rank}",
            params={"region": ev["region_name"], "plan": ev["plan_name"], "level": level_name(ev["level"]),
                    "event": event.name, "triggers": triggers})
    return made


def _refresh(event_id: int) -> list[Notification]:
    event = db.session.get(Event, event_id)
    if event is None:
        return []
    evaluations = evaluate_event(event)
    snapshot = db.session.scalar(lock_for_update(select(Assessment).filter_by(event_id=event_id)))
    previous = {(e["plan_id"], e["region_code"]): e["rank"]
                for e in (snapshot.evaluations if snapshot else [])}
    made = _tier_notifications(event, evaluations, previous, active_responses(event_id))
    if snapshot is None:
        snapshot = Assessment(event_id=event_id)
        db.session.add(snapshot)
    snapshot.evaluations = _snapshot(evaluations)
    snapshot.computed_at = utcnow()
    snapshot.stale = False
    db.session.commit()
    return made


def _number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


# --- The sweep --------------------------------------------------------------------------------

def refresh_stale_assessments(now: datetime | None = None) -> int:
    """The ``responses.refresh`` sweep: recompute every assessment that may be behind its
    reports, once its coalescing window (``ASSESSMENT_MIN_INTERVAL_SECONDS`` after it was
    computed) has passed; return how many.

    An assessment may be behind when a burst of reports marked it stale, or — the safety net —
    when a report was submitted after it was computed, less ``ASSESSMENT_SWEEP_MARGIN_SECONDS``
    (a report is stamped before its transaction commits, so one stamped just before a
    recompute may still have been missed by it). The net makes the outcome depend on the data
    alone: a recompute that ran inside a window anyway (another process with another clock or
    interval) or that cleared a newer stale mark is caught here, at most one sweep later.
    """
    now = now or utcnow()
    interval = timedelta(seconds=current_app.config["ASSESSMENT_MIN_INTERVAL_SECONDS"])
    margin = timedelta(seconds=current_app.config["ASSESSMENT_SWEEP_MARGIN_SECONDS"])
    due = []
    for event_id, computed_at, stale in db.session.execute(
            select(Assessment.event_id, Assessment.computed_at, Assessment.stale)
            .where(Assessment.computed_at <= now - interval).order_by(Assessment.event_id)).all():
        # (one indexed lookup per event: the newest report's stamp)
        newest = db.session.scalar(select(func.max(LossReport.submitted_at))
                                   .where(LossReport.event_id == event_id))
        if stale or (newest is not None and newest > computed_at - margin):
            due.append(event_id)
    for event_id in due:
        refresh_assessment(event_id)
    return len(due)


# --- Coalescing on every report ---------------------------------------------------------------

_SNAPSHOT_AGE = (select(Assessment.__table__.c.computed_at, Assessment.__table__.c.stale)
                 .where(Assessment.__table__.c.event_id == bindparam("event_id")))


def _snapshot_age(event_id: int):
    """``(computed_at, stale)`` of the event's stored assessment, or ``None``: only the two
    columns the coalescing needs, not the evaluations.

    On PostgreSQL, outside a transaction, the single read runs in autocommit: no BEGIN and
    COMMIT round trips for it on every report.
    """
    params = {"event_id": event_id}
    if is_postgres() and not db.session().in_transaction():
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            return connection.execute(_SNAPSHOT_AGE, params).first()
    return db.session.connection().execute(_SNAPSHOT_AGE, params).first()


def _known_stale() -> dict:
    """This process's memo: event id → ``computed_at`` of a snapshot known to be marked stale
    (per application, so that test apps with their own databases never share it)."""
    return current_app.extensions.setdefault("jiuzai.assessment_known_stale", {})


def _coalesced(event_id: int, interval: int) -> bool:
    """Inside the snapshot's window, mark it stale (once per burst) and say so: the sweep
    recomputes it. False when the event is due for a recompute now."""
    window_start = utcnow() - timedelta(seconds=interval)
    known = _known_stale()
    marked = known.get(event_id)
    if interval and marked is not None and marked > window_start:
        return True
    table = Assessment.__table__
    snapshot = _snapshot_age(event_id)
    if interval and snapshot is not None and snapshot.computed_at > window_start:
        if not snapshot.stale:  # one write per burst, not one per report
            db.session.execute(update(table).where(table.c.event_id == event_id)
                               .values(stale=True))
        if db.session().in_transaction():
            # (also ends a read: left open it would end in the teardown's ROLLBACK, and
            # psycopg forgets its prepared statements on every ROLLBACK)
            commit_keeping_loaded()
        known[event_id] = snapshot.computed_at
        return True
    known.pop(event_id, None)
    return False


def on_report_submitted(_sender, report=None, **_extra) -> None:
    """``report_submitted`` receiver: the report is committed; recompute its event.

    Recomputing reads every latest report of the event, so during a burst of reports it is
    coalesced: when the snapshot is younger than ``ASSESSMENT_MIN_INTERVAL_SECONDS`` it is only
    marked stale, and the ``responses.refresh`` job (every minute) recomputes it once that
    window has passed and sends the notifications. The assessment endpoint always evaluates the
    latest totals.

    Once this process knows the snapshot is marked stale it reads nothing more for the rest of
    the window: nothing here or in the job recomputes a snapshot inside its window, so the
    report is in the next recompute; should one run inside it anyway, the sweep's safety net
    (a report newer than the snapshot) catches the report a minute later.

    A failure here is logged and rolled back rather than raised: the report stands.
    """
    if report is None:
        return
    try:
        if not _coalesced(report.event_id, current_app.config["ASSESSMENT_MIN_INTERVAL_SECONDS"]):
            refresh_assessment(report.event_id)
    except Exception:  # the report is already saved: never turn it into a 500
        db.session.rollback()
        current_app.logger.exception("response assessment failed for event %s", report.event_id)
