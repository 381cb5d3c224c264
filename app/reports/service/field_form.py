"""The field form (现场填报), which works offline: the regions a user may report on for an event,
each region's latest report (the form starts from it and checks sequence and sharp changes before
sending), the sum reported from below each region (汇总下级, which the clerk adopts or overrides
with the region's own figures, 本级填报), and the rules the browser applies (indicators, consistency rules, jump factors, photo limits). The form
files through the JSON API (:func:`.reports.submit_report_with_body`).
"""
from __future__ import annotations

from sqlalchemy import or_, select

from gis import codes

from ...extensions import db
from ...i18n import translate
from ...permissions import require
from ...regions import Region
from ..indicators import CONSISTENCY_RULES, INDICATORS
from ..models import Event
from ..totals import below_totals, subtree_latest, within_clause
from ._common import config
from .events import get_event, top_regions

#: Above this many regions the field form leaves out villages (then townships) from its list.
FORM_REGION_LIMIT = 1500


def field_form_page(user, event_id: int, region: str | None = None) -> dict:
    """What the form needs: the event, the regions offered, the one chosen (``region``, else the
    user's own when offered), whether the event is closed, and the form's settings (the
    browser's copy of the rules, and each offered region's latest report)."""
    event = get_event(user, event_id)
    require(user, "report.submit")
    regions = form_regions(user, event)
    wanted = {r.code for r in regions}
    selected = region or (user.region_code if user.region_code in wanted else "")
    return {"event": event, "regions": regions, "selected": selected, "closed": event.status == "closed",
            "settings": {**_rules(event), "previous": _previous(user, event, wanted),
                         "below": _below(user, event, wanted)}}


def form_regions(user, event: Event) -> list[Region]:
    """Regions the user may report on for this event, village level left out when too many."""
    tops = top_regions(user, event)
    if not tops:
        return []
    condition = or_(*(within_clause(Region.code, top) for top in tops))
    for excluded in ((), ("village",), ("village", "township")):
        stmt = select(Region).where(condition)
        if excluded:
            stmt = stmt.where(Region.level.not_in(excluded))
        rows = db.session.scalars(stmt.order_by(Region.code).limit(FORM_REGION_LIMIT + 1)).all()
        if len(rows) <= FORM_REGION_LIMIT:
            break
    return [r for r in rows[:FORM_REGION_LIMIT]
            if any(codes.is_within(r.code, a) for a in event.region_codes)]


def _previous(user, event: Event, wanted: set[str]) -> dict[str, dict]:
    """Each offered region's latest report: kind, as-of time, figures and sequence."""
    previous = {}
    for top in top_regions(user, event):
        for code, row in subtree_latest(event.id, top).items():
            if code in wanted:
                previous[code] = {"kind": row.kind, "as_of": row.as_of.isoformat(), "figures": row.figures,
                                  "sequence": row.sequence}
    return previous


def _below(user, event: Event, wanted: set[str]) -> dict[str, dict]:
    """For each offered region with reports from below: their sum (汇总下级), how many units it is
    made of and as of when. The form shows it and asks the clerk to adopt it or file their own."""
    below = {}
    for top in top_regions(user, event):
        for code, total in below_totals(event.id, top).items():
            if code in wanted and total.reporting_units:
                below[code] = {"figures": total.figures, "units": total.reporting_units,
                               "as_of": total.as_of.isoformat() if total.as_of else None}
    return below


def _rules(event: Event) -> dict:
    """The rules the form applies in the browser, as configured."""
    return {
        "eventId": event.id,
        "fields": [{"field": i.field, "label": translate(i.label), "unit": translate(i.unit), "integer": i.integer}
                   for i in INDICATORS],
        "rules": [list(rule) for rule in CONSISTENCY_RULES],
        "jumpUp": float(config("REPORT_JUMP_UP_FACTOR")),
        "jumpDown": float(config("REPORT_JUMP_DOWN_FACTOR")),
        "minPhotos": int(config("REPORT_MAJOR_MIN_PHOTOS")),
        "major": bool(event.major),
        "directThreshold": config("REPORT_DIRECT_ALERT_DEATHS_MISSING"),
        "maxPhotoBytes": int(config("REPORT_PHOTO_MAX_BYTES")),
        "photoTypes": list(config("REPORT_PHOTO_TYPES")),
    }
