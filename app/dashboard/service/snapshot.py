"""The event snapshot: every affected village's latest figures and severity, read once per
event and shared by the layers of a page (villages, nearest depots, coverage gaps, counties).

One page load asks for several layers of the same event, each needing every affected village's
latest figures. They are read once and then kept up to date by the reports that follow, which
is what a coordinator sees during a live event (reports arrive all the time):

- Every request asks the database, in one statement, how many reports the event has and which
  are newer than the newest one the snapshot knows (:func:`_changes`). Reports are append-only
  (``make_append_only``) and never change their region, so a report the snapshot does not know
  is one of these, and the count says whether one committed late with a lower id (then its id
  is found by reading the event's ids). The database is the truth: each gunicorn worker keeps
  its own snapshot and sees another worker's report on its next request.
- Only the regions of the new reports are read again (:func:`_latest_rows` for those codes) and
  patched into the snapshot (:meth:`Snapshot.patched`); the encoded ``villages.geojson`` is
  patched feature by feature (:mod:`.villages`). Other layers are encoded again from the
  patched frames. The answer is byte for byte a full read's (``tests/test_dashboard_snapshot.py``).
- The regions' own columns (name, location, population, the township's and county's names) are
  taken from the register when a village is first read; the whole snapshot is read again after
  :data:`REGION_SECONDS`, which is how a change to the register (``regions import``) reaches the
  map, and when a burst of new reports touches more than :data:`PATCH_MAX_REGIONS` regions.

This is the read behind ``villages.geojson`` for 20,000 villages (``bench/geojson.py``,
``bench/worker_rss.py``): plain Core rows and pandas, no ORM objects.
"""
from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

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

#: A snapshot is read again in full after this long (seconds): how long a change to the region
#: register (a village renamed or moved) may take to reach the map. Reports reach it at once.
REGION_SECONDS = 600.0
CACHE_EVENTS = 4
#: New reports touching more regions than this (or than a quarter of the snapshot's) since the
#: last request: the snapshot is read again in full rather than patched.
PATCH_MAX_REGIONS = 2000
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


@dataclass(frozen=True, eq=False)
class Known:
    """The reports a snapshot has taken in: their ids (sorted), and the submission time of the
    newest one (which tells a database restored or emptied since, whose ids start again)."""

    ids: np.ndarray
    last_at: datetime | None = None

    @property
    def last_id(self) -> int:
        return int(self.ids[-1]) if len(self.ids) else 0


class Snapshot:
    """An event's latest reports: ``latest`` (one row per region with a report: code,
    FIELDS…, severity), ``villages`` (the affected villages, by code: :data:`_VILLAGE_COLUMNS`),
    ``as_of`` (region code → datetime of its latest report), ``counties`` (county code → totals
    and severity, filled on first use), ``layers`` (encoded layers, by (name, jurisdiction,
    args)), ``known`` (the reports taken in) and ``read_at`` (``time.monotonic()`` of the full
    read it was patched from).

    A patched snapshot keeps the new rows aside and merges them into its frames only when a
    layer asks for the frames: ``villages.geojson`` patches its own bytes and does not."""

    def __init__(self, latest: pd.DataFrame, villages: pd.DataFrame, as_of: dict, *,
                 known: Known | None = None, read_at: float = 0.0, pending: dict | None = None):
        self._latest, self._villages, self._as_of = latest, villages, as_of
        self._pending = pending or {}  # region code -> its latest row, not merged yet
        self._lock = threading.Lock()
        self.counties: dict | None = None
        self.layers: dict = {}
        self.known = known or Known(np.array([], dtype=np.int64))
        self.read_at = read_at

    def _merged(self) -> None:
        with self._lock:
            if self._pending:
                latest, villages, as_of = _frames(sorted(self._pending.values(), key=lambda row: row[0]))
                self._latest, self._villages = _merge(self._latest, latest), _merge(self._villages, villages)
                self._as_of = {**self._as_of, **as_of}
                self._pending = {}

    @property
    def latest(self) -> pd.DataFrame:
        self._merged()
        return self._latest

    @property
    def villages(self) -> pd.DataFrame:
        self._merged()
        return self._villages

    @property
    def as_of(self) -> dict:
        self._merged()
        return self._as_of

    def patched(self, rows: list, known: Known) -> "Snapshot":
        """This snapshot with the latest reports ``rows`` (:func:`_latest_rows` of the regions
        that have new reports) in place of those regions' rows. A layer that can patch itself
        (a ``patched(villages)`` method, given the changed villages' rows) is patched; the others
        are encoded again when asked for. The snapshot itself is left as it was (another thread
        may be reading it)."""
        with self._lock:
            made = Snapshot(self._latest, self._villages, self._as_of, known=known, read_at=self.read_at,
                            pending={**self._pending, **{row[0]: row for row in rows}})
        patchable = {key: layer for key, layer in self.layers.items() if hasattr(layer, "patched")}
        if patchable:
            _latest, villages, _as_of = _frames(rows)
            made.layers = {key: layer.patched(villages) for key, layer in patchable.items()}
        return made


