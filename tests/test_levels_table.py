"""The vectorised path agrees with ``evaluate`` row by row."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from response_levels import Context, builtin_plans, dump_plan, evaluate, evaluate_table, load_plan

PLANS = builtin_plans()


def _with_adjustments(plan, mode=None):
    data = dump_plan(plan)
    data["id"] = plan.id + "-adjusted"
    data["adjustments"] = [
        {"region_code": "540000", "factor": 0.5, "reason": "脆弱地区"},
        {"region_code": "650000", "factor": 0.7, "reason": "敏感地区"},
        {"region_code": "140000", "factor": 1.3, "reason": "测试"},
    ]
    if mode:
        data["relocated_mode"] = mode
    return load_plan(data)


ALL_PLANS = list(PLANS.values()) + [
    _with_adjustments(PLANS["national-2016"]),
    _with_adjustments(PLANS["national-2024"], mode="either"),
    _with_adjustments(PLANS["county-sample"], mode="sum"),
]

# Values around every bound of the shipped plans, and anything in between.
_BOUNDS = {getattr(c, name) for plan in PLANS.values() for level in plan.levels
           for c in level.criteria for name in ("min", "max", "rooms_min", "households_min")
           if getattr(c, name, None) is not None}
_NEAR = sorted({v + d for v in _BOUNDS for d in (-1, 0, 1)})
_near = st.sampled_from(_NEAR)
_value = st.one_of(st.just(0), st.integers(0, 250), _near, _near, st.integers(0, 5_000_000))
# Sums of deaths and missing around the linkage bands (联动启动) of the 2024 plan.
_LINK = (15, 16, 19, 20, 39, 40, 49, 50, 79, 80, 99, 100, 159, 160, 199, 200)
_SPECIAL = {
    "deaths": st.one_of(st.sampled_from(_LINK), st.integers(0, 250)),
    "missing": st.one_of(st.just(0), st.integers(0, 60)),
}
_INDICATORS = ("deaths", "missing", "relocated_population", "needing_aid_population",
               "collapsed_rooms", "severely_damaged_rooms", "collapsed_households",
               "severely_damaged_households", "drought_needing_aid_population")


@st.composite
def units(draw):
    n = draw(st.integers(1, 12))
    columns = draw(st.lists(st.sampled_from(_INDICATORS), unique=True, min_size=1,
                            max_size=len(_INDICATORS)))
    rows = [{c: draw(_SPECIAL.get(c, _value)) for c in columns} for _ in range(n)]
    agri = draw(st.one_of(st.none(), st.lists(
        st.one_of(st.none(), st.integers(0, 30_000_000)), min_size=n, max_size=n)))
    codes = draw(st.one_of(st.none(), st.lists(
        st.sampled_from(["140000", "540000", "650000", "110000"]), min_size=n, max_size=n)))
    neighbours = draw(st.one_of(st.none(), st.lists(
        st.lists(st.integers(0, n - 1), max_size=3), min_size=n, max_size=n)))
    return columns, rows, agri, codes, neighbours


def _agree(plan, data):
    columns, rows, agri, codes, neighbours = data
    table = {c: np.array([row[c] for row in rows]) for c in columns}
    agri_array = None if agri is None else np.array(
        [math.nan if a is None else a for a in agri], dtype=float)
    ranks = evaluate_table(plan, table, agri_array, region_codes=codes, neighbours=neighbours)
    expected = []
    for i, row in enumerate(rows):
        context = Context(
            region_code=None if codes is None else codes[i],
            agricultural_population=None if agri is None else agri[i],
            adjacent=[] if neighbours is None else [rows[j] for j in neighbours[i]])
        expected.append(evaluate(plan, row, context).rank or 0)
    assert ranks.tolist() == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=st.sampled_from(ALL_PLANS), data=units())
def test_evaluate_table_agrees_with_evaluate(plan, data):
    _agree(plan, data)


@st.composite
def linked_units(draw):
    """Only deaths and missing, and always neighbours: the linkage bands decide."""
    n = draw(st.integers(2, 8))
    rows = [{"deaths": draw(_SPECIAL["deaths"]), "missing": draw(_SPECIAL["missing"])}
            for _ in range(n)]
    codes = draw(st.lists(st.sampled_from(["540000", "650000", "110000"]),
                          min_size=n, max_size=n))
    neighbours = draw(st.lists(st.lists(st.integers(0, n - 1), min_size=1, max_size=3),
                               min_size=n, max_size=n))
    return ["deaths", "missing"], rows, None, codes, neighbours


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=st.sampled_from([PLANS["national-2024"], ALL_PLANS[len(PLANS) + 1]]),
       data=linked_units())
def test_evaluate_table_agrees_on_linkage(plan, data):
    _agree(plan, data)


def test_known_ranks():
    table = {"deaths": np.array([0, 19, 20, 99, 100, 250]),
             "collapsed_households": np.array([3_000, 0, 0, 0, 0, 0])}
    ranks = evaluate_table(PLANS["national-2016"], table)
    assert ranks.dtype == np.int8
    assert ranks.tolist() == [4, 0, 4, 3, 2, 1]


def test_drought_percentage_and_linkage_in_the_table():
    plan = PLANS["national-2024"]
    table = {"drought_needing_aid_population": np.array([150_000, 150_000, 0, 0]),
             "deaths": np.array([0, 0, 170, 210])}
    agri = np.array([1_000_000, math.nan, 0, 0])
    assert evaluate_table(plan, table, agri).tolist() == [4, 0, 2, 1]
    assert evaluate_table(plan, table, agri, neighbours=[[], [], [3], [2]]).tolist() == [
        4, 0, 1, 1]
    # Own band [160, 200) and a neighbour at exactly 200; one at 199 is not enough.
    table = {"deaths": np.array([160, 199, 200, 199, 199, 200])}
    neighbours = [[2], [2], [0, 1], [4], [3], []]
    assert evaluate_table(plan, table, neighbours=neighbours).tolist() == [1, 1, 1, 2, 2, 1]


def test_adjustment_in_the_table():
    plan = ALL_PLANS[len(PLANS)]  # national-2016 with adjustments
    table = {"deaths": np.array([10, 10, 10])}
    ranks = evaluate_table(plan, table, region_codes=["540000", "110000", None])
    assert ranks.tolist() == [4, 0, 0]


def test_empty_table():
    assert evaluate_table(PLANS["national-2016"], {}).tolist() == []
    assert evaluate_table(PLANS["national-2016"], {"deaths": np.array([])}).tolist() == []


@pytest.mark.parametrize(("table", "kwargs", "message"), [
    ({"death": np.array([1])}, {}, "unknown indicator"),
    ({"deaths": np.array([1, -1])}, {}, "must be a number ≥ 0"),
    ({"deaths": np.array([1, 2]), "missing": np.array([1])}, {}, "length 1 differs from 2"),
    ({"deaths": np.array([[1]])}, {}, "1-D"),
    ({"deaths": np.array([1, 2])}, {"agricultural_population": np.array([1])}, "shape"),
    ({"deaths": np.array([1, 2])}, {"region_codes": ["140000"]}, "region_codes: length 1"),
    ({"deaths": np.array([1, 2])}, {"neighbours": [[1]]}, "neighbours: length 1"),
])
def test_bad_tables_are_refused(table, kwargs, message):
    with pytest.raises(ValueError, match=message):
        evaluate_table(PLANS["national-2016"], table, **kwargs)
