"""Hazard-footprint exposure (灾害影响范围暴露度估算): which villages a footprint covers, and what it costs.

A footprint is the extent of a flood, a typhoon's wind field or an earthquake's intensity map,
known hours before the village reports arrive: polygons, each with an optional intensity
(water depth in metres, seismic intensity degree, wind grade). Each village inside a polygon is
exposed at the highest intensity that covers it; its people, households and houses exposed are
its registered figures, and the *estimated* affected, relocated, collapsed and damaged are those
figures times the rates for the hazard and the intensity class.

The rates are configuration: :data:`DEFAULT_EXPOSURE_RATES` are documented defaults (marked
``[default]``: our best reading, to be replaced by a province's own calibration), never truth.

Speed: a bounding-box filter then :func:`shapely.contains_xy` against each prepared polygon; for
one large footprint and many villages this does less work than a spatial join, which builds a
tree over every village first (see ``bench/exposure.py`` for both, measured in one run).
"""
from __future__ import annotations

import math
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon

from ._datum import gcj02_to_wgs84
from ._frames import CRS, codes_of, lonlat_of

#: Columns of :func:`village_exposure`'s answer, in order.
EXPOSURE_COLUMNS = ("code", "intensity", "intensity_class", "population", "households",
                    "houses", "affected_est", "relocated_est", "collapsed_est", "damaged_est")

#: [default] Rates per hazard: a list of classes, each applying from ``min_intensity`` up
#: (``None``: a footprint without intensity). ``affected``/``relocated`` are shares of the
#: population; ``collapsed``/``damaged`` are shares of the houses.
DEFAULT_EXPOSURE_RATES: dict[str, list[dict]] = {
    "flood": [  # intensity: water depth in metres
        {"class": "无深度", "min_intensity": None, "affected": 0.6, "relocated": 0.05, "collapsed": 0.002, "damaged": 0.02},
        {"class": "<0.5 m", "min_intensity": 0.0, "affected": 0.5, "relocated": 0.02, "collapsed": 0.001, "damaged": 0.01},
        {"class": "0.5–2 m", "min_intensity": 0.5, "affected": 0.8, "relocated": 0.15, "collapsed": 0.01, "damaged": 0.05},
        {"class": "≥2 m", "min_intensity": 2.0, "affected": 1.0, "relocated": 0.6, "collapsed": 0.05, "damaged": 0.2},
    ],
    "earthquake": [  # intensity: seismic intensity degree (烈度)
        {"class": "无烈度", "min_intensity": None, "affected": 0.5, "relocated": 0.05, "collapsed": 0.005, "damaged": 0.05},
        {"class": "Ⅵ度以下", "min_intensity": 0.0, "affected": 0.1, "relocated": 0.0, "collapsed": 0.0, "damaged": 0.01},
        {"class": "Ⅵ度", "min_intensity": 6.0, "affected": 0.6, "relocated": 0.02, "collapsed": 0.002, "damaged": 0.05},
        {"class": "Ⅶ度", "min_intensity": 7.0, "affected": 0.9, "relocated": 0.1, "collapsed": 0.02, "damaged": 0.2},
        {"class": "Ⅷ度", "min_intensity": 8.0, "affected": 1.0, "relocated": 0.4, "collapsed": 0.1, "damaged": 0.5},
        {"class": "Ⅸ度及以上", "min_intensity": 9.0, "affected": 1.0, "relocated": 0.8, "collapsed": 0.3, "damaged": 0.6},
    ],
    "typhoon": [  # intensity: wind grade (风力等级)
        {"class": "无风力", "min_intensity": None, "affected": 0.4, "relocated": 0.05, "collapsed": 0.001, "damaged": 0.01},
        {"class": "8级以下", "min_intensity": 0.0, "affected": 0.2, "relocated": 0.01, "collapsed": 0.0, "damaged": 0.002},
        {"class": "8–11级", "min_intensity": 8.0, "affected": 0.6, "relocated": 0.1, "collapsed": 0.002, "damaged": 0.02},
        {"class": "12级及以上", "min_intensity": 12.0, "affected": 0.9, "relocated": 0.3, "collapsed": 0.01, "damaged": 0.08},
    ],
    "default": [
        {"class": "范围内", "min_intensity": None, "affected": 0.5, "relocated": 0.05, "collapsed": 0.002, "damaged": 0.02},
    ],
}

