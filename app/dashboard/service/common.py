"""What every layer of the map shares: its query arguments (each read by a ``Field``, every
error gathered into one 422), the events a user may see on it, bulk reads of the region table,
and the pieces of a GeoJSON feature (numbers as both engines print them, points, severity).

Jurisdiction: an event is visible to a user whose jurisdiction overlaps one of the event's
regions (the loss-reporting area's rule); villages and counties are shown only inside the user's
jurisdiction. Depots and dispatches are reference data (``depot.view``), visible everywhere.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import select

import gis
from gis import codes

from ... import reports
from ...api import QUERY_FIELDS, Field, check, validate
from ...depots import Item
from ...errors import Invalid
from ...extensions import db
from ...regions import Region
from ...reports import Event
from ..encoding import number

#: The figures the dashboard needs (``?figures=key``): the key indicators, plus what the default
#: severity rule reads.
KEY_FIGURES: tuple[str, ...] = (
    "affected_population", "deaths", "missing", "relocated_population", "needing_aid_population",
    "collapsed_rooms", "collapsed_households", "direct_loss_10k_cny",
)
#: Levels that carry boundaries (``domain.md``/regions: county level and above).
BOUNDARY_LEVELS = ("province", "prefecture", "county")
MIN_ZOOM, MAX_ZOOM, DEFAULT_ZOOM = 0, 18, 7
#: Chinese plans colour tiers red, orange, yellow, blue from the highest (rank 1) down.
TIER_COLOURS = {1: "#d32f2f", 2: "#f57c00", 3: "#fbc02d", 4: "#1976d2"}
TIER_NONE_COLOUR = "#e0e0e0"
_CHUNK = 5000  # codes per IN (...) list: far below SQLite's bound-parameter limit


# --- arguments ---------------------------------------------------------------------------------

def item_field(required: bool, description: str) -> Field:
    """A catalogue item's code (checked against the catalogue by :func:`known_item`)."""
    return Field("str", required=required, max_length=40, description=description)


ZOOM = Field("int", required=False, min=MIN_ZOOM, max=MAX_ZOOM, default=DEFAULT_ZOOM,
             description=f"地图缩放级别 {MIN_ZOOM}–{MAX_ZOOM}（默认 {DEFAULT_ZOOM}），决定边界简化程度")
EVENT_ID = Field("int", required=False, min=QUERY_FIELDS["event_id"].min, description="只列该灾害过程的调拨")
REGION_CODE = Field("code", description="区划代码（000000 表示全国）")


def read_args(fields: dict[str, Field], args) -> tuple[dict, list[dict]]:
    """Query arguments (``request.args``, or a mapping of JSON values) read by ``fields``:
    the values and the errors, to which the caller adds its rule errors."""
    return validate(fields, {} if args is None else args)


def read_code(name: str, value, errors: list[dict]) -> str | None:
    """A region code from the path, normalised (an error naming ``name`` when malformed)."""
    return check(name, value, REGION_CODE, errors)


def known_item(item: str | None, errors: list[dict]) -> str | None:
    """The item when the catalogue has it; else an error naming ``item``."""
    if item is None:
        return None
    if db.session.get(Item, item) is None:
        errors.append({"field": "item", "message": f"物资目录中没有品种 {item}"})
        return None
    return item


def raise_if(errors: list[dict]) -> None:
    if errors:
        raise Invalid("请求参数有 %d 处错误。" % len(errors), errors)


# --- events and jurisdiction -------------------------------------------------------------------

def overlaps(code: str, jurisdiction: str) -> bool:
    """``code`` is inside the jurisdiction, or contains it."""
    return codes.is_within(code, jurisdiction) or codes.is_within(jurisdiction, code)


def get_event(user, event_id: int) -> Event:
    """The event, when the user may see it (the loss-reporting area's rule): 404 unknown, 403
    outside the jurisdiction."""
    return reports.get_event(user, event_id)


def visible_events(user, limit: int = 200) -> list[Event]:
    """Events the user may see, for the page's selector: active first, then the most recent."""
    order = {"active": 0, "stable": 1, "closed": 2}
    events = db.session.scalars(reports.visible_events(user).limit(limit)).all()
    return sorted(events, key=lambda e: order.get(e.status, 3))


# --- bulk reads of the region table ------------------------------------------------------------

def _chunks(values: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def region_rows(codes_: Iterable[str], *columns) -> list:
    """``columns`` of the regions with these codes, as Core rows (no ORM bookkeeping for
    20,000 of them), in chunks of :data:`_CHUNK` codes."""
    wanted = sorted(set(codes_))
    rows: list = []
    connection = db.session.connection()
    for chunk in _chunks(wanted):
        rows.extend(connection.execute(select(*columns).where(Region.code.in_(chunk))).all())
    return rows


def codes_at_level(code: str, level: str) -> list[str]:
    """Codes of the regions at ``level`` inside ``code`` (itself included when at that level)."""
    stmt = select(Region.code).where(Region.level == level)
    prefix = codes.prefix_of(code)
    if prefix:
        stmt = stmt.where(Region.code.like(prefix + "%"))
    return [c for c in db.session.scalars(stmt).all() if codes.is_within(c, code)]


# --- pieces of a feature -----------------------------------------------------------------------

def numbers(column: pd.Series) -> list:
    """A column as JSON numbers: ints stay ints, whole floats become ints (as :func:`number`)."""
    values = column.to_numpy()
    if np.issubdtype(values.dtype, np.integer):
        return values.tolist()
    return [number(v) for v in values.tolist()]


def point(lon, lat) -> dict | None:
    if lon is None or lat is None or not (math.isfinite(lon) and math.isfinite(lat)):
        return None
    return {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]}


def points(lon: pd.Series, lat: pd.Series) -> list:
    """GeoJSON points (6 decimals, ~0.1 m), ``None`` where the location is unknown."""
    lons = np.round(lon.to_numpy(dtype=float), 6)
    lats = np.round(lat.to_numpy(dtype=float), 6)
    known = (np.isfinite(lons) & np.isfinite(lats)).tolist()
    return [{"type": "Point", "coordinates": [x, y]} if ok else None
            for x, y, ok in zip(lons.tolist(), lats.tolist(), known)]


def severity_props(klass: int) -> dict:
    klass = int(klass)
    return {"severity": klass, "severity_label": gis.SEVERITY_LABELS[klass],
            "severity_colour": gis.SEVERITY_COLOURS[klass]}
