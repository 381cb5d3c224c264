"""The event snapshot: every affected village's latest figures and severity, read once per
event and shared by the layers of a page (villages, nearest depots, coverage gaps, counties).

One page load asks for several layers of the same event, each needing every affected village's
latest figures. They are read once and kept for :data:`CACHE_SECONDS` under a fingerprint of the
event's reports: reports are append-only (``make_append_only``), so their count, highest id and
latest submission time change with every new report, and a new report is on the map at once.
The snapshot also keeps each layer once encoded (:mod:`..encoding`). This is the read behind
``villages.geojson`` for 20,000 villages (``bench/map.py``, ``bench/worker_rss.py``): plain Core
rows and pandas, no ORM objects.
"""
from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from flask import current_app
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import aliased

import gis
from gis import codes

from ...extensions import db
from ...regions import Region
from ...reports import FIELDS, Event, LossReport

CACHE_SECONDS = 60.0
CACHE_EVENTS = 4
_VILLAGE_COLUMNS = ["code", "name", "township", "county", "lon", "lat", "population", "households", "as_of",
                    *FIELDS, "severity"]


def severity_rule():
    """The configured village severity rule (``GIS_SEVERITY_RULE``), or gis's default."""
    return current_app.config.get("GIS_SEVERITY_RULE") or None


@dataclass
class Affected:
    """The affected villages of an event visible to one user, with their latest figures."""

    event: Event
    frame: pd.DataFrame  # code, name, township, county, lon, lat, population, households, as_of, FIELDS…, severity


@dataclass
class Snapshot:
    latest: pd.DataFrame  # one row per region with a report: code, as_of, FIELDS…, severity
    villages: pd.DataFrame  # the affected villages, by code (columns _VILLAGE_COLUMNS)
    as_of: dict  # region code -> datetime of its latest report
    counties: dict | None = None  # county code -> totals and severity, filled on first use
    layers: dict = field(default_factory=dict)  # encoded layers, by (name, jurisdiction, args)


_cache: "OrderedDict[tuple, tuple[float, Snapshot]]" = OrderedDict()
_cache_lock = threading.Lock()
_loading: dict[tuple, threading.Lock] = {}


def _fingerprint(event_id: int) -> tuple:
    count, last_id, last_at = db.session.execute(
        select(func.count(), func.max(LossReport.id), func.max(LossReport.submitted_at))
        .where(LossReport.event_id == event_id)).one()
    return (str(db.engine.url), event_id, count, last_id, str(last_at),
            repr(severity_rule()))


def _latest_rows(event_id: int) -> list:
    """Each region's latest report (highest sequence), as plain rows in code order, with the
    village's own columns and its township's and county's names when the region is a village
    (``None`` otherwise): the same selection as the loss-reporting area's latest reports, in one
    statement, without building 20,000 ORM objects or sending 20,000 codes back in ``IN`` lists."""
    newest = (select(LossReport.region_code, func.max(LossReport.sequence).label("seq"))
              .where(LossReport.event_id == event_id).group_by(LossReport.region_code).subquery())
    village, township, county = aliased(Region), aliased(Region), aliased(Region)
    rows = db.session.connection().execute(
        select(LossReport.region_code, cast(LossReport.figures, Text), LossReport.as_of, village.code, village.name,
               village.lon, village.lat, village.population, village.households, township.name, county.name)
        .join(newest, (LossReport.region_code == newest.c.region_code)
              & (LossReport.sequence == newest.c.seq))
        .outerjoin(village, (village.code == LossReport.region_code) & (village.level == "village"))
        .outerjoin(township, township.code == village.parent_code)
        .outerjoin(county, county.code == func.substr(village.code, 1, 6))
        .where(LossReport.event_id == event_id)).all()
    # Sorted here rather than by the database: 20,000 rows with their figures would spill its sort
    # to disk. Codes are digits, so this is the order of ``ORDER BY region_code`` on both engines.
    rows.sort(key=lambda row: row[0])
    return rows


def _texts(values) -> pd.Series:
    """A column of strings (object dtype even when empty, so ``.str`` works on it)."""
    return pd.Series(list(values), dtype=object)


def _village_regions(rows: list) -> pd.DataFrame:
    """The villages among the latest rows, with their township's and county's names, location,
    population and the time of their latest report."""
    mine = [row for row in rows if row[3] is not None]
    columns = list(zip(*mine)) or [()] * 11
    return pd.DataFrame({
        "code": _texts(columns[3]), "name": _texts(columns[4]),
        "lon": np.array(columns[5], dtype=float), "lat": np.array(columns[6], dtype=float),  # None: NaN
        "population": np.array([v or 0 for v in columns[7]], dtype=np.int64),
        "households": np.array([v or 0 for v in columns[8]], dtype=np.int64),
        "township": _texts(name or "" for name in columns[9]), "county": _texts(name or "" for name in columns[10]),
        "as_of": _texts(at.isoformat() for at in columns[2])})


