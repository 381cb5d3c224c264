"""Region boundaries for the web map: simplified for the zoom level (shared edges kept
identical, :func:`gis.simplify_for_zoom`) and rounded to a tenth of a screen pixel, so a
province's counties stay small at every zoom; and ``boundaries.geojson``, the boundaries of the
regions at one level inside a region (the overview's provinces or counties).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

import gis
from gis import codes

from ...api import Field
from ...errors import NotFound
from ...permissions import require
from ...regions import Region, find_region
from .common import (BOUNDARY_LEVELS, ZOOM, codes_at_level, raise_if, read_args, read_code,
                     region_rows)

BOUNDARY_ARGS = {
    "level": Field("str", required=False, choices=BOUNDARY_LEVELS, default="county",
                   description="province、prefecture 或 county（默认）"),
    "zoom": ZOOM,
}


def _decimals(zoom: int) -> int:
    """Decimal places that keep a tenth of a screen pixel at ``zoom``."""
    return max(0, int(math.ceil(-math.log10(gis.zoom_tolerance(zoom) / 10.0))))


def _series(geoms):
    return gpd.GeoSeries(list(geoms), crs="EPSG:4326")


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


def boundary_rows(codes_: list[str]) -> list:
    """Code, name, level, parent, point and boundary of these regions, by code."""
    return sorted(region_rows(codes_, Region.code, Region.name, Region.level, Region.parent_code,
                              Region.lon, Region.lat, Region.boundary), key=lambda r: r.code)


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    level: str
    parent_code: str | None
    geometry: dict | None  # simplified GeoJSON geometry


def boundary_places(codes_: list[str], zoom: int) -> list[Place]:
    """The regions with their boundaries simplified for ``zoom`` (a province's counties take a
    few tens of milliseconds, so nothing is cached)."""
    rows = boundary_rows(codes_)
    return [Place(r.code, r.name, r.level, r.parent_code, geometry)
            for r, geometry in zip(rows, _simplified(rows, zoom))]


def boundaries_geojson(user, code: str, args=None) -> dict:
    """``GET /regions/{code}/boundaries.geojson?level=county&zoom=7``: the boundaries of the
    regions at ``level`` inside ``code`` (``000000``: the whole country), simplified for the
    web-map zoom level (:data:`BOUNDARY_ARGS`)."""
    require(user, "region.view")
    values, errors = read_args(BOUNDARY_ARGS, args)
    code = read_code("code", code, errors)
    raise_if(errors)
    level, zoom = values["level"], values["zoom"]
    if code != codes.NATIONAL and find_region(code) is None:
        raise NotFound(f"区划 {code} 不存在。")
    places = [p for p in boundary_places(codes_at_level(code, level), zoom) if p.geometry]
    features = [{"type": "Feature", "id": p.code, "geometry": p.geometry,
                 "properties": {"code": p.code, "name": p.name, "level": p.level,
                                "parent_code": p.parent_code}}
                for p in places]
    return {"type": "FeatureCollection", "region_code": code, "level": level, "zoom": zoom,
            "features": features}
