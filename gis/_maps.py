"""Helpers for drawing maps: choropleth values and zoom-dependent simplification."""
from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._frames import normalise_codes

_TILE_PIXELS = 256
_SLIVER_PIXELS = 2.0  # polygon parts smaller than this many pixels squared are dropped


def zoom_tolerance(zoom: float) -> float:
    """Simplification tolerance in degrees for a web-map zoom level.

    One screen pixel at the equator on 256-pixel tiles: ``360 / (256 · 2**zoom)`` degrees, so
    zoom 5 → 0.044°, zoom 8 → 0.0055°, zoom 12 → 0.00034°.
    """
    return 360.0 / (_TILE_PIXELS * 2.0 ** float(zoom))


def choropleth_values(regions, values_by_code, column: str = "value") -> gpd.GeoDataFrame:
    """Attach one value per region for a choropleth (分级设色图).

    Parameters
    ----------
    regions : GeoDataFrame
        Regions with a ``code`` column (as from :func:`regions_frame`).
    values_by_code : mapping or Series
        Value per region code; codes in any accepted form (12-digit padded codes are fine).
        Codes that are not among ``regions`` are ignored.
    column : str, default "value"
        Name of the new column.

    Returns
    -------
    GeoDataFrame
        A copy of ``regions`` with ``column`` (NaN where no value was given).
    """
    if isinstance(values_by_code, pd.Series):
        keys, values = values_by_code.index.to_numpy(), values_by_code.to_numpy()
    elif isinstance(values_by_code, Mapping):
        keys, values = list(values_by_code.keys()), list(values_by_code.values())
    else:
        raise TypeError("values_by_code must be a mapping or a Series")
    lookup = pd.Series(pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(float),
                       index=normalise_codes(keys) if len(keys) else pd.Index([], dtype=object))
    lookup = lookup[~lookup.index.duplicated(keep="last")]
    out = regions.copy()
    out[column] = lookup.reindex(normalise_codes(out["code"]) if len(out) else []).to_numpy(float)
    return out


def _drop_slivers(geoms: np.ndarray, min_area: float) -> np.ndarray:
    """Remove polygon parts below ``min_area``, always keeping each geometry's largest part."""
    out = geoms.copy()
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty or shapely.get_type_id(geom) != 6:
            continue
        parts = shapely.get_parts(geom)
        areas = shapely.area(parts)
        keep = (areas >= min_area) | (areas == areas.max())
        if not keep.all():
            out[i] = shapely.multipolygons(parts[keep])
    return out


def simplify_for_zoom(geoms, zoom: float, coverage: bool = True) -> gpd.GeoSeries:
    """Simplify boundaries for display at a web-map zoom level.

    Parameters
    ----------
    geoms : GeoSeries, GeoDataFrame or array of geometries
        Boundaries in EPSG:4326 degrees.
    zoom : float
        Web-map zoom level; the tolerance is :func:`zoom_tolerance` (one pixel).
    coverage : bool, default True
        Treat the polygons as a coverage (adjacent regions sharing edges) and simplify every
        shared edge identically (``shapely.coverage_simplify``), so neighbours stay gap- and
        overlap-free. With False each geometry is simplified on its own
        (``preserve_topology=True``: each stays valid).

    Returns
    -------
    GeoSeries
        Same index and CRS. Polygon parts smaller than ~4 square pixels (slivers, specks of
        islands) are dropped, except each region's largest part, so no region disappears.
        Points pass through; lines are simplified on their own.
    """
    if isinstance(geoms, gpd.GeoDataFrame):
        geoms = geoms.geometry
    series = geoms if isinstance(geoms, gpd.GeoSeries) else gpd.GeoSeries(list(geoms))
    tolerance = zoom_tolerance(zoom)
    arr = series.to_numpy().copy()
    kind = shapely.get_type_id(arr)
    polygonal = np.isin(kind, (3, 6)) & ~shapely.is_empty(arr)
    others = ~polygonal & np.isin(kind, (1, 2, 5))
    if polygonal.any():
        polys = arr[polygonal]
        if coverage:
            simplified = shapely.coverage_simplify(polys, tolerance)
        else:
            simplified = shapely.simplify(polys, tolerance, preserve_topology=True)
        arr[polygonal] = _drop_slivers(_as_multi(simplified), (_SLIVER_PIXELS * tolerance) ** 2)
    if others.any():
        arr[others] = shapely.simplify(arr[others], tolerance, preserve_topology=True)
    return gpd.GeoSeries(arr, index=series.index, crs=series.crs)


def _as_multi(geoms: np.ndarray) -> np.ndarray:
    out = np.array(geoms, dtype=object)
    single = shapely.get_type_id(out) == 3
    out[single] = [shapely.MultiPolygon([g]) for g in out[single]]
    return out
