"""The direct report (直报, ``domain.md`` §3): deaths + missing in a county at or above
``REPORT_DIRECT_ALERT_DEATHS_MISSING`` notify the coordinators of the province and of the nation
at once, once per event and county (a dedupe key). Run after each report that raised a county's
deaths + missing, and by the scheduled deadline check (:mod:`app.reports.jobs`).
"""
from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...notifications import Notification, coordinators_covering, notify
from ...regions import Region
from .. import indicators
from ..models import Event
from ..totals import subtree_total
from ._common import config


def region_name(code: str) -> str:
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
    threshold = config("REPORT_DIRECT_ALERT_DEATHS_MISSING")
    if value < threshold:
        return 0
    name = region_name(county)
    made = notify(
        pending, "direct_report",
        f"【灾情直报】{name}因灾死亡失踪 {value:g} 人",
        f"{event.name}：{name}（{county}）因灾死亡 {figures['deaths']:g} 人、失踪 {figures['missing']:g} 人，"
        f"达到直报标准（{threshold} 人），请省级和国家减灾委同时掌握。",
        f"/events/{event.id}?region={county}", dedupe_key=key)
    db.session.commit()
    return len(made)
