"""GeoDataFrames from plain records, and the curated package namespace."""
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, box

import gis

SQUARE = box(112.5, 37.7, 112.7, 37.8)


def test_package_reexports_codes_and_public_api():
    assert gis.codes.normalise("140105101201") == "140105101201"
    for name in gis.__all__:
        assert hasattr(gis, name), name
    assert not any(name.startswith("_") for name in gis.__all__)


def test_villages_frame_points_and_canonical_codes():
    frame = gis.villages_frame([
        {"code": "140105101201", "name": "示例村一", "lon": 112.55, "lat": 37.72, "population": 1200},
        {"code": 140105101000, "name": "示例镇", "lon": 112.56, "lat": 37.73, "population": 30},
    ])
    assert frame.crs == "EPSG:4326"
    assert frame["code"].tolist() == ["140105101201", "140105101"]
    assert frame.geometry.iloc[0].equals(Point(112.55, 37.72))
    assert frame["population"].tolist() == [1200, 30]


def test_villages_frame_unknown_location_has_no_geometry():
    frame = gis.villages_frame([{"code": "140105101201", "lon": None, "lat": None}])
    assert frame.geometry.iloc[0] is None


@pytest.mark.parametrize("record, message", [
    ({"code": "140105101201", "lon": 190.0, "lat": 37.0}, "经纬度超出范围"),
    ({"code": "1401", "lon": 112.0, "lat": 37.0}, "区划代码"),
    ({"code": "140105101201", "lat": 37.0}, "缺少字段: lon"),
])
def test_villages_frame_rejects_bad_records(record, message):
    with pytest.raises(ValueError, match=message):
        gis.villages_frame([record])


def test_empty_frames():
    assert gis.villages_frame([]).empty
    assert gis.regions_frame([]).crs == "EPSG:4326"


def test_depots_frame_keeps_depot_codes_and_normalises_regions():
    frame = gis.depots_frame([{"code": "SYN-140105-01", "region_code": "140105000000", "tier": "county",
                               "lon": 112.6, "lat": 37.75}])
    assert frame.loc[0, "code"] == "SYN-140105-01"
    assert frame.loc[0, "region_code"] == "140105"
    assert frame.geometry.iloc[0].equals(Point(112.6, 37.75))


def test_depots_frame_accepts_a_dataframe():
    frame = gis.depots_frame(pd.DataFrame({"code": ["A"], "lon": [112.0], "lat": [37.0]}))
    assert frame.geometry.iloc[0].equals(Point(112.0, 37.0))


@pytest.mark.parametrize("boundary", [SQUARE, shapely.geometry.mapping(SQUARE), SQUARE.wkt, SQUARE.wkb])
def test_regions_frame_boundary_forms(boundary):
    frame = gis.regions_frame([{"code": "140105", "name": "小店区", "boundary": boundary}])
    geom = frame.geometry.iloc[0]
    assert isinstance(geom, MultiPolygon) and geom.equals(MultiPolygon([SQUARE]))
    assert frame.loc[0, "level"] == "county"
    assert frame.loc[0, "parent_code"] == "140100"
    assert SQUARE.contains(Point(frame.loc[0, "lon"], frame.loc[0, "lat"]))
    assert "boundary" not in frame.columns


def test_regions_frame_point_regions_and_given_points():
    frame = gis.regions_frame([
        {"code": "140105101201", "lon": 112.55, "lat": 37.72},
        {"code": "140105", "boundary": SQUARE, "lon": 112.51, "lat": 37.71},
    ])
    assert frame.geometry.iloc[0].equals(Point(112.55, 37.72))
    assert frame.loc[0, "level"] == "village" and frame.loc[0, "parent_code"] == "140105101"
    assert (frame.loc[1, "lon"], frame.loc[1, "lat"]) == (112.51, 37.71)


def test_regions_frame_repairs_invalid_polygons():
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2), (0, 0)])
    frame = gis.regions_frame([{"code": "140105", "boundary": bowtie}])
    geom = frame.geometry.iloc[0]
    assert geom.is_valid and isinstance(geom, MultiPolygon) and geom.area == pytest.approx(2.0)
