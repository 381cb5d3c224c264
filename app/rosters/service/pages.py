"""What each roster page shows: the events to choose from, a unit's casualty roster with its
consistency check, its damaged-house roster, and the review of the units below it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ...extensions import db
from ...permissions import can, require
from ...reports import visible_events
from .casualties import PAGE_ROWS, casualties_query, casualty_dicts
from ._common import event_of
from .consistency import consistency
from .housing import house_dicts, houses_query
from .review import review_state


def index_page(user) -> dict:
    require(user, "casualty.view")
    events = db.session.scalars(visible_events(user).limit(100)).all()
    return {"events": events}


def _rows(user, stmt, limit: int = PAGE_ROWS) -> tuple[list, int]:
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return db.session.scalars(stmt.limit(limit)).all(), total


def casualties_page(user, event_id: int, region_code=None) -> dict:
    check = consistency(user, event_id, "casualty", region_code)
    rows, total = _rows(user, casualties_query(user, event_id, check["region_code"]))
    return {"event": event_of(user, event_id), "check": check, "people": casualty_dicts(user, rows), "total": total,
            "may_edit": can(user, "casualty.edit", check["region_code"])}


def housing_page(user, event_id: int, region_code=None) -> dict:
    check = consistency(user, event_id, "housing", region_code)
    rows, total = _rows(user, houses_query(user, event_id, check["region_code"]))
    return {"event": event_of(user, event_id), "check": check, "houses": house_dicts(user, rows), "total": total,
            "may_edit": can(user, "casualty.edit", check["region_code"])}


def review_page(user, event_id: int, region_code=None) -> dict:
    state = review_state(user, event_id, region_code)
    for unit in state["units"]:  # shown in local time on the page
        unit["as_of_at"] = datetime.fromisoformat(unit["as_of"])
    return {"event": event_of(user, event_id), "state": state, "may_review": can(user, "report.review")}
