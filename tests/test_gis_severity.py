"""Severity classes, legends, choropleth values and zoom simplification."""
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon, box

import gis


# -- severity ------------------------------------------------------------------------------------

@pytest.mark.parametrize("figures, expected", [
    ({}, 0),
    ({"affected_population": 0, "deaths": 0}, 0),
    ({"affected_population": 1}, 1),
    ({"affected_population": 99}, 1),
    ({"affected_population": 100}, 2),
    ({"collapsed_households": 3}, 2),
    ({"relocated_population": 19, "affected_population": 40}, 1),
    ({"relocated_population": 20}, 2),
    ({"deaths": 1}, 3),
    ({"missing": 1}, 3),
    ({"collapsed_households": 10}, 3),
    ({"affected_population": 999, "relocated_population": 499}, 3),
    ({"deaths": 1, "missing": 2}, 4),  # deaths + missing ≥ 3
    ({"deaths": 2, "missing": 0}, 3),
    ({"relocated_population": 500}, 4),
    ({"collapsed_households": 50}, 4),
    ({"affected_population": 1000}, 4),
    ({"affected_population": None, "deaths": float("nan")}, 0),
    ({"injured": 400}, 0),  # not an indicator of the default rule
])
def test_severity_class_default_rule(figures, expected):
    assert gis.severity_class(figures) == expected


def test_labels_and_colours_cover_every_class():
    assert gis.SEVERITY_LABELS == {0: "无", 1: "轻", 2: "中", 3: "重", 4: "特重"}
    assert set(gis.SEVERITY_COLOURS) == set(gis.SEVERITY_LABELS)
    assert all(c.startswith("#") and len(c) == 7 for c in gis.SEVERITY_COLOURS.values())
    assert [e["label"] for e in gis.severity_legend()] == ["无", "轻", "中", "重", "特重"]


def test_rule_override():
    rule = {4: {"deaths+missing": 10}, 2: {"collapsed_rooms": 5}}
    assert gis.severity_class({"deaths": 5, "missing": 4}, rule) == 0
    assert gis.severity_class({"deaths": 5, "missing": 5}, rule) == 4
    assert gis.severity_class({"collapsed_rooms": 5}, rule) == 2
    assert gis.severity_class({"affected_population": 100_000}, rule) == 0


@pytest.mark.parametrize("rule", [{5: {"deaths": 1}}, {0: {"deaths": 1}}, {2: {"deaths": -1}}])
def test_bad_rules_are_refused(rule):
    with pytest.raises(ValueError):
        gis.severity_class({}, rule)


def test_severity_classes_vectorised():
    frame = pd.DataFrame({
        "deaths": [0, 1, 2, 0, 0],
        "missing": [0, 0, 1, 0, np.nan],
        "relocated_population": [0, 0, 0, 25, 0],
        "affected_population": [0, 0, 0, 0, 5],
    }, index=list("abcde"))
    classes = gis.severity_classes(frame)
    assert classes.to_dict() == {"a": 0, "b": 3, "c": 4, "d": 2, "e": 1}
    assert classes.name == "severity"


figure_values = st.integers(0, 2_000)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.fixed_dictionaries({
    "deaths": st.integers(0, 5), "missing": st.integers(0, 5), "relocated_population": figure_values,
    "collapsed_households": st.integers(0, 80), "affected_population": figure_values,
}), min_size=1, max_size=30))
def test_vectorised_agrees_with_scalar(rows):
    classes = gis.severity_classes(pd.DataFrame(rows))
    assert classes.tolist() == [gis.severity_class(r) for r in rows]


# -- choropleth ----------------------------------------------------------------------------------

def test_choropleth_values_by_code():
    regions = gis.regions_frame([
        {"code": "140105", "boundary": box(0, 0, 1, 1)},
        {"code": "140106", "boundary": box(1, 0, 2, 1)},
        {"code": "140107", "boundary": box(2, 0, 3, 1)},
    ])
    out = gis.choropleth_values(regions, {"140105000000": 12, "140106": 3.5, "650102": 99})
    assert out["value"].tolist()[:2] == [12.0, 3.5]
    assert np.isnan(out["value"].iloc[2])
    assert "value" not in regions.columns
    series = gis.choropleth_values(regions, pd.Series({"140107": 7}), column="deaths")
    assert series["deaths"].iloc[2] == 7.0


# -- simplify_for_zoom ---------------------------------------------------------------------------

def _wiggly_pair():
    """Two counties sharing a 200-vertex wiggly edge along x = 1."""
    ys = np.linspace(0, 1, 201)
    xs = 1 + 0.001 * np.sin(ys * 80)
    edge = list(zip(xs, ys))
    left = Polygon([(0, 0), *edge, (0, 1)])
    right = Polygon([(2, 0), (2, 1), *edge[::-1]])
    return left, right


def test_zoom_tolerance_is_one_pixel():
    assert gis.zoom_tolerance(0) == pytest.approx(360 / 256)
    assert gis.zoom_tolerance(8) == pytest.approx(360 / 256 / 256)


def test_simplify_keeps_neighbours_gap_and_overlap_free():
    left, right = _wiggly_pair()
    out = gis.simplify_for_zoom(gis.regions_frame([{"code": "140105", "boundary": left},
                                                   {"code": "140106", "boundary": right}]), zoom=5)
    a, b = out.iloc[0], out.iloc[1]
    assert shapely.get_num_coordinates(a) < 20 < shapely.get_num_coordinates(left)
    assert a.intersection(b).area == pytest.approx(0.0, abs=1e-12)
    assert a.union(b).area == pytest.approx(2.0, rel=1e-3)
    assert a.is_valid and b.is_valid and isinstance(a, MultiPolygon)
    assert out.crs == "EPSG:4326"


def test_simplify_detail_grows_with_zoom():
    left, _ = _wiggly_pair()
    counts = [shapely.get_num_coordinates(gis.simplify_for_zoom([left], zoom=z).iloc[0]) for z in (4, 10, 16)]
    assert counts[0] < counts[1] <= counts[2]


def test_simplify_drops_slivers_but_never_a_whole_region():
    island = box(5, 5, 5.001, 5.001)  # about 0.1 km: under a pixel at zoom 6
    mainland = box(0, 0, 3, 3)
    tiny_region = box(10, 10, 10.0005, 10.0005)
    out = gis.simplify_for_zoom([MultiPolygon([mainland, island]), tiny_region], zoom=6, coverage=False)
    assert len(out.iloc[0].geoms) == 1 and out.iloc[0].area == pytest.approx(9.0)
    assert not out.iloc[1].is_empty
    kept = gis.simplify_for_zoom([MultiPolygon([mainland, island])], zoom=16, coverage=False)
    assert len(kept.iloc[0].geoms) == 2


def test_simplify_passes_points_through():
    out = gis.simplify_for_zoom([Point(1, 2), None, box(0, 0, 1, 1)], zoom=3)
    assert out.iloc[0].equals(Point(1, 2))
    assert out.iloc[1] is None
    assert out.iloc[2].area == pytest.approx(1.0)
