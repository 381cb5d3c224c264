"""The rules beyond single thresholds: 2024 sums, relocated modes, 联动启动, drought percentage,
酌情调整, and the shape of an evaluation (triggers, gaps, criteria values, to_dict)."""
import json

import pytest

from response_levels import (
    Adjustment,
    Context,
    Gap,
    builtin_plans,
    dump_plan,
    evaluate,
    load_plan,
)


@pytest.fixture(scope="module")
def plans():
    return builtin_plans()


def _variant(plan, **changes):
    data = dump_plan(plan)
    data.update(changes)
    return load_plan(data)


# --- 2024: deaths + missing ---------------------------------------------------------------

@pytest.mark.parametrize(("deaths", "missing", "expected"), [
    (150, 50, "一级"),
    (150, 49, "二级"),
    (0, 200, "一级"),
    (60, 40, "二级"),
    (60, 39, "三级"),
    (10, 10, "四级"),
    (10, 9, None),
    (0, 20, "四级"),
])
def test_2024_sums_deaths_and_missing(plans, deaths, missing, expected):
    result = evaluate(plans["national-2024"], {"deaths": deaths, "missing": missing})
    assert result.level == expected
    if expected:
        assert [(t.indicator, t.value) for t in result.triggers] == [
            ("deaths+missing", deaths + missing)]


def test_same_figures_differ_between_2016_and_2024(plans):
    figures = {"deaths": 150, "missing": 60}
    assert evaluate(plans["national-2016"], figures).level == "Ⅱ"
    assert evaluate(plans["national-2024"], figures).level == "一级"


# --- relocated_mode: either vs sum ------------------------------------------------------------

def test_either_mode_takes_the_larger_of_the_two(plans):
    plan = plans["national-2016"]
    assert plan.relocated_mode == "either"
    figures = {"relocated_population": 1_200_000, "needing_aid_population": 900_000}
    result = evaluate(plan, figures)
    assert result.level == "Ⅱ"
    assert [(t.indicator, t.value, t.threshold) for t in result.triggers] == [
        ("relocated_population", 1_200_000, 1_000_000)]


def test_sum_mode_adds_the_two(plans):
    plan = plans["national-2024"]
    assert plan.relocated_mode == "sum"
    figures = {"relocated_population": 1_200_000, "needing_aid_population": 900_000}
    result = evaluate(plan, figures)
    assert result.level == "一级"
    assert [(t.indicator, t.value, t.threshold) for t in result.triggers] == [
        ("relocated_population+needing_aid_population", 2_100_000, 2_000_000)]
    below = {"relocated_population": 1_000_000, "needing_aid_population": 999_999}
    assert evaluate(plan, below).level == "二级"


def test_mode_is_a_plan_setting(plans):
    figures = {"relocated_population": 60_000, "needing_aid_population": 50_000}
    either = plans["national-2016"]
    summed = _variant(either, relocated_mode="sum")
    assert evaluate(either, figures).level is None
    assert evaluate(summed, figures).level == "Ⅳ"
    back = _variant(plans["national-2024"], relocated_mode="either")
    assert evaluate(back, figures).level is None


# --- 联动启动 (adjacent linkage) -----------------------------------------------------------------

