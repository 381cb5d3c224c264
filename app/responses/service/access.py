"""Who sees an event's responses, and which units of it: the jurisdiction rules every read and
decision of this area starts from.

An event's responses are visible to a user whose jurisdiction overlaps one of the event's
regions (inside it, or containing it). A unit's evaluation shows its rolled-up figures, so it is
visible to users whose jurisdiction contains the unit and to users inside it (a county sees its
province's tier, which its own response must not fall below), never to another province.
"""
from __future__ import annotations

from gis import codes

from ...errors import Forbidden, NotFound
from ...extensions import db
from ...permissions import require
from ...reports import Event


def get_event(user, event_id: int, action: str = "response.view") -> Event:
    """The event, when the user may see its responses: one of its regions is inside the user's
    jurisdiction, or the user's jurisdiction lies inside one of its regions."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(f"灾害过程 {event_id} 不存在。")
    require(user, action)
    if not event_visible(user, event):
        raise Forbidden(f"灾害过程 {event_id} 不在当前用户的管辖范围内。")
    return event


def event_visible(user, event: Event) -> bool:
    mine = user.region_code
    return any(codes.is_within(code, mine) or codes.is_within(mine, code)
               for code in event.region_codes)


def unit_visible(user, unit_code: str) -> bool:
    """A unit's evaluation shows its rolled-up figures: visible to users whose jurisdiction
    contains the unit, and to users inside the unit (a county sees its province's tier, which
    its own response must not fall below), never to another province."""
    return codes.is_within(unit_code, user.region_code) or codes.is_within(user.region_code, unit_code)
