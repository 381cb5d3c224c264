"""Periodic and immediate alerts of loss reporting (灾情报送提醒).

- :func:`check_deadlines` (scheduled): every overdue statutory report of an open event is
  notified once to the unit's information officers and the coordinators of the unit and of the
  level above (a county's: the county and its prefecture; a prefecture's forwarding: the
  prefecture and its province); every county whose deaths + missing reached the direct-report threshold is
  alerted (again, once).
- :func:`direct_report_alert` (after each report): deaths + missing in a county at or above
  ``REPORT_DIRECT_ALERT_DEATHS_MISSING`` → the coordinators of the province and of the nation
  are notified at once (直报, ``domain.md`` §3).

Every notification has a dedupe key, so running either again creates nothing new.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from gis import codes

from ..extensions import db
from ..notifications import Notification, coordinators_covering, notify
from ..regions import Region
from . import indicators
from .models import REPORT_KINDS, Event
from .totals import event_totals, subtree_total


def _name(code: str) -> str:
    region = db.session.get(Region, code)
    return region.name if region else code


def direct_report_alert(event: Event, county: str) -> int:
    """Alert the provincial and national coordinators when the county's deaths + missing reach
    the threshold; once per event and county. Returns how many notifications were made."""
    key = f"direct-report:{event.id}:{county}"
    recipients = coordinators_covering(county, levels=("province", "nation"))
    done = set(db.session.scalars(select(Notification.user_id).where(Notification.dedupe_key == key)))
    pending = [u for u in recipients if u.id not in done]
    if not pending:
        return 0
    figures = subtree_total(event.id, county).figures
    value = indicators.deaths_and_missing(figures)
    threshold = current_app.config["REPORT_DIRECT_ALERT_DEATHS_MISSING"]
    if value < threshold:
        return 0
    name = _name(county)
    made = notify(
        pending, "direct_report",
        f"【灾情直报】{name}因灾死亡失踪 {value:g} 人",
        f"{event.name}：{name}（{county}）因灾死亡 {figures['deaths']:g} 人、失踪 {figures['missing']:g} 人，"
        f"达到直报标准（{threshold} 人），请省级和国家减灾委同时掌握。",
        f"/events/{event.id}?region={county}", dedupe_key=key)
    db.session.commit()
    return len(made)


def _overdue_recipients(unit: str, level: str, reports_to: str | None, cache: dict) -> list:
    """The unit's information officers and the coordinators of the unit and of the unit it
    reports to (a county directly under a province: the province; a province: the nation)."""
    from ..auth import User

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
    from .service import compute_deadlines

    threshold = current_app.config["REPORT_DIRECT_ALERT_DEATHS_MISSING"]
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
            name = _name(item.region_code)
            due = item.due_at.astimezone(_tz()).strftime("%Y-%m-%d %H:%M")
            made += len(notify(
                users, "report_overdue", f"【逾期】{name}{REPORT_KINDS[item.kind]}未按时报送",
                f"{event.name}：{name}（{item.region_code}）的{REPORT_KINDS[item.kind]}应于 {due} 前报送，"
                f"目前尚未收到。", f"/events/{event.id}/report?region={item.region_code}", dedupe_key=key))
            done.update((u.id, key) for u in users)
        for code, total in event_totals(event.id).items():
            if codes.level_of(code) == "county" \
                    and indicators.deaths_and_missing(total.figures) >= threshold:
                made += direct_report_alert(event, code)
    db.session.commit()
    return made


def _tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo(current_app.config["TIMEZONE"])


def deadlines_job(now, run):
    """The scheduled job ``reports.deadlines`` (:mod:`app.jobs`): :func:`check_deadlines`."""
    result = check_deadlines(now)
    return result if isinstance(result, (dict, list, int, str)) or result is None else str(result)
