"""GeoDataFrames (EPSG:4326) from plain records, and the column helpers the other modules share."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from . import codes

CRS = "EPSG:4326"


def _to_frame(records) -> pd.DataFrame:
    if isinstance(records, pd.DataFrame):
        frame = pd.DataFrame(records.drop(columns=records.geometry.name)
                             if isinstance(records, gpd.GeoDataFrame) else records).copy()
        if isinstance(records, gpd.GeoDataFrame) and "boundary" not in frame.columns:
            frame["boundary"] = records.geometry.to_numpy()
        return frame.reset_index(drop=True)
    if isinstance(records, Mapping):
        raise TypeError("records must be an iterable of mappings or a DataFrame, not one mapping")
    return pd.DataFrame.from_records(list(records) if isinstance(records, Iterable) else records)


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing and len(frame):
        raise ValueError(f"{what} 缺少字段: {', '.join(missing)}")


def normalise_codes(values) -> np.ndarray:
    """Canonical region codes for an array of codes (each distinct value normalised once)."""
    series = pd.Series(values, dtype=object).astype(str).str.strip()
    uniques = series.unique()
    mapping = dict(zip(uniques, (codes.normalise(u) for u in uniques)))
    return series.map(mapping).to_numpy(dtype=object)


def codes_of(frame: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    """The first of ``names`` present in ``frame``, as an object array of strings."""
    for name in names:
        if name in frame.columns:
            return frame[name].astype(str).to_numpy(dtype=object)
    raise ValueError(f"frame has none of the columns {names}")


def lonlat_of(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude arrays (NaN where unknown).

    ``lon``/``lat`` columns win; otherwise the geometry: points as they are, anything else by
    its representative point.
    """
    if "lon" in frame.columns and "lat" in frame.columns:
        return (pd.to_numeric(frame["lon"], errors="coerce").to_numpy(float),
                pd.to_numeric(frame["lat"], errors="coerce").to_numpy(float))
    if isinstance(frame, gpd.GeoDataFrame):
        geoms = frame.geometry.to_numpy()
        points = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
        return shapely.get_x(points), shapely.get_y(points)
    raise ValueError("frame needs lon/lat columns or a geometry")


def as_geometry(value) -> BaseGeometry | None:
    """A shapely geometry from a geometry, a GeoJSON-like mapping, WKT text or WKB bytes."""
    if value is None or isinstance(value, BaseGeometry):
        return value
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, Mapping):
        return shape(value)
    if isinstance(value, str):
        return shapely.from_wkt(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return shapely.from_wkb(bytes(value))
    raise TypeError(f"cannot read a geometry from {type(value).__name__}")


def as_multipolygon(geom: BaseGeometry | None) -> MultiPolygon | None:
    """Polygonal geometries as a valid MultiPolygon; anything else as None."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, (Polygon, MultiPolygon))]
    polys = [q for p in parts for q in (p.geoms if isinstance(p, MultiPolygon) else [p])]
    return MultiPolygon(polys) if polys else None


def _check_lonlat(lon: np.ndarray, lat: np.ndarray, what: str) -> None:
    bad = (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        raise ValueError(f"{what} 经纬度超出范围: 第 {int(np.flatnonzero(bad)[0]) + 1} 条")


def _point_frame(records, id_columns: tuple[str, ...], what: str, region: bool) -> gpd.GeoDataFrame:
    frame = _to_frame(records)
    if not len(frame):
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    _require(frame, (id_columns[0], "lon", "lat"), what)
    frame = frame.drop(columns=["boundary"], errors="ignore")
    if region:
        frame["code"] = normalise_codes(frame["code"])
    else:
        frame[id_columns[0]] = frame[id_columns[0]].astype(str)
    for column in id_columns[1:]:
        if column in frame.columns:
            present = frame[column].notna()
            frame.loc[present, column] = normalise_codes(frame.loc[present, column])
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(float)
    _check_lonlat(lon, lat, what)
    frame["lon"], frame["lat"] = lon, lat
    geometry = gpd.points_from_xy(lon, lat, crs=CRS)
    geometry[~(np.isfinite(lon) & np.isfinite(lat))] = None
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS)


def villages_frame(records) -> gpd.GeoDataFrame:
    """Villages (村) as a point GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    records : iterable of dict or DataFrame
        Each with ``code`` (any accepted form; normalised to the canonical 12 digits), ``lon``
        and ``lat`` (WGS-84 degrees; None for an unknown location), and any other fields
        (``name``, ``population``, figures, ...), which are kept as columns.

    Returns
    -------
    geopandas.GeoDataFrame
        The records plus a point ``geometry`` (None where the location is unknown).

    Raises
    ------
    ValueError
        A required field is missing, a code is invalid or a coordinate is out of range.
    """
    return _point_frame(records, ("code", "parent_code"), "村", region=True)


def depots_frame(records) -> gpd.GeoDataFrame:
    """Depots (救灾物资储备库) as a point GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    records : iterable of dict or DataFrame
        Each with ``code`` (the depot's own code, kept as text), ``lon``, ``lat`` and optionally
        ``region_code`` (normalised), ``tier``, ``name``, ``available`` and anything else.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    return _point_frame(records, ("code", "region_code"), "储备库", region=False)


def regions_frame(records) -> gpd.GeoDataFrame:
    """Regions (行政区) as a GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    records : iterable of dict or DataFrame
        Each with ``code`` and either a ``boundary`` (a shapely geometry, GeoJSON-like mapping,
        WKT or WKB) or ``lon``/``lat``. ``level`` and ``parent_code`` are derived from the code
        (:mod:`gis.codes`) when absent.

    Returns
    -------
    geopandas.GeoDataFrame
        ``geometry`` is the boundary as a MultiPolygon where there is one, otherwise the point.
        ``lon``/``lat`` are filled from the boundary's representative point when missing.
    """
    frame = _to_frame(records)
    if not len(frame):
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    _require(frame, ("code",), "行政区")
    frame["code"] = normalise_codes(frame["code"])
    if "level" not in frame.columns:
        frame["level"] = [codes.level_of(c) for c in frame["code"]]
    if "parent_code" not in frame.columns:
        frame["parent_code"] = [codes.parent_of(c) for c in frame["code"]]
    boundaries = [as_multipolygon(as_geometry(b)) for b in frame.get("boundary", [None] * len(frame))]
    frame = frame.drop(columns=["boundary"], errors="ignore")
    lon, lat = (np.array(pd.to_numeric(frame[c], errors="coerce"), dtype=float) if c in frame.columns
                else np.full(len(frame), np.nan) for c in ("lon", "lat"))
    geoms = np.array(boundaries + [None], dtype=object)[:-1]
    has_boundary = np.array([g is not None for g in boundaries], dtype=bool)
    rep = shapely.point_on_surface(geoms[has_boundary])
    fill = has_boundary.copy()
    fill[has_boundary] = ~(np.isfinite(lon[has_boundary]) & np.isfinite(lat[has_boundary]))
    lon[fill] = shapely.get_x(rep)[fill[has_boundary]]
    lat[fill] = shapely.get_y(rep)[fill[has_boundary]]
    _check_lonlat(lon, lat, "行政区")
    frame["lon"], frame["lat"] = lon, lat
    points = np.asarray(gpd.points_from_xy(lon, lat), dtype=object)
    points[~(np.isfinite(lon) & np.isfinite(lat))] = None
    geometry = np.where(has_boundary, geoms, points)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs=CRS), crs=CRS)
