"""What the roster services share: the event and its regions, subtree conditions on region
codes, the unit a page or query is about, and region names."""
from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...regions import Region, region_names as names_of, subtree_condition
from ...reports import event_covers, event_unit, get_event
from ...validation import code_value


#: A SQL condition: the column is the code or one of its descendants.
within = subtree_condition


def inside_event(event, code: str, strict: bool = False) -> bool:
    """``code`` lies in one of the event's affected regions (or, unless ``strict``, contains one)."""
    return event_covers(event, code, strict)


def unknown_region(code: str | None, field: str, errors: list[dict]) -> None:
    """Add an error naming ``field`` when the region ``code`` does not exist."""
    if code is not None and db.session.get(Region, code) is None:
        errors.append({"field": field, "message": f"区划 {code} 不存在"})


#: An optional region code given as a value, normalised (a 422 naming it when malformed).
code_arg = code_value


def unit_of(user, event, region_code) -> str:
    """The unit a page or query is about (:func:`app.reports.event_unit`)."""
    return event_unit(user, event, region_code, "casualty.view")


def children_in_event(event, code: str) -> list[Region]:
    """The regions right below ``code`` that the event touches."""
    rows = db.session.scalars(select(Region).where(Region.parent_code == code).order_by(Region.code)).all()
    return [r for r in rows if inside_event(event, r.code)]


def event_of(user, event_id: int):
    return get_event(user, event_id)
