"""What the relief-work services share: subtree conditions on region codes, the event's regions
and the unit a page or query is about."""
from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...regions import Region, subtree_condition
from ...reports import event_covers, event_unit
from ...validation import code_value


#: A SQL condition: the column is the code or one of its descendants.
within = subtree_condition


def inside_event(event, code: str, strict: bool = False) -> bool:
    """``code`` lies in one of the event's affected regions (or, unless ``strict``, contains one)."""
    return event_covers(event, code, strict)


#: An optional region code given as a value, normalised (a 422 naming it when malformed).
code_arg = code_value


def unit_of(user, event, region_code) -> str:
    """The unit a page or query is about (:func:`app.reports.event_unit`)."""
    return event_unit(user, event, region_code, "relief_work.view")


def rows_of(event, code: str) -> list[Region]:
    """The unit ``code`` and the regions right below it that the event touches."""
    unit = db.session.get(Region, code)
    below = db.session.scalars(select(Region).where(Region.parent_code == code).order_by(Region.code)).all()
    return [unit, *(r for r in below if inside_event(event, r.code))]