@pytest.mark.parametrize(("own", "neighbours", "expected", "linked"), [
    (170, [210], "一级", True),
    (160, [200], "一级", True),
    (199, [200, 5], "一级", True),
    (159, [250], "二级", False),
    (170, [199], "二级", False),
    (170, [], "二级", False),
    (200, [0], "一级", False),     # its own sum reaches 200: no linkage needed
    (80, [100], "二级", True),
    (79, [100], "三级", False),
    (85, [99], "三级", False),
    (40, [50], "三级", True),
    (16, [20], "四级", True),
    (15, [20], None, False),
    (16, [19], None, False),
])
def test_adjacent_linkage(plans, own, neighbours, expected, linked):
    context = Context(region_code="140000",
                      adjacent=[{"deaths": n - n // 3, "missing": n // 3} for n in neighbours])
    result = evaluate(plans["national-2024"], {"deaths": own}, context)
    assert result.level == expected
    kinds = [t.kind for t in result.triggers]
    assert ("adjacent_linkage" in kinds) is linked
    if linked:
        linkage = [t for t in result.triggers if t.kind == "adjacent_linkage"]
        assert [(t.indicator, t.value) for t in linkage] == [
            ("deaths+missing", own), ("adjacent:deaths+missing", max(neighbours))]


def test_linkage_is_a_gap_when_the_neighbour_is_missing(plans):
    result = evaluate(plans["national-2024"], {"deaths": 170}, Context(adjacent=[{"deaths": 150}]))
    assert result.level == "二级"
    linkage = [g for g in result.gaps if g.kind == "adjacent_linkage"]
    assert linkage == [Gap("adjacent:deaths+missing", 150, 200, 50, "linkage", "adjacent_linkage",
                           linkage[0].description)]


def test_adjacent_figures_are_checked(plans):
    with pytest.raises(ValueError, match=r"context\.adjacent\[1\]: unknown indicator"):
        evaluate(plans["national-2024"], {}, Context(adjacent=[{}, {"death": 3}]))


# --- drought -------------------------------------------------------------------------------

def test_drought_percentage_of_the_provinces_agricultural_population(plans):
    plan = plans["national-2016"]
    context = Context(agricultural_population=1_234_567)  # 15 % = 185,185.05
    assert evaluate(plan, {"drought_needing_aid_population": 185_185}, context).level is None
    result = evaluate(plan, {"drought_needing_aid_population": 185_186}, context)
    assert result.level == "Ⅳ"
    assert result.triggers[0].threshold == pytest.approx(185_185.05)
    # 25 % = 308,641.75
    assert evaluate(plan, {"drought_needing_aid_population": 308_641}, context).level == "Ⅲ"
    assert evaluate(plan, {"drought_needing_aid_population": 308_642}, context).level == "Ⅱ"


def test_drought_absolute_alternative(plans):
    plan = plans["national-2016"]
    # Without the agricultural population only the absolute bound applies.
    assert evaluate(plan, {"drought_needing_aid_population": 999_999}).level is None
    assert evaluate(plan, {"drought_needing_aid_population": 1_000_000}).level == "Ⅳ"
    # A large agricultural population: 15 % is 3,000,000, the absolute 1,000,000 is met first.
    big = Context(agricultural_population=20_000_000)
    result = evaluate(plan, {"drought_needing_aid_population": 1_000_000}, big)
    assert result.level == "Ⅳ"
    assert result.triggers[0].threshold == 1_000_000
    assert evaluate(plan, {"drought_needing_aid_population": 4_000_000}, big).level == "Ⅰ"


def test_drought_percentage_needs_a_known_agricultural_population(plans):
    plan = plans["national-2016"]
    for agri in (None, 0, float("nan")):
        result = evaluate(plan, {"drought_needing_aid_population": 0},
                          Context(agricultural_population=agri))
        assert result.level is None
        assert [v.threshold for v in result.criteria_values
                if v.kind == "drought"] == [4_000_000, 3_000_000, 2_000_000, 1_000_000]


def test_county_plan_drought_is_absolute_only(plans):
    plan = plans["county-sample"]
    context = Context(agricultural_population=10)
    assert evaluate(plan, {"drought_needing_aid_population": 24_999}, context).level == "三级"
    assert evaluate(plan, {"drought_needing_aid_population": 25_000}, context).level == "二级"


# --- 酌情调整 (per-region adjustments) ----------------------------------------------------------

@pytest.fixture(scope="module")
def adjusted(plans):
    return _variant(plans["national-2016"], adjustments=[
        {"region_code": "540000", "factor": 0.5, "reason": "脆弱地区"},
        {"region_code": "650000", "factor": 0.7, "reason": "敏感地区"},
    ])


def test_adjustment_applies_to_its_region_only(adjusted):
    figures = {"deaths": 10}
    assert evaluate(adjusted, figures).level is None
    assert evaluate(adjusted, figures, Context(region_code="140000")).level is None
    result = evaluate(adjusted, figures, Context(region_code="540000"))
    assert result.level == "Ⅳ"
    assert result.triggers[0].threshold == 10
    assert result.adjustment == Adjustment("540000", 0.5, "脆弱地区")
    assert evaluate(adjusted, {"deaths": 9}, Context(region_code="540000")).level is None
    assert evaluate(adjusted, {"deaths": 100}, Context(region_code="540000")).level == "Ⅰ"


def test_adjustment_scales_every_kind_of_threshold(adjusted):
    ctx = Context(region_code="650000", agricultural_population=1_000_000)
    # 0.7 × 50 = 35 deaths; 0.7 × 10,000 rooms = 7,000; 0.7 × 15 % = 10.5 % drought
    assert evaluate(adjusted, {"deaths": 35}, ctx).level == "Ⅲ"
    assert evaluate(adjusted, {"deaths": 34}, ctx).level == "Ⅳ"
    assert evaluate(adjusted, {"collapsed_rooms": 7_000}, ctx).level == "Ⅳ"
    assert evaluate(adjusted, {"collapsed_rooms": 6_999}, ctx).level is None
    result = evaluate(adjusted, {"drought_needing_aid_population": 105_000}, ctx)
    assert result.level == "Ⅳ"
    assert result.triggers[0].threshold == pytest.approx(105_000)
    assert evaluate(adjusted, {"drought_needing_aid_population": 104_999}, ctx).level is None
    # The trigger reports the scaled bound as an integer when it is one.
    assert evaluate(adjusted, {"deaths": 35}, ctx).triggers[0].threshold == 35
    assert isinstance(evaluate(adjusted, {"deaths": 35}, ctx).triggers[0].threshold, int)


# --- next level, gaps, criteria values, to_dict ---------------------------------------------------

def test_gaps_to_the_next_level_nearest_first(plans):
    result = evaluate(plans["national-2016"],
                      {"deaths": 120, "collapsed_rooms": 150_000, "severely_damaged_rooms": 90_000})
    assert (result.level, result.next_level, result.next_rank) == ("Ⅱ", "Ⅰ", 1)
    assert [(g.indicator, g.value, g.threshold, g.gap) for g in result.gaps] == [
        ("collapsed_rooms+severely_damaged_rooms", 240_000, 300_000, 60_000),  # 20 % missing
        ("deaths", 120, 200, 80),                                              # 40 %
        ("collapsed_households+severely_damaged_households", 0, 100_000, 100_000),
        ("relocated_population", 0, 2_000_000, 2_000_000),
        ("needing_aid_population", 0, 2_000_000, 2_000_000),
        ("drought_needing_aid_population", 0, 4_000_000, 4_000_000),
    ]


def test_no_level_points_at_the_lowest_tier(plans):
    result = evaluate(plans["national-2016"], {"deaths": 15})
    assert (result.level, result.rank, result.status) == (None, None, None)
    assert (result.next_level, result.next_rank) == ("Ⅳ", 4)
    assert result.gaps[0] == Gap("deaths", 15, 20, 5, "deaths", "threshold",
                                 "死亡 20 人以上、50 人以下")


def test_top_level_has_no_next_level(plans):
    result = evaluate(plans["national-2024"], {"deaths": 300})
    assert (result.level, result.next_level, result.next_rank, result.gaps) == (
        "一级", None, None, ())


def test_criteria_values_cover_every_term_of_every_level(plans):
    result = evaluate(plans["national-2016"], {"deaths": 60, "needing_aid_population": 10})
    # per level: deaths 1, relocated 2 (either), houses 2, drought 1 (absolute only)
    assert len(result.criteria_values) == 24
    assert [v.rank for v in result.criteria_values[::6]] == [1, 2, 3, 4]
    deaths = [(v.level, v.value, v.threshold, v.met) for v in result.criteria_values
              if v.indicator == "deaths"]
    assert deaths == [("Ⅰ", 60, 200, False), ("Ⅱ", 60, 100, False), ("Ⅲ", 60, 50, True),
                      ("Ⅳ", 60, 20, True)]
    assert {v.status for v in result.criteria_values} == {"checked"}


def test_criterion_status_overrides_level_status(plans):
    result = evaluate(plans["shanxi-provincial-sample"], {})
    first = {v.criterion_id: v.status for v in result.criteria_values if v.rank == 1}
    assert first == {"deaths_missing": "secondary", "relocated": "secondary",
                     "houses": "sample", "drought": "sample"}


def test_to_dict_is_plain_json(adjusted):
    result = evaluate(adjusted, {"deaths": 10, "missing": 3}, Context(region_code="540000"))
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert data["plan_id"] == "national-2016"
    assert data["plan_version"] == "2016"
    assert (data["region_code"], data["level"], data["rank"]) == ("540000", "Ⅳ", 4)
    assert data["triggers"] == [{
        "indicator": "deaths", "value": 10, "threshold": 10, "level": "Ⅳ", "kind": "threshold",
        "description": "死亡 20 人以上、50 人以下", "criterion_id": "deaths", "rank": 4}]
    assert data["adjustment"] == {"region_code": "540000", "factor": 0.5, "reason": "脆弱地区"}
    assert data["next_level"] == "Ⅲ"
    assert data["gaps"][0] == {"indicator": "deaths", "value": 10, "threshold": 25, "gap": 15,
                               "criterion_id": "deaths", "kind": "threshold",
                               "description": "死亡 50 人以上、100 人以下"}
    assert len(data["criteria_values"]) == 24


# --- figures ------------------------------------------------------------------------------

def test_missing_and_none_figures_count_as_zero(plans):
    plan = plans["national-2016"]
    assert evaluate(plan, {}).level is None
    assert evaluate(plan, None).level is None
    assert evaluate(plan, {"deaths": None, "collapsed_households": 3_000}).level == "Ⅳ"


@pytest.mark.parametrize(("figures", "message"), [
    ({"death": 5}, "unknown indicator"),
    ({"deaths": -1}, "must be a number ≥ 0"),
    ({"deaths": float("nan")}, "must be a number ≥ 0"),
    ({"deaths": "12"}, "must be a number ≥ 0"),
    ({"deaths": True}, "must be a number ≥ 0"),
])
def test_bad_figures_are_refused(plans, figures, message):
    with pytest.raises(ValueError, match=message):
        evaluate(plans["national-2016"], figures)
