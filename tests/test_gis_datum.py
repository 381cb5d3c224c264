"""GCJ-02 (火星坐标系) ↔ WGS-84."""
import fast_geocn
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gis


def metres(lon1, lat1, lon2, lat2):
    return gis.great_circle_km(lon1, lat1, lon2, lat2) * 1000.0


@settings(max_examples=200, deadline=None)
@given(st.floats(73.5, 135.0), st.floats(18.0, 53.5))
def test_round_trip_is_under_half_a_metre(lon, lat):
    glon, glat = gis.wgs84_to_gcj02(lon, lat)
    back = gis.gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, *back) < 0.5
    assert metres(lon, lat, *back) < 0.001  # in fact sub-millimetre


def test_vectorised_round_trip_over_china():
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(73.5, 135, 100_000), rng.uniform(18, 53.5, 100_000)
    back_lon, back_lat = gis.gcj02_to_wgs84(*gis.wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, back_lon, back_lat).max() < 0.5


def test_offset_is_a_few_hundred_metres_in_taiyuan():
    # The GCJ-02 offset is of the order of 100–700 m inside China.
    glon, glat = gis.wgs84_to_gcj02(112.5489, 37.8706)
    assert 100 < metres(112.5489, 37.8706, glon, glat) < 700


def test_agrees_with_fast_geocn_scalar_formulas():
    for lon, lat in [(112.5489, 37.8706), (87.6168, 43.8256), (121.4737, 31.2304), (109.5, 18.3)]:
        assert gis.wgs84_to_gcj02(lon, lat) == pytest.approx(fast_geocn.wgs84_to_gcj02(lon, lat), abs=1e-12)
        ours = gis.gcj02_to_wgs84(lon, lat)
        theirs = fast_geocn.gcj02_to_wgs84(lon, lat)
        assert metres(*ours, *theirs) < 0.01


def test_outside_china_is_unchanged():
    lon = np.array([2.35, -74.0, 140.0, 100.0])
    lat = np.array([48.85, 40.7, 35.7, -5.0])
    out_lon, out_lat = gis.gcj02_to_wgs84(lon, lat)
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)
    assert gis.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


def test_scalars_in_scalars_out_and_arrays_broadcast():
    out = gis.gcj02_to_wgs84(112.55, 37.87)
    assert isinstance(out[0], float) and isinstance(out[1], float)
    lon, lat = gis.gcj02_to_wgs84([112.0, 113.0], 37.0)
    assert lon.shape == lat.shape == (2,)
