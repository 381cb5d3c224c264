"""Hazard-footprint exposure (gis): equal to brute force, files read or refused with a reason."""
from __future__ import annotations

import math
import zipfile
from unittest import mock

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon, box

import gis


def _villages(points, population=None, households=None):
    frame = pd.DataFrame({
        "code": [f"1401051010{i:02d}" for i in range(len(points))],
        "lon": [p[0] for p in points],
        "lat": [p[1] for p in points],
    })
    if population is not None:
        frame["population"] = population
    if households is not None:
        frame["households"] = households
    return frame


def _brute_force(points, polygons, levels):
    """For each point: covered?, and the highest finite level covering it (NaN if none)."""
    out = []
    for lon, lat in points:
        hits = [lvl for poly, lvl in zip(polygons, levels) if poly.intersects(Point(lon, lat))]
        finite = [lvl for lvl in hits if not math.isnan(lvl)]
        out.append((bool(hits), max(finite) if finite else math.nan))
    return out


coordinate = st.floats(min_value=110.0, max_value=114.0, allow_nan=False)
point = st.tuples(coordinate, coordinate)
polygon = st.lists(point, min_size=3, max_size=12).map(
    lambda pts: shapely.make_valid(Polygon(pts)).buffer(0) if len(set(pts)) >= 3 else box(111, 111, 112, 112))