def _load_snapshot(event_id: int) -> Snapshot:
    rows = _latest_rows(event_id)
    # The figures come as JSON text, parsed in one call rather than 20,000 (one per row).
    figures = json.loads("[" + ",".join(row[1] or "null" for row in rows) + "]")
    latest = pd.DataFrame.from_records([f or {} for f in figures], columns=list(FIELDS)).fillna(0)
    latest.insert(0, "code", [row[0] for row in rows])
    latest["severity"] = (gis.severity_classes(latest, severity_rule()).to_numpy()
                          if len(latest) else np.array([], dtype=np.int64))
    as_of = {row[0]: row[2] for row in rows}
    # The villages' rows of ``latest``, in the same (code) order: their figures and severity
    # beside their own columns, without a merge and a sort.
    is_village = np.array([row[3] is not None for row in rows], dtype=bool)
    figures = latest.loc[is_village, [*FIELDS, "severity"]].reset_index(drop=True)
    villages = pd.concat([_village_regions(rows), figures], axis=1)[_VILLAGE_COLUMNS]
    return Snapshot(latest, villages, as_of)


def _cached(key: tuple) -> Snapshot | None:
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    return None


def snapshot(event_id: int) -> Snapshot:
    """The event's snapshot, from the cache while the event's reports are unchanged."""
    key = _fingerprint(event_id)
    with _cache_lock:
        hit = _cached(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
        # The layers of one page arrive together: one of them reads, the others wait for it.
        loading = _loading.setdefault(key, threading.Lock())
    with loading:
        with _cache_lock:
            hit = _cached(key)
            if hit is not None:
                return hit
        try:
            made = _load_snapshot(event_id)
            with _cache_lock:
                _cache[key] = (time.monotonic(), made)
                while len(_cache) > CACHE_EVENTS:
                    _cache.popitem(last=False)
        finally:
            with _cache_lock:
                _loading.pop(key, None)
    return made


def affected_villages(user, event: Event, made: Snapshot | None = None) -> Affected:
    """Villages with their own report in the event, with their latest figures and severity,
    inside the user's jurisdiction. ``event`` comes from :func:`~.common.get_event`, which
    checked that the user may see it.

    A village has no children, so its total (the loss-reporting area's ``event_totals``) is its
    own latest report: that is read directly, which keeps 20,000 villages fast.
    """
    frame = (made or snapshot(event.id)).villages  # ``made``: the snapshot the caller already has
    prefix = codes.prefix_of(user.region_code)
    if prefix:
        frame = frame[frame["code"].str.startswith(prefix)]
    return Affected(event, frame.reset_index(drop=True).copy())


def _own_or_sum(direct: pd.DataFrame, children: pd.DataFrame, key: str, columns: list,
                how: dict) -> pd.DataFrame:
    """A level's totals: a region's own latest report when it has one, else its children's sum."""
    summed = children.groupby(key)[columns].agg(how)
    return pd.concat([direct, summed[~summed.index.isin(direct.index)]])


def _county_rows(made: Snapshot) -> pd.DataFrame:
    """The latest reports inside counties, with their county, township and ``as_of``."""
    latest = made.latest
    county = latest["code"].str[:6]
    is_county = {c: len(c) == 6 and codes.level_of(c) == "county" for c in county.unique()}
    frame = latest[county.map(is_county).astype(bool)].copy()
    if not len(frame):
        return frame
    frame["county"] = frame["code"].str[:6]
    frame["township"] = frame["code"].str[:9]
    frame["as_of"] = frame["code"].map(made.as_of)
    frame["units"] = 1
    return frame


def county_figures(event_id: int) -> dict:
    """``county → {"figures", "reporting_units", "as_of", "severity"}`` for every county with a
    report inside it.

    The totals follow the roll-up rule of ``API.md`` (a region's own latest report when it has
    one, else the sum of its children's totals), applied below county level as two grouped sums
    (villages into townships, townships into counties); ``tests/test_dashboard_api.py`` checks
    them against the loss-reporting area's ``event_totals``. Severity is the worst class of any
    place in the county that reported directly (village, township or the county itself), by the
    village severity rule.
    """
    made = snapshot(event_id)
    if made.counties is not None:
        return made.counties
    frame = _county_rows(made)
    if not len(frame):
        made.counties = {}
        return made.counties
    columns = [*FIELDS, "units", "as_of"]
    how = {**{f: "sum" for f in FIELDS}, "units": "sum", "as_of": "max"}
    length = frame["code"].str.len()
    townships = _own_or_sum(frame[length == 9].set_index("code")[columns], frame[length == 12],
                            "township", columns, how)
    townships["county"] = townships.index.str[:6]
    counties = _own_or_sum(frame[length == 6].set_index("code")[columns], townships, "county",
                           columns, how)
    severity = frame.groupby("county")["severity"].max()
    made.counties = {
        code: {"figures": {f: row[f] for f in FIELDS}, "reporting_units": int(row["units"]),
               "as_of": pd.Timestamp(row["as_of"]).to_pydatetime(), "severity": int(severity[code])}
        for code, row in counties.iterrows()}
    return made.counties
