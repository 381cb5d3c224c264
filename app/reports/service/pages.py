"""What the pages of loss reporting show, gathered for one user: the home panel (active events
and their overdue reports), the list of events, and the event page (totals with drill-down, the
chosen region's history and trend, deadlines and rates, forwarding, each unit's clocks). Each
function checks permission first and says which actions the user may take there (``allowed``),
so that views and templates decide nothing.
"""
from __future__ import annotations

from gis import codes

from ...extensions import db
from ...permissions import can, require
from ...regions import Region
from ..models import EVENT_MACHINE, Event
from .deadlines import deadline_panel, overdue_count
from .events import get_event, may_stabilise, top_regions, visible_events
from .forwarding import forwarding_panel
from .history import report_dicts, reports_query
from .totals import children_totals, top_rows, trend
from .units import unit_panel

#: The home panel lists at most this many active events; the events page at most this many.
HOME_EVENTS, LISTED_EVENTS = 10, 200


def home_panel(user) -> dict | None:
    """Active events touching the user's jurisdiction with their overdue count; ``None`` when
    there are none (or the user may not see events)."""
    if not can(user, "event.view"):
        return None
    events = db.session.scalars(visible_events(user).where(Event.status != "closed").limit(HOME_EVENTS)).all()
    if not events:
        return None
    return {"rows": [{"event": event, "overdue": overdue_count(user, event)} for event in events]}


def events_page(user, status: str | None = None) -> dict:
    """The events the user sees (of a status, when it is one), newest first."""
    status = status if status in EVENT_MACHINE.labels else None
    rows = db.session.scalars(visible_events(user, status).limit(LISTED_EVENTS)).all()
    return {"events": rows, "allowed": {"create": can(user, "event.create")}}


def event_page(user, event_id: int, region: str | None = None) -> dict:
    """The event page: the totals of ``region`` (default: the affected regions' common ancestor
    inside the jurisdiction) with one row per child, its history and trend, or one row per top
    region; the deadlines, the forwarding panel and what the user may do."""
    event = get_event(user, event_id)
    tops = top_regions(user, event)
    code = region or common_ancestor(tops)
    page = {"event": event, "summary": None, "rows": [], "history": [], "trend": [], "trail": []}
    if code:
        page.update(_drill_down(user, event, code))
    else:
        page["rows"] = top_rows(user, event, tops)
    page.update(deadline_panel(user, event))
    page["forwarding"] = forwarding_panel(user, event)
    page["units"] = unit_panel(user, event)
    page["allowed"] = {"report": can(user, "report.submit") and event.status != "closed",
                       "stabilise": may_stabilise(user, event),
                       "import": can(user, "report.import") and event.status != "closed"}
    return page


def _drill_down(user, event: Event, code: str) -> dict:
    summary, rows = children_totals(user, event, code)
    region = summary["region"]
    trail_ = trail(user, region)
    own = db.session.scalars(reports_query(user, event, region_code=region.code)).all()
    return {"summary": summary, "rows": rows, "trail": trail_, "history": report_dicts(event, own),
            "trend": trend(user, event, region.code)}


def common_ancestor(found: list[str]) -> str | None:
    """The nearest region containing every code of ``found`` (``None`` when empty or none)."""
    if not found:
        return None
    chains = [[c, *codes.ancestors(c)] for c in found]
    for candidate in chains[0]:
        if all(candidate in chain for chain in chains):
            return candidate
    return None


def trail(user, region: Region) -> list[Region]:
    """The regions above ``region`` inside the user's jurisdiction, top first (the breadcrumb)."""
    require(user, "region.view")
    out = []
    parent = region.parent_code
    while parent:
        row = db.session.get(Region, parent)
        if row is None or not codes.is_within(row.code, user.region_code):
            break
        out.insert(0, row)
        parent = row.parent_code
    return out
