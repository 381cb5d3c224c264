"""The direct report (直报, ``domain.md`` §3): deaths + missing in a county at or above
``REPORT_DIRECT_ALERT_DEATHS_MISSING`` notify the coordinators of the province and of the nation
at once, once per event and county (a dedupe key). Run after each report that raised a county's
deaths + missing, and by the scheduled deadline check (:mod:`app.reports.jobs`).

The same report is a tracked deadline too (:func:`direct_crossings` finds when each county's
figures crossed a threshold of :class:`app.reports.direct.Thresholds`, deaths + missing or mass
house collapse; :mod:`.deadlines` lists the deadlines).
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from flask import current_app
from sqlalchemy import select

from ...extensions import db
from ...notifications import Notification, coordinators_covering, notify
from ...regions import Region
from .. import direct, indicators
from ..models import Event, LossReport
from ..rollup import total_for
from ..totals import event_totals, reported_parents, subtree_total, within_clause
from ._common import config


def region_name(code: str) -> str:
    region = db.session.get(Region, code)
    return region.name if region else code


def direct_report_alert(event: Event, county: str) -> int:
    """Alert the provincial and national coordinators when the county's figures reach a
    direct-report threshold (deaths + missing, or mass house collapse); once per event and
    county. Returns how many notifications were made."""
    key = f"direct-report:{event.id}:{county}"
    recipients = coordinators_covering(county, levels=("province", "nation"))
    done = set(db.session.scalars(select(Notification.user_id).where(Notification.dedupe_key == key)))
    pending = [u for u in recipients if u.id not in done]
    if not pending:
        return 0
    figures = subtree_total(event.id, county).figures
    thresholds = direct.Thresholds.from_config(current_app.config)
    if not thresholds.reached(figures):
        return 0
    value = indicators.deaths_and_missing(figures)
    name = region_name(county)
    if value >= thresholds.deaths_missing:
        title = f"【灾情直报】{name}因灾死亡失踪 {value:g} 人"
        reason = f"达到直报标准（{config('REPORT_DIRECT_ALERT_DEATHS_MISSING')} 人）"
    else:
        title = f"【灾情直报】{name}房屋大量倒塌"
        reason = (f"倒塌房屋 {figures['collapsed_rooms']:g} 间、{figures['collapsed_households']:g} 户，"
                  f"达到直报标准（{thresholds.collapsed_rooms:g} 间或 {thresholds.collapsed_households:g} 户）")
    made = notify(
        pending, "direct_report", title,
        f"{event.name}：{name}（{county}）因灾死亡 {figures['deaths']:g} 人、失踪 {figures['missing']:g} 人，"
        f"{reason}，请省级和国家减灾委同时掌握；县须在 {config('REPORT_INITIAL_HOURS')} 小时内直报。",
        f"/events/{event.id}?region={county}", dedupe_key=key)
    db.session.commit()
    return len(made)


def direct_crossings(event: Event, counties: Iterable[str]) -> dict[str, datetime]:
    """County → the moment its rolled-up figures first reached a direct-report threshold, for
    the counties whose figures are at a threshold now (their reports replayed in order)."""
    thresholds = direct.Thresholds.from_config(current_app.config)
    totals = event_totals(event.id)
    out: dict[str, datetime] = {}
    for county in counties:
        if not thresholds.reached(total_for(county, totals).figures):
            continue
        rows = db.session.execute(
            select(LossReport.region_code, LossReport.submitted_at, LossReport.figures, LossReport.as_of)
            .where(LossReport.event_id == event.id, within_clause(LossReport.region_code, county))
            .order_by(LossReport.submitted_at, LossReport.id)).all()
        moment = direct.crossed_at(county, [direct.Filed(*row) for row in rows],
                                   reported_parents(event.id, county).get, thresholds)
        if moment is not None:
            out[county] = moment
    return out