_SUFFIXES = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".zip": "ESRI Shapefile"}
_MAX_ZIP_RATIO = 100
_MAX_UNZIPPED = 500 * 1024 * 1024
_GRID_MIN_POINTS = 4096


class FootprintError(ValueError):
    """A footprint file that cannot be used, with the reason in the user's words (Chinese)."""


@dataclass(frozen=True)
class Footprint:
    """影响范围: polygons in WGS-84 with an intensity each (NaN where the file gives none)."""

    polygons: tuple[Polygon | MultiPolygon, ...]
    intensity: np.ndarray

    def __len__(self) -> int:
        return len(self.polygons)

    def to_frame(self) -> gpd.GeoDataFrame:
        """The footprint as a GeoDataFrame (``intensity``, ``geometry``) in EPSG:4326."""
        return gpd.GeoDataFrame({"intensity": self.intensity}, geometry=list(self.polygons), crs=CRS)


def footprint_from_frame(frame: gpd.GeoDataFrame, *, intensity_field: str | None = None,
                         from_gcj02: bool = False) -> Footprint:
    """A :class:`Footprint` from a GeoDataFrame: polygons only, reprojected to WGS-84.

    ``from_gcj02`` converts coordinates from the GCJ-02 datum as the region import does.
    """
    if len(frame) == 0:
        raise FootprintError("影响范围文件中没有要素")
    if frame.crs is not None and not frame.crs.equals(CRS):
        frame = frame.to_crs(CRS)
    geometries = frame.geometry.to_numpy()
    bad = [i + 1 for i, g in enumerate(geometries)
           if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon")]
    if bad:
        shown = "、".join(str(i) for i in bad[:10])
        raise FootprintError(f"第 {shown} 个要素不是面（Polygon/MultiPolygon），影响范围只接受面")
    if intensity_field:
        if intensity_field not in frame.columns:
            raise FootprintError(f"影响范围文件中没有强度字段「{intensity_field}」")
        intensity = pd.to_numeric(frame[intensity_field], errors="coerce").to_numpy(float)
    else:
        intensity = np.full(len(frame), np.nan)
    if from_gcj02:
        geometries = shapely.transform(geometries, _gcj02_coords)
    geometries = shapely.make_valid(geometries)
    polygons = tuple(_polygonal(g) for g in geometries)
    return Footprint(polygons=polygons, intensity=intensity)


def read_footprint(path: str | Path, *, intensity_field: str | None = None,
                   from_gcj02: bool = False) -> Footprint:
    """Read a footprint file: GeoJSON, GeoPackage or a zipped Shapefile."""
    path = Path(path)
    driver = _SUFFIXES.get(path.suffix.lower())
    if driver is None:
        raise FootprintError("影响范围文件须为 GeoJSON、GeoPackage 或压缩的 Shapefile（.zip）")
    source = str(path)
    if driver == "ESRI Shapefile":
        source = f"zip://{path}!{_shapefile_in(path)}"
    try:
        frame = gpd.read_file(source)
    except Exception as exc:  # pyogrio raises several types for an unreadable file
        raise FootprintError("无法读取影响范围文件：文件已损坏或格式不符") from exc
    return footprint_from_frame(frame, intensity_field=intensity_field, from_gcj02=from_gcj02)


def village_exposure(villages: pd.DataFrame, footprint: Footprint, *, hazard: str = "default",
                     rates: Mapping[str, Sequence[Mapping]] | None = None,
                     houses_per_household: float = 1.0) -> pd.DataFrame:
    """Exposed villages (one row each) with the estimates; villages outside are left out.

    ``villages`` needs ``code`` and a location (``lon``/``lat`` or a geometry); ``population``
    and ``households`` when present (a missing figure stays missing, never 0).
    """
    table = _rates_for(hazard, rates)
    lon, lat = lonlat_of(villages)
    intensity, covered = _cover(lon, lat, footprint)
    index = np.flatnonzero(covered)
    population = _column(villages, "population")[index]
    households = _column(villages, "households")[index]
    houses = households * houses_per_household
    got = intensity[index]
    klass, shares = _classify(got, table)
    result = pd.DataFrame({
        "code": codes_of(villages, ("code",))[index],
        "intensity": got,
        "intensity_class": klass,
        "population": population,
        "households": households,
        "houses": houses,
        "affected_est": np.round(population * shares["affected"]),
        "relocated_est": np.round(population * shares["relocated"]),
        "collapsed_est": np.round(houses * shares["collapsed"]),
        "damaged_est": np.round(houses * shares["damaged"]),
    }, columns=list(EXPOSURE_COLUMNS))
    return result.reset_index(drop=True)


def rollup_exposure(per_village: pd.DataFrame, level: str = "county") -> pd.DataFrame:
    """Sum a :func:`village_exposure` answer per township or county (``code`` of that unit).

    A unit's sum ignores villages whose figure is unknown, and says how many villages it counts.
    """
    if level not in ("township", "county", "prefecture", "province"):
        raise ValueError(f"cannot roll exposure up to {level!r}")
    length = {"township": 9, "county": 6, "prefecture": 4, "province": 2}[level]
    numbers = [c for c in EXPOSURE_COLUMNS if c not in ("code", "intensity", "intensity_class")]
    if per_village.empty:
        return pd.DataFrame(columns=["code", "villages", *numbers])
    unit = per_village["code"].astype(str).str.slice(0, length)
    if length < 6:
        unit = unit.str.pad(6, side="right", fillchar="0")
    grouped = per_village.assign(unit=unit).groupby("unit", sort=True)
    out = grouped[numbers].sum(min_count=1)
    out.insert(0, "villages", grouped.size())
    return out.reset_index().rename(columns={"unit": "code"})


def exposure_rate_classes(hazard: str, rates: Mapping[str, Sequence[Mapping]] | None = None) -> list[dict]:
    """The rate classes that apply to ``hazard`` (a copy, for showing them beside the estimate)."""
    return [dict(row) for row in _rates_for(hazard, rates)]


# -- private helpers ---------------------------------------------------------------------------

def _gcj02_coords(coords: np.ndarray) -> np.ndarray:
    lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def _polygonal(geometry):
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [g for g in getattr(geometry, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else Polygon()


def _shapefile_in(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            total = sum(info.file_size for info in infos)
            packed = max(1, sum(info.compress_size for info in infos))
            if total > _MAX_UNZIPPED or total / packed > _MAX_ZIP_RATIO:
                raise FootprintError("压缩包解压后过大，疑为压缩炸弹，已拒绝")
            shapes = [info.filename for info in infos if info.filename.lower().endswith(".shp")]
    except zipfile.BadZipFile as exc:
        raise FootprintError("压缩包已损坏，无法打开") from exc
    if len(shapes) != 1:
        raise FootprintError("压缩包中须恰有一个 .shp 文件")
    return shapes[0]


def _rates_for(hazard: str, rates) -> list[Mapping]:
    table = (rates or DEFAULT_EXPOSURE_RATES)
    rows = table.get(hazard) or table.get("default") or DEFAULT_EXPOSURE_RATES["default"]
    for row in rows:
        for key in ("affected", "relocated", "collapsed", "damaged"):
            share = row.get(key)
            if not isinstance(share, (int, float)) or not 0 <= share <= 1:
                raise ValueError(f"exposure rate {key} of class {row.get('class')!r} must be within 0..1")
    return list(rows)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(float)


def _cover(lon: np.ndarray, lat: np.ndarray, footprint: Footprint) -> tuple[np.ndarray, np.ndarray]:
    """Highest intensity covering each point (NaN: covered with no intensity) and the cover mask."""
    n = len(lon)
    covered = np.zeros(n, dtype=bool)
    best = np.full(n, -math.inf)
    known = np.isfinite(lon) & np.isfinite(lat)
    for polygon, level in zip(footprint.polygons, footprint.intensity):
        if polygon.is_empty:
            continue
        minx, miny, maxx, maxy = polygon.bounds
        candidates = np.flatnonzero(known & (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy))
        if not len(candidates):
            continue
        shapely.prepare(polygon)
        inside = candidates[_points_in(polygon, lon[candidates], lat[candidates])]
        covered[inside] = True
        if np.isfinite(level):
            best[inside] = np.maximum(best[inside], level)
    return np.where(np.isfinite(best), best, np.nan), covered


def _points_in(polygon, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Which points the (prepared) polygon covers, boundary included.

    A point-in-polygon test costs in the polygon's vertices, so many points are first sorted
    into a grid over the polygon's bounds: a cell wholly inside (or wholly outside) answers for
    all its points at once, and only the points in cells the outline crosses are tested one by
    one. Cells are classified slightly enlarged, so rounding at a cell's edge cannot misplace a
    point.
    """
    if len(lon) < _GRID_MIN_POINTS:
        return shapely.intersects_xy(polygon, lon, lat)
    minx, miny, maxx, maxy = polygon.bounds
    size = int(np.clip(np.sqrt(len(lon)) / 8, 8, 256))
    width, height = max(maxx - minx, 1e-12) / size, max(maxy - miny, 1e-12) / size
    ix = np.clip(((lon - minx) / width).astype(np.int64), 0, size - 1)
    iy = np.clip(((lat - miny) / height).astype(np.int64), 0, size - 1)
    gx, gy = np.meshgrid(np.arange(size), np.arange(size))
    gx, gy = gx.ravel(), gy.ravel()
    pad_x, pad_y = width * 1e-6, height * 1e-6
    cells = shapely.box(minx + gx * width - pad_x, miny + gy * height - pad_y,
                        minx + (gx + 1) * width + pad_x, miny + (gy + 1) * height + pad_y)
    inside_cell = shapely.contains_properly(polygon, cells)
    crossed_cell = ~inside_cell & shapely.intersects(polygon, cells)
    cell = iy * size + ix
    result = inside_cell[cell]
    edge = np.flatnonzero(crossed_cell[cell])
    result[edge] = shapely.intersects_xy(polygon, lon[edge], lat[edge])
    return result


def _classify(intensity: np.ndarray, table: Sequence[Mapping]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    no_level = [row for row in table if row.get("min_intensity") is None]
    graded = sorted((row for row in table if row.get("min_intensity") is not None),
                    key=lambda row: row["min_intensity"])
    fallback = no_level[0] if no_level else (graded[0] if graded else DEFAULT_EXPOSURE_RATES["default"][0])
    klass = np.full(len(intensity), fallback["class"], dtype=object)
    shares = {key: np.full(len(intensity), float(fallback[key]))
              for key in ("affected", "relocated", "collapsed", "damaged")}
    finite = np.isfinite(intensity)
    if graded:  # a known intensity below every class still takes the lowest class
        _assign(klass, shares, finite, graded[0])
    for row in graded:
        _assign(klass, shares, finite & (intensity >= row["min_intensity"]), row)
    return klass, shares


def _assign(klass: np.ndarray, shares: dict[str, np.ndarray], hit: np.ndarray, row: Mapping) -> None:
    klass[hit] = row["class"]
    for key in shares:
        shares[key][hit] = float(row[key])