_cache: "OrderedDict[tuple, Snapshot]" = OrderedDict()
_cache_lock = threading.Lock()
_locks: dict[tuple, threading.Lock] = {}


def _changes(event_id: int, since: int) -> tuple[int, list]:
    """How many reports the event has, and its reports from id ``since`` on (``id, region_code,
    submitted_at``, by id), in one statement: the count and the rows see the same commits."""
    counted = select(func.count().label("n")).where(LossReport.event_id == event_id).subquery()
    rows = db.session.connection().execute(
        select(counted.c.n, LossReport.id, LossReport.region_code, LossReport.submitted_at)
        .select_from(counted.outerjoin(LossReport, (LossReport.event_id == event_id) & (LossReport.id >= since)))
        .order_by(LossReport.id)).all()
    return rows[0][0], [row[1:] for row in rows if row[1] is not None]


def _late(event_id: int, known: Known) -> list:
    """Reports up to the snapshot's newest id that it has not taken in: committed after it was
    read, though their ids were drawn before (two submissions at once commit in either order)."""
    rows = db.session.connection().execute(
        select(LossReport.id, LossReport.region_code)
        .where(LossReport.event_id == event_id, LossReport.id <= known.last_id)).all()
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    missing = ~np.isin(ids, known.ids)
    return [row for row, new in zip(rows, missing.tolist()) if new]


def _latest_rows(event_id: int, region_codes: list[str] | None = None) -> list:
    """Each region's latest report (highest sequence), as plain rows in code order, with the
    village's own columns and its township's and county's names when the region is a village
    (``None`` otherwise): the same selection as the loss-reporting area's latest reports, in one
    statement, without building 20,000 ORM objects or sending 20,000 codes back in ``IN`` lists.
    ``region_codes``: only these regions (the ones with new reports)."""
    newest = (select(LossReport.region_code, func.max(LossReport.sequence).label("seq"))
              .where(LossReport.event_id == event_id).group_by(LossReport.region_code))
    if region_codes is not None:
        newest = newest.where(LossReport.region_code.in_(region_codes))
    newest = newest.subquery()
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


def _frames(rows: list) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """``latest``, ``villages`` and ``as_of`` of a snapshot from :func:`_latest_rows`."""
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
    return latest, villages, as_of


def _merge(base: pd.DataFrame, changed: pd.DataFrame) -> pd.DataFrame:
    """``base`` (in code order) with the rows of ``changed`` in place of, or beside, its own."""
    if not len(changed):
        return base
    merged = pd.concat([base[~base["code"].isin(changed["code"])], changed], ignore_index=True)
    return merged.sort_values("code", kind="stable", ignore_index=True)


def _load_snapshot(event_id: int) -> Snapshot:
    """The whole snapshot, read now. The reports' ids are read first: whatever the frames hold
    is at least that (a report committed in between is taken in again by the next request)."""
    _count, reports = _changes(event_id, 0)
    known = Known(np.array([row[0] for row in reports], dtype=np.int64), reports[-1][2] if reports else None)
    latest, villages, as_of = _frames(_latest_rows(event_id))
    return Snapshot(latest, villages, as_of, known=known, read_at=time.monotonic())


def _current(event_id: int, held: Snapshot | None) -> Snapshot:
    """``held`` while the event has no report it has not taken in; else ``held`` patched with
    the regions of the new reports; else (nothing held, held too long, too many new regions, or
    a database that is not the one read: reports gone or the newest one changed) read in full."""
    if held is None or time.monotonic() - held.read_at >= REGION_SECONDS:
        return _load_snapshot(event_id)
    known = held.known
    count, rows = _changes(event_id, known.last_id)
    if len(known.ids):
        if not rows or rows[0][0] != known.last_id or rows[0][2] != known.last_at:
            return _load_snapshot(event_id)  # the newest report read is gone, or another one
        rows = rows[1:]
    if count < len(known.ids) + len(rows):
        return _load_snapshot(event_id)
    if count == len(known.ids) and not rows:
        return held
    late = _late(event_id, known) if count > len(known.ids) + len(rows) else []
    changed = sorted({row[1] for row in rows} | {row[1] for row in late})
    if len(changed) > PATCH_MAX_REGIONS:
        return _load_snapshot(event_id)
    ids = np.union1d(known.ids, np.array([row[0] for row in [*rows, *late]], dtype=np.int64))
    return held.patched(_latest_rows(event_id, changed), Known(ids, rows[-1][2] if rows else known.last_at))


def snapshot(event_id: int) -> Snapshot:
    """The event's snapshot, brought up to date with the event's reports (one statement when
    nothing changed; see the module's docstring)."""
    key = (str(db.engine.url), event_id, repr(severity_rule()))
    with _cache_lock:
        # The layers of one page arrive together: one of them reads, the others wait for it.
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        with _cache_lock:
            held = _cache.get(key)
        made = _current(event_id, held)
        with _cache_lock:
            _cache[key] = made
            _cache.move_to_end(key)
            while len(_cache) > CACHE_EVENTS:
                _locks.pop(_cache.popitem(last=False)[0], None)
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
