"""Periodic and immediate alerts of loss reporting (灾情报送提醒).

- :func:`check_deadlines` (scheduled): every overdue statutory report of an open event is
  notified once to the unit's information officers and the coordinators of the unit and of the
  level above (a county's: the county and its prefecture; a prefecture's forwarding: the
  prefecture and its province); every county whose figures reached a direct-report threshold
  (deaths + missing, or mass house collapse: :class:`app.reports.direct.Thresholds`) is
  alerted (again, once). An overdue direct report (a deadline of kind ``direct``) is notified
  like any other.
- the direct report (直报, ``domain.md`` §3) itself is
  :func:`app.reports.service.alerts.direct_report_alert`, which the service also runs after
  each report that raised a county's deaths + missing (the service does not import this module).

Every notification has a dedupe key, so running either again creates nothing new.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from gis import codes

from ..auth import User
from ..extensions import db
from ..notifications import Notification, coordinators_covering, notify
from . import direct
from .models import DEADLINE_KINDS, Event
from .service import compute_deadlines, direct_report_alert, region_name
from .totals import event_totals


def _overdue_recipients(unit: str, level: str, reports_to: str | None, cache: dict) -> list:
    """The unit's information officers and the coordinators of the unit and of the unit it
    reports to (a county directly under a province: the province; a province: the nation)."""
    if unit not in cache:
        above = codes.level_of(reports_to) if reports_to else "nation"
        officers = db.session.scalars(select(User).filter_by(role="officer", active=True,
                                                             region_code=unit)).all()
        cache[unit] = [*officers, *coordinators_covering(unit, levels=(level, above))]
    return cache[unit]


def check_deadlines(now: datetime) -> int:
    """Notify every overdue report and every county at the direct-report threshold, once.

    Idempotent: returns how many new notifications were made (0 when run again at once).
    """
    thresholds = direct.Thresholds.from_config(current_app.config)
    made = 0
    events = db.session.scalars(select(Event).where(Event.status != "closed").order_by(Event.id)).all()
    recipients_cache: dict = {}
    for event in events:
        prefix = f"overdue:{event.id}:"
        done = set(db.session.execute(
            select(Notification.user_id, Notification.dedupe_key)
            .where(Notification.dedupe_key.like(prefix + "%"))).all())
        for item in compute_deadlines(event, now):
            if item.status != "overdue":
                continue
            key = f"{prefix}{item.region_code}:{item.kind}:{item.due_at.isoformat()}"
            users = [u for u in _overdue_recipients(item.region_code, item.level, item.reports_to, recipients_cache)
                     if (u.id, key) not in done]
            if not users:
                continue
            name = region_name(item.region_code)
            due = item.due_at.astimezone(_tz()).strftime("%Y-%m-%d %H:%M")
            made += len(notify(
                users, "report_overdue", "【逾期】%(name)s%(kind)s未按时报送",
                "%(event)s：%(name)s（%(code)s）的%(kind)s应于 %(due)s 前报送，目前尚未收到。",
                f"/events/{event.id}/report?region={item.region_code}", dedupe_key=key,
                params={"name": name, "kind": DEADLINE_KINDS[item.kind], "event": event.name,
                        "code": item.region_code, "due": due}))
            done.update((u.id, key) for u in users)
        for code, total in event_totals(event.id).items():
            if codes.level_of(code) == "county" and thresholds.reached(total.figures):
                made += direct_report_alert(event, code)
    db.session.commit()
    return made


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def deadlines_job(now, run):
    """The scheduled job ``reports.deadlines`` (:mod:`app.jobs`): :func:`check_deadlines`."""
    result = check_deadlines(now)
    return result if isinstance(result, (dict, list, int, str)) or result is None else str(result)