level = st.one_of(st.just(math.nan), st.floats(min_value=0, max_value=12, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(points=st.lists(point, min_size=1, max_size=60),
       shapes=st.lists(st.tuples(polygon, level), min_size=1, max_size=4))
def test_exposure_equals_brute_force_point_in_polygon(points, shapes):
    polygons = [s if s.geom_type in ("Polygon", "MultiPolygon") and not s.is_empty else box(111, 111, 112, 112)
                for s, _ in shapes]
    levels = [lvl for _, lvl in shapes]
    footprint = gis.footprint_from_frame(
        gpd.GeoDataFrame({"depth": levels}, geometry=polygons, crs="EPSG:4326"), intensity_field="depth")

    villages = _villages(points, population=[100] * len(points))
    result = gis.village_exposure(villages, footprint, hazard="flood")
    with mock.patch("gis._exposure._GRID_MIN_POINTS", 0):  # the grid path, whatever the count
        gridded = gis.village_exposure(villages, footprint, hazard="flood")
    pd.testing.assert_frame_equal(result, gridded)

    expected = _brute_force(points, footprint.polygons, levels)
    codes = _villages(points)["code"].tolist()
    assert sorted(result["code"]) == sorted(c for c, (hit, _) in zip(codes, expected) if hit)
    got = dict(zip(result["code"], result["intensity"]))
    for code, (hit, best) in zip(codes, expected):
        if hit:
            assert (math.isnan(got[code]) and math.isnan(best)) or got[code] == best


def test_estimates_use_the_class_rates_and_unknown_stays_unknown():
    footprint = gis.footprint_from_frame(gpd.GeoDataFrame(
        {"depth": [0.3, 2.5]}, geometry=[box(0, 0, 10, 10), box(0, 0, 1, 1)], crs="EPSG:4326"),
        intensity_field="depth")
    villages = _villages([(0.5, 0.5), (5, 5), (20, 20)], population=[1000, 200, 50],
                         households=[300, None, 10])

    result = gis.village_exposure(villages, footprint, hazard="flood").set_index("code")

    deep, shallow = result.iloc[0], result.iloc[1]
    assert len(result) == 2  # the village at (20, 20) is outside
    assert deep["intensity"] == 2.5 and deep["intensity_class"] == "≥2 m"
    assert deep["affected_est"] == 1000 and deep["relocated_est"] == 600
    assert deep["collapsed_est"] == round(300 * 0.05)
    assert shallow["intensity_class"] == "<0.5 m" and shallow["affected_est"] == 100
    assert math.isnan(shallow["households"]) and math.isnan(shallow["collapsed_est"])


def test_configured_rates_replace_the_defaults_and_bad_rates_are_refused():
    footprint = gis.footprint_from_frame(gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs="EPSG:4326"))
    villages = _villages([(0.5, 0.5)], population=[1000])
    rates = {"default": [{"class": "全部", "min_intensity": None, "affected": 0.1, "relocated": 0,
                          "collapsed": 0, "damaged": 0}]}

    assert gis.village_exposure(villages, footprint, rates=rates)["affected_est"].tolist() == [100]
    rates["default"][0]["affected"] = 1.5
    with pytest.raises(ValueError, match="affected"):
        gis.village_exposure(villages, footprint, rates=rates)


def test_rollup_by_township_and_county_counts_villages():
    frame = pd.DataFrame({
        "code": ["140105101001", "140105101002", "140105102001", "140106101001"],
        "intensity": [1.0] * 4, "intensity_class": ["x"] * 4,
        "population": [10, 20, 30, np.nan], "households": [1, 2, 3, 4], "houses": [1, 2, 3, 4],
        "affected_est": [1, 2, 3, np.nan], "relocated_est": [0] * 4, "collapsed_est": [0] * 4,
        "damaged_est": [0] * 4,
    })

    townships = gis.rollup_exposure(frame, "township").set_index("code")
    counties = gis.rollup_exposure(frame, "county").set_index("code")

    assert townships.loc["140105101", "villages"] == 2 and townships.loc["140105101", "population"] == 30
    assert counties.loc["140105", "population"] == 60
    assert math.isnan(counties.loc["140106", "population"])  # unknown is not 0
    assert counties.loc["140106", "households"] == 4


def _write(frame: gpd.GeoDataFrame, path, driver):
    frame.to_file(path, driver=driver)
    return path


@pytest.mark.parametrize("suffix, driver", [(".geojson", "GeoJSON"), (".gpkg", "GPKG")])
def test_reads_geojson_and_geopackage(tmp_path, suffix, driver):
    frame = gpd.GeoDataFrame({"depth": [1.2]}, geometry=[box(112, 37, 113, 38)], crs="EPSG:4326")
    footprint = gis.read_footprint(_write(frame, tmp_path / f"f{suffix}", driver), intensity_field="depth")
    assert len(footprint) == 1 and footprint.intensity.tolist() == [1.2]


def test_reads_a_zipped_shapefile_and_reprojects(tmp_path):
    frame = gpd.GeoDataFrame({"mmi": [7]}, geometry=[box(112, 37, 113, 38)], crs="EPSG:4326").to_crs("EPSG:3857")
    frame.to_file(tmp_path / "quake.shp")
    archive = tmp_path / "quake.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in tmp_path.glob("quake.*"):
            if part.suffix != ".zip":
                zf.write(part, part.name)

    footprint = gis.read_footprint(archive, intensity_field="mmi")

    minx, miny, maxx, maxy = footprint.polygons[0].bounds
    assert (round(minx, 6), round(maxy, 6)) == (112, 38)


def test_gcj02_footprint_is_converted_like_the_region_import():
    lon, lat = gis.wgs84_to_gcj02(112.5, 37.8)
    frame = gpd.GeoDataFrame(geometry=[Point(lon, lat).buffer(0.001)], crs="EPSG:4326")
    footprint = gis.footprint_from_frame(frame, from_gcj02=True)
    assert footprint.polygons[0].contains(Point(112.5, 37.8))


@pytest.mark.parametrize("content, message", [
    (b"not a zip", "损坏"),
    (None, "恰有一个"),
])
def test_bad_archives_are_refused_with_a_reason(tmp_path, content, message):
    path = tmp_path / "f.zip"
    if content is None:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("readme.txt", "no shapefile here")
    else:
        path.write_bytes(content)
    with pytest.raises(gis.FootprintError, match=message):
        gis.read_footprint(path)


def test_zip_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.shp", b"\0" * (5 * 1024 * 1024))
    with pytest.raises(gis.FootprintError, match="压缩炸弹"):
        gis.read_footprint(path)


def test_lines_points_and_unknown_formats_are_refused(tmp_path):
    frame = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), LineString([(0, 0), (1, 1)])], crs="EPSG:4326")
    with pytest.raises(gis.FootprintError, match="第 2 个要素"):
        gis.footprint_from_frame(frame)
    with pytest.raises(gis.FootprintError, match="GeoJSON"):
        gis.read_footprint(tmp_path / "f.csv")
    (tmp_path / "broken.geojson").write_text("{not json")
    with pytest.raises(gis.FootprintError, match="无法读取"):
        gis.read_footprint(tmp_path / "broken.geojson")
    with pytest.raises(gis.FootprintError, match="强度字段"):
        gis.footprint_from_frame(frame.iloc[:1], intensity_field="depth")


def test_grid_path_agrees_with_point_tests_on_many_points_and_edge_cases():
    rng = np.random.default_rng(7)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 2000))
    radius = 1 + 0.3 * np.sin(9 * angles)
    ragged = Polygon(np.column_stack([112 + radius * np.cos(angles), 37 + radius * np.sin(angles)]))
    ring = np.asarray(ragged.exterior.coords)
    lon = np.concatenate([rng.uniform(110.5, 113.5, 20_000), ring[:, 0]])  # vertices lie on the outline
    lat = np.concatenate([rng.uniform(35.5, 38.5, 20_000), ring[:, 1]])
    footprint = gis.footprint_from_frame(gpd.GeoDataFrame(geometry=[ragged], crs="EPSG:4326"))

    result = gis.village_exposure(pd.DataFrame({"code": np.arange(len(lon)).astype(str), "lon": lon, "lat": lat}),
                                  footprint)

    expected = np.flatnonzero(shapely.intersects_xy(ragged, lon, lat)).astype(str)
    assert sorted(result["code"]) == sorted(expected)
    assert len(expected) > 5_000
