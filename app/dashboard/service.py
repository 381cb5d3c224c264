"""The map (灾情地图): the GeoJSON layers of the dashboard and the answers behind them.

Three questions at a glance: where are the losses (affected villages and counties, by severity or
response tier), where is the stock (depots, dispatches in transit), and which villages no stocked
depot reaches (the nearest stocked depot, coverage gaps). Everything here only reads: each
function checks permission first, validates every argument (one 422 naming every bad one), then
reads. The geometry itself is done by the pure :mod:`gis` library, identically on SQLite and on
PostgreSQL, so both engines give the same answers byte for byte.

Jurisdiction: an event is visible to a user whose jurisdiction overlaps one of the event's
regions (inside it, or containing it); villages and counties are shown only inside the user's
jurisdiction (a county officer sees their county of a province-wide event). Depots and dispatches
are reference data (``depot.view``), visible everywhere.
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd
import shapely
from flask import current_app
from sqlalchemy import func, select

import gis
from gis import codes

from ..errors import Invalid, NotFound
from ..extensions import db
from ..permissions import require
from ..regions import Region
from ..reports import BY_FIELD, FIELDS
from ..reports import Event
from .encoding import Encoded, encode

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


# --- arguments -----------------------------------------------------------------------------------

def _bad(errors: list[dict], field: str, message: str) -> None:
    errors.append({"field": field, "message": message})


def _raise_if(errors: list[dict]) -> None:
    if errors:
        raise Invalid("请求参数有 %d 处错误。" % len(errors), errors)


def _check_item(item: str | None, errors: list[dict], *, required: bool) -> str | None:
    from ..depots import Item

    if item is None or not str(item).strip():
        if required:
            _bad(errors, "item", "必填：物资品种代码（如 tent）")
        return None
    item = str(item).strip()
    if db.session.get(Item, item) is None:
        _bad(errors, "item", f"物资目录中没有品种 {item}")
        return None
    return item


def _check_zoom(zoom, errors: list[dict]) -> int:
    if zoom is None or zoom == "":
        return DEFAULT_ZOOM
    try:
        value = int(str(zoom))
    except ValueError:
        _bad(errors, "zoom", f"必须是 {MIN_ZOOM}–{MAX_ZOOM} 的整数")
        return DEFAULT_ZOOM
    if not MIN_ZOOM <= value <= MAX_ZOOM:
        _bad(errors, "zoom", f"必须是 {MIN_ZOOM}–{MAX_ZOOM} 的整数")
        return DEFAULT_ZOOM
    return value


def _check_code(value, field: str, errors: list[dict]) -> str | None:
    if value is None or value == "":
        return None
    try:
        return codes.normalise(value)
    except codes.CodeError as exc:
        _bad(errors, field, str(exc))
        return None


def _check_positive(value, field: str, errors: list[dict], default: float) -> float:
    if value is None or value == "":
        return float(default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        _bad(errors, field, "必须是正数（公里）")
        return float(default)
    if not math.isfinite(number) or number <= 0:
        _bad(errors, field, "必须是正数（公里）")
        return float(default)
    return number


# --- events and jurisdiction ---------------------------------------------------------------------

def _overlaps(code: str, jurisdiction: str) -> bool:
    """``code`` is inside the jurisdiction, or contains it."""
    return codes.is_within(code, jurisdiction) or codes.is_within(jurisdiction, code)


def get_event(user, event_id) -> Event:
    """The event, when the user may see it (the loss-reporting area's rule): 404 unknown, 403
    outside the jurisdiction; 422 when ``event_id`` (a query argument) is not an integer."""
    from ..reports import get_event as reports_get_event

    try:
        event_id = int(event_id)
    except (TypeError, ValueError):
        require(user, "event.view")
        raise Invalid("灾害过程编号必须是整数。", [{"field": "event_id", "message": "必须是整数"}])
    return reports_get_event(user, event_id)


def visible_events(user, limit: int = 200) -> list[Event]:
    """Events the user may see, for the page's selector: active first, then the most recent."""
    from ..reports import visible_events as reports_visible_events

    order = {"active": 0, "stable": 1, "closed": 2}
    events = db.session.scalars(reports_visible_events(user).limit(limit)).all()
    return sorted(events, key=lambda e: order.get(e.status, 3))


# --- database reads --------------------------------------------------------------------------------

def _chunks(values: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _region_rows(codes_: Iterable[str], *columns) -> list:
    wanted = sorted(set(codes_))
    rows: list = []
    connection = db.session.connection()  # Core rows: no ORM bookkeeping for 20,000 of them
    for chunk in _chunks(wanted):
        rows.extend(connection.execute(select(*columns).where(Region.code.in_(chunk))).all())
    return rows


@dataclass
class Affected:
    """The affected villages of an event visible to one user, with their latest figures."""

    event: Event
    frame: pd.DataFrame  # code, name, township, lon, lat, population, households, as_of, FIELDS…, severity


def severity_rule():
    """The configured village severity rule (``GIS_SEVERITY_RULE``), or gis's default."""
    return current_app.config.get("GIS_SEVERITY_RULE") or None


# --- the event snapshot ----------------------------------------------------------------------
#
# One page load asks for several layers of the same event (villages, nearest depots, coverage
# gaps, counties), each needing every affected village's latest figures. They are read once
# and kept for CACHE_SECONDS under a fingerprint of the event's reports: reports are append-only
# (``make_append_only``), so their count, highest id and latest submission time change with
# every new report, and a new report is on the map at once.

CACHE_SECONDS = 60.0
CACHE_EVENTS = 4
_VILLAGE_COLUMNS = ["code", "name", "township", "lon", "lat", "population", "households", "as_of",
                    *FIELDS, "severity"]


@dataclass
class _Snapshot:
    latest: pd.DataFrame  # one row per region with a report: code, as_of, FIELDS…, severity
    villages: pd.DataFrame  # the affected villages, by code (columns _VILLAGE_COLUMNS)
    as_of: dict  # region code -> datetime of its latest report
    counties: dict | None = None  # county code -> totals and severity, filled on first use
    layers: dict = field(default_factory=dict)  # encoded layers, by (name, jurisdiction, args)


_cache: "OrderedDict[tuple, tuple[float, _Snapshot]]" = OrderedDict()
_cache_lock = threading.Lock()


def _fingerprint(event_id: int) -> tuple:
    from ..reports import LossReport

    count, last_id, last_at = db.session.execute(
        select(func.count(), func.max(LossReport.id), func.max(LossReport.submitted_at))
        .where(LossReport.event_id == event_id)).one()
    return (str(db.engine.url), event_id, count, last_id, str(last_at),
            repr(severity_rule()))


def _latest_rows(event_id: int) -> list:
    """Each region's latest report (highest sequence), as plain rows: the same selection as
    :func:`app.reports.totals.latest_reports`, without building 20,000 ORM objects."""
    from ..reports import LossReport

    newest = (select(LossReport.region_code, func.max(LossReport.sequence).label("seq"))
              .where(LossReport.event_id == event_id).group_by(LossReport.region_code).subquery())
    return db.session.connection().execute(
        select(LossReport.region_code, LossReport.figures, LossReport.as_of)
        .join(newest, (LossReport.region_code == newest.c.region_code)
              & (LossReport.sequence == newest.c.seq))
        .where(LossReport.event_id == event_id).order_by(LossReport.region_code)).all()


def _load_snapshot(event_id: int) -> _Snapshot:
    rows = _latest_rows(event_id)
    latest = pd.DataFrame.from_records([figures or {} for _c, figures, _a in rows],
                                       columns=list(FIELDS)).fillna(0)
    latest.insert(0, "code", [code for code, _f, _a in rows])
    latest["severity"] = (gis.severity_classes(latest, severity_rule()).to_numpy()
                          if len(latest) else np.array([], dtype=np.int64))
    as_of = {code: at for code, _figures, at in rows}
    village_codes = [code for code, _f, _a in rows if len(code) == 12]
    regions = pd.DataFrame.from_records(
        _region_rows(village_codes, Region.code, Region.name, Region.parent_code, Region.level,
                     Region.lon, Region.lat, Region.population, Region.households),
        columns=["code", "name", "parent_code", "level", "lon", "lat", "population", "households"])
    regions = regions[regions["level"] == "village"]
    townships = dict(_region_rows(set(regions["parent_code"].dropna()), Region.code, Region.name))
    regions["township"] = regions["parent_code"].map(townships).fillna("")
    regions["as_of"] = [as_of[code].isoformat() for code in regions["code"]]
    regions[["population", "households"]] = regions[["population", "households"]].fillna(0).astype(np.int64)
    villages = regions.merge(latest, on="code", how="inner").sort_values("code", kind="stable")
    villages = villages.reset_index(drop=True)[_VILLAGE_COLUMNS]
    villages[["lon", "lat"]] = villages[["lon", "lat"]].astype(float)
    return _Snapshot(latest, villages, as_of)


_loading: dict[tuple, threading.Lock] = {}


def _snapshot(event_id: int) -> _Snapshot:
    key = _fingerprint(event_id)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            _cache.move_to_end(key)
            return hit[1]
        # The layers of one page arrive together: one of them reads, the others wait for it.
        loading = _loading.setdefault(key, threading.Lock())
    with loading:
        with _cache_lock:
            hit = _cache.get(key)
            if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
                return hit[1]
        try:
            snapshot = _load_snapshot(event_id)
            with _cache_lock:
                _cache[key] = (time.monotonic(), snapshot)
                while len(_cache) > CACHE_EVENTS:
                    _cache.popitem(last=False)
        finally:
            with _cache_lock:
                _loading.pop(key, None)
    return snapshot


def affected_villages(user, event: Event) -> Affected:
    """Villages with their own report in the event, with their latest figures and severity,
    inside the user's jurisdiction. ``event`` comes from :func:`get_event`, which checked that
    the user may see it.

    A village has no children, so its total (:func:`app.reports.totals.event_totals`) is its own
    latest report: that is read directly, which keeps 20,000 villages fast.
    """
    frame = _snapshot(event.id).villages
    prefix = codes.prefix_of(user.region_code)
    if prefix:
        frame = frame[frame["code"].str.startswith(prefix)]
    return Affected(event, frame.reset_index(drop=True).copy())


def _county_figures(event_id: int) -> dict:
    """``county → {"figures", "reporting_units", "as_of", "severity"}`` for every county with a
    report inside it.

    The totals follow the roll-up rule of ``API.md`` (a region's own latest report when it has
    one, else the sum of its children's totals), applied below county level as two grouped sums
    (villages into townships, townships into counties); ``tests/test_dashboard_api.py`` checks
    them against :func:`app.reports.totals.event_totals`. Severity is the worst class of any
    place in the county that reported directly (village, township or the county itself), by the
    village severity rule.
    """
    snapshot = _snapshot(event_id)
    if snapshot.counties is not None:
        return snapshot.counties
    latest = snapshot.latest
    county = latest["code"].str[:6]
    is_county = {c: len(c) == 6 and codes.level_of(c) == "county" for c in county.unique()}
    frame = latest[county.map(is_county).astype(bool)].copy()
    if not len(frame):
        snapshot.counties = {}
        return snapshot.counties
    frame["county"] = frame["code"].str[:6]
    frame["township"] = frame["code"].str[:9]
    frame["as_of"] = frame["code"].map(snapshot.as_of)
    frame["units"] = 1
    columns = [*FIELDS, "units", "as_of"]
    how = {**{f: "sum" for f in FIELDS}, "units": "sum", "as_of": "max"}
    length = frame["code"].str.len()

    def own_or_sum(direct: pd.DataFrame, children: pd.DataFrame, key: str) -> pd.DataFrame:
        summed = children.groupby(key)[columns].agg(how)
        return pd.concat([direct, summed[~summed.index.isin(direct.index)]])

    townships = own_or_sum(frame[length == 9].set_index("code")[columns], frame[length == 12], "township")
    townships["county"] = townships.index.str[:6]
    counties = own_or_sum(frame[length == 6].set_index("code")[columns], townships, "county")
    severity = frame.groupby("county")["severity"].max()
    out = {}
    for code, row in counties.iterrows():
        out[code] = {"figures": {f: row[f] for f in FIELDS}, "reporting_units": int(row["units"]),
                     "as_of": pd.Timestamp(row["as_of"]).to_pydatetime(),
                     "severity": int(severity[code])}
    snapshot.counties = out
    return out


def _number(value):
    """A JSON number as stored: whole floats as ints, so both engines print the same text."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return int(value) if value.is_integer() else value
    return value


def _point(lon, lat) -> dict | None:
    if lon is None or lat is None or not (math.isfinite(lon) and math.isfinite(lat)):
        return None
    return {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]}


def _severity_props(klass: int) -> dict:
    klass = int(klass)
    return {"severity": klass, "severity_label": gis.SEVERITY_LABELS[klass],
            "severity_colour": gis.SEVERITY_COLOURS[klass]}


# --- villages.geojson ------------------------------------------------------------------------------

def villages_geojson(user, event_id, figures: str | None = None) -> Encoded:
    """``GET /events/{id}/villages.geojson``: a FeatureCollection of the affected villages.

    ``figures=all`` (default): every indicator of ``domain.md`` §3, the village's population,
    ``as_of``, ``severity`` with its label and colour. ``figures=key``: the map's compact form,
    ``severity`` and only the non-zero :data:`KEY_FIGURES` (omitted figures are 0), about a
    third of the bytes. The collection comes serialised (:class:`~app.dashboard.encoding.Encoded`)
    and is kept with the event's snapshot.
    """
    require(user, "dashboard.view")
    event = get_event(user, event_id)
    errors: list[dict] = []
    figures = figures or "all"
    if figures not in ("all", "key"):
        _bad(errors, "figures", "必须是 all 或 key")
    _raise_if(errors)
    snapshot = _snapshot(event.id)
    key = ("villages.geojson", codes.prefix_of(user.region_code), figures)
    if key not in snapshot.layers:  # the same answer for every user of this jurisdiction
        snapshot.layers[key] = encode(_villages_collection(affected_villages(user, event), figures))
    return snapshot.layers[key]


def _villages_collection(affected: Affected, figures: str) -> dict:
    frame = affected.frame
    points = _points(frame["lon"], frame["lat"])
    columns = (frame["code"].tolist(), frame["name"].tolist(), frame["township"].tolist(),
               frame["severity"].tolist(), points)
    if figures == "key":
        # the map's own form: key figures that are not zero (omitted ones are 0, as in reports)
        values = zip(*(_numbers(frame[f]) for f in KEY_FIGURES))
        features = [
            {"type": "Feature", "id": code, "geometry": point,
             "properties": {"code": code, "name": name, "township": township, "severity": severity,
                            "figures": {f: v for f, v in zip(KEY_FIGURES, row) if v}}}
            for code, name, township, severity, point, row in zip(*columns, values)]
    else:
        values = zip(*(_numbers(frame[f]) for f in FIELDS))
        legend = {k: _severity_props(k) for k in gis.SEVERITY_LABELS}
        features = [
            {"type": "Feature", "id": code, "geometry": point,
             "properties": {"code": code, "name": name, "township": township,
                            "population": population, "as_of": as_of, **legend[severity],
                            "figures": dict(zip(FIELDS, row))}}
            for code, name, township, severity, point, population, as_of, row in zip(
                *columns, _numbers(frame["population"]), frame["as_of"].tolist(), values)]
    return {"type": "FeatureCollection", "event_id": affected.event.id, "figures": figures,
            "severity_legend": gis.severity_legend(), "features": features}


def _numbers(column: pd.Series) -> list:
    """A column as JSON numbers: ints stay ints, whole floats become ints (as :func:`_number`)."""
    values = column.to_numpy()
    if np.issubdtype(values.dtype, np.integer):
        return values.tolist()
    return [_number(v) for v in values.tolist()]


def _points(lon: pd.Series, lat: pd.Series) -> list:
    """GeoJSON points (6 decimals, ~0.1 m), ``None`` where the location is unknown."""
    lons = np.round(lon.to_numpy(dtype=float), 6)
    lats = np.round(lat.to_numpy(dtype=float), 6)
    known = (np.isfinite(lons) & np.isfinite(lats)).tolist()
    return [{"type": "Point", "coordinates": [x, y]} if ok else None
            for x, y, ok in zip(lons.tolist(), lats.tolist(), known)]


# --- depots --------------------------------------------------------------------------------------

def _depot_table(item: str | None = None, region_code: str | None = None) -> list[dict]:
    from ..depots import depot_stock_table

    return depot_stock_table(item=item, region_code=region_code)


def _stock_frame(item: str) -> pd.DataFrame:
    rows = _depot_table(item=item)
    frame = pd.DataFrame.from_records(
        [{"code": d["code"], "name": d["name"], "tier": d["tier"], "lon": d["lon"], "lat": d["lat"],
          "available": int((d.get("stock") or {}).get(item, 0) or 0)} for d in rows],
        columns=["code", "name", "tier", "lon", "lat", "available"])
    return frame.sort_values("code", kind="stable").reset_index(drop=True)


def _tier_labels() -> dict[str, str]:
    from ..depots import TIERS

    return TIERS


def depots_geojson(user, item: str | None = None, region_code: str | None = None) -> dict:
    """``GET /depots.geojson``: every depot with its available stock per item (``stock``); with
    ``item``, also ``available`` of that item; with ``region_code``, the depots inside it."""
    require(user, "depot.view")
    errors: list[dict] = []
    item = _check_item(item, errors, required=False)
    region_code = _check_code(region_code, "region_code", errors)
    _raise_if(errors)
    tiers = _tier_labels()
    features = []
    # every item's stock, whatever ``item`` is: the popup lists them all
    for depot in sorted(_depot_table(region_code=region_code), key=lambda d: d["code"]):
        stock = {code: _number(qty) for code, qty in sorted((depot.get("stock") or {}).items())}
        properties = {"code": depot["code"], "name": depot["name"], "tier": depot["tier"],
                      "tier_label": tiers.get(depot["tier"], depot["tier"]),
                      "region_code": depot["region_code"], "stock": stock}
        if item is not None:
            properties["available"] = int(stock.get(item, 0) or 0)
        features.append({"type": "Feature", "id": depot["code"],
                         "geometry": _point(depot["lon"], depot["lat"]), "properties": properties})
    return {"type": "FeatureCollection", "item": item, "features": features}


# --- nearest stocked depot and coverage gaps -----------------------------------------------------

def _village_points(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["code", "lon", "lat"]].astype({"lon": float, "lat": float})


def nearest_depots(user, event_id, item: str | None) -> list[dict]:
    """``GET /events/{id}/nearest-depots?item=``: for each affected village, the nearest depot
    with ``item`` available (great-circle km, :func:`gis.nearest_depots`). A village that no
    depot can serve has ``depot_code``, ``distance_km`` and ``available`` null."""
    require(user, "dashboard.view")
    event = get_event(user, event_id)
    errors: list[dict] = []
    item = _check_item(item, errors, required=True)
    _raise_if(errors)
    affected = affected_villages(user, event)
    if not len(affected.frame):
        return []
    depots = _stock_frame(item)
    found = gis.nearest_depots(_village_points(affected.frame), depots, available="available")
    out = []
    for row in found.itertuples(index=False):
        matched = row.depot_code is not None and not pd.isna(row.depot_code)
        out.append({"village_code": row.village_code,
                    "depot_code": row.depot_code if matched else None,
                    "distance_km": round(float(row.distance_km), 3) if matched else None,
                    "available": int(row.available) if matched else None})
    return out


def coverage_gaps_geojson(user, event_id, item: str | None, max_km=None) -> dict:
    """``GET /events/{id}/coverage-gaps.geojson?item=&max_km=``: affected villages farther than
    ``max_km`` (default ``GIS_COVERAGE_KM``) from every depot that has the item available."""
    require(user, "dashboard.view")
    event = get_event(user, event_id)
    errors: list[dict] = []
    item = _check_item(item, errors, required=True)
    max_km = _check_positive(max_km, "max_km", errors, current_app.config["GIS_COVERAGE_KM"])
    _raise_if(errors)
    affected = affected_villages(user, event)
    frame = affected.frame
    features = []
    if len(frame):
        gaps = gis.coverage_gaps(frame, _stock_frame(item), "available", max_km=max_km)
        for row in gaps.to_dict("records"):
            nearest = row["nearest_depot_code"]
            has_nearest = nearest is not None and not pd.isna(nearest)
            properties = {"code": row["code"], "name": row["name"], "township": row["township"],
                          **_severity_props(row["severity"]),
                          "affected_population": _number(row["affected_population"]),
                          "nearest_depot_code": nearest if has_nearest else None,
                          "nearest_km": round(float(row["nearest_km"]), 3) if has_nearest else None}
            features.append({"type": "Feature", "id": row["code"],
                             "geometry": _point(row["lon"], row["lat"]), "properties": properties})
    return {"type": "FeatureCollection", "event_id": affected.event.id, "item": item,
            "max_km": _number(max_km), "affected_villages": int(len(frame)),
            "uncovered": len(features), "features": features}


# --- dispatches in transit -----------------------------------------------------------------------

def dispatches_geojson(user, event_id=None) -> dict:
    """``GET /dispatches.geojson?event_id=``: dispatches in transit as lines from the depot to
    the receiving region."""
    require(user, "depot.view")
    event = None
    if event_id not in (None, ""):
        event = get_event(user, event_id)
    from ..depots import dispatches_in_transit

    features = []
    for d in sorted(dispatches_in_transit(event.id if event else None), key=lambda d: d["id"]):
        start, end = _point(d["from_lon"], d["from_lat"]), _point(d["to_lon"], d["to_lat"])
        geometry = ({"type": "LineString", "coordinates": [start["coordinates"], end["coordinates"]]}
                    if start and end else None)
        properties = {"id": d["id"], "from_depot": d["from_depot"],
                      "to_region_code": d["to_region_code"], "status": d["status"],
                      "lines": [{"item": line["item"], "quantity": _number(line["quantity"])}
                                for line in d["lines"]]}
        features.append({"type": "Feature", "id": d["id"], "geometry": geometry,
                         "properties": properties})
    return {"type": "FeatureCollection", "event_id": event.id if event else None,
            "features": features}


# --- boundaries and the county choropleth -------------------------------------------------------

def _decimals(zoom: int) -> int:
    """Decimal places that keep a tenth of a screen pixel at ``zoom``."""
    return max(0, int(math.ceil(-math.log10(gis.zoom_tolerance(zoom) / 10.0))))


def _simplified(rows: list, zoom: int) -> list[dict | None]:
    """Boundaries simplified for the zoom level as GeoJSON geometry mappings (``None`` where a
    region has no boundary)."""
    geoms = np.array([r.boundary for r in rows] + [None], dtype=object)[:-1]
    has = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    out: list[dict | None] = [None] * len(rows)
    if has.any():
        simplified = gis.simplify_for_zoom(_series(geoms[has]), zoom, coverage=True).to_numpy()
        digits = _decimals(zoom)
        rounded = shapely.transform(simplified, lambda xy: np.round(xy, digits))
        for index, geom in zip(np.flatnonzero(has), rounded):
            out[index] = shapely.geometry.mapping(geom) if geom is not None else None
    return out


def _series(geoms):
    import geopandas as gpd

    return gpd.GeoSeries(list(geoms), crs="EPSG:4326")


def _boundary_rows(codes_: list[str]) -> list:
    return sorted(_region_rows(codes_, Region.code, Region.name, Region.level, Region.parent_code,
                               Region.lon, Region.lat, Region.boundary), key=lambda r: r.code)


@dataclass(frozen=True)
class _Place:
    code: str
    name: str
    level: str
    parent_code: str | None
    geometry: dict | None  # simplified GeoJSON geometry


def _boundary_places(codes_: list[str], zoom: int) -> list[_Place]:
    """The regions with their boundaries simplified for ``zoom`` (a province's counties take a
    few tens of milliseconds, so nothing is cached)."""
    rows = _boundary_rows(codes_)
    return [_Place(r.code, r.name, r.level, r.parent_code, geometry)
            for r, geometry in zip(rows, _simplified(rows, zoom))]


def _codes_at_level(code: str, level: str) -> list[str]:
    """Codes of the regions at ``level`` inside ``code`` (itself included when at that level)."""
    stmt = select(Region.code).where(Region.level == level)
    prefix = codes.prefix_of(code)
    if prefix:
        stmt = stmt.where(Region.code.like(prefix + "%"))
    return [c for c in db.session.scalars(stmt).all() if codes.is_within(c, code)]


def boundaries_geojson(user, code: str, level: str | None = None, zoom=None) -> dict:
    """``GET /regions/{code}/boundaries.geojson?level=county&zoom=7``: the boundaries of the
    regions at ``level`` inside ``code`` (``000000``: the whole country), simplified for the
    web-map zoom level (:func:`gis.simplify_for_zoom`, shared edges kept identical)."""
    require(user, "region.view")
    errors: list[dict] = []
    code = _check_code(code, "code", errors)
    level = level or "county"
    if level not in BOUNDARY_LEVELS:
        _bad(errors, "level", "必须是 province、prefecture 或 county 之一")
    zoom = _check_zoom(zoom, errors)
    _raise_if(errors)
    if code != codes.NATIONAL and db.session.get(Region, code) is None:
        raise NotFound(f"区划 {code} 不存在。")
    places = [p for p in _boundary_places(_codes_at_level(code, level), zoom) if p.geometry]
    features = [{"type": "Feature", "id": p.code, "geometry": p.geometry,
                 "properties": {"code": p.code, "name": p.name, "level": p.level,
                                "parent_code": p.parent_code}}
                for p in places]
    return {"type": "FeatureCollection", "region_code": code, "level": level, "zoom": zoom,
            "features": features}


def event_county_codes(user, event: Event) -> list[str]:
    """Counties of the event inside the user's jurisdiction: counties inside an event region and
    counties containing one (reports are only accepted inside the event's regions)."""
    found: set[str] = set()
    for code in event.region_codes:
        if codes.level_of(code) in ("province", "prefecture", "county"):
            found.update(_codes_at_level(code, "county"))
        else:
            found.update(codes.ancestors(code))
    candidates = [c for c in found if len(c) == 6 and codes.level_of(c) == "county"]
    rows = _region_rows(candidates, Region.code, Region.level)
    return sorted(r.code for r in rows if r.level == "county"
                  and _overlaps(r.code, user.region_code))


def _active_responses(event_id: int) -> dict[str, dict]:
    """Active responses of the event by region: the highest tier (lowest rank) of any plan."""
    from ..responses import active_responses

    best: dict[str, dict] = {}
    for (plan_id, region_code), action in sorted(active_responses(event_id).items()):
        current = best.get(region_code)
        if current is None or action.rank < current["rank"]:
            best[region_code] = {"rank": action.rank, "level": action.level, "plan_id": plan_id,
                                 "region_code": region_code}
    return best


def _response_for(code: str, responses: dict[str, dict]) -> dict | None:
    """The response in force in ``code``: the highest tier among its own and its ancestors'."""
    chain = [code, *codes.ancestors(code)]
    found = [dict(responses[c], inherited=c != code) for c in chain if c in responses]
    return min(found, key=lambda r: (r["rank"], r["inherited"])) if found else None


def counties_geojson(user, event_id, zoom=None) -> dict:
    """``GET /events/{id}/counties.geojson?zoom=``: the event's counties for the choropleth, with
    simplified boundaries, rolled-up key figures, severity class and the response in force."""
    require(user, "dashboard.view")
    event = get_event(user, event_id)
    errors: list[dict] = []
    zoom = _check_zoom(zoom, errors)
    _raise_if(errors)
    county_figures = _county_figures(event.id)
    responses = _active_responses(event.id)
    features = []
    for r in _boundary_places(event_county_codes(user, event), zoom):
        geometry = r.geometry
        total = county_figures.get(r.code)
        figures = {f: _number(total["figures"][f]) if total else 0 for f in KEY_FIGURES}
        response = _response_for(r.code, responses)
        properties = {"code": r.code, "name": r.name, "parent_code": r.parent_code,
                      **_severity_props(total["severity"] if total else 0),
                      "reporting_units": total["reporting_units"] if total else 0,
                      "as_of": total["as_of"].isoformat() if total else None,
                      "figures": figures,
                      "response": (dict(response, colour=TIER_COLOURS.get(response["rank"],
                                                                          TIER_NONE_COLOUR))
                                   if response else None)}
        features.append({"type": "Feature", "id": r.code, "geometry": geometry,
                         "properties": properties})
    return {"type": "FeatureCollection", "event_id": event.id, "zoom": zoom,
            "severity_legend": gis.severity_legend(), "features": features}


# --- the page ----------------------------------------------------------------------------------

def items() -> list[dict]:
    """The catalogue (物资目录), in the depots area's order."""
    from ..depots import list_items

    return [i.to_dict() for i in list_items()]


def default_item(catalogue: list[dict]) -> str | None:
    """``MAP_DEFAULT_ITEM`` (tents unless configured) when catalogued, else the first item."""
    wanted = current_app.config.get("MAP_DEFAULT_ITEM", "tent")
    known = [i["code"] for i in catalogue]
    if wanted in known:
        return wanted
    return known[0] if known else None


def view_bounds(user, event: Event | None) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` to open the map on: the event's counties (or the
    user's jurisdiction without an event), from boundaries where known, else points."""
    if event is not None:
        county_codes = event_county_codes(user, event)
        region_codes = [c for c in event.region_codes if _overlaps(c, user.region_code)]
    elif user.region_code == codes.NATIONAL:
        # Every province's representative point: no need to read the country's boundaries.
        points = db.session.execute(select(Region.lon, Region.lat)
                                    .where(Region.level == "province")).all()
        return _box([(lon, lat, lon, lat) for lon, lat in points if lon is not None and lat is not None])
    else:
        county_codes = _codes_at_level(user.region_code, "county")
        region_codes = [user.region_code]
    boxes = []
    for r in _boundary_rows(sorted(set(county_codes) | set(region_codes))):
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


def figure_labels(fields: Iterable[str] = KEY_FIGURES) -> dict[str, dict]:
    return {f: {"label": BY_FIELD[f].label, "unit": BY_FIELD[f].unit} for f in fields}
