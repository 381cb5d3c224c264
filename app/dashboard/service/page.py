"""What the dashboard page and its map script are built from: the event shown (or the overview
without one), the events of the selector, the catalogue and the item the map is coloured by, the
boundaries of the overview, and the box the map opens on.

The page and its script (``map.js``, served apart for the Content-Security-Policy) are two
requests; both come here with the user first, and both refuse the same unknown item.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
from flask import current_app
from sqlalchemy import select

from gis import codes

from ...api import Field
from ...depots import list_items
from ...errors import Invalid
from ...forecast import has_footprint
from ...extensions import db
from ...permissions import require
from ...regions import Region
from ...reports import BY_FIELD, Event
from .boundaries import boundary_rows
from .common import KEY_FIGURES, codes_at_level, get_event, overlaps, raise_if, read_args, visible_events
from .counties import event_county_codes

PAGE_ARGS = {"item": Field("str", required=False, max_length=40,
                           description="物资品种代码：储备库颜色、最近储备库和保障盲区按此品种")}


def items() -> list[dict]:
    """The catalogue (物资目录), in the depots area's order."""
    return [i.to_dict() for i in list_items()]


def default_item(catalogue: list[dict]) -> str | None:
    """``MAP_DEFAULT_ITEM`` (tents unless configured) when catalogued, else the first item."""
    wanted = current_app.config.get("MAP_DEFAULT_ITEM", "tent")
    known = [i["code"] for i in catalogue]
    if wanted in known:
        return wanted
    return known[0] if known else None


def figure_labels(fields: Iterable[str] = KEY_FIGURES) -> dict[str, dict]:
    return {f: {"label": BY_FIELD[f].label, "unit": BY_FIELD[f].unit} for f in fields}


def _overview_region(user) -> tuple[str, str]:
    """Boundaries for the page without an event: provinces for a national user, else the
    counties of (or around) the jurisdiction."""
    if user.region_code == codes.NATIONAL:
        return codes.NATIONAL, "province"
    level = codes.level_of(user.region_code)
    if level in ("township", "village"):
        return user.region_code[:6], "county"
    return user.region_code, "county"


def _map_choice(user, event: Event | None, args) -> dict:
    """The event, the catalogue, the item (asked for, else the default; an unknown one is a
    422) and the overview's boundaries."""
    values, errors = read_args(PAGE_ARGS, args)
    raise_if(errors)
    catalogue = items()
    item = values["item"] or default_item(catalogue)
    if item and item not in {i["code"] for i in catalogue}:
        raise Invalid(f"物资目录中没有品种 {item}。", [{"field": "item", "message": "未知物资品种"}])
    return {"event": event, "items": catalogue, "item": item, "overview": _overview_region(user),
            "footprint": event is not None and has_footprint(user, event.id)}


def dashboard_page(user, event_id: int | None = None, args=None) -> dict:
    """``GET /dashboard`` (the latest active event the user may see, else the overview) and
    ``GET /dashboard/events/<id>``: the map's choice (:func:`_map_choice`) and the events of
    the selector."""
    require(user, "dashboard.view")
    event = get_event(user, event_id) if event_id is not None else None
    events = visible_events(user)
    if event_id is None:
        event = next((e for e in events if e.status == "active"), None)
    return {**_map_choice(user, event, args), "events": events}


def map_script(user, event_id: int | None = None, args=None) -> dict:
    """The map script of the same page: the map's choice and the box it opens on."""
    require(user, "dashboard.view")
    event = get_event(user, event_id) if event_id is not None else None
    choice = _map_choice(user, event, args)
    return {**choice, "bounds": view_bounds(user, event)}


def view_bounds(user, event: Event | None) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` to open the map on: the event's counties (or the
    user's jurisdiction without an event), from boundaries where known, else points."""
    if event is not None:
        county_codes = event_county_codes(user, event)
        region_codes = [c for c in event.region_codes if overlaps(c, user.region_code)]
    elif user.region_code == codes.NATIONAL:
        # Every province's representative point: no need to read the country's boundaries.
        points = db.session.execute(select(Region.lon, Region.lat)
                                    .where(Region.level == "province")).all()
        return _box([(lon, lat, lon, lat) for lon, lat in points if lon is not None and lat is not None])
    else:
        county_codes = codes_at_level(user.region_code, "county")
        region_codes = [user.region_code]
    boxes = []
    for r in boundary_rows(sorted(set(county_codes) | set(region_codes))):
        if r.boundary is not None and not r.boundary.is_empty:
            boxes.append(r.boundary.bounds)
        elif r.lon is not None and r.lat is not None:
            boxes.append((r.lon, r.lat, r.lon, r.lat))
    return _box(boxes)


def _box(boxes: list[tuple]) -> list[list[float]] | None:
    if not boxes:
        return None
    arr = np.array(boxes, dtype=float)
    west, south = arr[:, 0].min(), arr[:, 1].min()
    east, north = arr[:, 2].max(), arr[:, 3].max()
    return [[float(south), float(west)], [float(north), float(east)]]
