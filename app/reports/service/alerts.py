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
    params = {"event": event.name, "name": name, "county": county, "deaths": f"{figures['deaths']:g}",
              "missing": f"{figures['missing']:g}", "value": f"{value:g}", "hours": config("REPORT_INITIAL_HOURS"),
              "limit": config("REPORT_DIRECT_ALERT_DEATHS_MISSING"),
              "rooms": f"{figures['collapsed_rooms']:g}", "households": f"{figures['collapsed_households']:g}",
              "rooms_limit": f"{thresholds.collapsed_rooms:g}",
              "households_limit": f"{thresholds.collapsed_households:g}"}
    if value >= thresholds.deaths_missing:
        title = "【灾情直报】%(name)s因灾死亡失踪 %(value)s 人"
        body = ("%(event)s：%(name)s（%(county)s）因灾死亡 %(deaths)s 人、失踪 %(missing)s 人，达到直报标准"
                "（%(limit)s 人），请省级和国家减灾委同时掌握；县须在 %(hours)s 小时内直报。")
    else:
        title = "【灾情直报】%(name)s房屋大量倒塌"
        body = ("%(event)s：%(name)s（%(county)s）因灾死亡 %(deaths)s 人、失踪 %(missing)s 人，倒塌房屋 "
                "%(rooms)s 间、%(households)s 户，达到直报标准（%(rooms_limit)s 间或 %(households_limit)s 户），"
                "请省级和国家减灾委同时掌握；县须在 %(hours)s 小时内直报。")
    made = notify(pending, "direct_report", title, body, f"/events/{event.id}?region={county}",
                  dedupe_key=key, params=params)
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
